// Package pruner deletes old blocks from a store that implements
// storage.Pruner (mem, SQLite and Postgres; the file-system backend cannot prune),
// following the retention algorithm of docs/storage.md, "Pruning":
//
//  1. Delete, in batches of Config.BatchSize blocks, from the lowest stored
//     height up to the highest height whose header timestamp is older than
//     now − Config.TargetRetention.
//  2. Then, if the live size of the store exceeds Config.Threshold, keep
//     deleting batches towards the highest height older than
//     now − Config.MinimumRetention, measuring the size again after every
//     batch, until usage falls to Config.MaxUsage basis points of the
//     threshold or that height is reached.
//
// Data younger than the minimum retention is never deleted, nor is the last
// decided block. When the store keeps chain-state snapshots
// (storage.StateStore, which every backend of this repository implements),
// no block after the stored snapshot is deleted either: both steps stop at
// PruneBefore(s+1) for a snapshot of height s, so that a restart can replay
// blocks s+1 to the last onto it; and while the store holds no snapshot
// nothing is deleted at all, since a restart would replay every block. Such
// a run logs a warning and sets Report.LimitedBySnapshot. The snapshot is
// read once per run (it only ever moves up). Each batch is one PruneBefore call (one transaction in the
// SQL backends), and the pruner pauses between batches so that the node's
// consensus writes interleave with it: pruning runs off the consensus path and
// never holds the store for long (docs/storage.md, "Pruning").
//
// [Pruner.RunOnce] runs the algorithm once and returns a [Report];
// [Pruner.Run] runs it at start and then every Config.Interval until its
// context ends. Time comes from an injected clock.Clock, and the live size
// from the store's LiveSize unless [WithSizeFunc] replaces it, so tests drive
// both.
package pruner

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
// decided block. Each batch is one PruneBefore call (one transaction in the
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

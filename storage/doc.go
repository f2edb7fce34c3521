// Package storage defines where a node keeps its data, as small interfaces
// that every backend implements:
//
//   - [ConsensusStore]: what consensus needs to restart safely (the safety
//     state and the proposals of undecided views). Every write is durable
//     when the call returns, because the node sends votes and proposals only
//     after the state they depend on is stored (docs/architecture.md,
//     "Persist before send").
//   - [BlockStore]: the decided chain (leaves, headers, payloads,
//     certificates), appended atomically, and the lookups by height, leaf,
//     block hash and transaction hash the node makes.
//   - [QueryStore]: the range, namespace, count and header-window reads of
//     the query APIs.
//
// A [Store] is all three, with Close; a backend that can delete old blocks
// also implements [Pruner]. The values stored are the plain types.Block (a
// decided leaf with its payload and certificate) and types.SafetyState,
// shared with consensus and node without conversion; storage declares only
// what is its own ([StoredProposal], [TxLocation], [HeaderWindow], the
// sentinel errors).
//
// Backends live in subpackages:
//
//   - storage/mem: in memory, for tests and simulations; implements Pruner.
//   - storage/fs: plain files under one directory (the storage-fs module);
//     it cannot prune, and asking it to is an error wrapping
//     [ErrNotSupported].
//   - storage/sqlite: one SQLite database file, the embedded default of the
//     storage-sql module; implements Pruner.
//   - storage/postgres: one schema of a PostgreSQL database (the storage-sql
//     module with a postgres:// URI); implements Pruner.
//
// The file-system, SQLite and Postgres backends also open in consensus-only
// mode, a lightweight node's store that keeps only the last decided block;
// opening a store that keeps history in that mode fails with an error
// wrapping [ErrModeMismatch] (see [RefuseHistory]). Beside the backends:
//
//   - storage/storagetest: the conformance suite every backend passes, test
//     chains, the crash harness and the benchmarks.
//   - storage/storagecodec: the checksummed binary encoding the backends use
//     for what they keep as bytes.
//   - storage/pruner: the retention algorithm, run over a Pruner.
//   - storage/filelock: the flock(2) process lock of the file-based
//     backends.
//
// A store is used by one process at a time: opening a store that another
// process holds fails with an error wrapping [ErrLocked].
package storage

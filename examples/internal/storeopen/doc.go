// Package storeopen opens the node store that a parsed `sequencer` command
// line selects (docs/storage.md, "The storage-sql module"), and wipes it for
// `utils reset-storage` (docs/storage.md, "Resetting a store"):
//
//   - `-- storage-fs --path P` (alias `storage`): the file-system backend at P.
//   - `-- storage-sql` with a postgres:// or postgresql:// URI, or a Postgres
//     host given by flag or environment: the Postgres backend, with the
//     connection fields options.Parse merged (flags and environment beat the
//     URI) and its pool settings.
//   - `-- storage-sql` with a sqlite://PATH URI: SQLite at PATH; with neither
//     URI nor host: SQLite at <--path>/sqlite/database, the embedded default.
//   - no storage module: the file-system backend at ./storage, so that a
//     restarted node never forgets how it voted; [Info].Notice says so for the
//     caller to print.
//
// The pool options (--database-max-connections, the idle and connection
// timeouts, the slow-statement threshold) apply to Postgres and to SQLite's
// reader pool; --database-min-connections applies to Postgres only.
// --consensus-view-retention goes to the file-system backend.
//
// Without the query module the node is a lightweight node (docs/storage.md,
// "Modes"):
// Open opens whichever backend in consensus-only mode (fs.WithConsensusOnly,
// sqlite.WithConsensusOnly, postgres.WithConsensusOnly), which keeps the last
// decided block only, and says so in [Info] (ConsensusOnly, and
// "lightweight: consensus data only" in the description). A file-system
// store created in the other mode is refused (fs.ErrModeMismatch), and so
// is a SQL store that keeps history (storage.ErrModeMismatch).
// With query, --lightweight (ESPRESSO_SEQUENCER_LIGHTWEIGHT) still opens a
// full store: leaf-only query storage is a later refinement.
//
// Pruning (`--prune` and the pruner options) is only possible with
// storage-sql: [Open] returns the pruner configuration in [Info].Prune for
// the caller to run storage/pruner with. The file-system backend refuses it
// with fs.ErrPruningUnsupported, both for the environment variables of the
// operator guide ([WithEnv]) and, through options.Parse, for a `--prune`
// flag after storage-fs. `--archive` resets the pruned height at open, so
// that pruned data counts as missing and is fetched again (docs/storage.md,
// "Modes").
//
// [Reset] wipes both the consensus and the query data of a backend: the
// store's files (file system), the database file with its WAL and lock
// files (SQLite), or the schema, dropped and created again (Postgres). It
// takes the store's lock first, so it refuses to wipe a store that a running
// node holds (an error wrapping storage.ErrLocked), and it refuses a
// directory or file that does not look like a store ([ErrNotStore]).
package storeopen

// Package sqlite is the embedded default storage backend: a single SQLite
// database file (modernc.org/sqlite, pure Go) that implements storage.Store
// and storage.Pruner.
//
// The database runs in WAL mode with synchronous=FULL, so every write is on
// disk when the call returns and readers never wait for the writer. A store
// has exactly one writer connection (writes are serialized, each in one
// transaction), a separate pool of query_only reader connections
// ([WithMaxReaders]), and a connection of its own that checkpoints the WAL
// into the database file in the background, so that no write (a
// safety-state save before a vote least of all) pays for a checkpoint.
//
// On disk a store is the database file PATH and SQLite's PATH-wal and
// PATH-shm beside it, plus the lock file PATH.lock; removing a store means
// removing all four (while it is closed).
//
// Every object the API looks up has a real column and index: headers by
// height, block hash, payload hash and timestamp; leaves by height and leaf
// commitment; transactions by hash and by (height, index); namespaces by
// (namespace, height). Per-block transaction counts and payload sizes are
// kept with running totals, so TransactionCount and PayloadBytes answer any
// range with two index lookups instead of reading payloads. Block contents
// are stored in the storagecodec encoding.
//
// The schema is created and upgraded by embedded, numbered migrations
// (migrations/NNNN_name.sql) applied in one transaction at [Open] and
// recorded in the migrations table; reopening applies nothing twice.
//
// A store is used by one process at a time: Open takes an exclusive flock on
// a lock file beside the database (PATH.lock) and a second Open, from this
// process or another, fails with an error wrapping storage.ErrLocked until
// [Store.Close] releases it.
//
// Pruning deletes whole blocks below a height in one transaction (rows of
// every table cascade from header) and records the pruned height, below
// which reads return storage.ErrPruned. [Store.LiveSize] is
// (page_count − freelist_count) × page_size, which shrinks as pages are
// freed without needing a VACUUM.
//
// In consensus-only mode ([WithConsensusOnly], a lightweight node's store)
// every SaveDecided prunes below its last block in the same transaction,
// so the store keeps one block; its WAL is cut back to 1 MiB instead of 64
// MiB. 2,000 blocks of 10 KB leave a live size of about 84 KiB (the schema
// and index pages) and a database file of about 116 KiB.
//
// The store also implements storage.StateStore: the chain-state snapshot is
// the one row of the chain_state table (migration 2), replaced in one
// transaction by an upsert that keeps the greater height. It is no block
// row, so pruning (consensus-only mode's included) leaves it, and it counts
// in LiveSize like any page.
package sqlite

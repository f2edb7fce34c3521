// Package postgres is the PostgreSQL storage backend (lib/pq): a
// storage.Store, storage.Pruner and storage.StateStore kept in one schema of
// a Postgres database.
//
// # Opening
//
// [Open] takes a [Config] with the connection settings of docs/storage.md,
// "The storage-sql module": a
// postgres:// or postgresql:// URI and the separate Host, Port, Database,
// User, Password and UseTLS fields, which override the URI's parts. TLS is
// chosen only by UseTLS (sslmode=require when set, disable otherwise); a URI
// that asks for TLS without UseTLS is refused rather than silently downgraded.
// The store lives in Config.Schema ("public" by default), created when
// missing, so that several stores (or tests) can share one database.
//
// Open takes an exclusive lock on the schema, applies the schema migrations
// and returns the store:
//
//   - The lock is pg_try_advisory_lock on a key derived from the schema name,
//     held on a dedicated connection until Close. A second Open of the same
//     schema, from this process or another, fails with an error wrapping
//     storage.ErrLocked ([WithLockTimeout] makes it wait instead, for a
//     restart racing the server's clean-up of a killed predecessor). Every
//     write checks in its own transaction that the lock is still held. When
//     the lock connection died (server restart, network cut, a killed
//     backend), the store reconnects and takes the lock again, within
//     [WithReconnectWindow], and the write goes on; if another session
//     took the lock meanwhile, writes fail with [ErrLockLost] (wrapping
//     storage.ErrLocked) instead of racing the new owner, and if the
//     server stays unreachable with [ErrConnectionLost].
//   - Migrations are applied in one transaction and recorded in the
//     migrations table (version, name, applied_at); reopening applies only
//     what is missing, and a schema newer than this build is refused with
//     [ErrSchemaVersion].
//
// [Reset] deletes a store (reset-storage): under the same lock, it drops the
// schema, or only the store's tables when the schema is "public".
//
// # Tables
//
// The query tables (docs/storage.md, "Postgres"): header (height primary key, unique block
// hash, payload hash and timestamp indexes, per-block and cumulative
// transaction counts and payload sizes), leaf (unique leaf hash; the leaf and
// its certificate in the storagecodec encoding), payload (size, transaction
// count, namespace table, raw bytes), transactions (primary key (height, idx),
// index on hash), namespace ((namespace, height) and height), pruned_height,
// the consensus tables safety and proposals, and chain_state, the one row of
// the chain-state snapshot (migration 2), replaced by one upsert statement
// that keeps the greater height and references no block, so pruning leaves
// it. Rows of a block reference
// header(height) with ON DELETE CASCADE. Every lookup the interfaces make is
// an index lookup; counts and byte sums over ranges read two rows of
// cumulative sums instead of scanning.
//
// # Durability and atomicity
//
// Every connection runs with synchronous_commit=on, so a write is durable
// when its call returns. SaveDecided, PruneBefore and every other write is
// one transaction; a process killed in the middle leaves nothing behind
// because the server rolls the transaction back when the connection drops.
// Writes are serialised in the process; reads run in parallel on the pool,
// each as one statement (one snapshot). The statements of the read paths
// and of the consensus writes are prepared on each pool connection, so
// that a point lookup is one round trip with no parsing or planning.
//
// # Live size
//
// LiveSize is the sum of the bytes the store keeps in its columns (encoded
// header and leaf, payload and namespace table, index entries of each
// transaction and namespace, proposals, safety state and chain-state
// snapshot), maintained
// incrementally in a bookkeeping row by SaveDecided and PruneBefore. Unlike
// pg_total_relation_size it shrinks as soon as data is deleted, before
// VACUUM returns the space.
//
// # Connection pool
//
// The pool settings are those of docs/storage.md, "Postgres": MaxConnections (25),
// MinConnections (0), IdleConnectionTimeout (10m), ConnectionTimeout (the
// maximum lifetime of a connection, 30m) and SlowStatementThreshold (1s;
// slower statements are logged at warn level with their name and duration,
// never their arguments). database/sql has no minimum pool size:
// MinConnections connections are opened at Open and kept idle (the pool
// keeps up to MaxConnections idle connections) until IdleConnectionTimeout
// closes them.
//
// # Consensus-only mode
//
// Opened with [WithConsensusOnly] (a lightweight node's store), every
// SaveDecided prunes below its last block in the same transaction, as
// PruneBefore does, so the schema keeps one block and LiveSize stays at
// that block's bytes. The tables' disk space is reclaimed by the server's
// autovacuum, as after any pruning.
//
// # Tests
//
// The tests run against a real server named by GOSPRESSO_TEST_POSTGRES (for
// example postgres://postgres@127.0.0.1:5432/test?sslmode=disable), each in a
// schema of its own that is dropped afterwards. Without the variable they
// skip, unless GOSPRESSO_REQUIRE_POSTGRES=1 (CI), where a missing variable or
// an unreachable server fails them.
package postgres

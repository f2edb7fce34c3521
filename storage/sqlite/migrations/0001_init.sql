-- The first schema: decided blocks, the query indexes and consensus state.
-- Every table holding block data references header(height) and is deleted
-- with it (ON DELETE CASCADE); each such table is indexed by height so the
-- cascade never scans.

-- header: one row per decided block. hash is the block hash (header
-- commitment), payload_hash the header's payload commitment, timestamp the
-- header time in unix seconds, data the storagecodec header encoding.
CREATE TABLE header (
    height       INTEGER PRIMARY KEY,
    hash         BLOB    NOT NULL UNIQUE,
    payload_hash BLOB    NOT NULL,
    timestamp    INTEGER NOT NULL,
    data         BLOB    NOT NULL
);
CREATE INDEX header_payload_hash ON header (payload_hash, height);
CREATE INDEX header_timestamp ON header (timestamp, height);

-- leaf: the leaf and the certificate of it (storagecodec block encoding
-- without the payload); hash is the leaf commitment.
CREATE TABLE leaf (
    height INTEGER PRIMARY KEY REFERENCES header (height) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    hash   BLOB    NOT NULL UNIQUE,
    view   INTEGER NOT NULL,
    data   BLOB    NOT NULL
);

-- payload: the block payload (raw bytes and the payload's namespace table).
CREATE TABLE payload (
    height           INTEGER PRIMARY KEY REFERENCES header (height) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    size             INTEGER NOT NULL,
    num_transactions INTEGER NOT NULL,
    ns_table         BLOB    NOT NULL,
    data             BLOB    NOT NULL
);

-- aggregate: per-block counts with running totals from the first block ever
-- stored, so sums over [from, until) are a difference of two rows.
CREATE TABLE aggregate (
    height           INTEGER PRIMARY KEY REFERENCES header (height) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    num_transactions INTEGER NOT NULL,
    payload_size     INTEGER NOT NULL,
    cum_transactions INTEGER NOT NULL,
    cum_payload_size INTEGER NOT NULL
);

-- transactions: where each transaction of a payload is. offset and size
-- delimit its bytes in payload.data (offset -1 when not located; readers
-- then decode the payload).
CREATE TABLE transactions (
    height INTEGER NOT NULL REFERENCES header (height) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    idx    INTEGER NOT NULL,
    hash   BLOB    NOT NULL,
    ns     INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    size   INTEGER NOT NULL,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID;
CREATE INDEX transactions_hash ON transactions (hash, height, idx);

-- namespace: the namespaces each block's header namespace table lists.
CREATE TABLE namespace (
    ns     INTEGER NOT NULL,
    height INTEGER NOT NULL REFERENCES header (height) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (ns, height)
) WITHOUT ROWID;
CREATE INDEX namespace_height ON namespace (height);

-- pruned_height: at most one row; blocks below height were deleted on
-- purpose.
CREATE TABLE pruned_height (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    height INTEGER NOT NULL
);

-- safety: at most one row, the storagecodec safety-state encoding.
CREATE TABLE safety (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    data BLOB NOT NULL
);

-- proposals: stored proposals of undecided views, in insertion order (id)
-- within a view; digest (SHA-256 of data) makes re-saving one a no-op.
CREATE TABLE proposals (
    id     INTEGER PRIMARY KEY,
    view   INTEGER NOT NULL,
    digest BLOB    NOT NULL,
    data   BLOB    NOT NULL,
    UNIQUE (view, digest)
);
CREATE INDEX proposals_view ON proposals (view);

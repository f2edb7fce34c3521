-- 0001_init: the query tables (docs/storage.md, "Postgres") and the consensus tables.
-- Every row of a block references header(height) and is deleted with it.

CREATE TABLE header (
    height           BIGINT PRIMARY KEY,
    hash             BYTEA  NOT NULL UNIQUE,
    payload_hash     BYTEA  NOT NULL,
    timestamp        BIGINT NOT NULL,
    -- per-block counts and their running totals from the first stored block:
    -- a count over [a, b] is cum(b) - cum(a) + own(a), two index lookups
    num_transactions BIGINT NOT NULL,
    payload_size     BIGINT NOT NULL,
    cum_transactions BIGINT NOT NULL,
    cum_payload_size BIGINT NOT NULL,
    -- bytes this block adds to the live size
    stored_bytes     BIGINT NOT NULL,
    data             BYTEA  NOT NULL
);
CREATE INDEX header_payload_hash_idx ON header (payload_hash, height);
CREATE INDEX header_timestamp_idx ON header (timestamp, height);

CREATE TABLE leaf (
    height      BIGINT PRIMARY KEY REFERENCES header (height) ON DELETE CASCADE,
    hash        BYTEA  NOT NULL UNIQUE,
    view_number BIGINT NOT NULL,
    -- the leaf and its quorum certificate (storagecodec block, no payload)
    data        BYTEA  NOT NULL
);

CREATE TABLE payload (
    height           BIGINT PRIMARY KEY REFERENCES header (height) ON DELETE CASCADE,
    size             BIGINT NOT NULL,
    num_transactions BIGINT NOT NULL,
    ns_table         BYTEA  NOT NULL,
    data             BYTEA  NOT NULL
);
-- Payloads are mostly incompressible; EXTERNAL skips the compression attempt
-- and lets substring() read one transaction without fetching the payload.
ALTER TABLE payload ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE transactions (
    height    BIGINT NOT NULL REFERENCES header (height) ON DELETE CASCADE,
    idx       BIGINT NOT NULL,
    hash      BYTEA  NOT NULL,
    namespace BIGINT NOT NULL,
    -- where the transaction's bytes sit in the payload (NULL: decode it)
    tx_offset BIGINT,
    tx_length BIGINT,
    PRIMARY KEY (height, idx)
);
CREATE INDEX transactions_hash_idx ON transactions (hash, height, idx);

CREATE TABLE namespace (
    namespace BIGINT NOT NULL,
    height    BIGINT NOT NULL REFERENCES header (height) ON DELETE CASCADE,
    PRIMARY KEY (namespace, height)
);
CREATE INDEX namespace_height_idx ON namespace (height);

CREATE TABLE pruned_height (
    id          SMALLINT PRIMARY KEY CHECK (id = 0),
    last_height BIGINT NOT NULL
);

-- live_size.bytes is the sum of header.stored_bytes, kept incrementally.
CREATE TABLE live_size (
    id    SMALLINT PRIMARY KEY CHECK (id = 0),
    bytes BIGINT NOT NULL
);
INSERT INTO live_size (id, bytes) VALUES (0, 0);

CREATE TABLE safety (
    id   SMALLINT PRIMARY KEY CHECK (id = 0),
    data BYTEA NOT NULL
);

CREATE TABLE proposals (
    id          BIGSERIAL PRIMARY KEY,
    view_number BIGINT NOT NULL,
    hash        BYTEA  NOT NULL,
    data        BYTEA  NOT NULL,
    UNIQUE (view_number, hash)
);

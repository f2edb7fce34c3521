-- 0002_chain_state: the chain-state snapshot (storage.StateStore;
-- docs/storage.md, "Chain-state snapshot").

-- At most one row, the latest snapshot saved: data is the encoded chain
-- state (opaque to the store) after the decided block of height. A save with
-- a lower height than the stored one changes nothing. It references no
-- block: pruning, including consensus-only mode's, keeps it.
CREATE TABLE chain_state (
    id     SMALLINT PRIMARY KEY CHECK (id = 0),
    height BIGINT   NOT NULL,
    data   BYTEA    NOT NULL
);
-- Snapshots are hashes and balances, mostly incompressible: EXTERNAL skips
-- the compression attempt on every save.
ALTER TABLE chain_state ALTER COLUMN data SET STORAGE EXTERNAL;

-- 0002: the chain-state snapshot (storage.StateStore; docs/storage.md,
-- "Chain-state snapshot").

-- chain_state: at most one row, the latest snapshot saved: data is the
-- encoded chain state (opaque to the store) after the decided block of
-- height. A save with a lower height than the stored one changes nothing.
-- It is not a block row: pruning, including consensus-only mode's, keeps it.
CREATE TABLE chain_state (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    height INTEGER NOT NULL,
    data   BLOB    NOT NULL
);

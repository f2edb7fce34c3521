-- 0003: the store's genesis identity (storage.GenesisBinder; docs/storage.md,
-- "Genesis identity").

-- genesis: at most one row, the genesis commitment of the network whose
-- chain the store holds, bound at the first open of a node. It is not a
-- block row: pruning, including consensus-only mode's, keeps it, so a store
-- of another network is refused even when its block 0 is gone.
CREATE TABLE genesis (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    commitment BLOB    NOT NULL CHECK (length(commitment) = 32)
);

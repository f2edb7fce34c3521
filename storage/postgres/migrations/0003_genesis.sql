-- 0003_genesis: the store's genesis identity (storage.GenesisBinder;
-- docs/storage.md, "Genesis identity").

-- At most one row, the genesis commitment of the network whose chain the
-- store holds, bound at the first open of a node. It references no block:
-- pruning, including consensus-only mode's, keeps it, so a store of another
-- network is refused even when its block 0 is gone. Reset drops it.
CREATE TABLE genesis (
    id         SMALLINT PRIMARY KEY CHECK (id = 0),
    commitment BYTEA    NOT NULL CHECK (octet_length(commitment) = 32)
);

package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// snapshotVersion is the first byte of a chain-state snapshot: the version,
// then the decided block the state follows (length-prefixed, storagecodec)
// and the encoded state (docs/state.md, "Snapshots").
const snapshotVersion = 1

// ErrBadSnapshot marks a stored chain-state snapshot that cannot be decoded.
var ErrBadSnapshot = errors.New("replica: bad chain-state snapshot")

// encodeSnapshot encodes the state after block b.
func encodeSnapshot(b *types.Block, st *state.State) ([]byte, error) {
	blk, err := storagecodec.EncodeBlock(b)
	if err != nil {
		return nil, err
	}
	enc := st.Encode()
	out := make([]byte, 0, 1+4+len(blk)+len(enc))
	out = append(out, snapshotVersion)
	out = binary.BigEndian.AppendUint32(out, uint32(len(blk)))
	out = append(out, blk...)
	return append(out, enc...), nil
}

// decodeSnapshot decodes what encodeSnapshot produced and checks that the
// state's roots are the block header's.
func decodeSnapshot(data []byte) (types.Block, *state.State, error) {
	if len(data) < 5 || data[0] != snapshotVersion {
		return types.Block{}, nil, fmt.Errorf("%w: want version %d and a length, got %d bytes", ErrBadSnapshot, snapshotVersion, len(data))
	}
	n := binary.BigEndian.Uint32(data[1:5])
	if uint64(n) > uint64(len(data)-5) {
		return types.Block{}, nil, fmt.Errorf("%w: block of %d bytes in %d", ErrBadSnapshot, n, len(data)-5)
	}
	b, err := storagecodec.DecodeBlock(data[5 : 5+n])
	if err != nil {
		return types.Block{}, nil, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	st, err := state.DecodeState(data[5+n:])
	if err != nil {
		return types.Block{}, nil, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if !rootsMatch(&b.Leaf.Header, st) {
		return types.Block{}, nil, fmt.Errorf("%w: the state's roots are not those of block %d", ErrBadSnapshot, b.Height())
	}
	return b, st, nil
}

// snapshotEvery is how many blocks a store that keeps the decided blocks
// lets pass between chain-state snapshots (a restart replays at most that
// many; the pruner keeps the blocks above the snapshot). A store that
// keeps only the last decided block (consensus-only) gets one per decide.
const snapshotEvery = 64

// saveState stores the ledger's decided state when it moved far enough past
// the last snapshot, so that a restart replays only the blocks decided after
// it (and a consensus-only or pruned store, which keeps no older blocks, can
// restart at all). decided are the blocks just decided, where the state's
// block usually is; else it is read from the store.
func (r *Replica) saveState(ctx context.Context, decided []types.Block) error {
	if r.states == nil {
		return nil
	}
	ds := r.ledger.DecidedState()
	h := ds.Header.Height
	if h <= r.savedHeight {
		return nil
	}
	if r.keepsBlocks == nil && h-1 > r.savedHeight {
		// Does the store keep decided blocks below the last one? Asked
		// once, of a block above the snapshot (which no pruner deletes);
		// until then every decide saves a snapshot, which is always safe.
		_, err := r.store.BlockByHeight(ctx, h-1)
		keeps := err == nil
		r.keepsBlocks = &keeps
	}
	if r.keepsBlocks != nil && *r.keepsBlocks && h-r.savedHeight < snapshotEvery {
		return nil
	}
	var b *types.Block
	for i := range decided {
		if decided[i].Height() == h {
			b = &decided[i]
		}
	}
	if b == nil {
		sb, err := r.store.BlockByHeight(ctx, h)
		if err != nil {
			return fmt.Errorf("save the chain state: block %d: %w", h, err)
		}
		b = &sb
	}
	return r.writeSnapshot(ctx, b, ds.State)
}

// writeSnapshot stores st, the chain state after block b, as the store's
// snapshot.
func (r *Replica) writeSnapshot(ctx context.Context, b *types.Block, st *state.State) error {
	data, err := encodeSnapshot(b, st)
	if err == nil {
		err = r.states.SaveState(ctx, b.Height(), data)
	}
	if err != nil {
		return fmt.Errorf("save the chain state of block %d: %w", b.Height(), err)
	}
	r.savedHeight = b.Height()
	return nil
}

// loadSnapshot returns the stored chain-state snapshot, if the store keeps
// one.
func loadSnapshot(ctx context.Context, st any) (*types.Block, *state.State, error) {
	ss, ok := st.(storage.StateStore)
	if !ok {
		return nil, nil, nil
	}
	h, data, err := ss.LoadState(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("replica: load the chain-state snapshot: %w", err)
	}
	b, s, err := decodeSnapshot(data)
	if err != nil {
		return nil, nil, err
	}
	// A snapshot above the last stored block is a state fetched from a
	// peer (catchupState checked its certificate before it was saved).
	if b.Height() != h {
		return nil, nil, fmt.Errorf("%w: snapshot of block %d stored as height %d", ErrBadSnapshot, b.Height(), h)
	}
	return &b, s, nil
}

// rootsMatch reports whether st's block and fee tree roots are h's.
func rootsMatch(h *types.Header, st *state.State) bool {
	blockRoot, feeRoot := st.Roots()
	return string(blockRoot) == string(h.BlockMerkleTreeRoot) && string(feeRoot) == string(h.FeeMerkleTreeRoot)
}

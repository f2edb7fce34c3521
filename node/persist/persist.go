// Package persist connects a consensus engine to a storage.Store: it saves
// what a consensus.Ready asks to persist, in the order that keeps a node
// safe, and loads the state a restarted engine resumes from. The node's run
// loop and the deterministic simulation in nodetest both use it, so a
// simulated crash and restart exercises the same code as a real one.
package persist

import (
	"context"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// ErrForeignStore is returned when a store holds another network's chain.
var ErrForeignStore = errors.New("persist: the store holds another network's chain (genesis block differs)")

// Save durably stores the safety state and proposals of r. The caller sends
// r.Messages only after Save returns nil.
func Save(ctx context.Context, st storage.ConsensusStore, r *consensus.Ready) error {
	if r.Safety != nil {
		if err := st.SaveSafety(ctx, *r.Safety); err != nil {
			return fmt.Errorf("save safety state: %w", err)
		}
	}
	for _, p := range r.Proposals {
		data, err := consensus.Encode(p)
		if err != nil {
			return fmt.Errorf("encode proposal for view %d: %w", p.Leaf.View, err)
		}
		if err := st.SaveProposal(ctx, storage.StoredProposal{View: p.Leaf.View, Data: data}); err != nil {
			return fmt.Errorf("save proposal for view %d: %w", p.Leaf.View, err)
		}
	}
	return nil
}

// Load returns the state to resume from and the last decided block. A new
// store gets the genesis block and a nil state (start at genesis).
func Load(ctx context.Context, st storage.Store, genesis types.Leaf, genesisPayload types.Payload) (*consensus.State, types.Block, error) {
	last, err := st.LastDecided(ctx)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		qc := types.GenesisQC(&genesis)
		b := types.Block{Leaf: genesis, Payload: genesisPayload, QC: qc}
		if err := st.SaveDecided(ctx, []types.Block{b}); err != nil {
			return nil, types.Block{}, fmt.Errorf("store genesis block: %w", err)
		}
		return nil, b, nil
	case err != nil:
		return nil, types.Block{}, fmt.Errorf("load last decided block: %w", err)
	}
	if b0, err := st.BlockByHeight(ctx, 0); err == nil && b0.Leaf.Commit() != genesis.Commit() {
		return nil, types.Block{}, ErrForeignStore
	}
	safety, err := st.LoadSafety(ctx)
	noSafety := errors.Is(err, storage.ErrNotFound)
	if err != nil && !noSafety {
		return nil, types.Block{}, fmt.Errorf("load safety state: %w", err)
	}
	stored, err := st.LoadProposals(ctx)
	if err != nil {
		return nil, types.Block{}, fmt.Errorf("load proposals: %w", err)
	}
	state := &consensus.State{
		Safety:   safety,
		Anchor:   consensus.FetchedLeaf{Leaf: last.Leaf, Payload: last.Payload},
		AnchorQC: last.QC,
	}
	if noSafety || safety.HighQC.View < last.QC.View {
		state.Safety.HighQC = last.QC
	}
	for _, sp := range stored {
		m, err := consensus.Decode(sp.Data)
		if err != nil {
			return nil, types.Block{}, fmt.Errorf("stored proposal for view %d: %w", sp.View, err)
		}
		if p, ok := m.(*consensus.Proposal); ok {
			state.Proposals = append(state.Proposals, p)
		}
	}
	return state, last, nil
}

package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// save durably stores the proposals and the safety state of rd, in that
// order: the safety state's high QC may certify a leaf that arrived in
// this very Ready, and a restarted node must hold the leaf its high QC
// names. The caller sends rd.Messages only after save returns nil.
func save(ctx context.Context, st storage.ConsensusStore, rd *consensus.Ready) error {
	for _, p := range rd.Proposals {
		if err := saveMessage(ctx, st, p.Leaf.View, "proposal", p); err != nil {
			return err
		}
	}
	// DA proposals and VID shares are kept beside the proposals, in the
	// same stored form (a consensus message), until their view is decided.
	for _, m := range rd.DA {
		switch m := m.(type) {
		case *consensus.DAProposal:
			if err := saveMessage(ctx, st, m.View, "DA proposal", m); err != nil {
				return err
			}
		case *consensus.VIDShare:
			if err := saveMessage(ctx, st, m.View, "VID share", m); err != nil {
				return err
			}
		case *consensus.Certificates:
			if m.DA != nil {
				if err := saveMessage(ctx, st, m.DA.View, "DA certificate", m); err != nil {
					return err
				}
			}
		}
	}
	if rd.Safety != nil {
		if err := st.SaveSafety(ctx, *rd.Safety); err != nil {
			return fmt.Errorf("save safety state: %w", err)
		}
	}
	return nil
}

// saveMessage stores a consensus message of view v with the proposals.
func saveMessage(ctx context.Context, st storage.ConsensusStore, v types.ViewNumber, what string, m consensus.Message) error {
	data, err := consensus.Encode(m)
	if err != nil {
		return fmt.Errorf("encode %s for view %d: %w", what, v, err)
	}
	if err := st.SaveProposal(ctx, storage.StoredProposal{View: v, Data: data}); err != nil {
		return fmt.Errorf("save %s for view %d: %w", what, v, err)
	}
	return nil
}

// bindGenesis binds a store that keeps its genesis identity
// (storage.GenesisBinder) to this network's genesis commitment, mapping a
// store bound to another to ErrForeignStore.
func bindGenesis(ctx context.Context, st Store, commitment [32]byte) error {
	g, ok := st.(storage.GenesisBinder)
	if !ok {
		return nil
	}
	err := g.BindGenesis(ctx, commitment)
	var me *storage.GenesisMismatchError
	switch {
	case errors.As(err, &me):
		return fmt.Errorf("%w (%s: genesis %x, this node's genesis %x); %s", ErrForeignStore, me.Store, me.Stored, commitment, fixForeign)
	case errors.Is(err, storage.ErrGenesisMismatch):
		return fmt.Errorf("%w (this node's genesis %x): %v; %s", ErrForeignStore, commitment, err, fixForeign)
	case err != nil:
		return fmt.Errorf("replica: bind the store to the genesis: %w", err)
	}
	return nil
}

// fixForeign tells how to start a node whose store is another network's.
const fixForeign = "start the node on a fresh storage path, or wipe this one with `utils reset-storage`"

// load returns the state an engine resumes from and the last decided block.
// A new store gets the genesis block and a nil state (start at genesis).
// A store that keeps its genesis identity is bound to commitment, the
// genesis commitment of this network, before anything is written (a store
// written before the identity existed is bound once its block 0, when
// kept, is found to be this network's); one bound to another is refused
// with ErrForeignStore.
func load(ctx context.Context, st Store, genesis types.Block, commitment [32]byte) (*consensus.State, types.Block, error) {
	last, err := st.LastDecided(ctx)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if err := bindGenesis(ctx, st, commitment); err != nil {
			return nil, types.Block{}, err
		}
		if err := st.SaveDecided(ctx, []types.Block{genesis}); err != nil {
			return nil, types.Block{}, fmt.Errorf("replica: store genesis block: %w", err)
		}
		return nil, genesis, nil
	case err != nil:
		return nil, types.Block{}, fmt.Errorf("replica: load last decided block: %w", err)
	}
	// A consensus-only store keeps only its last block; where block 0 is
	// kept, it must be this network's.
	if b0, err := st.BlockByHeight(ctx, 0); err == nil && b0.Leaf.Commit() != genesis.Leaf.Commit() {
		return nil, types.Block{}, fmt.Errorf("%w (its block 0, leaf %s, is not this node's genesis block, leaf %s); %s",
			ErrForeignStore, b0.Leaf.Commit().Short(), genesis.Leaf.Commit().Short(), fixForeign)
	}
	if err := bindGenesis(ctx, st, commitment); err != nil {
		return nil, types.Block{}, err
	}
	safety, err := st.LoadSafety(ctx)
	noSafety := errors.Is(err, storage.ErrNotFound)
	if err != nil && !noSafety {
		return nil, types.Block{}, fmt.Errorf("replica: load safety state: %w", err)
	}
	stored, err := st.LoadProposals(ctx)
	if err != nil {
		return nil, types.Block{}, fmt.Errorf("replica: load proposals: %w", err)
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
			return nil, types.Block{}, fmt.Errorf("replica: stored proposal for view %d: %w", sp.View, err)
		}
		switch m := m.(type) {
		case *consensus.Proposal:
			state.Proposals = append(state.Proposals, m)
		case *consensus.DAProposal, *consensus.VIDShare, *consensus.Certificates:
			state.DA = append(state.DA, m)
		}
	}
	return state, last, nil
}

package api

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/types"
)

// StateBackend is a Backend that keeps the chain state after its recent
// decided blocks. The catchup, block-state and fee-state modules serve
// balances and Merkle proofs from it (docs/api.md, "Chain state"); on a
// Backend without it those routes answer 404.
type StateBackend interface {
	Backend
	// DecidedStates returns the states after the recent decided blocks
	// the node keeps, oldest first, in increasing height order (see
	// chain.Ledger.DecidedStates); none before the node starts.
	DecidedStates() []*chain.DecidedState
	// ChainState returns the newest of them whole, for a peer's state
	// catchup: the decided block it follows and state.State.Encode of it
	// (node.Node.ChainState); an error wrapping ErrUnavailable when the
	// node cannot serve it now.
	ChainState(ctx context.Context) (types.Block, []byte, error)
}

// MaxCatchupAccounts bounds the addresses of one POST
// catchup/{height}/{view}/accounts request.
const MaxCatchupAccounts = 1000

// AccountProof is the answer of catchup/{height}/{view}/account/{address}:
// the account's balance in the state after block height (0 for an account
// the tree does not hold) and the proof of it against that block's
// fee_merkle_tree_root (state.VerifyFeeProof).
type AccountProof struct {
	Balance types.U256     `json:"balance"`
	Proof   state.FeeProof `json:"proof"`
}

// BlockStateProof is the answer of the block-state proof routes: the proof
// that the commitment of header Proof.Index sits at that index of the
// block tree after block Height, whose root (that block's
// block_merkle_tree_root) is Root. Check it with state.VerifyBlockProof.
type BlockStateProof struct {
	Height uint64             `json:"height"`
	Root   types.TaggedBase64 `json:"root"`
	Proof  state.BlockProof   `json:"proof"`
}

// FeeStateProof is the answer of the fee-state proof routes: the proof of
// an account's balance in the fee tree after block Height, whose root
// (that block's fee_merkle_tree_root) is Root. Check it with
// state.VerifyFeeProof.
type FeeStateProof struct {
	Height uint64             `json:"height"`
	Root   types.TaggedBase64 `json:"root"`
	Proof  state.FeeProof     `json:"proof"`
}

// ChainState is the answer of catchup/state, a route of gospresso's own:
// the newest decided block whose state the node applied, with the
// certificate that decided it, and that state's encoding
// (state.State.Encode; base64 in JSON). A node whose store cannot rebuild
// its chain state starts from it (node.WithStateCatchup; docs/state.md,
// "State catchup"), trusting none of it: it checks the certificate
// against its stake table and the state's roots against the block's
// header.
type ChainState struct {
	Leaf    types.Leaf              `json:"leaf"`
	QC      types.QuorumCertificate `json:"qc"`
	Payload types.Payload           `json:"payload"`
	State   []byte                  `json:"state"`
}

// Block returns the decided block of s.
func (s *ChainState) Block() types.Block {
	return types.Block{Leaf: s.Leaf, Payload: s.Payload, QC: s.QC}
}

// chainState answers catchup/state.
func chainState(req *Request, b Backend) (any, error) {
	sb, ok := b.(StateBackend)
	if !ok {
		return nil, notFound("this node keeps no chain state")
	}
	blk, data, err := sb.ChainState(req.Context())
	if err != nil {
		return nil, objectErr(err, "the chain state")
	}
	return ChainState{Leaf: blk.Leaf, QC: blk.QC, Payload: blk.Payload, State: data}, nil
}

// keptStates returns the states b keeps, or a 404 saying why there are
// none.
func keptStates(b Backend) ([]*chain.DecidedState, error) {
	sb, ok := b.(StateBackend)
	if !ok {
		return nil, notFound("this node keeps no chain state")
	}
	kept := sb.DecidedStates()
	if len(kept) == 0 {
		return nil, notFound("this node holds no chain state yet")
	}
	return kept, nil
}

// stateAt returns the kept state after block height.
func stateAt(b Backend, height uint64) (*chain.DecidedState, error) {
	kept, err := keptStates(b)
	if err != nil {
		return nil, err
	}
	i, found := slices.BinarySearchFunc(kept, height, func(ds *chain.DecidedState, h uint64) int {
		return cmp.Compare(ds.Header.Height, h)
	})
	if found {
		return kept[i], nil
	}
	first, last := kept[0].Header.Height, kept[len(kept)-1].Header.Height
	if height > last {
		return nil, notFound("the state after block %d is not applied yet: the newest this node holds is after block %d", height, last)
	}
	return nil, notFound("the state after block %d is not kept: this node keeps the states after its last %d decided blocks (%d to %d)",
		height, chain.StatesKept, first, last)
}

// stateByRoot returns the newest kept state whose block tree (fee false)
// or fee tree (fee true) has root.
func stateByRoot(b Backend, root []byte, fee bool) (*chain.DecidedState, error) {
	kept, err := keptStates(b)
	if err != nil {
		return nil, err
	}
	for _, ds := range slices.Backward(kept) {
		blockRoot, feeRoot := ds.State.Roots()
		if (!fee && bytes.Equal(blockRoot, root)) || (fee && bytes.Equal(feeRoot, root)) {
			return ds, nil
		}
	}
	tree := map[bool]string{false: "block", true: "fee"}[fee]
	return nil, notFound("no %s tree with that root among the states after blocks %d to %d this node keeps",
		tree, kept[0].Header.Height, kept[len(kept)-1].Header.Height)
}

// blockProof proves header index's commitment in ds's block tree.
func blockProof(ds *chain.DecidedState, index uint64) (any, error) {
	p, err := ds.State.BlockTree().Prove(index)
	switch {
	case errors.Is(err, state.ErrNoLeaf):
		return nil, notFound("block %d is not in the block tree after block %d, which holds blocks 0 to %d",
			index, ds.Header.Height, int64(ds.Header.Height)-1)
	case errors.Is(err, state.ErrPruned):
		return nil, notFound("block %d is below the block tree frontier this node restored its state from", index)
	case err != nil:
		return nil, err
	}
	root, _ := ds.State.Roots()
	return BlockStateProof{Height: ds.Header.Height, Root: merkleRoot(root), Proof: p}, nil
}

// feeProof proves addr's balance in ds's fee tree.
func feeProof(ds *chain.DecidedState, addr types.Address) any {
	_, root := ds.State.Roots()
	return FeeStateProof{Height: ds.Header.Height, Root: merkleRoot(root), Proof: ds.State.FeeTree().Prove(addr)}
}

func merkleRoot(root []byte) types.TaggedBase64 {
	return types.TaggedBase64{Tag: types.TagMerkle, Value: root}
}

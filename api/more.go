package api

import (
	"fmt"
	"iter"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/types"
)

// StateSignature returns the state-signature module: GET block/{height}
// answers the light-client state of that block signed with the node's
// state key, for the latest blocks the node keeps.
func StateSignature() Module { return stateSig{} }

type stateSig struct{}

func (stateSig) Name() string    { return "state-signature" }
func (stateSig) Version() string { return "0.1.0" }

func (stateSig) Register(r *Router, b Backend) error {
	r.Get("block/{height}", func(req *Request) (any, error) {
		h, err := req.Uint64("height")
		if err != nil {
			return nil, err
		}
		st, ok := b.StateSignature(h)
		if !ok {
			return nil, notFound("Signature not found.")
		}
		return st, nil
	})
	return nil
}

// Catchup returns the catchup module, which peers use to fetch state they
// lack: fee accounts with their proofs and the block Merkle frontier, from
// the states after the recent decided blocks the node keeps (on a
// StateBackend; otherwise 404), the newest of those states whole
// (catchup/state, gospresso's own), the chain config by commitment, and a
// chain of leaves proving a height was decided.
func Catchup() Module { return catchup{} }

type catchup struct{}

func (catchup) Name() string    { return "catchup" }
func (catchup) Version() string { return "0.1.0" }

// MaxLeafChain bounds the leaves of one leafchain answer.
const MaxLeafChain = 100

func (catchup) Register(r *Router, b Backend) error {
	// The state after block {height}. {view} names the block's view; a
	// node keeps only decided states, one a height, so it is checked as a
	// number and otherwise not needed.
	stateOf := func(req *Request) (*chain.DecidedState, error) {
		h, err := req.Uint64("height")
		if err != nil {
			return nil, err
		}
		if _, err := req.Uint64("view"); err != nil {
			return nil, err
		}
		return stateAt(b, h)
	}
	r.Get("{height}/{view}/account/{address}", func(req *Request) (any, error) {
		addr, err := types.ParseAddress(req.Param("address"))
		if err != nil {
			return nil, badRequest("address: %v", err)
		}
		ds, err := stateOf(req)
		if err != nil {
			return nil, err
		}
		p := ds.State.FeeTree().Prove(addr)
		return AccountProof{Balance: p.Balance, Proof: p}, nil
	})
	r.Post("{height}/{view}/accounts", func(req *Request) (any, error) {
		var addrs []types.Address
		if err := req.DecodeBody(&addrs); err != nil {
			return nil, err
		}
		if len(addrs) > MaxCatchupAccounts {
			return nil, badRequest("%d addresses; at most %d in one request", len(addrs), MaxCatchupAccounts)
		}
		ds, err := stateOf(req)
		if err != nil {
			return nil, err
		}
		fees := ds.State.FeeTree()
		out := make([]state.FeeProof, len(addrs))
		for i, a := range addrs {
			out[i] = fees.Prove(a)
		}
		return out, nil
	})
	r.Get("{height}/{view}/blocks", func(req *Request) (any, error) {
		ds, err := stateOf(req)
		if err != nil {
			return nil, err
		}
		return ds.State.BlockTree().Frontier(), nil
	})
	r.Get("state", func(req *Request) (any, error) { return chainState(req, b) })
	r.Get("chain-config/{commitment}", func(req *Request) (any, error) {
		c, err := req.Commitment("commitment", types.TagChainConfig)
		if err != nil {
			return nil, err
		}
		cc := b.Info().Genesis.ChainConfig
		if types.Commitment(cc.Commit()) != c {
			return nil, notFound("no chain config with commitment %s", req.Param("commitment"))
		}
		return cc, nil
	})
	r.Get("{height}/leafchain", func(req *Request) (any, error) {
		h, err := req.Uint64("height")
		if err != nil {
			return nil, err
		}
		// The leaf at height and the ones after it whose justify QCs
		// certify it: enough to prove it decided under the two-chain rule.
		var out []LeafQueryData
		for x := h; x < h+3 && x < b.BlockHeight() && len(out) < MaxLeafChain; x++ {
			blk, err := b.Store().BlockByHeight(req.Context(), x)
			if err != nil {
				return nil, objectErr(err, "block %d", x)
			}
			out = append(out, LeafQueryData{Leaf: blk.Leaf, QC: blk.QC})
		}
		if len(out) == 0 {
			return nil, notFound("block %d is not decided yet (the chain has %d blocks)", h, b.BlockHeight())
		}
		return out, nil
	})
	return nil
}

// MerkleState returns the block-state or fee-state module (name
// "block-state" or "fee-state"): Merkle proofs against the block tree or
// the fee tree after the recent decided blocks the node keeps (on a
// StateBackend; otherwise every route answers 404), the newest such
// block's height, and (fee-state) the latest balance of an account.
func MerkleState(name string) (Module, error) {
	if name != "block-state" && name != "fee-state" {
		return nil, fmt.Errorf("%w: Merkle state module %q, want block-state or fee-state", ErrInvalidOption, name)
	}
	return merkleState{fee: name == "fee-state"}, nil
}

type merkleState struct{ fee bool }

func (m merkleState) Name() string {
	if m.fee {
		return "fee-state"
	}
	return "block-state"
}
func (merkleState) Version() string { return "0.1.0" }

func (m merkleState) Register(r *Router, b Backend) error {
	// key is a block height in the block tree, an address in the fee
	// tree. It is parsed before the state is looked up: a bad key is a 400
	// whatever the height.
	type key struct {
		block uint64
		addr  types.Address
	}
	parseKey := func(req *Request) (k key, err error) {
		if !m.fee {
			k.block, err = req.Uint64("key")
			return k, err
		}
		if k.addr, err = types.ParseAddress(req.Param("key")); err != nil {
			return k, badRequest("key: %v", err)
		}
		return k, nil
	}
	prove := func(ds *chain.DecidedState, k key) (any, error) {
		if m.fee {
			return feeProof(ds, k.addr), nil
		}
		return blockProof(ds, k.block)
	}
	r.Get("{height}/{key}", func(req *Request) (any, error) {
		h, err := req.Uint64("height")
		if err != nil {
			return nil, err
		}
		k, err := parseKey(req)
		if err != nil {
			return nil, err
		}
		ds, err := stateAt(b, h)
		if err != nil {
			return nil, err
		}
		return prove(ds, k)
	})
	r.Get("commit/{commit}/{key}", func(req *Request) (any, error) {
		root, err := req.Tagged("commit", types.TagMerkle)
		if err != nil {
			return nil, err
		}
		k, err := parseKey(req)
		if err != nil {
			return nil, err
		}
		ds, err := stateByRoot(b, root.Value, m.fee)
		if err != nil {
			return nil, err
		}
		return prove(ds, k)
	})
	r.Get("block-height", func(*Request) (any, error) {
		kept, err := keptStates(b)
		if err != nil {
			return nil, err
		}
		return kept[len(kept)-1].Header.Height, nil
	})
	if m.fee {
		r.Get("fee-balance/latest/{address}", func(req *Request) (any, error) {
			addr, err := types.ParseAddress(req.Param("address"))
			if err != nil {
				return nil, badRequest("address: %v", err)
			}
			kept, err := keptStates(b)
			if err != nil {
				return nil, err
			}
			bal, ok := kept[len(kept)-1].State.FeeTree().Get(addr)
			if !ok {
				return nil, nil // JSON null: no such account
			}
			return bal, nil
		})
	}
	return nil
}

// Event is one item of the hotshot-events stream: a decide, with the
// blocks it decided.
type Event struct {
	View  uint64         `json:"view_number"`
	Event map[string]any `json:"event"`
}

// Events returns the hotshot-events module: a stream of decide events
// (SOCKET events) and the node's startup info (known nodes with stake).
// The reference serves it on a port of its own; mount it on a second
// server to do the same.
func Events() Module { return events{} }

type events struct{}

func (events) Name() string    { return "hotshot-events" }
func (events) Version() string { return "0.1.0" }

func (events) Register(r *Router, b Backend) error {
	r.Get("startup_info", func(*Request) (any, error) {
		return map[string]any{"known_node_with_stake": stakeTable(b.Info()), "non_staked_node_count": 0}, nil
	})
	r.Stream("events", func(req *Request) (iter.Seq2[any, error], error) {
		from := b.BlockHeight()
		return mapBlocks(b.Decided(req.Context(), from), func(blk *types.Block, yield func(any, error) bool) bool {
			return yield(Event{View: uint64(blk.Leaf.View), Event: map[string]any{"Decide": map[string]any{
				"leaf": blk.Leaf, "qc": blk.QC, "block_size": blk.Payload.Size(),
			}}}, nil)
		}), nil
	})
	return nil
}

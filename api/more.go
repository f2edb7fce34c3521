package api

import (
	"fmt"
	"iter"

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
// lack: the chain config by commitment and a chain of leaves proving a
// height was decided. Fee accounts and the block Merkle frontier need the
// chain state (not built yet) and answer 404 saying so.
func Catchup() Module { return catchup{} }

type catchup struct{}

func (catchup) Name() string    { return "catchup" }
func (catchup) Version() string { return "0.1.0" }

// MaxLeafChain bounds the leaves of one leafchain answer.
const MaxLeafChain = 100

func (catchup) Register(r *Router, b Backend) error {
	noState := func(*Request) (any, error) {
		return nil, notFound("fee accounts and the block Merkle tree are not kept by this version of gospresso")
	}
	r.Get("{height}/{view}/account/{address}", func(req *Request) (any, error) {
		if _, err := req.Uint64("height"); err != nil {
			return nil, err
		}
		if _, err := req.Uint64("view"); err != nil {
			return nil, err
		}
		if _, err := types.ParseAddress(req.Param("address")); err != nil {
			return nil, badRequest("address: %v", err)
		}
		return noState(req)
	})
	r.Post("{height}/{view}/accounts", func(req *Request) (any, error) {
		if _, err := req.Uint64("height"); err != nil {
			return nil, err
		}
		if _, err := req.Uint64("view"); err != nil {
			return nil, err
		}
		var addrs []types.Address
		if err := req.DecodeBody(&addrs); err != nil {
			return nil, err
		}
		return noState(req)
	})
	r.Get("{height}/{view}/blocks", func(req *Request) (any, error) {
		if _, err := req.Uint64("height"); err != nil {
			return nil, err
		}
		if _, err := req.Uint64("view"); err != nil {
			return nil, err
		}
		return noState(req)
	})
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
// "block-state" or "fee-state"). Until the chain state keeps its Merkle
// trees every route answers 404 saying so, which the Espresso Go client
// reports as an error rather than misreading.
func MerkleState(name string) (Module, error) {
	if name != "block-state" && name != "fee-state" {
		return nil, fmt.Errorf("%w: Merkle state module %q, want block-state or fee-state", ErrInvalidOption, name)
	}
	return merkleState{name: name}, nil
}

type merkleState struct{ name string }

func (m merkleState) Name() string  { return m.name }
func (merkleState) Version() string { return "0.1.0" }

func (m merkleState) Register(r *Router, b Backend) error {
	none := func(*Request) (any, error) {
		return nil, notFound("%s: the %s Merkle tree is not kept by this version of gospresso", m.name, map[string]string{"block-state": "block", "fee-state": "fee"}[m.name])
	}
	// key is a block height in the block tree, an address in the fee tree.
	checkKey := func(req *Request) error {
		if m.name == "block-state" {
			_, err := req.Uint64("key")
			return err
		}
		if _, err := types.ParseAddress(req.Param("key")); err != nil {
			return badRequest("key: %v", err)
		}
		return nil
	}
	r.Get("{height}/{key}", func(req *Request) (any, error) {
		if _, err := req.Uint64("height"); err != nil {
			return nil, err
		}
		if err := checkKey(req); err != nil {
			return nil, err
		}
		return none(req)
	})
	r.Get("commit/{commit}/{key}", func(req *Request) (any, error) {
		if _, err := req.Tagged("commit", types.TagMerkle); err != nil {
			return nil, err
		}
		if err := checkKey(req); err != nil {
			return nil, err
		}
		return none(req)
	})
	r.Get("block-height", none)
	if m.name == "fee-state" {
		r.Get("fee-balance/latest/{address}", func(req *Request) (any, error) {
			if _, err := types.ParseAddress(req.Param("address")); err != nil {
				return nil, badRequest("address: %v", err)
			}
			return none(req)
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

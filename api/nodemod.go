package api

import (
	"fmt"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/vid"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// DefaultWindowLimit bounds the headers of one header-window answer.
const DefaultWindowLimit = 500

type nodeModule struct{ windowLimit uint64 }

// Node returns the node module: block height, transaction counts and
// payload sizes over height ranges, sync status, header windows by time,
// the current stake table, and limits.
func Node() Module { return nodeModule{windowLimit: DefaultWindowLimit} }

func (nodeModule) Name() string    { return "node" }
func (nodeModule) Version() string { return "0.1.0" }

func (n nodeModule) Register(r *Router, b Backend) error {
	query := func() (storage.QueryStore, error) {
		qs, ok := b.Store().(storage.QueryStore)
		if !ok {
			return nil, notFound("this node keeps no query data (its store is consensus-only)")
		}
		return qs, nil
	}
	r.Get("block-height", func(*Request) (any, error) { return b.BlockHeight(), nil })
	r.Get("limits", func(*Request) (any, error) { return map[string]uint64{"window_limit": n.windowLimit}, nil })

	// Counts and sizes over heights: [from, to] with to inclusive; without
	// from, from 0; without to, up to the newest block.
	type sum func(qs storage.QueryStore, req *Request, from, until uint64) (uint64, error)
	span := func(req *Request, hasFrom, hasTo bool) (uint64, uint64, error) {
		var from uint64
		until := b.BlockHeight()
		var err error
		if hasFrom {
			if from, err = req.Uint64("from"); err != nil {
				return 0, 0, err
			}
		}
		if hasTo {
			to, err := req.Uint64("to")
			if err != nil {
				return 0, 0, err
			}
			if to >= until {
				return 0, 0, notFound("height %d is not decided yet (the chain has %d blocks)", to, until)
			}
			until = to + 1
		}
		if hasFrom && from >= until {
			return 0, 0, badRequest("from %d is above to %d (both inclusive)", from, until-1)
		}
		return from, until, nil
	}
	counted := func(f sum) func(hasFrom, hasTo bool) Handler {
		return func(hasFrom, hasTo bool) Handler {
			return func(req *Request) (any, error) {
				qs, err := query()
				if err != nil {
					return nil, err
				}
				from, until, err := span(req, hasFrom, hasTo)
				if err != nil {
					return nil, err
				}
				n, err := f(qs, req, from, until)
				if err != nil {
					return nil, objectErr(err, "heights %d to %d", from, until)
				}
				return n, nil
			}
		}
	}
	txCount := counted(func(qs storage.QueryStore, req *Request, from, until uint64) (uint64, error) {
		return qs.TransactionCount(req.Context(), from, until)
	})
	size := counted(func(qs storage.QueryStore, req *Request, from, until uint64) (uint64, error) {
		return qs.PayloadBytes(req.Context(), from, until)
	})
	r.Get("transactions/count", txCount(false, false))
	r.Get("transactions/count/{to}", txCount(false, true))
	r.Get("transactions/count/{from}/{to}", txCount(true, true))
	r.Get("payloads/size", size(false, false))
	r.Get("payloads/size/{to}", size(false, true))
	r.Get("payloads/size/{from}/{to}", size(true, true))
	r.Get("payloads/total-size", size(false, false))

	// This node's VID share of a block: computed from the stored payload
	// (every node stores every decided payload, docs/protocol.md, "Data
	// availability"), so it is the share the block's leader sent it.
	share := func(req *Request, blk types.Block, err error, what string) (any, error) {
		if err != nil {
			return nil, objectErr(err, "%s", what)
		}
		info := b.Info()
		if info.NodeIndex < 0 {
			return nil, notFound("this node is not in the stake table: it holds no VID shares")
		}
		params, err := vidParams(info)
		if err != nil {
			return nil, err
		}
		_, common, shares, err := vid.Disperse(params, blk.Payload)
		if err != nil {
			return nil, fmt.Errorf("VID share of block %d: %w", blk.Height(), err)
		}
		data, err := chain.EncodeVIDShare(common, shares[info.NodeIndex])
		if err != nil {
			return nil, fmt.Errorf("VID share of block %d: %w", blk.Height(), err)
		}
		return VidShare{V1: VidShareV1{NodeIndex: uint64(info.NodeIndex), Data: data}}, nil
	}
	r.Get("vid/share/{height}", func(req *Request) (any, error) {
		h, err := req.Uint64("height")
		if err != nil {
			return nil, err
		}
		blk, err := b.Store().BlockByHeight(req.Context(), h)
		return share(req, blk, err, fmt.Sprintf("block %d", h))
	})
	r.Get("vid/share/hash/{hash}", func(req *Request) (any, error) {
		c, err := req.Commitment("hash", types.TagBlock)
		if err != nil {
			return nil, err
		}
		blk, err := b.Store().BlockByHash(req.Context(), c)
		return share(req, blk, err, "block "+req.Param("hash"))
	})
	r.Get("vid/share/payload-hash/{payload-hash}", func(req *Request) (any, error) {
		c, err := req.Commitment("payload-hash", types.TagPayload, types.TagAvidM)
		if err != nil {
			return nil, err
		}
		qs, err := query()
		if err != nil {
			return nil, err
		}
		blk, err := qs.BlockByPayloadHash(req.Context(), c)
		return share(req, blk, err, "block with payload hash "+req.Param("payload-hash"))
	})

	r.Get("sync-status", func(req *Request) (any, error) {
		st := SyncStatus{}
		if p, ok := b.Store().(storage.Pruner); ok {
			h, pruned, err := p.PrunedHeight(req.Context())
			if err != nil {
				return nil, err
			}
			if pruned {
				st.PrunedHeight = &h
			}
		}
		return st, nil
	})

	window := func(req *Request, start uint64) (any, error) {
		end, err := req.Uint64("end")
		if err != nil {
			return nil, err
		}
		if end < start {
			return nil, badRequest("window %d to %d: end is below start (end is exclusive)", start, end)
		}
		qs, err := query()
		if err != nil {
			return nil, err
		}
		w, err := qs.HeaderWindow(req.Context(), start, end, int(n.windowLimit))
		if err != nil {
			return nil, objectErr(err, "header window %d to %d", start, end)
		}
		if w.Window == nil {
			w.Window = []types.Header{}
		}
		return TimeWindow{Window: w.Window, Prev: w.Prev, Next: w.Next}, nil
	}
	r.Get("header/window/{start}/{end}", func(req *Request) (any, error) {
		start, err := req.Uint64("start")
		if err != nil {
			return nil, err
		}
		return window(req, start)
	})
	r.Get("header/window/from/{height}/{end}", func(req *Request) (any, error) {
		h, err := req.Uint64("height")
		if err != nil {
			return nil, err
		}
		blk, err := b.Store().BlockByHeight(req.Context(), h)
		if err != nil {
			return nil, objectErr(err, "block %d", h)
		}
		return window(req, blk.Leaf.Header.Timestamp)
	})
	r.Get("header/window/from/hash/{hash}/{end}", func(req *Request) (any, error) {
		c, err := req.Commitment("hash", types.TagBlock)
		if err != nil {
			return nil, err
		}
		blk, err := b.Store().BlockByHash(req.Context(), c)
		if err != nil {
			return nil, objectErr(err, "block %s", req.Param("hash"))
		}
		return window(req, blk.Leaf.Header.Timestamp)
	})

	r.Get("stake-table/current", func(*Request) (any, error) { return stakeTable(b.Info()), nil })
	return nil
}

// StakeTableEntry is one member of the stake table as the API shows it.
type StakeTableEntry struct {
	StakeTableKey string `json:"stake_table_key"`
	StateVerKey   string `json:"state_ver_key"`
	Stake         uint64 `json:"stake"`
	DA            bool   `json:"da"`
}

func stakeTable(info Info) []StakeTableEntry {
	if info.Genesis == nil {
		return []StakeTableEntry{}
	}
	out := make([]StakeTableEntry, 0, len(info.Genesis.StakeTable))
	for _, e := range info.Genesis.StakeTable {
		out = append(out, StakeTableEntry{StakeTableKey: e.StakingKey.String(), StateVerKey: e.StateKey.String(), Stake: e.Stake, DA: e.DA})
	}
	return out
}

package api

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/gospresso/gospresso/chain/vid"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// Default range limits of the availability module: how many objects one
// range request may ask for.
const (
	// DefaultSmallObjectRangeLimit bounds ranges of leaves, headers, VID
	// common data and summaries.
	DefaultSmallObjectRangeLimit = 500
	// DefaultLargeObjectRangeLimit bounds ranges of blocks and payloads.
	DefaultLargeObjectRangeLimit = 100
)

// AvailabilityOption configures the availability module.
type AvailabilityOption func(*availability) error

// WithRangeLimits sets the small- and large-object range limits (defaults
// DefaultSmallObjectRangeLimit and DefaultLargeObjectRangeLimit).
func WithRangeLimits(small, large uint64) AvailabilityOption {
	return func(a *availability) error {
		if small == 0 || large == 0 {
			return fmt.Errorf("%w: range limits %d and %d, want both > 0", ErrInvalidOption, small, large)
		}
		a.limits = Limits{SmallObjectRangeLimit: small, LargeObjectRangeLimit: large}
		return nil
	}
}

type availability struct {
	major  int
	limits Limits
	b      Backend
	fetch  *fetcher // nil: no peers to fetch missing blocks from
}

// Availability returns the availability module at version 0 (leaves in
// the Leaf1 shape), the one the Espresso Go client reads. Mount
// AvailabilityV1 beside it for the Leaf2 shape.
func Availability(opts ...AvailabilityOption) (Module, error) { return newAvailability(0, opts) }

// AvailabilityV1 returns the availability module at version 1: the same
// routes, with leaves in the Leaf2 shape.
func AvailabilityV1(opts ...AvailabilityOption) (Module, error) { return newAvailability(1, opts) }

func newAvailability(major int, opts []AvailabilityOption) (Module, error) {
	a := &availability{major: major, limits: Limits{SmallObjectRangeLimit: DefaultSmallObjectRangeLimit, LargeObjectRangeLimit: DefaultLargeObjectRangeLimit}}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *availability) Name() string { return "availability" }

func (a *availability) Version() string {
	if a.major >= 1 {
		return "1.0.0"
	}
	return "0.1.0"
}

func (a *availability) Register(r *Router, b Backend) error {
	m := &availability{major: a.major, limits: a.limits, b: b, fetch: a.fetch}
	small, large := m.limits.SmallObjectRangeLimit, m.limits.LargeObjectRangeLimit

	r.Get("limits", func(*Request) (any, error) { return m.limits, nil })

	// One object by height, by hash, by payload hash; ranges; streams.
	type kind struct {
		name  string
		limit uint64
		conv  func(*types.Block) (any, error)
		// byPayloadHash and byBlockHash name the extra lookups the kind has.
		byPayloadHash, byBlockHash bool
	}
	kinds := []kind{
		{name: "leaf", limit: small, conv: m.leaf},
		{name: "header", limit: small, conv: func(b *types.Block) (any, error) { return b.Leaf.Header, nil }, byPayloadHash: true},
		{name: "block", limit: large, conv: func(b *types.Block) (any, error) { return newBlockData(b) }, byPayloadHash: true},
		{name: "payload", limit: large, conv: func(b *types.Block) (any, error) { return newPayloadData(b), nil }, byBlockHash: true},
		{name: "vid/common", limit: small, conv: m.vidCommon, byPayloadHash: true},
	}
	streams := map[string]string{"leaf": "leaves", "header": "headers", "block": "blocks", "payload": "payloads", "vid/common": "vid/common"}
	for _, k := range kinds {
		conv := k.conv
		r.Get(k.name+"/{height}", func(req *Request) (any, error) {
			blk, err := m.byHeight(req)
			if err != nil {
				return nil, err
			}
			return conv(&blk)
		})
		hashTag := types.TagBlock
		if k.name == "leaf" {
			hashTag = types.TagLeaf
		}
		r.Get(k.name+"/hash/{hash}", func(req *Request) (any, error) {
			if k.name == "payload" {
				// A payload's hash is its own (payload commitment), as in
				// the reference; its block's hash goes to
				// payload/block-hash/{block-hash}.
				blk, err := m.byPayloadHash(req, "hash")
				if err != nil {
					return nil, err
				}
				return conv(&blk)
			}
			c, err := req.Commitment("hash", hashTag)
			if err != nil {
				return nil, err
			}
			var blk types.Block
			if hashTag == types.TagLeaf {
				blk, err = m.b.Store().BlockByLeaf(req.Context(), c)
			} else {
				blk, err = m.byBlockHash(req.Context(), c)
			}
			if err != nil {
				return nil, objectErr(err, "%s with hash %s", k.name, req.Param("hash"))
			}
			return conv(&blk)
		})
		if k.byPayloadHash {
			r.Get(k.name+"/payload-hash/{payload-hash}", func(req *Request) (any, error) {
				blk, err := m.byPayloadHash(req, "payload-hash")
				if err != nil {
					return nil, err
				}
				return conv(&blk)
			})
		}
		if k.byBlockHash {
			r.Get(k.name+"/block-hash/{block-hash}", func(req *Request) (any, error) {
				c, err := req.Commitment("block-hash", types.TagBlock)
				if err != nil {
					return nil, err
				}
				blk, err := m.byBlockHash(req.Context(), c)
				if err != nil {
					return nil, objectErr(err, "payload of block %s", req.Param("block-hash"))
				}
				return conv(&blk)
			})
		}
		if k.name != "vid/common" {
			limit := k.limit
			r.Get(k.name+"/{from}/{until}", func(req *Request) (any, error) {
				blocks, err := m.rangeOf(req, limit)
				if err != nil {
					return nil, err
				}
				out := make([]any, 0, len(blocks))
				for i := range blocks {
					v, err := conv(&blocks[i])
					if err != nil {
						return nil, err
					}
					out = append(out, v)
				}
				return out, nil
			})
		}
		r.Stream("stream/"+streams[k.name]+"/{height}", func(req *Request) (iter.Seq2[any, error], error) {
			from, err := req.Uint64("height")
			if err != nil {
				return nil, err
			}
			return mapBlocks(m.b.Decided(req.Context(), from), func(b *types.Block, yield func(any, error) bool) bool {
				v, err := conv(b)
				return yield(v, err)
			}), nil
		})
	}

	// Summaries.
	r.Get("block/summary/{height}", func(req *Request) (any, error) {
		blk, err := m.byHeight(req)
		if err != nil {
			return nil, err
		}
		return newSummary(&blk)
	})
	r.Get("block/summaries/{from}/{until}", func(req *Request) (any, error) {
		blocks, err := m.rangeOf(req, small)
		if err != nil {
			return nil, err
		}
		out := make([]BlockSummaryQueryData, 0, len(blocks))
		for i := range blocks {
			s, err := newSummary(&blocks[i])
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	})

	// Transactions.
	r.Get("transaction/{height}/{index}", func(req *Request) (any, error) { return m.transactionAt(req, true) })
	r.Get("transaction/{height}/{index}/noproof", func(req *Request) (any, error) { return m.transactionAt(req, false) })
	r.Get("transaction/hash/{hash}", func(req *Request) (any, error) { return m.transactionByHash(req, true) })
	r.Get("transaction/hash/{hash}/noproof", func(req *Request) (any, error) { return m.transactionByHash(req, false) })
	r.Stream("stream/transactions/{height}", func(req *Request) (iter.Seq2[any, error], error) { return m.transactionStream(req, false) })
	r.Stream("stream/transactions/{height}/namespace/{namespace}", func(req *Request) (iter.Seq2[any, error], error) {
		return m.transactionStream(req, true)
	})

	// Namespaces.
	r.Get("block/{height}/namespace/{namespace}", func(req *Request) (any, error) {
		ns, err := namespaceParam(req)
		if err != nil {
			return nil, err
		}
		blk, err := m.byHeight(req)
		if err != nil {
			return nil, err
		}
		return m.namespaceData(&blk, ns)
	})
	r.Get("block/hash/{hash}/namespace/{namespace}", func(req *Request) (any, error) {
		ns, err := namespaceParam(req)
		if err != nil {
			return nil, err
		}
		c, err := req.Commitment("hash", types.TagBlock)
		if err != nil {
			return nil, err
		}
		blk, err := m.byBlockHash(req.Context(), c)
		if err != nil {
			return nil, objectErr(err, "block with hash %s", req.Param("hash"))
		}
		return m.namespaceData(&blk, ns)
	})
	r.Get("block/payload-hash/{payload-hash}/namespace/{namespace}", func(req *Request) (any, error) {
		ns, err := namespaceParam(req)
		if err != nil {
			return nil, err
		}
		blk, err := m.byPayloadHash(req, "payload-hash")
		if err != nil {
			return nil, err
		}
		return m.namespaceData(&blk, ns)
	})
	r.Get("block/{from}/{until}/namespace/{namespace}", func(req *Request) (any, error) {
		ns, err := namespaceParam(req)
		if err != nil {
			return nil, err
		}
		blocks, err := m.rangeOf(req, large)
		if err != nil {
			return nil, err
		}
		out := make([]NamespaceProofQueryData, 0, len(blocks))
		for i := range blocks {
			d, err := m.namespaceData(&blocks[i], ns)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		return out, nil
	})
	r.Stream("stream/blocks/{height}/namespace/{namespace}", func(req *Request) (iter.Seq2[any, error], error) {
		from, err := req.Uint64("height")
		if err != nil {
			return nil, err
		}
		ns, err := namespaceParam(req)
		if err != nil {
			return nil, err
		}
		return mapBlocks(m.b.Decided(req.Context(), from), func(b *types.Block, yield func(any, error) bool) bool {
			v, err := m.namespaceData(b, ns)
			return yield(v, err)
		}), nil
	})
	return nil
}

func (m *availability) leaf(b *types.Block) (any, error) { return newLeafData(b, m.major), nil }

func (m *availability) vidCommon(b *types.Block) (any, error) {
	params, err := vidParams(m.b.Info())
	if err != nil {
		return nil, err
	}
	common, err := vid.CommonOf(params, b.Payload)
	if err != nil {
		return nil, fmt.Errorf("VID common data of block %d: %w", b.Height(), err)
	}
	roots := make([]b64, len(common.Roots))
	for i := range common.Roots {
		roots[i] = common.Roots[i][:]
	}
	return VidCommonQueryData{
		Height: b.Height(), BlockHash: blockHash(&b.Leaf.Header), PayloadHash: payloadHash(&b.Leaf.Header),
		Common: VidCommon{V1: VidCommonV1{TotalWeights: uint64(common.Total), RecoveryThreshold: uint64(common.Recovery),
			PayloadByteLen: uint64(common.PayloadLen), NsRoots: roots}},
	}, nil
}

// byHeight loads the block at route parameter "height".
func (m *availability) byHeight(req *Request) (types.Block, error) {
	h, err := req.Uint64("height")
	if err != nil {
		return types.Block{}, err
	}
	blk, err := m.b.Store().BlockByHeight(req.Context(), h)
	if err != nil && missing(err) && m.fetch != nil && h < m.b.BlockHeight() {
		blk, err = m.fetched(req.Context(), err, fmt.Sprintf("block/%d", h), func(b *types.Block) bool { return b.Height() == h })
	}
	if err != nil {
		return types.Block{}, objectErr(err, "block %d (the chain has %d blocks)", h, m.b.BlockHeight())
	}
	return blk, nil
}

// byBlockHash loads the block with header commitment c, from the store or
// else from peers.
func (m *availability) byBlockHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	blk, err := m.b.Store().BlockByHash(ctx, c)
	if err != nil && missing(err) && m.fetch != nil {
		blk, err = m.fetched(ctx, err, "block/hash/"+c.Tagged(types.TagBlock).String(),
			func(b *types.Block) bool { return b.Leaf.Header.Commit() == c })
	}
	return blk, err
}

// fetched asks the peers for a block the store lacks (local is the
// store's error); when none has it, the answer is local's, with why.
func (m *availability) fetched(ctx context.Context, local error, path string, want func(*types.Block) bool) (types.Block, error) {
	blk, err := m.fetch.block(ctx, m.b, path, want)
	if err != nil {
		return types.Block{}, &fetchError{local: local, peers: err}
	}
	return blk, nil
}

// fetchError is a block missing here that no peer could provide.
type fetchError struct{ local, peers error }

func (e *fetchError) Error() string {
	return e.local.Error() + " (not fetched from peers: " + e.peers.Error() + ")"
}
func (e *fetchError) Unwrap() error { return e.local }

func (m *availability) byPayloadHash(req *Request, param string) (types.Block, error) {
	c, err := req.Commitment(param, types.TagPayload, types.TagAvidM)
	if err != nil {
		return types.Block{}, err
	}
	qs, err := m.query()
	if err != nil {
		return types.Block{}, err
	}
	blk, err := qs.BlockByPayloadHash(req.Context(), c)
	if err != nil && missing(err) && m.fetch != nil {
		blk, err = m.fetched(req.Context(), err, "block/payload-hash/"+c.Tagged(types.TagPayload).String(),
			func(b *types.Block) bool { return b.Leaf.Header.PayloadCommitment == c })
	}
	if err != nil {
		return types.Block{}, objectErr(err, "block with payload hash %s", req.Param(param))
	}
	return blk, nil
}

func (m *availability) query() (storage.QueryStore, error) {
	qs, ok := m.b.Store().(storage.QueryStore)
	if !ok {
		return nil, notFound("this node keeps no query data (its store is consensus-only)")
	}
	return qs, nil
}

// rangeOf loads the blocks of heights [from, until) named by the route, at
// most limit of them: a longer range is refused with 400 naming the limit.
func (m *availability) rangeOf(req *Request, limit uint64) ([]types.Block, error) {
	from, err := req.Uint64("from")
	if err != nil {
		return nil, err
	}
	until, err := req.Uint64("until")
	if err != nil {
		return nil, err
	}
	if until < from {
		return nil, badRequest("range %d to %d: until is below from (until is exclusive)", from, until)
	}
	if until-from > limit {
		return nil, badRequest("range %d to %d holds %d objects, over the limit of %d (see limits)", from, until, until-from, limit)
	}
	if until == from {
		return []types.Block{}, nil
	}
	qs, err := m.query()
	if err != nil {
		return nil, err
	}
	blocks, err := qs.BlockRange(req.Context(), from, until, int(until-from))
	if err != nil {
		return nil, objectErr(err, "blocks %d to %d", from, until)
	}
	if uint64(len(blocks)) < until-from {
		return nil, notFound("blocks %d to %d: only %d of them are available (the chain has %d blocks)", from, until, len(blocks), m.b.BlockHeight())
	}
	return blocks, nil
}

func (m *availability) transactionAt(req *Request, proof bool) (any, error) {
	i, err := req.Uint64("index")
	if err != nil {
		return nil, err
	}
	blk, err := m.byHeight(req)
	if err != nil {
		return nil, err
	}
	txs, err := blk.Payload.Transactions()
	if err != nil {
		return nil, err
	}
	if i >= uint64(len(txs)) {
		return nil, notFound("block %d has %d transactions, no index %d", blk.Height(), len(txs), i)
	}
	return transactionData(&blk, txs, i, proof)
}

func (m *availability) transactionByHash(req *Request, proof bool) (any, error) {
	c, err := req.Commitment("hash", types.TagTransaction)
	if err != nil {
		return nil, err
	}
	loc, err := m.b.Store().TransactionByHash(req.Context(), c)
	if err != nil {
		return nil, objectErr(err, "transaction %s", req.Param("hash"))
	}
	blk, err := m.b.Store().BlockByHeight(req.Context(), loc.Height)
	if err != nil {
		return nil, objectErr(err, "block %d of transaction %s", loc.Height, req.Param("hash"))
	}
	txs, err := blk.Payload.Transactions()
	if err != nil {
		return nil, err
	}
	if loc.Index >= uint64(len(txs)) {
		return nil, fmt.Errorf("store places transaction %s at index %d of block %d, which has %d", req.Param("hash"), loc.Index, loc.Height, len(txs))
	}
	return transactionData(&blk, txs, loc.Index, proof)
}

func (m *availability) transactionStream(req *Request, byNamespace bool) (iter.Seq2[any, error], error) {
	from, err := req.Uint64("height")
	if err != nil {
		return nil, err
	}
	var ns uint64
	if byNamespace {
		if ns, err = namespaceParam(req); err != nil {
			return nil, err
		}
	}
	return mapBlocks(m.b.Decided(req.Context(), from), func(b *types.Block, yield func(any, error) bool) bool {
		txs, err := b.Payload.Transactions()
		if err != nil {
			return yield(nil, err)
		}
		for i := range txs {
			if byNamespace && txs[i].Namespace != ns {
				continue
			}
			v, err := transactionData(b, txs, uint64(i), true)
			if !yield(v, err) {
				return false
			}
		}
		return true
	}), nil
}

// transactionData builds the query object of transaction i of a block.
func transactionData(b *types.Block, txs []types.Transaction, i uint64, proof bool) (TransactionQueryData, error) {
	tx := txs[i]
	d := TransactionQueryData{Transaction: tx, Hash: tx.Commit().Tagged(types.TagTransaction), Index: i,
		BlockHash: blockHash(&b.Leaf.Header), BlockHeight: b.Height()}
	if proof {
		entries, err := b.Payload.NsTable.Entries(len(b.Payload.Raw))
		if err != nil {
			return TransactionQueryData{}, err
		}
		nsIndex := slices.IndexFunc(entries, func(e types.NsEntry) bool { return uint64(e.Namespace) == tx.Namespace })
		var inNs uint64
		for j := range i {
			if txs[j].Namespace == tx.Namespace {
				inNs++
			}
		}
		d.Proof = &TransactionProof{NsIndex: uint64(nsIndex), TxIndex: inNs}
	}
	return d, nil
}

func namespaceParam(req *Request) (uint64, error) {
	ns, err := req.Uint64("namespace")
	if err != nil {
		return 0, err
	}
	if ns > 1<<32-1 {
		return 0, badRequest("namespace %d does not fit in 32 bits (namespace ids are u32 in the namespace table)", ns)
	}
	return ns, nil
}

// namespaceData is a namespace's transactions in a block, with its proof
// against the payload commitment; an absent namespace gives a null proof
// and no transactions.
func (m *availability) namespaceData(b *types.Block, ns uint64) (NamespaceProofQueryData, error) {
	entries, err := b.Payload.NsTable.Entries(len(b.Payload.Raw))
	if err != nil {
		return NamespaceProofQueryData{}, err
	}
	i := slices.IndexFunc(entries, func(e types.NsEntry) bool { return uint64(e.Namespace) == ns })
	if i < 0 {
		return NamespaceProofQueryData{Transactions: []types.Transaction{}}, nil
	}
	txs, err := b.Payload.Namespace(ns)
	if err != nil {
		return NamespaceProofQueryData{}, err
	}
	params, err := vidParams(m.b.Info())
	if err != nil {
		return NamespaceProofQueryData{}, err
	}
	proof, err := vid.ProveNamespace(params, b.Payload, i)
	if err != nil {
		return NamespaceProofQueryData{}, fmt.Errorf("namespace proof for block %d: %w", b.Height(), err)
	}
	path := make([]b64, len(proof.Path))
	for j := range proof.Path {
		path[j] = proof.Path[j][:]
	}
	e := entries[i]
	return NamespaceProofQueryData{
		Proof: &NsProof{V1: NsProofV1{NsIndex: uint64(i), Start: uint64(e.Start), End: uint64(e.End), NsPayload: proof.Bytes,
			TotalWeights: uint64(proof.Total), RecoveryThreshold: uint64(proof.Recovery), Path: path}},
		Transactions: txs,
	}, nil
}

// objectErr words a store error for a missing object.
func objectErr(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	why := ""
	var fe *fetchError
	if errors.As(err, &fe) {
		why = " (and not fetched from peers: " + fe.peers.Error() + ")"
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return notFound("%s not found%s", what, why)
	case errors.Is(err, storage.ErrPruned):
		return notFound("%s was pruned by this node (ask an archival node)%s", what, why)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// mapBlocks turns a sequence of blocks into a sequence of stream items:
// each blocks gives the items f yields.
func mapBlocks(blocks iter.Seq2[types.Block, error], f func(*types.Block, func(any, error) bool) bool) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for b, err := range blocks {
			if err != nil {
				yield(nil, err)
				return
			}
			if !f(&b, yield) {
				return
			}
		}
	}
}

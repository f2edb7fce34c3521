package client

import (
	"context"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/types"
)

// The node module (docs/api.md): what this node has tabulated, over
// inclusive height ranges [from, to].

func nd(segs ...string) string { return path(0, "node", segs...) }

// NodeBlockHeight returns the number of decided blocks as the node module
// reports it (node/block-height).
func (c *Client) NodeBlockHeight(ctx context.Context) (uint64, error) {
	return getValue[uint64](ctx, c, nd("block-height"))
}

// NodeLimits are the node module's limits.
type NodeLimits struct {
	// WindowLimit bounds the headers of one header window.
	WindowLimit uint64 `json:"window_limit"`
}

// NodeLimits returns the node module's limits (node/limits).
func (c *Client) NodeLimits(ctx context.Context) (NodeLimits, error) {
	return getValue[NodeLimits](ctx, c, nd("limits"))
}

// TransactionCount returns the number of transactions in every decided
// block (node/transactions/count).
func (c *Client) TransactionCount(ctx context.Context) (uint64, error) {
	return getValue[uint64](ctx, c, nd("transactions", "count"))
}

// TransactionCountTo returns the number of transactions in the blocks of
// heights [0, to], to inclusive (node/transactions/count/{to}). A height
// not decided yet is ErrNotFound.
func (c *Client) TransactionCountTo(ctx context.Context, to uint64) (uint64, error) {
	return getValue[uint64](ctx, c, nd("transactions", "count", dec(to)))
}

// TransactionCountRange returns the number of transactions in the blocks
// of heights [from, to], to inclusive (node/transactions/count/{from}/{to}).
func (c *Client) TransactionCountRange(ctx context.Context, from, to uint64) (uint64, error) {
	return getValue[uint64](ctx, c, nd("transactions", "count", dec(from), dec(to)))
}

// PayloadSize returns the payload bytes of every decided block
// (node/payloads/size).
func (c *Client) PayloadSize(ctx context.Context) (uint64, error) {
	return getValue[uint64](ctx, c, nd("payloads", "size"))
}

// PayloadSizeTo returns the payload bytes of the blocks of heights [0, to]
// (node/payloads/size/{to}).
func (c *Client) PayloadSizeTo(ctx context.Context, to uint64) (uint64, error) {
	return getValue[uint64](ctx, c, nd("payloads", "size", dec(to)))
}

// PayloadSizeRange returns the payload bytes of the blocks of heights
// [from, to] (node/payloads/size/{from}/{to}).
func (c *Client) PayloadSizeRange(ctx context.Context, from, to uint64) (uint64, error) {
	return getValue[uint64](ctx, c, nd("payloads", "size", dec(from), dec(to)))
}

// PayloadTotalSize returns the payload bytes of every decided block
// (node/payloads/total-size).
func (c *Client) PayloadTotalSize(ctx context.Context) (uint64, error) {
	return getValue[uint64](ctx, c, nd("payloads", "total-size"))
}

// SyncStatus returns the node's account of missing and pruned data
// (node/sync-status).
func (c *Client) SyncStatus(ctx context.Context) (api.SyncStatus, error) {
	return getValue[api.SyncStatus](ctx, c, nd("sync-status"))
}

// HeaderWindow returns the headers with timestamps (unix seconds) in
// [start, end), at most the window limit, with the last header before
// and the first after when known (node/header/window/{start}/{end}).
func (c *Client) HeaderWindow(ctx context.Context, start, end uint64) (api.TimeWindow, error) {
	return getValue[api.TimeWindow](ctx, c, nd("header", "window", dec(start), dec(end)))
}

// HeaderWindowFrom is HeaderWindow starting at the timestamp of the block
// at height (node/header/window/from/{height}/{end}).
func (c *Client) HeaderWindowFrom(ctx context.Context, height, end uint64) (api.TimeWindow, error) {
	return getValue[api.TimeWindow](ctx, c, nd("header", "window", "from", dec(height), dec(end)))
}

// HeaderWindowFromHash is HeaderWindow starting at the timestamp of the
// block whose hash is hash (node/header/window/from/hash/{BLOCK~...}/{end}).
func (c *Client) HeaderWindowFromHash(ctx context.Context, hash types.Commitment, end uint64) (api.TimeWindow, error) {
	return getValue[api.TimeWindow](ctx, c, nd("header", "window", "from", "hash", tagged(hash, types.TagBlock), dec(end)))
}

// StakeTable returns the current stake table (node/stake-table/current).
func (c *Client) StakeTable(ctx context.Context) ([]api.StakeTableEntry, error) {
	return getList[api.StakeTableEntry](ctx, c, nd("stake-table", "current"))
}

// VidShare returns the node's VID share of the block at height
// (node/vid/share/{height}); chain.DecodeVIDShare reads its data. A node
// outside the stake table answers ErrNotFound.
func (c *Client) VidShare(ctx context.Context, height uint64) (api.VidShare, error) {
	return getValue[api.VidShare](ctx, c, nd("vid", "share", dec(height)))
}

// VidShareByHash is VidShare for the block whose hash is hash
// (node/vid/share/hash/{BLOCK~...}).
func (c *Client) VidShareByHash(ctx context.Context, hash types.Commitment) (api.VidShare, error) {
	return getValue[api.VidShare](ctx, c, nd("vid", "share", "hash", tagged(hash, types.TagBlock)))
}

// VidShareByPayloadHash is VidShare for the block whose payload commitment
// is hash (node/vid/share/payload-hash/{HASH~...}).
func (c *Client) VidShareByPayloadHash(ctx context.Context, hash types.Commitment) (api.VidShare, error) {
	return getValue[api.VidShare](ctx, c, nd("vid", "share", "payload-hash", tagged(hash, types.TagPayload)))
}

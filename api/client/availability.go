package client

import (
	"context"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/types"
)

// The availability module (docs/api.md): decided leaves, headers, blocks,
// payloads, VID common data, transactions, summaries and namespaces, by
// height, by hash, and over ranges [from, until) of heights (until
// exclusive, at most the server's range limit of objects: see Limits).
// Calls read the v0 routes, except the ...V1 methods.

// av is the path of an availability v0 route.
func av(segs ...string) string { return path(0, "availability", segs...) }

// av1 is the path of an availability v1 route.
func av1(segs ...string) string { return path(1, "availability", segs...) }

// Limits returns the availability module's range limits (availability/limits).
func (c *Client) Limits(ctx context.Context) (api.Limits, error) {
	return getValue[api.Limits](ctx, c, av("limits"))
}

// Leaf returns the decided leaf at height with its certificate, in the
// Leaf1 shape of the v0 routes (availability/leaf/{height}).
func (c *Client) Leaf(ctx context.Context, height uint64) (api.LeafQueryData, error) {
	return getValue[api.LeafQueryData](ctx, c, av("leaf", dec(height)))
}

// LeafByHash returns the decided leaf whose commitment is hash
// (availability/leaf/hash/{COMMIT~...}).
func (c *Client) LeafByHash(ctx context.Context, hash types.Commitment) (api.LeafQueryData, error) {
	return getValue[api.LeafQueryData](ctx, c, av("leaf", "hash", tagged(hash, types.TagLeaf)))
}

// Leaves returns the leaves of heights [from, until)
// (availability/leaf/{from}/{until}).
func (c *Client) Leaves(ctx context.Context, from, until uint64) ([]api.LeafQueryData, error) {
	return getList[api.LeafQueryData](ctx, c, av("leaf", dec(from), dec(until)))
}

// LeafV1 is Leaf in the Leaf2 shape of the v1 routes
// (/v1/availability/leaf/{height}).
func (c *Client) LeafV1(ctx context.Context, height uint64) (api.LeafQueryDataV1, error) {
	return getValue[api.LeafQueryDataV1](ctx, c, av1("leaf", dec(height)))
}

// LeafByHashV1 is LeafByHash in the Leaf2 shape of the v1 routes.
func (c *Client) LeafByHashV1(ctx context.Context, hash types.Commitment) (api.LeafQueryDataV1, error) {
	return getValue[api.LeafQueryDataV1](ctx, c, av1("leaf", "hash", tagged(hash, types.TagLeaf)))
}

// LeavesV1 is Leaves in the Leaf2 shape of the v1 routes.
func (c *Client) LeavesV1(ctx context.Context, from, until uint64) ([]api.LeafQueryDataV1, error) {
	return getList[api.LeafQueryDataV1](ctx, c, av1("leaf", dec(from), dec(until)))
}

// Header returns the header of the block at height
// (availability/header/{height}).
func (c *Client) Header(ctx context.Context, height uint64) (types.Header, error) {
	return getValue[types.Header](ctx, c, av("header", dec(height)))
}

// HeaderByHash returns the header whose commitment, the block hash, is
// hash (availability/header/hash/{BLOCK~...}).
func (c *Client) HeaderByHash(ctx context.Context, hash types.Commitment) (types.Header, error) {
	return getValue[types.Header](ctx, c, av("header", "hash", tagged(hash, types.TagBlock)))
}

// HeaderByPayloadHash returns the header of the block whose payload
// commitment is hash (availability/header/payload-hash/{HASH~...}).
func (c *Client) HeaderByPayloadHash(ctx context.Context, hash types.Commitment) (types.Header, error) {
	return getValue[types.Header](ctx, c, av("header", "payload-hash", tagged(hash, types.TagPayload)))
}

// Headers returns the headers of heights [from, until)
// (availability/header/{from}/{until}).
func (c *Client) Headers(ctx context.Context, from, until uint64) ([]types.Header, error) {
	return getList[types.Header](ctx, c, av("header", dec(from), dec(until)))
}

// Block returns the block at height (availability/block/{height}).
func (c *Client) Block(ctx context.Context, height uint64) (api.BlockQueryData, error) {
	return getValue[api.BlockQueryData](ctx, c, av("block", dec(height)))
}

// BlockByHash returns the block whose hash is hash
// (availability/block/hash/{BLOCK~...}).
func (c *Client) BlockByHash(ctx context.Context, hash types.Commitment) (api.BlockQueryData, error) {
	return getValue[api.BlockQueryData](ctx, c, av("block", "hash", tagged(hash, types.TagBlock)))
}

// BlockByPayloadHash returns the block whose payload commitment is hash
// (availability/block/payload-hash/{HASH~...}).
func (c *Client) BlockByPayloadHash(ctx context.Context, hash types.Commitment) (api.BlockQueryData, error) {
	return getValue[api.BlockQueryData](ctx, c, av("block", "payload-hash", tagged(hash, types.TagPayload)))
}

// Blocks returns the blocks of heights [from, until), at most the
// large-object range limit (availability/block/{from}/{until}).
func (c *Client) Blocks(ctx context.Context, from, until uint64) ([]api.BlockQueryData, error) {
	return getList[api.BlockQueryData](ctx, c, av("block", dec(from), dec(until)))
}

// Payload returns the payload of the block at height
// (availability/payload/{height}).
func (c *Client) Payload(ctx context.Context, height uint64) (api.PayloadQueryData, error) {
	return getValue[api.PayloadQueryData](ctx, c, av("payload", dec(height)))
}

// PayloadByHash returns the payload whose commitment is hash
// (availability/payload/hash/{HASH~...}), as the reference's route takes a
// payload hash. To look a payload up by its block's hash use
// PayloadByBlockHash.
func (c *Client) PayloadByHash(ctx context.Context, hash types.Commitment) (api.PayloadQueryData, error) {
	return getValue[api.PayloadQueryData](ctx, c, av("payload", "hash", tagged(hash, types.TagPayload)))
}

// PayloadByBlockHash returns the payload of the block whose hash is hash
// (availability/payload/block-hash/{BLOCK~...}).
func (c *Client) PayloadByBlockHash(ctx context.Context, hash types.Commitment) (api.PayloadQueryData, error) {
	return getValue[api.PayloadQueryData](ctx, c, av("payload", "block-hash", tagged(hash, types.TagBlock)))
}

// Payloads returns the payloads of heights [from, until), at most the
// large-object range limit (availability/payload/{from}/{until}).
func (c *Client) Payloads(ctx context.Context, from, until uint64) ([]api.PayloadQueryData, error) {
	return getList[api.PayloadQueryData](ctx, c, av("payload", dec(from), dec(until)))
}

// VidCommon returns the VID common data of the block at height
// (availability/vid/common/{height}).
func (c *Client) VidCommon(ctx context.Context, height uint64) (api.VidCommonQueryData, error) {
	return getValue[api.VidCommonQueryData](ctx, c, av("vid", "common", dec(height)))
}

// VidCommonByHash returns the VID common data of the block whose hash is
// hash (availability/vid/common/hash/{BLOCK~...}).
func (c *Client) VidCommonByHash(ctx context.Context, hash types.Commitment) (api.VidCommonQueryData, error) {
	return getValue[api.VidCommonQueryData](ctx, c, av("vid", "common", "hash", tagged(hash, types.TagBlock)))
}

// VidCommonByPayloadHash returns the VID common data of the block whose
// payload commitment is hash (availability/vid/common/payload-hash/{HASH~...}).
func (c *Client) VidCommonByPayloadHash(ctx context.Context, hash types.Commitment) (api.VidCommonQueryData, error) {
	return getValue[api.VidCommonQueryData](ctx, c, av("vid", "common", "payload-hash", tagged(hash, types.TagPayload)))
}

// Transaction returns transaction index (from 0) of the block at height,
// with where it stands in the payload (availability/transaction/{height}/{index}).
// An index past the block's transactions is ErrNotFound.
func (c *Client) Transaction(ctx context.Context, height, index uint64) (api.TransactionQueryData, error) {
	return getValue[api.TransactionQueryData](ctx, c, av("transaction", dec(height), dec(index)))
}

// TransactionNoProof is Transaction without the proof: Proof is nil
// (availability/transaction/{height}/{index}/noproof).
func (c *Client) TransactionNoProof(ctx context.Context, height, index uint64) (api.TransactionQueryData, error) {
	return getValue[api.TransactionQueryData](ctx, c, av("transaction", dec(height), dec(index), "noproof"))
}

// TransactionByHash returns the decided transaction whose commitment is
// hash, as Submit returned it (availability/transaction/hash/{TX~...}).
func (c *Client) TransactionByHash(ctx context.Context, hash types.Commitment) (api.TransactionQueryData, error) {
	return getValue[api.TransactionQueryData](ctx, c, av("transaction", "hash", tagged(hash, types.TagTransaction)))
}

// TransactionByHashNoProof is TransactionByHash without the proof
// (availability/transaction/hash/{TX~...}/noproof).
func (c *Client) TransactionByHashNoProof(ctx context.Context, hash types.Commitment) (api.TransactionQueryData, error) {
	return getValue[api.TransactionQueryData](ctx, c, av("transaction", "hash", tagged(hash, types.TagTransaction), "noproof"))
}

// BlockSummary returns the block at height without its payload
// (availability/block/summary/{height}).
func (c *Client) BlockSummary(ctx context.Context, height uint64) (api.BlockSummaryQueryData, error) {
	return getValue[api.BlockSummaryQueryData](ctx, c, av("block", "summary", dec(height)))
}

// BlockSummaries returns the summaries of heights [from, until)
// (availability/block/summaries/{from}/{until}).
func (c *Client) BlockSummaries(ctx context.Context, from, until uint64) ([]api.BlockSummaryQueryData, error) {
	return getList[api.BlockSummaryQueryData](ctx, c, av("block", "summaries", dec(from), dec(until)))
}

// Namespace returns the transactions of namespace ns in the block at
// height, with where they stand in its payload
// (availability/block/{height}/namespace/{ns}). A namespace the block does
// not hold gives a nil Proof and no transactions, not an error.
func (c *Client) Namespace(ctx context.Context, height, ns uint64) (api.NamespaceProofQueryData, error) {
	return getValue[api.NamespaceProofQueryData](ctx, c, av("block", dec(height), "namespace", dec(ns)))
}

// NamespaceByHash is Namespace for the block whose hash is hash
// (availability/block/hash/{BLOCK~...}/namespace/{ns}).
func (c *Client) NamespaceByHash(ctx context.Context, hash types.Commitment, ns uint64) (api.NamespaceProofQueryData, error) {
	return getValue[api.NamespaceProofQueryData](ctx, c, av("block", "hash", tagged(hash, types.TagBlock), "namespace", dec(ns)))
}

// NamespaceByPayloadHash is Namespace for the block whose payload
// commitment is hash (availability/block/payload-hash/{HASH~...}/namespace/{ns}).
func (c *Client) NamespaceByPayloadHash(ctx context.Context, hash types.Commitment, ns uint64) (api.NamespaceProofQueryData, error) {
	return getValue[api.NamespaceProofQueryData](ctx, c, av("block", "payload-hash", tagged(hash, types.TagPayload), "namespace", dec(ns)))
}

// NamespaceRange is Namespace for each block of heights [from, until), in
// order, at most the large-object range limit
// (availability/block/{from}/{until}/namespace/{ns}).
func (c *Client) NamespaceRange(ctx context.Context, from, until, ns uint64) ([]api.NamespaceProofQueryData, error) {
	return getList[api.NamespaceProofQueryData](ctx, c, av("block", dec(from), dec(until), "namespace", dec(ns)))
}

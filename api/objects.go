package api

import (
	"encoding/json"
	"fmt"

	"github.com/gospresso/gospresso/types"
)

// The query objects of the availability and node modules, in the JSON
// shapes clients decode (docs/api.md, "Objects").

// BlockQueryData is a decided block as the availability module serves it.
type BlockQueryData struct {
	Header          types.Header       `json:"header"`
	Payload         types.Payload      `json:"payload"`
	Hash            types.TaggedBase64 `json:"hash"`
	Size            uint64             `json:"size"`
	NumTransactions uint64             `json:"num_transactions"`
}

// BlockSummaryQueryData is a block without its payload.
type BlockSummaryQueryData struct {
	Header          types.Header       `json:"header"`
	Hash            types.TaggedBase64 `json:"hash"`
	Size            uint64             `json:"size"`
	NumTransactions uint64             `json:"num_transactions"`
}

// PayloadQueryData is a block's payload with where it stands.
type PayloadQueryData struct {
	Height    uint64             `json:"height"`
	BlockHash types.TaggedBase64 `json:"block_hash"`
	Hash      types.TaggedBase64 `json:"hash"`
	Size      uint64             `json:"size"`
	Data      types.Payload      `json:"data"`
}

// VidCommon is the data every node needs beside its VID share to check it
// (docs/data.md, "VID commitment").
type VidCommon struct {
	V1 VidCommonV1 `json:"V1"`
}

// VidCommonV1 holds the dispersal parameters (W and k), the payload's
// length and the Merkle root of each namespace's shards, in namespace-table
// order; with the header's namespace table they recompute the payload
// commitment.
type VidCommonV1 struct {
	TotalWeights      uint64 `json:"total_weights"`
	RecoveryThreshold uint64 `json:"recovery_threshold"`
	PayloadByteLen    uint64 `json:"payload_byte_len"`
	NsRoots           []b64  `json:"ns_roots"`
}

// VidShare is a node's VID share of a block (node module, vid/share
// routes): Data is the share as chain.EncodeVIDShare lays it out (the
// common data, then the node's shards with their Merkle proofs), which
// chain.DecodeVIDShare reads.
type VidShare struct {
	V1 VidShareV1 `json:"V1"`
}

// VidShareV1 is the share of the node at NodeIndex in the stake table.
type VidShareV1 struct {
	NodeIndex uint64 `json:"node_index"`
	Data      b64    `json:"data"`
}

// VidCommonQueryData is the VID common data of a block.
type VidCommonQueryData struct {
	Height      uint64             `json:"height"`
	BlockHash   types.TaggedBase64 `json:"block_hash"`
	PayloadHash types.TaggedBase64 `json:"payload_hash"`
	Common      VidCommon          `json:"common"`
}

// LeafQueryData is a decided leaf with its certificate, in the Leaf1 shape
// of the v0 routes.
type LeafQueryData struct {
	Leaf types.Leaf              `json:"leaf"`
	QC   types.QuorumCertificate `json:"qc"`
}

// LeafQueryDataV1 is LeafQueryData in the Leaf2 shape of the v1 routes.
type LeafQueryDataV1 struct {
	Leaf types.LeafV2            `json:"leaf"`
	QC   types.QuorumCertificate `json:"qc"`
}

// TransactionQueryData is a transaction with where it was included.
type TransactionQueryData struct {
	Transaction types.Transaction  `json:"transaction"`
	Hash        types.TaggedBase64 `json:"hash"`
	Index       uint64             `json:"index"`
	Proof       *TransactionProof  `json:"proof"`
	BlockHash   types.TaggedBase64 `json:"block_hash"`
	BlockHeight uint64             `json:"block_height"`
}

// TransactionProof places a transaction in its block's payload: its
// namespace's position in the namespace table and its position in the
// namespace. It is gospresso's own shape and positional only; to check a
// transaction against the header, fetch its namespace
// (block/{height}/namespace/{ns}) and verify that answer with
// VerifyNamespace.
type TransactionProof struct {
	NsIndex uint64 `json:"ns_index"`
	TxIndex uint64 `json:"tx_index"`
}

// NamespaceProofQueryData is a namespace's transactions in a block. Proof
// is null, and Transactions empty, when the block has no such namespace.
type NamespaceProofQueryData struct {
	Proof        *NsProof            `json:"proof"`
	Transactions []types.Transaction `json:"transactions"`
}

// NsProof proves a namespace's bytes against a block's payload commitment
// (gospresso's own shape, versioned like the reference's; docs/data.md,
// "VID commitment"). Verify it with VerifyNamespace.
type NsProof struct {
	V1 NsProofV1 `json:"V1"`
}

// NsProofV1 is the namespace's index in the namespace table, its byte
// range in the payload and those bytes, the dispersal's W and k, and the
// Merkle path (sibling hashes, lowest first) from the namespace's root to
// the root of all namespace roots.
type NsProofV1 struct {
	NsIndex           uint64 `json:"ns_index"`
	Start             uint64 `json:"start"`
	End               uint64 `json:"end"`
	NsPayload         b64    `json:"ns_payload"`
	TotalWeights      uint64 `json:"total_weights"`
	RecoveryThreshold uint64 `json:"recovery_threshold"`
	Path              []b64  `json:"path"`
}

// b64 is standard base64 with padding in JSON (what []byte gives too, but
// named for clarity).
type b64 = []byte

// Limits are the availability module's range limits.
type Limits struct {
	SmallObjectRangeLimit uint64 `json:"small_object_range_limit"`
	LargeObjectRangeLimit uint64 `json:"large_object_range_limit"`
}

// SyncStatus is the node module's account of missing data.
type SyncStatus struct {
	MissingBlocks    uint64  `json:"missing_blocks"`
	MissingLeaves    uint64  `json:"missing_leaves"`
	MissingVidCommon uint64  `json:"missing_vid_common"`
	MissingVidShares uint64  `json:"missing_vid_shares"`
	PrunedHeight     *uint64 `json:"pruned_height"`
}

// TimeWindow is the node module's header window.
type TimeWindow struct {
	Window []types.Header `json:"window"`
	Prev   *types.Header  `json:"prev"`
	Next   *types.Header  `json:"next"`
}

// blockHash is a block's hash: its header commitment, tagged BLOCK.
func blockHash(h *types.Header) types.TaggedBase64 { return h.Commit().Tagged(types.TagBlock) }

// payloadHash is a block's payload hash as the header carries it: tagged
// HASH in versions 0.1 and 0.2, AvidMCommit when the header says so.
func payloadHash(h *types.Header) types.TaggedBase64 {
	return h.PayloadCommitment.Tagged(h.PayloadTag())
}

func countTransactions(p *types.Payload) (uint64, error) {
	txs, err := p.Transactions()
	if err != nil {
		return 0, fmt.Errorf("stored payload does not decode: %w", err)
	}
	return uint64(len(txs)), nil
}

func newBlockData(b *types.Block) (BlockQueryData, error) {
	n, err := countTransactions(&b.Payload)
	if err != nil {
		return BlockQueryData{}, err
	}
	return BlockQueryData{Header: b.Leaf.Header, Payload: b.Payload, Hash: blockHash(&b.Leaf.Header), Size: b.Payload.Size(), NumTransactions: n}, nil
}

func newSummary(b *types.Block) (BlockSummaryQueryData, error) {
	n, err := countTransactions(&b.Payload)
	if err != nil {
		return BlockSummaryQueryData{}, err
	}
	return BlockSummaryQueryData{Header: b.Leaf.Header, Hash: blockHash(&b.Leaf.Header), Size: b.Payload.Size(), NumTransactions: n}, nil
}

func newPayloadData(b *types.Block) PayloadQueryData {
	return PayloadQueryData{Height: b.Height(), BlockHash: blockHash(&b.Leaf.Header), Hash: payloadHash(&b.Leaf.Header), Size: b.Payload.Size(), Data: b.Payload}
}

func newLeafData(b *types.Block, major int) any {
	if major >= 1 {
		return LeafQueryDataV1{Leaf: types.LeafV2{Leaf: b.Leaf}, QC: b.QC}
	}
	return LeafQueryData{Leaf: b.Leaf, QC: b.QC}
}

// rawJSON keeps a value already encoded.
type rawJSON = json.RawMessage

// Package vid is the verifiable information dispersal (VID) of the
// sequencer: a block's payload is erasure-coded into shards spread over the
// stake table, so that any nodes holding a third of the stake (plus one
// shard) can rebuild it, and every node can check its own shards against the
// payload commitment in the header. The scheme is a namespaced AVID-M: each
// namespace is dispersed on its own, so a rollup can be given its namespace
// with a short proof against the header.
//
// # Parameters
//
// Node i of the stake table holds weights[i] >= 1 consecutive shard indices
// (WeightsFromStake derives weights from stake). With W = sum of weights
// (1 to MaxShards), the recovery threshold is k = floor(W/3) + 1: any k
// distinct shards recover a namespace.
//
// # Shards
//
// The payload's namespace table (types.NsTable) splits it into namespaces
// B_0, ..., B_{n-1}. Namespace j, of len(B_j) bytes, is split into k data
// shards of shard size
//
//	s = max(ceil(len(B_j)/k), 1), rounded up to a multiple of 64 when W > 256
//
// (an empty namespace still has shards of s bytes), B_j filling them in order
// and zeros padding the rest. No length prefix is needed: the namespace table
// gives len(B_j). The k data shards are extended to W shards with the
// systematic Reed-Solomon code of github.com/klauspost/reedsolomon v1.14.2,
// New(k, W-k) with default options: its Vandermonde-derived matrix over
// GF(2^8) for W <= 256 and Leopard over GF(2^16) (which needs the 64-byte
// multiple) above. For W = 1 the one shard is the data. Shard indices 0..k-1
// are the data shards. The parity bytes are part of the commitment, so the
// code must not change without a new scheme version; TestGoldenCommitment
// pins them.
//
// # Hashes
//
// All hashes are SHA-256 with a domain tag; integers are big-endian:
//
//	leaf(s, shard) = SHA-256("gospresso/vid/shard/v1" ‖ u32(s) ‖ shard)
//	node(l, r)     = SHA-256("gospresso/vid/node/v1" ‖ l ‖ r)
//
// A Merkle tree over n >= 1 hashes pairs them left to right into the next
// level; when a level has an odd count its last hash is promoted to the next
// level unchanged. The root is the single hash left (a lone leaf is its own
// root). A tree with no leaves has root SHA-256("gospresso/vid/empty/v1").
// A proof is the list of sibling hashes from the leaf up, lowest first, with
// nothing for the levels where the node is promoted; its length is fixed by
// the leaf index and the leaf count.
//
// # Commitment
//
// The namespace root R_j is the root of the tree over the W leaves
// leaf(s, shard s of namespace j). M is the root of the tree over
// R_0, ..., R_{n-1} (the empty-tree constant for an empty payload). The
// payload commitment is
//
//	C = SHA-256("gospresso/vid/v1" ‖ u32(W) ‖ u32(k) ‖ u64(len(payload)) ‖
//	            SHA-256(namespace table bytes) ‖ M)
//
// Common carries W, k, the payload length, the namespace table and the R_j,
// so Common.Commit recomputes C. A Share carries, for each namespace, the
// node's shards with their proofs to R_j.
//
// # Recovery
//
// Recover uses the shares that pass VerifyShare, needs k distinct shard
// indices among them, and rebuilds each namespace's data shards. Because the
// disperser may have committed to shards that are not a codeword, it then
// encodes the recovered namespace bytes afresh (zero padding included) and
// requires the root to equal R_j; otherwise it fails with
// ErrInconsistentEncoding, and every honest node that recovers reaches the
// same verdict whichever shares it used.
//
// # Namespace proofs
//
// An NsProof for namespace j holds W, k, j, B_j and the proof of R_j in the
// tree of namespace roots. VerifyNamespace needs only a header's commitment
// and namespace table: it re-encodes B_j into R_j, climbs to M and recomputes
// C, taking the payload length from the table's last end offset.
//
// # Encodings
//
// EncodeCommon, EncodeShare and EncodeNsProof write a version byte (1), then
// big-endian fields:
//
//	common:  u32 W, u32 k, u64 payload length, u32 table length, table,
//	         u32 root count, 32-byte roots
//	share:   u32 node, u32 namespace count, per namespace: u32 shard count,
//	         per shard: u32 length, bytes, u8 proof length, 32-byte hashes
//	nsproof: u32 W, u32 k, u32 namespace index, u32 length, bytes,
//	         u8 path length, 32-byte hashes
//
// The decoders never panic, reject trailing bytes, counts the remaining
// bytes cannot hold and (W, k) pairs NewParams would not produce, so
// allocation is bounded by the input's length; an encoding that decodes
// re-encodes to the same bytes.
package vid

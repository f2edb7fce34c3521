package storagetest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/types"
)

// GenesisTime is the genesis timestamp of Chain: 2024-01-01T00:00:00Z in
// unix seconds.
const GenesisTime uint64 = 1_704_067_200

// The namespaces the generated transactions use. Every block with
// transactions has NamespaceA; blocks at even heights also NamespaceB, and
// blocks at heights divisible by 3 also NamespaceC (when they carry enough
// transactions to fill them).
const (
	NamespaceA uint64 = 1001
	NamespaceB uint64 = 1002
	NamespaceC uint64 = 1003
)

// qcSignatureLen is the size of the dummy aggregate signature of generated
// certificates (a BLS12-381 G1/G2 signature is 96 bytes compressed).
const qcSignatureLen = 96

// Namespaces returns the namespaces generated transactions of the block at
// height h are spread over, in order: tx i goes to the (i mod len)th.
func Namespaces(h uint64) []uint64 {
	ns := []uint64{NamespaceA}
	if h%2 == 0 {
		ns = append(ns, NamespaceB)
	}
	if h%3 == 0 {
		ns = append(ns, NamespaceC)
	}
	return ns
}

// Chain returns n valid linked blocks of heights 0..n-1: a genesis block
// (view 0, empty payload, timestamp GenesisTime) followed by Extend's
// blocks of txsPerBlock transactions of txSize bytes each. The result is
// deterministic. Chain(0, ...) is empty.
func Chain(n, txsPerBlock, txSize int) []types.Block {
	if n <= 0 {
		return nil
	}
	g := Genesis(GenesisTime)
	return append([]types.Block{g}, Extend(&g, n-1, txsPerBlock, txSize)...)
}

// Genesis returns the block of height 0: view 0, no parent, an empty
// payload, the given timestamp and the genesis certificate.
func Genesis(timestamp uint64) types.Block {
	var p types.Payload
	leaf := types.GenesisLeaf(header(0, timestamp, &p))
	return types.Block{Leaf: leaf, Payload: p, QC: types.GenesisQC(&leaf)}
}

// Extend returns n blocks following parent: heights parent+1.., timestamps
// one second apart, views increasing with a skipped view before every
// height divisible by 4 (as after a timeout), each with txsPerBlock
// transactions from Transactions. The result is deterministic.
func Extend(parent *types.Block, n, txsPerBlock, txSize int) []types.Block {
	out := make([]types.Block, 0, max(n, 0))
	prev := parent
	for range max(n, 0) {
		h := prev.Height() + 1
		// Generated transactions always form a valid payload.
		b, _ := NextBlock(prev, prev.Leaf.Header.Timestamp+1, Transactions(h, txsPerBlock, txSize))
		out = append(out, b)
		prev = &out[len(out)-1]
	}
	return out
}

// NextBlock returns the block after parent holding txs (in their given
// order, grouped by namespace as types.EncodePayload does): height + 1,
// parent's view + 1 (+ 2 when the new height is divisible by 4), the
// given timestamp, a justify certificate for parent and a certificate for
// the new leaf with dummy signature bytes (storage does not verify them).
// It fails only when txs cannot form a payload (a namespace above 2^32-1).
func NextBlock(parent *types.Block, timestamp uint64, txs []types.Transaction) (types.Block, error) {
	p, err := types.EncodePayload(txs)
	if err != nil {
		return types.Block{}, fmt.Errorf("storagetest: block %d: %w", parent.Height()+1, err)
	}
	h := parent.Height() + 1
	view := parent.Leaf.View + 1
	if h%4 == 0 {
		view++
	}
	leaf := types.Leaf{
		View:      view,
		Parent:    parent.Leaf.Commit(),
		Header:    header(h, timestamp, &p),
		JustifyQC: parent.QC,
	}
	return types.Block{Leaf: leaf, Payload: p, QC: certify(&leaf)}, nil
}

// Transactions returns n deterministic pseudo-random transactions of size
// bytes for the block at height h, spread over Namespaces(h). Transactions
// of different (height, index) differ when size >= 16.
func Transactions(h uint64, n, size int) []types.Transaction {
	if n <= 0 {
		return nil
	}
	var seed [32]byte
	binary.BigEndian.PutUint64(seed[:], h)
	copy(seed[8:], "gospresso/storagetest/txs")
	rng := rand.NewChaCha8(seed)
	ns := Namespaces(h)
	buf := make([]byte, n*max(size, 0))
	_, _ = rng.Read(buf)
	txs := make([]types.Transaction, n)
	for i := range txs {
		p := buf[i*size : (i+1)*size : (i+1)*size]
		if size >= 16 {
			binary.BigEndian.PutUint64(p, h)
			binary.BigEndian.PutUint64(p[8:], uint64(i))
		}
		txs[i] = types.Transaction{Namespace: ns[i%len(ns)], Payload: p}
	}
	return txs
}

// header builds a realistic version 0.2 header for a payload. Headers at
// heights 2 mod 3 carry a builder signature and an AvidMCommit payload
// tag, and those at heights 4 mod 5 give their chain config by its
// commitment, so that every backend is checked to keep these fields.
func header(h, timestamp uint64, p *types.Payload) types.Header {
	fee := types.Address{0xfe, 0xe0}
	hd := types.Header{
		Version: types.Version{Major: 0, Minor: 2},
		ChainConfig: types.ChainConfig{
			ChainID:      types.NewU256(35353),
			MaxBlockSize: 64 << 20,
			BaseFee:      types.NewU256(1),
			FeeContract:  &fee,
			FeeRecipient: types.Address{0x11},
		},
		Height:            h,
		Timestamp:         timestamp,
		L1Head:            100 + h,
		PayloadCommitment: payloadCommitment(p),
		BuilderCommitment: chain.BuilderCommitment(p),
		NsTable:           types.NsTable{Bytes: append([]byte(nil), p.NsTable.Bytes...)},
		FeeInfo:           types.FeeInfo{Account: types.Address{0xac}, Amount: types.NewU256(p.Size())},
	}
	if h%2 == 1 {
		hd.L1Finalized = &types.L1BlockInfo{Number: 90 + h, Timestamp: types.NewU256(timestamp - 12), Hash: types.Hash{byte(h), 0x1f}}
	}
	root := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("block-merkle-root"), h))
	hd.BlockMerkleTreeRoot = root[:]
	if h%3 == 2 {
		r := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("builder-signature-r"), h))
		s := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("builder-signature-s"), h))
		hd.BuilderSignature = &types.BuilderSignature{R: types.U256FromBytes32(r), S: types.U256FromBytes32(s), V: 27 + h%2}
		hd.PayloadCommitmentTag = types.TagAvidM
	}
	if h%5 == 4 {
		c := types.Commitment(hd.ChainConfig.Commit())
		hd.ChainConfig, hd.ChainConfigCommitment = types.ChainConfig{}, &c
	}
	return hd
}

// certify returns a quorum certificate for leaf with a dummy signature.
func certify(leaf *types.Leaf) types.QuorumCertificate {
	c := leaf.Commit()
	sig := make([]byte, 0, qcSignatureLen)
	for d := c; len(sig) < qcSignatureLen; d = sha256.Sum256(d[:]) {
		sig = append(sig, d[:]...)
	}
	return types.QuorumCertificate{View: leaf.View, Leaf: c, Signers: types.Bitmap{0x0f}, Signature: sig[:qcSignatureLen]}
}

// payloadCommitment is p's payload commitment under the VID parameters of
// a one-member network (chain.Rules' zero value), which the test chains
// use; their payloads are well formed, so it cannot fail.
func payloadCommitment(p *types.Payload) types.Commitment {
	c, _ := chain.Rules{}.PayloadCommitment(p)
	return c
}

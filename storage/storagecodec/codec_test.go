package storagecodec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// sampleBlocks covers the shapes a block takes: genesis (empty payload),
// small and larger payloads, odd and even heights (with and without an L1
// finalized block), every optional chain-config address, a payload whose
// namespace table differs from the header's, and headers with a builder
// signature, another payload commitment tag and a chain config given by
// its commitment.
func sampleBlocks(tb testing.TB) []types.Block {
	tb.Helper()
	blocks := storagetest.Chain(5, 7, 40)
	big := storagetest.Extend(&blocks[len(blocks)-1], 1, 50, 2000)
	blocks = append(blocks, big...)

	odd := blocks[3]
	a, b := types.Address{1}, types.Address{2}
	odd.Leaf.Header.ChainConfig.BidRecipient = &a
	odd.Leaf.Header.ChainConfig.StakeTableContract = &b
	odd.Leaf.Header.ChainConfig.FeeContract = nil
	odd.Leaf.Header.FeeMerkleTreeRoot = []byte{9, 9, 9}
	odd.Leaf.Header.Version = types.Version{Major: 0, Minor: 1}
	odd.Payload.NsTable.Bytes = []byte{1, 2, 3, 4}
	blocks = append(blocks, odd)

	empty := blocks[2]
	empty.Payload.NsTable.Bytes = nil // header has one, payload not
	blocks = append(blocks, empty)

	signed := blocks[4]
	signed.Leaf.Header.BuilderSignature = &types.BuilderSignature{R: types.NewU256(1 << 40), S: types.U256FromBytes32([32]byte{0xff, 1}), V: 28}
	signed.Leaf.Header.PayloadCommitmentTag = types.TagAvidM
	blocks = append(blocks, signed)

	right := blocks[5]
	cc := types.Commitment(right.Leaf.Header.ChainConfig.Commit())
	right.Leaf.Header.ChainConfig, right.Leaf.Header.ChainConfigCommitment = types.ChainConfig{}, &cc
	right.Leaf.Header.BuilderSignature = &types.BuilderSignature{V: 27}
	blocks = append(blocks, right)
	return blocks
}

func sampleHeaders(tb testing.TB) []types.Header {
	var hs []types.Header
	for _, b := range sampleBlocks(tb) {
		hs = append(hs, b.Leaf.Header)
	}
	return append(hs, types.Header{})
}

func sampleSafety(tb testing.TB) []types.SafetyState {
	blocks := sampleBlocks(tb)
	return []types.SafetyState{
		{},
		{View: 7, LastVotedView: 6, HighQC: blocks[4].QC},
		{View: 1<<64 - 1, LastVotedView: 1<<64 - 2, HighQC: types.GenesisQC(&blocks[0].Leaf)},
	}
}

// encodingOf gives the canonical bytes of a block, for equality checks.
func encodingOf(t *testing.T, b *types.Block) []byte {
	t.Helper()
	p, err := storagecodec.EncodeBlock(b)
	if err != nil {
		t.Fatalf("encode block %d: %v", b.Height(), err)
	}
	return p
}

func TestBlockRoundTrip(t *testing.T) {
	for i, b := range sampleBlocks(t) {
		p := encodingOf(t, &b)
		back, err := storagecodec.DecodeBlock(p)
		if err != nil {
			t.Fatalf("block %d: decode: %v", i, err)
		}
		if back.Leaf.Commit() != b.Leaf.Commit() {
			t.Errorf("block %d: leaf commitment changed", i)
		}
		if back.Leaf.Header.Commit() != b.Leaf.Header.Commit() || back.Leaf.Header.Version != b.Leaf.Header.Version {
			t.Errorf("block %d: header changed", i)
		}
		if back.QC.Commit() != b.QC.Commit() {
			t.Errorf("block %d: certificate changed", i)
		}
		if !bytes.Equal(back.Payload.Raw, b.Payload.Raw) || !bytes.Equal(back.Payload.NsTable.Bytes, b.Payload.NsTable.Bytes) {
			t.Errorf("block %d: payload changed", i)
		}
		if !bytes.Equal(encodingOf(t, &back), p) {
			t.Errorf("block %d: re-encoding differs", i)
		}
		// The decoded block does not alias the input.
		for j := range p {
			p[j] = 0
		}
		if back.Leaf.Commit() != b.Leaf.Commit() || !bytes.Equal(back.Payload.Raw, b.Payload.Raw) {
			t.Errorf("block %d: decoded block aliases the encoding", i)
		}
	}
}

func TestLeafRoundTrip(t *testing.T) {
	for i, b := range sampleBlocks(t) {
		p, err := storagecodec.EncodeLeaf(&b.Leaf, &b.QC)
		if err != nil {
			t.Fatal(err)
		}
		l, qc, err := storagecodec.DecodeLeaf(p)
		if err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		if l.Commit() != b.Leaf.Commit() || qc.Commit() != b.QC.Commit() {
			t.Errorf("leaf %d: changed in a round trip", i)
		}
		again, _ := storagecodec.EncodeLeaf(&l, &qc)
		if !bytes.Equal(again, p) {
			t.Errorf("leaf %d: re-encoding differs", i)
		}
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for i, h := range sampleHeaders(t) {
		p, err := storagecodec.EncodeHeader(&h)
		if err != nil {
			t.Fatal(err)
		}
		back, err := storagecodec.DecodeHeader(p)
		if err != nil {
			t.Fatalf("header %d: %v", i, err)
		}
		if !reflect.DeepEqual(normHeader(back), normHeader(h)) || back.Commit() != h.Commit() {
			t.Errorf("header %d: changed in a round trip:\n got %+v\nwant %+v", i, back, h)
		}
	}
}

// normHeader makes empty byte strings nil (the codec does not tell them
// apart, and neither do commitments).
func normHeader(h types.Header) types.Header {
	for _, p := range []*[]byte{&h.NsTable.Bytes, &h.BlockMerkleTreeRoot, &h.FeeMerkleTreeRoot} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	return h
}

func TestSafetyRoundTrip(t *testing.T) {
	for i, s := range sampleSafety(t) {
		p, err := storagecodec.EncodeSafety(&s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := storagecodec.DecodeSafety(p)
		if err != nil {
			t.Fatalf("safety %d: %v", i, err)
		}
		if back.View != s.View || back.LastVotedView != s.LastVotedView || back.HighQC.Commit() != s.HighQC.Commit() {
			t.Errorf("safety %d: changed in a round trip: %+v, want %+v", i, back, s)
		}
	}
}

func TestNilArguments(t *testing.T) {
	var qc types.QuorumCertificate
	for name, f := range map[string]func() error{
		"block":  func() error { _, err := storagecodec.EncodeBlock(nil); return err },
		"leaf":   func() error { _, err := storagecodec.EncodeLeaf(nil, &qc); return err },
		"header": func() error { _, err := storagecodec.EncodeHeader(nil); return err },
		"safety": func() error { _, err := storagecodec.EncodeSafety(nil); return err },
	} {
		if f() == nil {
			t.Errorf("%s: nil argument encoded without error", name)
		}
	}
}

// reseal replaces the checksum of an encoding after a test edited it.
func reseal(p []byte) []byte {
	body := p[:len(p)-4]
	return binary.BigEndian.AppendUint32(append([]byte(nil), body...), crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
}

func TestCorrupt(t *testing.T) {
	blocks := sampleBlocks(t)
	block := encodingOf(t, &blocks[2])
	header, _ := storagecodec.EncodeHeader(&blocks[2].Leaf.Header)
	plain, _ := storagecodec.EncodeHeader(&blocks[1].Leaf.Header) // none of the version-2 fields
	safety, _ := storagecodec.EncodeSafety(&types.SafetyState{View: 3})

	edit := func(p []byte, f func([]byte) []byte) []byte { return f(append([]byte(nil), p...)) }
	tests := []struct {
		name   string
		decode func([]byte) error
		input  []byte
		want   string
	}{
		{"empty", decodeBlock, nil, "0 bytes"},
		{"short", decodeBlock, []byte{1, 1, 0}, "3 bytes"},
		{"bad checksum", decodeBlock, edit(block, func(p []byte) []byte { p[len(p)-1] ^= 1; return p }), "checksum"},
		{"flipped bit", decodeBlock, edit(block, func(p []byte) []byte { p[40] ^= 0x10; return p }), "checksum"},
		{"future version", decodeBlock, edit(block, func(p []byte) []byte { p[0] = 3; return reseal(p) }), "format version 3, want 1 to 2"},
		{"version 0", decodeHeader, edit(header, func(p []byte) []byte { p[0] = 0; return reseal(p) }), "format version 0"},
		// A header without the version-2 fields ends in their markers:
		// builder signature 0, tag length 0, chain config commitment 0.
		{"chain config commitment presence", decodeHeader, edit(plain, func(p []byte) []byte { p[len(p)-5] = 2; return reseal(p) }), "chain_config_commitment presence"},
		{"builder signature presence", decodeHeader, edit(plain, func(p []byte) []byte { p[len(p)-10] = 2; return reseal(p) }), "builder_signature presence"},
		{"bad payload tag", decodeHeader, func() []byte {
			p := append([]byte(nil), plain[:len(plain)-9]...)
			p = append(p, 0, 0, 0, 2, 'a', '~', 0, 0, 0, 0, 0)
			return reseal(p)
		}(), "payload_commitment_tag: not a TaggedBase64 tag"},
		{"version 1 with version 2 fields", decodeHeader, edit(plain, func(p []byte) []byte { p[0] = 1; return reseal(p) }), "6 trailing bytes"},
		{"header as block", decodeBlock, header, "holds a header"},
		{"block as safety", decodeSafety, block, "holds a block"},
		{"safety as header", decodeHeader, safety, "holds a safety state"},
		{"block as leaf", decodeLeaf, block, "leaf: holds a block"},
		{"unknown kind", decodeBlock, edit(block, func(p []byte) []byte { p[1] = 9; return reseal(p) }), "holds a kind 9"},
		{"truncated body", decodeBlock, reseal(append(append([]byte(nil), block[:60]...), 0, 0, 0, 0)), "want"},
		{"trailing bytes", decodeHeader, reseal(append(append([]byte(nil), header[:len(header)-4]...), 0xaa, 0, 0, 0, 0)), "1 trailing bytes"},
		{"huge length", decodeSafety, reseal(append(append([]byte(nil), safety[:2+8+8+8+32]...), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)), "high_qc.signers: length 4294967295"},
		{"presence byte", decodeBlock, edit(block, func(p []byte) []byte {
			// The payload namespace-table marker is the last byte before
			// the checksum in a block whose table equals the header's.
			p[len(p)-5] = 7
			return reseal(p)
		}), "payload.ns_table presence"},
		{"non-canonical ns table", decodeBlock, func() []byte {
			b := blocks[2]
			p := encodingOf(t, &b)
			body := append([]byte(nil), p[:len(p)-5]...)
			body = append(body, 1)
			body = binary.BigEndian.AppendUint32(body, uint32(len(b.Payload.NsTable.Bytes)))
			body = append(body, b.Payload.NsTable.Bytes...)
			return reseal(append(body, 0, 0, 0, 0))
		}(), "equal to the header's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(tt.input)
			if !errors.Is(err, storagecodec.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestEncodeRejectsBadPayloadTag(t *testing.T) {
	h := sampleHeaders(t)[1]
	h.PayloadCommitmentTag = "HASH~"
	if _, err := storagecodec.EncodeHeader(&h); err == nil || !strings.Contains(err.Error(), "payload_commitment_tag") {
		t.Errorf("encoded an invalid payload tag: %v", err)
	}
}

func TestEveryTruncationFails(t *testing.T) {
	blocks := sampleBlocks(t)
	p := encodingOf(t, &blocks[3])
	for i := range len(p) - 4 {
		// Keep a valid checksum so the field decoder itself sees the cut.
		cut := reseal(append(append([]byte(nil), p[:i]...), 0, 0, 0, 0))
		if _, err := storagecodec.DecodeBlock(cut); !errors.Is(err, storagecodec.ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err %v, want ErrCorrupt", i, err)
		}
	}
}

func decodeBlock(p []byte) error  { _, err := storagecodec.DecodeBlock(p); return err }
func decodeHeader(p []byte) error { _, err := storagecodec.DecodeHeader(p); return err }
func decodeSafety(p []byte) error { _, err := storagecodec.DecodeSafety(p); return err }
func decodeLeaf(p []byte) error   { _, _, err := storagecodec.DecodeLeaf(p); return err }

func BenchmarkEncodeBlock(b *testing.B) {
	blk := storagetest.Chain(2, 1000, 1000)[1]
	b.SetBytes(int64(len(blk.Payload.Raw)))
	for b.Loop() {
		if _, err := storagecodec.EncodeBlock(&blk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBlock(b *testing.B) {
	blk := storagetest.Chain(2, 1000, 1000)[1]
	p, _ := storagecodec.EncodeBlock(&blk)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := storagecodec.DecodeBlock(p); err != nil {
			b.Fatal(err)
		}
	}
}

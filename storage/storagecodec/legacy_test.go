package storagecodec_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// legacyBlock is the block whose format-version-1 encodings are in
// testdata/v1-*.hex. Those files were written by the version-1 writer
// before version 2 existed and must never be regenerated: they stand for
// the blocks existing stores hold.
func legacyBlock() types.Block {
	fee, bid, stake := types.Address{0xfe, 0xe0}, types.Address{0xb1}, types.Address{0x57}
	payload, err := types.EncodePayload([]types.Transaction{
		{Namespace: 7, Payload: []byte("ab")}, {Namespace: 9, Payload: []byte("xyz")}, {Namespace: 7, Payload: []byte("c")},
	})
	if err != nil {
		panic(err)
	}
	h := types.Header{
		Version: types.Version{Major: 0, Minor: 2},
		ChainConfig: types.ChainConfig{
			ChainID: types.NewU256(35353), MaxBlockSize: 10240, BaseFee: types.NewU256(1),
			FeeContract: &fee, FeeRecipient: types.Address{0x11}, BidRecipient: &bid, StakeTableContract: &stake,
		},
		Height: 42, Timestamp: 1_704_067_242, L1Head: 124,
		L1Finalized:         &types.L1BlockInfo{Number: 123, Timestamp: types.NewU256(0x456), Hash: types.Hash{0x01, 0x23}},
		PayloadCommitment:   types.Commitment{0xaa, 1},
		BuilderCommitment:   types.Commitment{0xbb, 2},
		NsTable:             types.NsTable{Bytes: append([]byte(nil), payload.NsTable.Bytes...)},
		BlockMerkleTreeRoot: []byte{3, 4, 5},
		FeeMerkleTreeRoot:   []byte{6},
		FeeInfo:             types.FeeInfo{Account: types.Address{0xac}, Amount: types.NewU256(1000)},
	}
	leaf := types.Leaf{
		View: 50, Parent: types.Commitment{0x70},
		Header:    h,
		JustifyQC: types.QuorumCertificate{View: 49, Leaf: types.Commitment{0x70}, Signers: types.Bitmap{0x0f}, Signature: bytes.Repeat([]byte{0x5a}, 96)},
	}
	qc := types.QuorumCertificate{View: 50, Leaf: leaf.Commit(), Signers: types.Bitmap{0x0b}, Signature: bytes.Repeat([]byte{0xa5}, 96)}
	return types.Block{Leaf: leaf, Payload: payload, QC: qc}
}

// readHex reads a hex file of testdata (whitespace ignored).
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// Encodings of format version 1, as stores written before version 2 hold
// them, still decode: to the same values, with the version-2 header fields
// nil or empty. Re-encoding writes version 2, which for such a header is
// the version-1 layout with three empty-field markers after the fee info.
func TestDecodeVersion1(t *testing.T) {
	want := legacyBlock()
	check := func(what string, h types.Header) {
		t.Helper()
		if h.BuilderSignature != nil || h.PayloadCommitmentTag != "" || h.ChainConfigCommitment != nil {
			t.Errorf("%s: version-2 fields set: %+v", what, h)
		}
		if !reflect.DeepEqual(h, want.Leaf.Header) || h.Commit() != want.Leaf.Header.Commit() {
			t.Errorf("%s: header\n got %+v\nwant %+v", what, h, want.Leaf.Header)
		}
	}

	p := readHex(t, "v1-block.hex")
	b, err := storagecodec.DecodeBlock(p)
	if err != nil {
		t.Fatalf("block: %v", err)
	}
	check("block", b.Leaf.Header)
	if !reflect.DeepEqual(b, want) {
		t.Errorf("block\n got %+v\nwant %+v", b, want)
	}
	if again, err := storagecodec.EncodeBlock(&b); err != nil || again[0] != storagecodec.Version || !bytes.Equal(withV2Markers(p, blockTail(&b)), again) {
		t.Errorf("block re-encoded: %v\n%x\n%x", err, again, p)
	}

	p = readHex(t, "v1-leaf.hex")
	l, qc, err := storagecodec.DecodeLeaf(p)
	if err != nil {
		t.Fatalf("leaf: %v", err)
	}
	check("leaf", l.Header)
	if !reflect.DeepEqual(l, want.Leaf) || !reflect.DeepEqual(qc, want.QC) {
		t.Errorf("leaf or certificate changed")
	}
	if again, err := storagecodec.EncodeLeaf(&l, &qc); err != nil || !bytes.Equal(withV2Markers(p, blockTail(&want)-4-len(want.Payload.Raw)-1), again) {
		t.Errorf("leaf re-encoded: %v\n%x\n%x", err, again, p)
	}

	p = readHex(t, "v1-header.hex")
	h, err := storagecodec.DecodeHeader(p)
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	check("header", h)
	if again, err := storagecodec.EncodeHeader(&h); err != nil || !bytes.Equal(withV2Markers(p, 0), again) {
		t.Errorf("header re-encoded: %v\n%x\n%x", err, again, p)
	}

	p = readHex(t, "v1-safety.hex")
	s, err := storagecodec.DecodeSafety(p)
	if err != nil {
		t.Fatalf("safety: %v", err)
	}
	if s.View != 51 || s.LastVotedView != 50 || !reflect.DeepEqual(s.HighQC, want.QC) {
		t.Errorf("safety state %+v", s)
	}
}

// blockTail is the size of what follows the header in a block encoding:
// the certificate, the payload and the namespace-table marker.
func blockTail(b *types.Block) int {
	return 8 + 32 + 4 + len(b.QC.Signers) + 4 + len(b.QC.Signature) + 4 + len(b.Payload.Raw) + 1
}

// withV2Markers turns a version-1 encoding whose header ends tail bytes
// before the checksum into the version-2 encoding of the same value: the
// version byte 2 and, after the header, a 0 (no builder signature), a zero
// tag length and a 0 (no chain config commitment).
func withV2Markers(v1 []byte, tail int) []byte {
	body := v1[:len(v1)-4]
	at := len(body) - tail
	out := append([]byte{storagecodec.Version}, body[1:at]...)
	out = append(out, 0, 0, 0, 0, 0, 0)
	out = append(out, body[at:]...)
	return reseal(append(out, 0, 0, 0, 0))
}

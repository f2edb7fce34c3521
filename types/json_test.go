package types_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/internal/shared"
	"github.com/gospresso/gospresso/types"
)

func sampleHeader(minor uint16) types.Header {
	p, _ := types.EncodePayload([]types.Transaction{{Namespace: 7, Payload: []byte("abc")}})
	fc := types.Address{1}
	return types.Header{
		Version:     types.Version{Major: 0, Minor: minor},
		ChainConfig: types.ChainConfig{ChainID: types.NewU256(35353), MaxBlockSize: 10240, BaseFee: types.NewU256(1), FeeContract: &fc},
		Height:      42, Timestamp: 789, L1Head: 124,
		L1Finalized:         &types.L1BlockInfo{Number: 123, Timestamp: types.NewU256(0x456), Hash: types.Hash{9}},
		PayloadCommitment:   types.Commitment{1},
		BuilderCommitment:   types.Commitment{2},
		NsTable:             p.NsTable,
		BlockMerkleTreeRoot: []byte{3, 4},
		FeeMerkleTreeRoot:   []byte{5},
		FeeInfo:             types.FeeInfo{Account: types.Address{6}, Amount: types.NewU256(1000)},
	}
}

// Headers of both shapes round-trip through JSON with their commitment.
func TestHeaderJSONRoundTrip(t *testing.T) {
	for _, minor := range []uint16{1, 2} {
		h := sampleHeader(minor)
		h.L1Finalized = nil
		for _, l1 := range []*types.L1BlockInfo{nil, {Number: 1, Timestamp: types.NewU256(2), Hash: types.Hash{3}}} {
			h.L1Finalized = l1
			b, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			var got types.Header
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("0.%d: %v\n%s", minor, err, b)
			}
			if got.Commit() != h.Commit() {
				t.Fatalf("0.%d: commitment changed through JSON:\n%s", minor, b)
			}
			again, _ := json.Marshal(got)
			if !bytes.Equal(b, again) {
				t.Fatalf("0.%d: re-encoding differs:\n%s\n%s", minor, b, again)
			}
			wrapped := bytes.Contains(b, []byte(`"fields"`))
			if wrapped != (minor >= 2) {
				t.Fatalf("0.%d: wrapped %v:\n%s", minor, wrapped, b)
			}
		}
	}
}

// The reference headers decode (their builder signatures are accepted).
func TestReferenceHeadersDecode(t *testing.T) {
	for file, minor := range map[string]uint16{"header-v0.1.json": 1, "header-v0.2.json": 2} {
		b, err := os.ReadFile(filepath.Join(shared.Dir(t), "reference", file))
		if err != nil {
			t.Fatal(err)
		}
		var h types.Header
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if h.Version.Minor != minor || h.Height != 42 || h.L1Finalized == nil || h.L1Finalized.Number != 123 || h.FeeInfo.Amount.String() != "0" {
			t.Fatalf("%s decoded to %+v", file, h)
		}
	}
}

func TestCertificateAndLeafJSON(t *testing.T) {
	leaf := types.Leaf{View: 9, Parent: types.Commitment{7}, Header: sampleHeader(2),
		JustifyQC: types.QuorumCertificate{View: 8, Leaf: types.Commitment{7}, Signers: types.Bitmap{0b1011}, Signature: []byte{1, 2, 3}}}
	b, err := json.Marshal(leaf)
	if err != nil {
		t.Fatal(err)
	}
	var got types.Leaf
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got.Commit() != leaf.Commit() {
		t.Fatalf("leaf commitment changed through JSON:\n%s", b)
	}
	b2, err := json.Marshal(types.LeafV2{Leaf: leaf})
	if err != nil {
		t.Fatal(err)
	}
	var got2 types.LeafV2
	if err := json.Unmarshal(b2, &got2); err != nil || got2.Commit() != leaf.Commit() {
		t.Fatalf("Leaf2: %v\n%s", err, b2)
	}
	if !bytes.Contains(b2, []byte(`"with_epoch":false`)) || bytes.Contains(b, []byte("with_epoch")) {
		t.Fatalf("Leaf1/Leaf2 shapes mixed up:\n%s\n%s", b, b2)
	}
	g := types.GenesisQC(&leaf)
	gb, _ := json.Marshal(g)
	var gq types.QuorumCertificate
	if err := json.Unmarshal(gb, &gq); err != nil || !gq.IsGenesis() || gq.Commit() != g.Commit() || !bytes.Contains(gb, []byte(`"signatures":null`)) {
		t.Fatalf("genesis certificate: %v\n%s", err, gb)
	}
}

func TestJSONRejectsBadShapes(t *testing.T) {
	for name, tc := range map[string]struct {
		v   any
		doc string
	}{
		"ns_table missing bytes":  {&types.NsTable{}, `{}`},
		"ns_table bad base64":     {&types.NsTable{}, `{"bytes":"%%%"}`},
		"ns_table extra field":    {&types.NsTable{}, `{"bytes":"","x":1}`},
		"payload missing raw":     {&types.Payload{}, `{"ns_table":{"bytes":""}}`},
		"l1 bad timestamp":        {&types.L1BlockInfo{}, `{"hash":"0x0000000000000000000000000000000000000000000000000000000000000000","number":1,"timestamp":"zz"}`},
		"fee_info missing amount": {&types.FeeInfo{}, `{"account":"0x0000000000000000000000000000000000000000"}`},
		"header not an object":    {&types.Header{}, `[]`},
		"header missing height":   {&types.Header{}, `{"timestamp":1}`},
		"header wrapped 0.1":      {&types.Header{}, `{"fields":{},"version":{"Version":{"major":0,"minor":1}}}`},
		"qc wrong tag":            {&types.QuorumCertificate{}, `{"data":{"leaf_commit":"TX~qOF0p1P0cuOKQ86DdEM7EANNB5cuQAO-AtSB1rfhr1Vn"},"view_number":1}`},
		"trailing data":           {&types.FeeInfo{}, `{"account":"0x0000000000000000000000000000000000000000","amount":"1"} {}`},
	} {
		err := json.Unmarshal([]byte(tc.doc), tc.v)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, types.ErrInvalidJSON) && name != "header not an object" && name != "trailing data" {
			t.Errorf("%s: %v, want ErrInvalidJSON", name, err)
		}
	}
}

// FuzzHeaderJSON checks that no input makes Header decoding panic and that
// what decodes re-encodes to JSON that decodes to the same commitment.
func FuzzHeaderJSON(f *testing.F) {
	b, _ := json.Marshal(sampleHeader(2))
	f.Add(b)
	b, _ = json.Marshal(sampleHeader(1))
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var h types.Header
		if json.Unmarshal(b, &h) != nil {
			return
		}
		again, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		var h2 types.Header
		if err := json.Unmarshal(again, &h2); err != nil || h2.Commit() != h.Commit() {
			t.Fatalf("re-encoded header: %v\n%s", err, again)
		}
	})
}

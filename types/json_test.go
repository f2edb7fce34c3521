package types_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
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

// Headers of both shapes round-trip through JSON with their commitment,
// with and without the optional fields.
func TestHeaderJSONRoundTrip(t *testing.T) {
	cc := types.Commitment{0xcc}
	variants := []func(*types.Header){
		func(h *types.Header) { h.L1Finalized = nil },
		func(h *types.Header) {},
		func(h *types.Header) {
			h.BuilderSignature = &types.BuilderSignature{R: types.NewU256(1), S: types.NewU256(2), V: 28}
			h.PayloadCommitmentTag = types.TagAvidM
		},
		func(h *types.Header) { h.ChainConfig, h.ChainConfigCommitment = types.ChainConfig{}, &cc },
	}
	for _, minor := range []uint16{1, 2} {
		for _, variant := range variants {
			h := sampleHeader(minor)
			variant(&h)
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
			if !reflect.DeepEqual(got.BuilderSignature, h.BuilderSignature) || got.PayloadCommitmentTag != h.PayloadCommitmentTag ||
				!reflect.DeepEqual(got.ChainConfigCommitment, h.ChainConfigCommitment) {
				t.Fatalf("0.%d: optional fields changed through JSON:\n%s", minor, b)
			}
		}
	}
}

// The reference headers decode (TestReferenceHeadersRoundTrip checks them
// field by field).
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
		"header Left and Right":   {&types.Header{}, headerWith(`"chain_config":{"chain_config":{"Left":` + leftConfig + `,"Right":"` + chainConfigTB64 + `"}}`)},
		"header neither":          {&types.Header{}, headerWith(`"chain_config":{"chain_config":{}}`)},
		"header Right wrong tag":  {&types.Header{}, headerWith(`"chain_config":{"chain_config":{"Right":"TX~qOF0p1P0cuOKQ86DdEM7EANNB5cuQAO-AtSB1rfhr1Vn"}}`)},
		"header unknown either":   {&types.Header{}, headerWith(`"chain_config":{"chain_config":{"Middle":1}}`)},
		"header builder tag":      {&types.Header{}, headerWith(`"builder_commitment":"` + chainConfigTB64 + `"`)},
		"header builder sig":      {&types.Header{}, headerWith(`"builder_signature":{"r":"0x1","s":"0x1"}`)},
		"header short payload":    {&types.Header{}, headerWith(`"payload_commitment":"HASH~AQIDzA"`)},
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

// leftConfig and chainConfigTB64 are a chain config and a CHAIN_CONFIG
// commitment for hand-written headers.
const leftConfig = `{"base_fee":"0","chain_id":"1","fee_contract":null,"fee_recipient":"0x0000000000000000000000000000000000000000","max_block_size":"1"}`

var chainConfigTB64 = types.Commitment{0xcc}.Tagged(types.TagChainConfig).String()

// headerWith returns the JSON of a valid 0.1 header with one field
// replaced by field (a "key":value pair).
func headerWith(field string) string {
	b, _ := json.Marshal(sampleHeader(1))
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	var repl map[string]json.RawMessage
	if err := json.Unmarshal([]byte("{"+field+"}"), &repl); err != nil {
		panic(err)
	}
	for k, v := range repl {
		m[k] = v
	}
	out, _ := json.Marshal(m)
	return string(out)
}

// FuzzHeaderJSON checks that no input makes Header decoding panic, that
// what decodes re-encodes to JSON that decodes to the same commitment and
// optional fields, and that the re-encoding is stable (encoding the
// decoded re-encoding gives it back byte for byte).
func FuzzHeaderJSON(f *testing.F) {
	for _, minor := range []uint16{1, 2} {
		h := sampleHeader(minor)
		b, _ := json.Marshal(h)
		f.Add(b)
		h.BuilderSignature = &types.BuilderSignature{R: types.NewU256(1), S: types.NewU256(2), V: 27}
		h.PayloadCommitmentTag = types.TagAvidM
		h.ChainConfigCommitment = &types.Commitment{0xcc}
		b, _ = json.Marshal(h)
		f.Add(b)
	}
	if dir, ok := shared.Find(); ok {
		for _, file := range []string{"header-v0.1.json", "header-v0.2.json"} {
			if b, err := os.ReadFile(filepath.Join(dir, "reference", file)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(headerWith(`"chain_config":{"chain_config":{"Right":"` + chainConfigTB64 + `"}}`)))
	f.Add([]byte(headerWith(`"builder_signature":{"r":"0x1","s":"0x2","v":27}`)))
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
		if !reflect.DeepEqual(h2.BuilderSignature, h.BuilderSignature) || h2.PayloadTag() != h.PayloadTag() ||
			!reflect.DeepEqual(h2.ChainConfigCommitment, h.ChainConfigCommitment) || h2.ChainConfigCommit() != h.ChainConfigCommit() {
			t.Fatalf("optional fields changed through JSON:\n%s\n%s", b, again)
		}
		third, err := json.Marshal(h2)
		if err != nil || !bytes.Equal(third, again) {
			t.Fatalf("re-encoding is not stable: %v\n%s\n%s", err, again, third)
		}
	})
}

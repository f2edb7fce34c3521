package vid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// encodings returns the encodings of a dispersal's common data, shares and
// namespace proofs.
func encodings(t testing.TB, nodes int, name string) (common []byte, shares [][]byte, proofs [][]byte) {
	p := uniformParams(t, nodes)
	payload := testPayloads(t)[name]
	_, cm, ss, err := Disperse(p, payload)
	if err != nil {
		t.Fatal(err)
	}
	if common, err = EncodeCommon(cm); err != nil {
		t.Fatalf("EncodeCommon: %v", err)
	}
	for _, s := range ss {
		b, err := EncodeShare(s)
		if err != nil {
			t.Fatalf("EncodeShare: %v", err)
		}
		shares = append(shares, b)
	}
	entries, _ := payload.NsTable.Entries(len(payload.Raw))
	for j := range entries {
		pr, err := ProveNamespace(p, payload, j)
		if err != nil {
			t.Fatal(err)
		}
		b, err := EncodeNsProof(pr)
		if err != nil {
			t.Fatalf("EncodeNsProof: %v", err)
		}
		proofs = append(proofs, b)
	}
	return common, shares, proofs
}

func TestEncodingRoundTrip(t *testing.T) {
	for _, nodes := range []int{1, 4, 300} {
		for name, payload := range testPayloads(t) {
			p := uniformParams(t, nodes)
			c, common, shares, err := Disperse(p, payload)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := EncodeCommon(common)
			if err != nil {
				t.Fatalf("%s: EncodeCommon: %v", name, err)
			}
			common2, err := DecodeCommon(cb)
			if err != nil {
				t.Fatalf("%s: DecodeCommon: %v", name, err)
			}
			if common2.Commit() != c {
				t.Fatalf("%s: decoded common commits to another payload", name)
			}
			var decoded []Share
			for i, s := range shares {
				sb, err := EncodeShare(s)
				if err != nil {
					t.Fatalf("%s: EncodeShare(%d): %v", name, i, err)
				}
				s2, err := DecodeShare(sb)
				if err != nil {
					t.Fatalf("%s: DecodeShare(%d): %v", name, i, err)
				}
				if err := VerifyShare(p, c, common2, s2, i); err != nil {
					t.Fatalf("%s: decoded share %d: %v", name, i, err)
				}
				decoded = append(decoded, s2)
			}
			got, _, err := Recover(p, c, common2, decoded[len(decoded)-p.Recovery():])
			if err != nil {
				t.Fatalf("%s: Recover from decoded shares: %v", name, err)
			}
			assertPayload(t, got, payload)
			entries, _ := payload.NsTable.Entries(len(payload.Raw))
			for j, e := range entries {
				pr, err := ProveNamespace(p, payload, j)
				if err != nil {
					t.Fatal(err)
				}
				pb, err := EncodeNsProof(pr)
				if err != nil {
					t.Fatalf("%s: EncodeNsProof: %v", name, err)
				}
				pr2, err := DecodeNsProof(pb)
				if err != nil {
					t.Fatalf("%s: DecodeNsProof: %v", name, err)
				}
				if _, err := VerifyNamespace(c, payload.NsTable, e.Namespace, pr2); err != nil {
					t.Fatalf("%s: decoded proof %d: %v", name, j, err)
				}
			}
		}
	}
}

// TestDecodeRejects checks truncations, trailing bytes and bad fields.
func TestDecodeRejects(t *testing.T) {
	common, shares, proofs := encodings(t, 10, "many namespaces")
	type decoder func([]byte) error
	decoders := map[string]struct {
		dec decoder
		b   []byte
	}{
		"common":  {func(b []byte) error { _, err := DecodeCommon(b); return err }, common},
		"share":   {func(b []byte) error { _, err := DecodeShare(b); return err }, shares[3]},
		"nsproof": {func(b []byte) error { _, err := DecodeNsProof(b); return err }, proofs[2]},
	}
	for name, d := range decoders {
		t.Run(name, func(t *testing.T) {
			if err := d.dec(d.b); err != nil {
				t.Fatalf("valid encoding: %v", err)
			}
			for n := range len(d.b) {
				if err := d.dec(d.b[:n]); !errors.Is(err, ErrMalformed) {
					t.Fatalf("truncated to %d of %d bytes: %v", n, len(d.b), err)
				}
			}
			if err := d.dec(append(bytes.Clone(d.b), 0)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("trailing byte: %v", err)
			}
			bad := bytes.Clone(d.b)
			bad[0] = 2
			if err := d.dec(bad); !errors.Is(err, ErrMalformed) {
				t.Fatalf("version 2: %v", err)
			}
		})
	}
	edits := []struct {
		name string
		b    []byte
		at   int
		val  uint32
		dec  decoder
	}{
		{"common k", common, 5, 5, func(b []byte) error { _, err := DecodeCommon(b); return err }},
		{"common W zero", common, 1, 0, func(b []byte) error { _, err := DecodeCommon(b); return err }},
		{"common W too big", common, 1, MaxShards + 1, func(b []byte) error { _, err := DecodeCommon(b); return err }},
		{"common table length", common, 17, 1 << 30, func(b []byte) error { _, err := DecodeCommon(b); return err }},
		{"share node", shares[3], 1, MaxShards, func(b []byte) error { _, err := DecodeShare(b); return err }},
		{"share namespace count", shares[3], 5, 1 << 31, func(b []byte) error { _, err := DecodeShare(b); return err }},
		{"share shard count", shares[3], 9, 1 << 20, func(b []byte) error { _, err := DecodeShare(b); return err }},
		{"share shard length", shares[3], 13, 1 << 31, func(b []byte) error { _, err := DecodeShare(b); return err }},
		{"nsproof k", proofs[2], 5, 1, func(b []byte) error { _, err := DecodeNsProof(b); return err }},
		{"nsproof length", proofs[2], 13, 1 << 31, func(b []byte) error { _, err := DecodeNsProof(b); return err }},
	}
	for _, e := range edits {
		b := bytes.Clone(e.b)
		binary.BigEndian.PutUint32(b[e.at:], e.val)
		if err := e.dec(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s = %d: %v, want ErrMalformed", e.name, e.val, err)
		}
	}
	// A proof length past the limit.
	s, err := DecodeShare(shares[3])
	if err != nil {
		t.Fatal(err)
	}
	s.Namespaces[0][0].Proof = make([][32]byte, maxShardPath+1)
	if _, err := EncodeShare(s); !errors.Is(err, ErrMalformed) {
		t.Errorf("EncodeShare with a long proof: %v", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	if _, err := EncodeCommon(Common{Total: 4, Recovery: 3}); !errors.Is(err, ErrMalformed) {
		t.Errorf("EncodeCommon with a bad k: %v", err)
	}
	if _, err := EncodeCommon(Common{Total: 4, Recovery: 2, PayloadLen: -1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("EncodeCommon with a negative length: %v", err)
	}
	if _, err := EncodeShare(Share{Node: -1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("EncodeShare with node -1: %v", err)
	}
	if _, err := EncodeNsProof(NsProof{Total: 4, Recovery: 2, NsIndex: -1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("EncodeNsProof with index -1: %v", err)
	}
	if _, err := EncodeNsProof(NsProof{Total: 0}); !errors.Is(err, ErrMalformed) {
		t.Errorf("EncodeNsProof with W=0: %v", err)
	}
}

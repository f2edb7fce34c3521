package vid

import (
	"bytes"
	"testing"
)

func FuzzDecodeShare(f *testing.F) {
	// Small seeds keep the fuzzer's minimisation quick.
	for _, nodes := range []int{1, 4, 300} {
		for _, name := range []string{"empty", "one tiny", "empty namespaces"} {
			_, shares, _ := encodings(f, nodes, name)
			f.Add(shares[0])
			f.Add(shares[len(shares)-1])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeShare(b)
		if err != nil {
			return
		}
		enc, err := EncodeShare(s)
		if err != nil {
			t.Fatalf("EncodeShare of a decoded share: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs from the input")
		}
		if _, err := DecodeShare(enc); err != nil {
			t.Fatalf("DecodeShare of the re-encoding: %v", err)
		}
	})
}

func FuzzDecodeCommon(f *testing.F) {
	for _, nodes := range []int{1, 10, 300} {
		for _, name := range []string{"empty", "one tiny", "empty namespaces"} {
			common, _, _ := encodings(f, nodes, name)
			f.Add(common)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommon(b)
		if err != nil {
			return
		}
		enc, err := EncodeCommon(c)
		if err != nil {
			t.Fatalf("EncodeCommon of decoded common data: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs from the input")
		}
		if _, err := DecodeCommon(enc); err != nil {
			t.Fatalf("DecodeCommon of the re-encoding: %v", err)
		}
	})
}

func FuzzDecodeNsProof(f *testing.F) {
	for _, nodes := range []int{1, 10, 300} {
		for _, name := range []string{"one tiny", "empty namespaces"} {
			_, _, proofs := encodings(f, nodes, name)
			f.Add(proofs[0])
			f.Add(proofs[len(proofs)-1])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeNsProof(b)
		if err != nil {
			return
		}
		enc, err := EncodeNsProof(p)
		if err != nil {
			t.Fatalf("EncodeNsProof of a decoded proof: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs from the input")
		}
		if _, err := DecodeNsProof(enc); err != nil {
			t.Fatalf("DecodeNsProof of the re-encoding: %v", err)
		}
	})
}

// FuzzVerifyNamespace checks random proofs against a fixed header: nothing
// panics, and an accepted proof is for a namespace of the header with
// exactly that namespace's bytes.
func FuzzVerifyNamespace(f *testing.F) {
	p := uniformParams(f, 10)
	payload := mustPayload(f, makeTxs(5, []uint64{3, 1, 4, 15}, 12, 0, 40))
	c, err := Commit(p, payload)
	if err != nil {
		f.Fatal(err)
	}
	entries, err := payload.NsTable.Entries(len(payload.Raw))
	if err != nil {
		f.Fatal(err)
	}
	for j, e := range entries {
		pr, err := ProveNamespace(p, payload, j)
		if err != nil {
			f.Fatal(err)
		}
		b, err := EncodeNsProof(pr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(e.Namespace, b)
		f.Add(e.Namespace+1, b)
	}
	f.Fuzz(func(t *testing.T, ns uint32, b []byte) {
		pr, err := DecodeNsProof(b)
		if err != nil {
			return
		}
		got, err := VerifyNamespace(c, payload.NsTable, ns, pr)
		if err != nil {
			return
		}
		want, err := payload.Namespace(uint64(ns))
		if err != nil || want == nil {
			t.Fatalf("accepted a proof for namespace %d, which the payload lacks", ns)
		}
		for _, e := range entries {
			if e.Namespace == ns && !bytes.Equal(got, payload.Raw[e.Start:e.End]) {
				t.Fatalf("accepted wrong bytes for namespace %d", ns)
			}
		}
	})
}

package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/gospresso/gospresso/types"
)

// FuzzDecodeState checks that DecodeState never panics, that it refuses
// with ErrInvalidSnapshot, and that what it accepts is canonical: encoding
// the decoded state gives back the same bytes. Each input is also tried
// with its checksum corrected, so the fuzzer reaches the checks behind it.
func FuzzDecodeState(f *testing.F) {
	for _, s := range testStates(f) {
		f.Add(s.Encode())
	}
	f.Add([]byte("GSPSTATE\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, reseal(data)} {
			s, err := DecodeState(in)
			if err != nil {
				if !errors.Is(err, ErrInvalidSnapshot) {
					t.Fatalf("error %v does not wrap ErrInvalidSnapshot", err)
				}
				continue
			}
			if out := s.Encode(); !bytes.Equal(out, in) {
				t.Fatalf("accepted a non-canonical snapshot:\n in %x\nout %x", in, out)
			}
			checkFeeInvariants(t, s.FeeTree().root, FeeTreeDepth)
		}
	})
}

// fuzzFeeTree is the tree the proof fuzzer checks against: accounts with
// shared prefixes of several lengths.
func fuzzFeeTree() FeeTree {
	r := newRand(30)
	base := addr(0x42, 0x42, 0x42)
	m := map[types.Address]types.U256{base: u(7)}
	for n := range 21 {
		m[addrWithPrefix(r, base, n)] = u(uint64(100 + n))
	}
	for range 40 {
		m[randAddr(r)] = u(1 + r.Uint64N(1000))
	}
	return FeeTree{}.SetBalances(m)
}

// FuzzVerifyFeeProof checks that VerifyFeeProof never panics, refuses with
// ErrInvalidProof, and never accepts a proof that contradicts the tree: a
// verified balance and presence are the tree's.
func FuzzVerifyFeeProof(f *testing.F) {
	tr := fuzzFeeTree()
	root := tr.Root()
	for a := range tr.All() {
		p := tr.Prove(a)
		js, _ := json.Marshal(p)
		f.Add(js, a[:])
		a[19] ^= 0x55
		p = tr.Prove(a)
		js, _ = json.Marshal(p)
		f.Add(js, a[:])
	}
	f.Add([]byte(`{"address":"0x0000000000000000000000000000000000000000","balance":"0","path":[]}`), make([]byte, 20))
	f.Fuzz(func(t *testing.T, js []byte, rawAddr []byte) {
		if len(rawAddr) != 20 {
			return
		}
		a := types.Address(rawAddr)
		var p FeeProof
		if json.Unmarshal(js, &p) != nil {
			return
		}
		bal, ok, err := VerifyFeeProof(root, a, &p)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error %v does not wrap ErrInvalidProof", err)
			}
			return
		}
		want, wantOK := tr.Get(a)
		if ok != wantOK || bal != want {
			t.Fatalf("proof verified %s = %s, %v; the tree has %s, %v", a, bal, ok, want, wantOK)
		}
	})
}

// FuzzVerifyBlockProof checks that VerifyBlockProof never panics, refuses
// with ErrInvalidProof, and accepts only the leaf the tree has at the
// index.
func FuzzVerifyBlockProof(f *testing.F) {
	r := newRand(31)
	var tr BlockTree
	var leaves []types.Commitment
	for range 50 {
		c := randCommit(r)
		leaves = append(leaves, c)
		tr, _ = tr.Push(c)
	}
	root := tr.Root()
	for i := range uint64(len(leaves)) {
		p, _ := tr.Prove(i)
		js, _ := json.Marshal(p)
		f.Add(js, i, leaves[i][:])
	}
	f.Fuzz(func(t *testing.T, js []byte, index uint64, rawLeaf []byte) {
		if len(rawLeaf) != 32 {
			return
		}
		leaf := types.Commitment(rawLeaf)
		var p BlockProof
		if json.Unmarshal(js, &p) != nil {
			return
		}
		err := VerifyBlockProof(root, index, leaf, &p)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error %v does not wrap ErrInvalidProof", err)
			}
			return
		}
		if index >= uint64(len(leaves)) || leaves[index] != leaf {
			t.Fatalf("proof verified leaf %s at %d, which the tree does not have", leaf, index)
		}
	})
}

// FuzzBlockFrontier checks that decoding a frontier never panics, and that
// an accepted one round-trips and builds a tree with the same frontier.
func FuzzBlockFrontier(f *testing.F) {
	var tr BlockTree
	for i := range 30 {
		b, _ := tr.Frontier().MarshalBinary()
		f.Add(b)
		tr, _ = tr.Push(types.Commitment{byte(i)})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr BlockFrontier
		if err := fr.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrInvalidFrontier) {
				t.Fatalf("error %v does not wrap ErrInvalidFrontier", err)
			}
			return
		}
		if out, _ := fr.MarshalBinary(); !bytes.Equal(out, data) {
			t.Fatalf("non-canonical frontier accepted")
		}
		bt, err := BlockTreeFromFrontier(fr)
		if err != nil {
			t.Fatal(err)
		}
		if out, _ := bt.Frontier().MarshalBinary(); !bytes.Equal(out, data) {
			t.Fatalf("tree from frontier has another frontier")
		}
		if fr.NumLeaves < MaxBlockLeaves {
			if _, err := bt.Push(types.Commitment{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/gospresso/gospresso/types"
)

// TestBlockTreeRootGolden pins the hash definition of docs/state.md.
func TestBlockTreeRootGolden(t *testing.T) {
	var tr BlockTree
	one, _ := tr.Push(types.Commitment{1})
	two, _ := one.Push(types.Commitment{2})
	cases := []struct {
		name string
		tree BlockTree
		want string
	}{
		{"empty", tr, "093582e19832ae036ee3781c8476e96980873625d305753eead1673f3d46f96d"},
		{"leaf 01 00…", one, "ff9b4f80a5cef30b8afa18c2c7ed1e8739d626277e6b654f290c6060d029abdb"},
		{"and leaf 02 00…", two, "431de7e39ca556298f3255ff72f6b63f141390b8a837e612cb56b1aa542a9f7e"},
	}
	for i, c := range cases {
		if got := mustHex(t, c.tree.Root()); got != c.want {
			t.Errorf("%s: root %s, want %s", c.name, got, c.want)
		}
		if got := mustHex(t, refBlockRoot([]types.Commitment{{1}, {2}}[:i])); got != c.want {
			t.Errorf("%s: definition gives %s, want %s", c.name, got, c.want)
		}
	}
}

func TestBlockTreeMatchesDefinition(t *testing.T) {
	r := newRand(10)
	var leaves []types.Commitment
	var tr BlockTree
	for i := range 250 {
		if !bytes.Equal(tr.Root(), refBlockRoot(leaves)) {
			t.Fatalf("%d leaves: root differs from the definition", i)
		}
		if tr.NumLeaves() != uint64(i) {
			t.Fatalf("NumLeaves = %d, want %d", tr.NumLeaves(), i)
		}
		c := randCommit(r)
		leaves = append(leaves, c)
		var err error
		if tr, err = tr.Push(c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBlockTreePersistence(t *testing.T) {
	r := newRand(11)
	var trees []BlockTree
	var roots [][]byte
	var tr BlockTree
	var leaves []types.Commitment
	for range 100 {
		trees = append(trees, tr)
		roots = append(roots, tr.Root())
		c := randCommit(r)
		leaves = append(leaves, c)
		tr, _ = tr.Push(c)
	}
	// Branching: two different pushes onto the same old version.
	a, _ := trees[40].Push(types.Commitment{0xaa})
	b, _ := trees[40].Push(types.Commitment{0xbb})
	if bytes.Equal(a.Root(), b.Root()) {
		t.Fatal("different leaves gave the same root")
	}
	for i, old := range trees {
		if !bytes.Equal(old.Root(), roots[i]) || old.NumLeaves() != uint64(i) {
			t.Fatalf("version %d changed", i)
		}
		for j := uint64(0); j < old.NumLeaves(); j++ {
			p, err := old.Prove(j)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyBlockProof(old.Root(), j, leaves[j], &p); err != nil {
				t.Fatalf("version %d leaf %d: %v", i, j, err)
			}
		}
	}
}

func TestBlockProofs(t *testing.T) {
	r := newRand(12)
	var tr BlockTree
	var leaves []types.Commitment
	for range 90 {
		c := randCommit(r)
		leaves = append(leaves, c)
		tr, _ = tr.Push(c)
	}
	root := tr.Root()
	for i, leaf := range leaves {
		idx := uint64(i)
		p, err := tr.Prove(idx)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyBlockProof(root, idx, leaf, &p); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		js, _ := json.Marshal(p)
		var p2 BlockProof
		if err := json.Unmarshal(js, &p2); err != nil {
			t.Fatal(err)
		}
		if err := VerifyBlockProof(root, idx, leaf, &p2); err != nil {
			t.Fatalf("leaf %d after JSON: %v", i, err)
		}

		bad := func(what string, root []byte, idx uint64, leaf types.Commitment, p *BlockProof) {
			t.Helper()
			if err := VerifyBlockProof(root, idx, leaf, p); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("leaf %d: %s: got %v, want ErrInvalidProof", i, what, err)
			}
		}
		clone := func() BlockProof {
			c := BlockProof{Index: p.Index, Siblings: slices.Clone(p.Siblings)}
			for h := range c.Siblings {
				c.Siblings[h] = slices.Clone(c.Siblings[h])
			}
			return c
		}
		wrongLeaf := leaf
		wrongLeaf[0] ^= 1
		bad("wrong leaf", root, idx, wrongLeaf, &p)
		wrongRoot := slices.Clone(root)
		wrongRoot[0] ^= 1
		bad("wrong root", wrongRoot, idx, leaf, &p)
		bad("short root", root[:16], idx, leaf, &p)
		bad("nil proof", root, idx, leaf, nil)
		other := (idx + 1) % uint64(len(leaves))
		bad("wrong index", root, other, leaf, &p)
		c := clone()
		c.Index = other
		bad("wrong index in both", root, other, leaf, &c)
		bad("another leaf's proof", root, other, leaves[other], &p)
		c = clone()
		c.Index = idx + pow3[5] // the same digits below height 5
		bad("index past the tree", root, c.Index, leaf, &c)
		c = clone()
		c.Siblings[int(idx)%BlockTreeDepth][1][3] ^= 4
		bad("changed sibling", root, idx, leaf, &c)
		c = clone()
		c.Siblings[3] = c.Siblings[3][:1]
		bad("one sibling", root, idx, leaf, &c)
		c = clone()
		c.Siblings = c.Siblings[:BlockTreeDepth-1]
		bad("31 levels", root, idx, leaf, &c)
		c = clone()
		c.Siblings[0][0], c.Siblings[0][1] = c.Siblings[0][1], c.Siblings[0][0]
		if c.Siblings[0][0] != c.Siblings[0][1] {
			bad("swapped siblings", root, idx, leaf, &c)
		}
	}
	for _, idx := range []uint64{90, 91, 1 << 40} {
		if _, err := tr.Prove(idx); !errors.Is(err, ErrNoLeaf) {
			t.Fatalf("Prove(%d) = %v, want ErrNoLeaf", idx, err)
		}
	}
	if err := VerifyBlockProof(root, MaxBlockLeaves, leaves[0], &BlockProof{Index: MaxBlockLeaves}); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("index MaxBlockLeaves: %v", err)
	}
}

func TestBlockFrontier(t *testing.T) {
	r := newRand(13)
	var tr BlockTree
	var leaves []types.Commitment
	sizes := map[int]bool{0: true, 1: true, 2: true, 3: true, 8: true, 9: true, 26: true, 27: true, 28: true, 80: true, 81: true, 243: true, 300: true}
	for n := 0; n <= 300; n++ {
		if sizes[n] {
			f := tr.Frontier()
			if len(f.Hashes) != frontierLen(uint64(n)) || f.NumLeaves != uint64(n) {
				t.Fatalf("%d leaves: frontier of %d hashes", n, len(f.Hashes))
			}
			// Binary and JSON round trips.
			bin, _ := f.MarshalBinary()
			var fb BlockFrontier
			if err := fb.UnmarshalBinary(bin); err != nil {
				t.Fatalf("%d leaves: %v", n, err)
			}
			js, _ := json.Marshal(f)
			var fj BlockFrontier
			if err := json.Unmarshal(js, &fj); err != nil {
				t.Fatal(err)
			}
			for _, g := range []BlockFrontier{f, fb, fj} {
				rt, err := BlockTreeFromFrontier(g)
				if err != nil {
					t.Fatalf("%d leaves: %v", n, err)
				}
				if !bytes.Equal(rt.Root(), tr.Root()) || rt.NumLeaves() != uint64(n) {
					t.Fatalf("%d leaves: restored root differs", n)
				}
				if ff := rt.Frontier(); ff.NumLeaves != f.NumLeaves || !slices.Equal(ff.Hashes, f.Hashes) {
					t.Fatalf("%d leaves: restored tree's frontier differs", n)
				}
				// Both keep appending to the same roots; the restored
				// tree proves the new leaves, not the old ones.
				full, part := tr, rt
				for k := range 40 {
					c := types.Commitment{byte(k), byte(n)}
					full, _ = full.Push(c)
					part, _ = part.Push(c)
					if !bytes.Equal(full.Root(), part.Root()) {
						t.Fatalf("%d leaves + %d: roots differ", n, k+1)
					}
					p, err := part.Prove(uint64(n + k))
					if err != nil {
						t.Fatalf("%d leaves + %d: prove new leaf: %v", n, k+1, err)
					}
					if err := VerifyBlockProof(part.Root(), uint64(n+k), c, &p); err != nil {
						t.Fatal(err)
					}
				}
				for i := 0; i < n; i += 1 + n/7 {
					p, err := part.Prove(uint64(i))
					if err == nil {
						// A leaf whose path has no stub is still provable.
						if err := VerifyBlockProof(part.Root(), uint64(i), leaves[i], &p); err != nil {
							t.Fatalf("%d leaves: old leaf %d: %v", n, i, err)
						}
					} else if !errors.Is(err, ErrPruned) {
						t.Fatalf("%d leaves: old leaf %d: %v, want ErrPruned", n, i, err)
					}
				}
				if n >= 9 {
					if _, err := part.Prove(0); !errors.Is(err, ErrPruned) {
						t.Fatalf("%d leaves: leaf 0: %v, want ErrPruned", n, err)
					}
				}
			}
		}
		c := randCommit(r)
		leaves = append(leaves, c)
		tr, _ = tr.Push(c)
	}
}

func TestBlockFrontierInvalid(t *testing.T) {
	cases := []struct {
		name string
		f    BlockFrontier
	}{
		{"hashes for an empty tree", BlockFrontier{NumLeaves: 0, Hashes: []types.Hash{{}}}},
		{"missing hash", BlockFrontier{NumLeaves: 2, Hashes: []types.Hash{{1}}}},
		{"extra hash", BlockFrontier{NumLeaves: 3, Hashes: []types.Hash{{1}, {2}}}},
		{"too many leaves", BlockFrontier{NumLeaves: MaxBlockLeaves + 1}},
	}
	for _, c := range cases {
		if _, err := BlockTreeFromFrontier(c.f); !errors.Is(err, ErrInvalidFrontier) {
			t.Errorf("%s: %v, want ErrInvalidFrontier", c.name, err)
		}
	}
	good, _ := BlockFrontier{NumLeaves: 4, Hashes: []types.Hash{{1}, {2}}}.MarshalBinary()
	for _, bad := range [][]byte{nil, good[:7], good[:len(good)-1], append(slices.Clone(good), 0)} {
		var f BlockFrontier
		if err := f.UnmarshalBinary(bad); !errors.Is(err, ErrInvalidFrontier) {
			t.Errorf("UnmarshalBinary(%d bytes) = %v, want ErrInvalidFrontier", len(bad), err)
		}
	}
}

func TestBlockTreeFull(t *testing.T) {
	// The frontier of a tree one leaf short of full: every digit is 2.
	f := BlockFrontier{NumLeaves: MaxBlockLeaves - 1, Hashes: make([]types.Hash, frontierLen(MaxBlockLeaves-1))}
	for i := range f.Hashes {
		f.Hashes[i] = types.Hash{byte(i)}
	}
	tr, err := BlockTreeFromFrontier(f)
	if err != nil {
		t.Fatal(err)
	}
	last, err := tr.Push(types.Commitment{1})
	if err != nil {
		t.Fatal(err)
	}
	if last.NumLeaves() != MaxBlockLeaves {
		t.Fatalf("NumLeaves = %d", last.NumLeaves())
	}
	p, err := last.Prove(MaxBlockLeaves - 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBlockProof(last.Root(), MaxBlockLeaves-1, types.Commitment{1}, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := last.Push(types.Commitment{2}); !errors.Is(err, ErrBlockTreeFull) {
		t.Fatalf("Push on a full tree: %v", err)
	}
	lf := last.Frontier()
	back, err := BlockTreeFromFrontier(lf)
	if err != nil || !bytes.Equal(back.Root(), last.Root()) {
		t.Fatalf("full tree's frontier: %v", err)
	}
}

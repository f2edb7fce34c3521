package vid

import (
	"crypto/sha256"
	"testing"
)

func TestMerklePaths(t *testing.T) {
	for count := 1; count <= 70; count++ {
		leaves := make([][32]byte, count)
		for i := range leaves {
			leaves[i] = sha256.Sum256([]byte{byte(i), byte(count)})
		}
		levels := merkleLevels(append([][32]byte(nil), leaves...))
		root := levels[len(levels)-1][0]
		if got := merkleRoot(append([][32]byte(nil), leaves...)); got != root {
			t.Fatalf("count %d: merkleRoot differs from merkleLevels", count)
		}
		for i := range leaves {
			path := merklePath(levels, i)
			if len(path) != pathLen(i, count) {
				t.Fatalf("count %d leaf %d: path of %d, pathLen says %d", count, i, len(path), pathLen(i, count))
			}
			got, err := climb(leaves[i], i, count, path)
			if err != nil || got != root {
				t.Fatalf("count %d leaf %d: climb = %x, %v", count, i, got, err)
			}
			if count > 1 {
				other := (i + 1) % count
				if got, err := climb(leaves[i], other, count, path); err == nil && got == root {
					t.Fatalf("count %d: leaf %d's proof verifies at index %d", count, i, other)
				}
			}
		}
		if _, err := climb(leaves[0], count, count, nil); err == nil {
			t.Fatalf("count %d: index out of range accepted", count)
		}
		if _, err := climb(leaves[0], -1, count, nil); err == nil {
			t.Fatalf("count %d: negative index accepted", count)
		}
	}
	if merkleRoot(nil) != emptyRoot() {
		t.Fatal("root of no leaves is not the empty constant")
	}
	// A lone leaf is its own root; an odd last node is promoted.
	a, b, c := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b")), sha256.Sum256([]byte("c"))
	if merkleRoot([][32]byte{a}) != a {
		t.Fatal("lone leaf is not its own root")
	}
	if got, want := merkleRoot([][32]byte{a, b, c}), node(node(a, b), c); got != want {
		t.Fatal("three leaves: want node(node(a, b), c)")
	}
}

package vid

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

// Domain tags (doc.go, "Hashes").
const (
	leafTag   = "gospresso/vid/shard/v1"
	nodeTag   = "gospresso/vid/node/v1"
	emptyTag  = "gospresso/vid/empty/v1"
	commitTag = "gospresso/vid/v1"
)

// leafHasher hashes shards as Merkle leaves, reusing one SHA-256 state.
type leafHasher struct {
	h   hash.Hash
	buf [4]byte
}

func newLeafHasher() *leafHasher { return &leafHasher{h: sha256.New()} }

// leaf returns SHA-256(leafTag ‖ u32be(index) ‖ shard).
func (l *leafHasher) leaf(index int, shard []byte) [32]byte {
	l.h.Reset()
	l.h.Write([]byte(leafTag))
	binary.BigEndian.PutUint32(l.buf[:], uint32(index))
	l.h.Write(l.buf[:])
	l.h.Write(shard)
	var out [32]byte
	l.h.Sum(out[:0])
	return out
}

// node returns SHA-256(nodeTag ‖ left ‖ right).
func node(left, right [32]byte) [32]byte {
	var buf [len(nodeTag) + 64]byte
	copy(buf[:], nodeTag)
	copy(buf[len(nodeTag):], left[:])
	copy(buf[len(nodeTag)+32:], right[:])
	return sha256.Sum256(buf[:])
}

// emptyRoot is the root of a tree with no leaves: SHA-256(emptyTag).
func emptyRoot() [32]byte { return sha256.Sum256([]byte(emptyTag)) }

// nextLevel hashes a level's nodes in pairs; a last, unpaired node is
// promoted unchanged. It writes into dst (reused when large enough).
func nextLevel(dst, level [][32]byte) [][32]byte {
	dst = dst[:0]
	for i := 0; i+1 < len(level); i += 2 {
		dst = append(dst, node(level[i], level[i+1]))
	}
	if len(level)%2 == 1 {
		dst = append(dst, level[len(level)-1])
	}
	return dst
}

// merkleRoot returns the root over leaves without keeping the levels. It
// overwrites leaves.
func merkleRoot(leaves [][32]byte) [32]byte {
	if len(leaves) == 0 {
		return emptyRoot()
	}
	for len(leaves) > 1 {
		leaves = nextLevel(leaves, leaves)
	}
	return leaves[0]
}

// merkleLevels returns every level of the tree over leaves, leaves first and
// root last. leaves must not be empty.
func merkleLevels(leaves [][32]byte) [][][32]byte {
	levels := [][][32]byte{leaves}
	for l := leaves; len(l) > 1; {
		l = nextLevel(make([][32]byte, 0, (len(l)+1)/2), l)
		levels = append(levels, l)
	}
	return levels
}

// merklePath returns the sibling hashes from leaf index up to the root,
// skipping the levels where the node is promoted without a sibling.
func merklePath(levels [][][32]byte, index int) [][32]byte {
	return appendPath(nil, levels, index)
}

// appendPath appends merklePath(levels, index) to path.
func appendPath(path [][32]byte, levels [][][32]byte, index int) [][32]byte {
	for _, level := range levels[:len(levels)-1] {
		if sib := index ^ 1; sib < len(level) {
			path = append(path, level[sib])
		}
		index /= 2
	}
	return path
}

// pathLen is the number of siblings on the path of leaf index in a tree of
// count leaves.
func pathLen(index, count int) int {
	n := 0
	for ; count > 1; count = (count + 1) / 2 {
		if index^1 < count {
			n++
		}
		index /= 2
	}
	return n
}

// climb returns the root reached from leaf hash h at index in a tree of
// count leaves, following path. The path must have exactly the siblings the
// tree shape calls for.
func climb(h [32]byte, index, count int, path [][32]byte) ([32]byte, error) {
	if index < 0 || index >= count {
		return h, fmt.Errorf("leaf index %d out of range of %d leaves", index, count)
	}
	if want := pathLen(index, count); len(path) != want {
		return h, fmt.Errorf("merkle proof has %d hashes, want %d for leaf %d of %d", len(path), want, index, count)
	}
	pos := 0
	for ; count > 1; count = (count + 1) / 2 {
		if index^1 < count {
			if index%2 == 0 {
				h = node(h, path[pos])
			} else {
				h = node(path[pos], h)
			}
			pos++
		}
		index /= 2
	}
	return h, nil
}

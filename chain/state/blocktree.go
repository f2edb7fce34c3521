package state

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gospresso/gospresso/types"
)

// BlockTree is the block Merkle tree: an append-only Merkle tree of arity 3
// and depth 32 whose leaves are header commitments, leaf i being the
// commitment of header i (docs/state.md, "The block tree").
//
// A BlockTree is an immutable value: Push returns a new tree that shares
// every node but its right-most path with the old one, which stays valid
// and unchanged. The zero BlockTree is the empty tree. BlockTree values are
// safe for concurrent use.
//
// A tree built from a frontier (BlockTreeFromFrontier, DecodeState) knows
// the subtrees left of its right-most path by their hashes only: it appends
// and gives the same roots as the full tree, but proves only the leaves
// pushed since.
type BlockTree struct {
	root *blockNode
	n    uint64
	// restored is the leaf count of the frontier the tree was built
	// from (0 for a tree pushed from empty), for error messages.
	restored uint64
}

// blockNode is a non-empty subtree. At height 0 it is a leaf and only its
// hash matters; above, kids are its three children (nil for an empty one),
// or, when stub is set, the subtree is known by its hash alone.
type blockNode struct {
	hash [32]byte
	kids [3]*blockNode
	stub bool
}

func blockHashOf(n *blockNode, h int) *[32]byte {
	if n == nil {
		return &blockDefaults[h]
	}
	return &n.hash
}

// NumLeaves returns the number of leaves pushed.
func (t BlockTree) NumLeaves() uint64 { return t.n }

// Root returns the 32-byte root hash, the value of a header's
// block_merkle_tree_root.
func (t BlockTree) Root() []byte {
	r := *blockHashOf(t.root, BlockTreeDepth)
	return r[:]
}

// Push returns the tree with leaf appended at index t.NumLeaves(). t is
// unchanged. It fails, wrapping ErrBlockTreeFull, on a tree of
// MaxBlockLeaves leaves.
func (t BlockTree) Push(leaf types.Commitment) (BlockTree, error) {
	if t.n >= MaxBlockLeaves {
		return t, fmt.Errorf("%w: it holds %d leaves", ErrBlockTreeFull, t.n)
	}
	return BlockTree{root: blockPush(t.root, BlockTreeDepth, t.n, (*[32]byte)(&leaf)), n: t.n + 1, restored: t.restored}, nil
}

// blockPush returns the subtree at height h that is n with leaf set at
// index i (counted inside the subtree). The slot is empty, so the path to
// it never goes through a stub.
func blockPush(n *blockNode, h int, i uint64, leaf *[32]byte) *blockNode {
	if h == 0 {
		return &blockNode{hash: blockLeafHash(leaf)}
	}
	digit := i / pow3[h-1]
	c := &blockNode{}
	if n != nil {
		c.kids = n.kids
	}
	c.kids[digit] = blockPush(c.kids[digit], h-1, i%pow3[h-1], leaf)
	c.hash = blockNodeHash(h, blockHashOf(c.kids[0], h-1), blockHashOf(c.kids[1], h-1), blockHashOf(c.kids[2], h-1))
	return c
}

// BlockProof proves that a leaf sits at an index of a block tree (docs/state.md,
// "Block proofs"). Its JSON form is
//
//	{"index": 5, "siblings": [["0x<64 hex>", "0x<64 hex>"], … 32 pairs]}
//
// Siblings[h] holds, in index order, the hashes of the two children of the
// path's node at height h+1 that are not on the path; the path's child is
// digit h of the index in base 3.
type BlockProof struct {
	Index    uint64         `json:"index"`
	Siblings [][]types.Hash `json:"siblings"`
}

// Prove returns a proof that the leaf at index is in t. It fails, wrapping
// ErrNoLeaf, for an index at or past NumLeaves, and, wrapping ErrPruned,
// for a leaf left of the frontier the tree was restored from.
func (t BlockTree) Prove(index uint64) (BlockProof, error) {
	if index >= t.n {
		return BlockProof{}, fmt.Errorf("%w: index %d of a block tree of %d leaves", ErrNoLeaf, index, t.n)
	}
	p := BlockProof{Index: index, Siblings: make([][]types.Hash, BlockTreeDepth)}
	n := t.root
	for h := BlockTreeDepth; h >= 1; h-- {
		if n.stub {
			return BlockProof{}, fmt.Errorf("%w: leaf %d is left of the frontier the tree was restored from (at %d leaves)", ErrPruned, index, t.restored)
		}
		digit := int(index / pow3[h-1] % 3)
		pair := make([]types.Hash, 0, 2)
		for j := range 3 {
			if j != digit {
				pair = append(pair, types.Hash(*blockHashOf(n.kids[j], h-1)))
			}
		}
		p.Siblings[h-1] = pair
		n = n.kids[digit]
	}
	return p, nil
}

// VerifyBlockProof checks that leaf is at index in the block tree with
// root (a header's block_merkle_tree_root). It returns nil when it is, and
// an error wrapping ErrInvalidProof otherwise. It cannot tell how many
// leaves the tree holds: the tree of header h holds h leaves, the
// commitments of headers 0 to h-1.
func VerifyBlockProof(root []byte, index uint64, leaf types.Commitment, proof *BlockProof) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: block proof for leaf %d: %s", ErrInvalidProof, index, fmt.Sprintf(format, args...))
	}
	switch {
	case len(root) != 32:
		return fail("root is %d bytes, want 32", len(root))
	case proof == nil:
		return fail("no proof")
	case index >= MaxBlockLeaves:
		return fail("index out of range (at most %d leaves)", uint64(MaxBlockLeaves))
	case proof.Index != index:
		return fail("the proof is for leaf %d", proof.Index)
	case len(proof.Siblings) != BlockTreeDepth:
		return fail("%d levels of siblings, want %d", len(proof.Siblings), BlockTreeDepth)
	}
	cur := blockLeafHash((*[32]byte)(&leaf))
	for h := 1; h <= BlockTreeDepth; h++ {
		pair := proof.Siblings[h-1]
		if len(pair) != 2 {
			return fail("%d siblings at height %d, want 2", len(pair), h)
		}
		a, b := (*[32]byte)(&pair[0]), (*[32]byte)(&pair[1])
		switch index / pow3[h-1] % 3 {
		case 0:
			cur = blockNodeHash(h, &cur, a, b)
		case 1:
			cur = blockNodeHash(h, a, &cur, b)
		default:
			cur = blockNodeHash(h, a, b, &cur)
		}
	}
	if !bytes.Equal(cur[:], root) {
		return fail("the proof does not lead to root %x", root)
	}
	return nil
}

// BlockFrontier is the part of a block tree needed to keep appending to it
// and to compute its root: the number of leaves and, for each height h from
// 0 to 31, the hashes of the complete children left of the insertion point
// in the right-most node at height h+1 (digit h of NumLeaves in base 3 of
// them), lowest height first and left to right (docs/state.md,
// "Frontier"). Its JSON form is
//
//	{"num_leaves": 7, "hashes": ["0x<64 hex>", …]}
//
// A frontier fixes the root: a client checks one from a peer by building
// the tree (BlockTreeFromFrontier) and comparing its root and leaf count
// with a header's block_merkle_tree_root and height.
type BlockFrontier struct {
	NumLeaves uint64       `json:"num_leaves"`
	Hashes    []types.Hash `json:"hashes"`
}

// frontierLen is the number of hashes in the frontier of a tree of n
// leaves: the sum of n's base-3 digits.
func frontierLen(n uint64) int {
	s := 0
	for ; n > 0; n /= 3 {
		s += int(n % 3)
	}
	return s
}

// Frontier returns t's frontier.
func (t BlockTree) Frontier() BlockFrontier {
	f := BlockFrontier{NumLeaves: t.n, Hashes: make([]types.Hash, frontierLen(t.n))}
	// Walk down the insertion point's path, filling each height's hashes
	// at their place (lowest height first).
	off := len(f.Hashes)
	n := t.root
	for h := BlockTreeDepth; h >= 1 && n != nil; h-- {
		digit := int(t.n / pow3[h-1] % 3)
		off -= digit
		for j := range digit {
			f.Hashes[off+j] = types.Hash(n.kids[j].hash)
		}
		n = n.kids[digit]
	}
	return f
}

// BlockTreeFromFrontier builds the tree f describes. It fails, wrapping
// ErrInvalidFrontier, when f has more leaves than MaxBlockLeaves or not
// exactly the hashes its leaf count calls for.
func BlockTreeFromFrontier(f BlockFrontier) (BlockTree, error) {
	if f.NumLeaves > MaxBlockLeaves {
		return BlockTree{}, fmt.Errorf("%w: %d leaves, at most %d", ErrInvalidFrontier, f.NumLeaves, uint64(MaxBlockLeaves))
	}
	if want := frontierLen(f.NumLeaves); len(f.Hashes) != want {
		return BlockTree{}, fmt.Errorf("%w: %d hashes for %d leaves, want %d", ErrInvalidFrontier, len(f.Hashes), f.NumLeaves, want)
	}
	// Build the insertion point's path bottom-up: at height h+1 the node
	// holds digit h stubs left of the path child.
	var path *blockNode
	off := 0
	for h := 1; h <= BlockTreeDepth; h++ {
		digit := int(f.NumLeaves / pow3[h-1] % 3)
		if digit == 0 && path == nil {
			continue // an empty subtree on the path
		}
		c := &blockNode{}
		for j := range digit {
			c.kids[j] = &blockNode{hash: [32]byte(f.Hashes[off+j]), stub: h > 1}
		}
		off += digit
		c.kids[digit] = path
		c.hash = blockNodeHash(h, blockHashOf(c.kids[0], h-1), blockHashOf(c.kids[1], h-1), blockHashOf(c.kids[2], h-1))
		path = c
	}
	return BlockTree{root: path, n: f.NumLeaves, restored: f.NumLeaves}, nil
}

// MarshalBinary encodes f canonically: NumLeaves as 8 bytes big-endian,
// then the hashes.
func (f BlockFrontier) MarshalBinary() ([]byte, error) {
	return appendFrontier(nil, f), nil
}

func appendFrontier(b []byte, f BlockFrontier) []byte {
	b = binary.BigEndian.AppendUint64(b, f.NumLeaves)
	for _, h := range f.Hashes {
		b = append(b, h[:]...)
	}
	return b
}

// UnmarshalBinary decodes the form MarshalBinary writes, and checks it as
// BlockTreeFromFrontier does. Errors wrap ErrInvalidFrontier.
func (f *BlockFrontier) UnmarshalBinary(data []byte) error {
	g, rest, err := readFrontier(data)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes after the hashes", ErrInvalidFrontier, len(rest))
	}
	*f = g
	return nil
}

// readFrontier decodes a frontier at the start of data and returns the
// bytes after it.
func readFrontier(data []byte) (BlockFrontier, []byte, error) {
	if len(data) < 8 {
		return BlockFrontier{}, nil, fmt.Errorf("%w: %d bytes, too short for the leaf count", ErrInvalidFrontier, len(data))
	}
	n := binary.BigEndian.Uint64(data)
	data = data[8:]
	if n > MaxBlockLeaves {
		return BlockFrontier{}, nil, fmt.Errorf("%w: %d leaves, at most %d", ErrInvalidFrontier, n, uint64(MaxBlockLeaves))
	}
	k := frontierLen(n) // at most 64
	if len(data) < 32*k {
		return BlockFrontier{}, nil, fmt.Errorf("%w: %d leaves need %d hashes, only %d bytes follow", ErrInvalidFrontier, n, k, len(data))
	}
	f := BlockFrontier{NumLeaves: n, Hashes: make([]types.Hash, k)}
	for i := range f.Hashes {
		copy(f.Hashes[i][:], data[32*i:])
	}
	return f, data[32*k:], nil
}

package state

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"sync"
)

// Hashing (docs/state.md, "Hashes"). Every hash is SHA-256 of a one-byte
// domain prefix followed by fixed-size fields. The four prefixes tell fee
// leaves, fee nodes, block leaves and block nodes apart; gospresso's own
// SHA-256 commitments start with the text "gospresso/" instead. Messages
// are kept short: a fee leaf and a fee node with one child fit one SHA-256
// block, which halves the cost of hashing a leaf up its 20 levels.
const (
	feeLeafTag   = 0x00
	feeNodeTag   = 0x01
	blockLeafTag = 0x02
	blockNodeTag = 0x03
)

// Tree shapes.
const (
	// FeeTreeArity is the number of children of a fee-tree node.
	FeeTreeArity = 256
	// FeeTreeDepth is the number of levels below the fee-tree root: one per
	// byte of an address.
	FeeTreeDepth = 20
	// BlockTreeArity is the number of children of a block-tree node.
	BlockTreeArity = 3
	// BlockTreeDepth is the number of levels below the block-tree root.
	BlockTreeDepth = 32
	// MaxBlockLeaves is the most leaves a block tree holds: 3^32 - 1. The
	// last slot stays empty so that a frontier always has an insertion point
	// (docs/state.md, "Frontier").
	MaxBlockLeaves = 1853020188851841 - 1
)

// bitmap is the occupancy of a fee-tree node's 256 children: bit i is bit
// i%64 of word i/64, which is bit i%8 of byte i/8 in a proof's Bitmap
// (bytes and bitmapFromBytes convert).
type bitmap [4]uint64

func (b *bitmap) has(i byte) bool { return b[i>>6]>>(i&63)&1 != 0 }
func (b *bitmap) set(i byte)      { b[i>>6] |= 1 << (i & 63) }

// rank is the number of set bits below i: the position of child i among the
// present children.
func (b *bitmap) rank(i byte) int {
	w := int(i >> 6)
	n := bits.OnesCount64(b[w] & (1<<(i&63) - 1))
	for j := 0; j < w; j++ {
		n += bits.OnesCount64(b[j])
	}
	return n
}

// first returns the lowest set bit; b must have one.
func (b *bitmap) first() byte {
	for w := range 4 {
		if b[w] != 0 {
			return byte(w<<6 | bits.TrailingZeros64(b[w]))
		}
	}
	panic("state: empty bitmap")
}

func (b *bitmap) count() int {
	return bits.OnesCount64(b[0]) + bits.OnesCount64(b[1]) + bits.OnesCount64(b[2]) + bits.OnesCount64(b[3])
}

func (b *bitmap) bytes() (out [32]byte) {
	for i, w := range b {
		binary.LittleEndian.PutUint64(out[8*i:], w)
	}
	return out
}

func bitmapFromBytes(p [32]byte) (b bitmap) {
	for i := range b {
		b[i] = binary.LittleEndian.Uint64(p[8*i:])
	}
	return b
}

// feeLeafHash is the hash of an account's leaf (height 0):
// SHA-256(0x00 ‖ address ‖ balance as 32 bytes big-endian).
func feeLeafHash(addr *[20]byte, balance *[32]byte) [32]byte {
	var buf [1 + 20 + 32]byte
	buf[0] = feeLeafTag
	copy(buf[1:], addr[:])
	copy(buf[21:], balance[:])
	return sha256.Sum256(buf[:])
}

// feeSingleHash is the hash of a node at height h whose only present child
// is child i with hash c: SHA-256(0x01 ‖ h ‖ i ‖ c).
func feeSingleHash(h int, i byte, c *[32]byte) [32]byte {
	var buf [3 + 32]byte
	buf[0], buf[1], buf[2] = feeNodeTag, byte(h), i
	copy(buf[3:], c[:])
	return sha256.Sum256(buf[:])
}

// feeNodeHasher hashes fee-tree nodes, reusing one buffer large enough
// for a node of 256 children.
type feeNodeHasher struct {
	buf []byte
}

var feeHashers = sync.Pool{New: func() any { return &feeNodeHasher{buf: make([]byte, 0, 2+33*FeeTreeArity)} }}

// newFeeNodeHasher takes a hasher from the pool; release returns it.
func newFeeNodeHasher() *feeNodeHasher { return feeHashers.Get().(*feeNodeHasher) }

func (f *feeNodeHasher) release() { feeHashers.Put(f) }

// hash returns the hash of a node at height h whose present children are
// the set bits of bm, kid(j) giving the hash of the j-th of them:
// SHA-256(0x01 ‖ h ‖ for each present child in increasing index: its index
// (1 byte) ‖ its hash).
func (f *feeNodeHasher) hash(h int, bm *bitmap, kid func(j int) *[32]byte) [32]byte {
	b := append(f.buf[:0], feeNodeTag, byte(h))
	j := 0
	for w := range 4 {
		for word := bm[w]; word != 0; word &= word - 1 {
			b = append(b, byte(w<<6|bits.TrailingZeros64(word)))
			b = append(b, kid(j)[:]...)
			j++
		}
	}
	f.buf = b
	return sha256.Sum256(b)
}

// feeDefaults[h] is the hash of an empty fee subtree of height h ≥ 1, a
// node with no present child: SHA-256(0x01 ‖ h). feeDefaults[FeeTreeDepth]
// is the root of an empty fee tree. An empty child never enters its
// parent's hash.
var feeDefaults = func() (d [FeeTreeDepth + 1][32]byte) {
	for h := 1; h <= FeeTreeDepth; h++ {
		d[h] = sha256.Sum256([]byte{feeNodeTag, byte(h)})
	}
	return d
}()

// blockLeafHash is the hash of a block-tree leaf (a header commitment):
// SHA-256(0x02 ‖ commitment).
func blockLeafHash(leaf *[32]byte) [32]byte {
	var buf [1 + 32]byte
	buf[0] = blockLeafTag
	copy(buf[1:], leaf[:])
	return sha256.Sum256(buf[:])
}

// blockNodeHash is the hash of a block-tree node at height h ≥ 1:
// SHA-256(0x03 ‖ h ‖ a ‖ b ‖ c).
func blockNodeHash(h int, a, b, c *[32]byte) [32]byte {
	var buf [2 + 3*32]byte
	buf[0], buf[1] = blockNodeTag, byte(h)
	copy(buf[2:], a[:])
	copy(buf[34:], b[:])
	copy(buf[66:], c[:])
	return sha256.Sum256(buf[:])
}

// blockDefaults[h] is the hash of an empty block subtree of height h:
// 32 zero bytes for an empty leaf slot, and for h ≥ 1 the node hash of three
// empty children. blockDefaults[BlockTreeDepth] is the root of an empty
// block tree.
var blockDefaults = func() (d [BlockTreeDepth + 1][32]byte) {
	for h := 1; h <= BlockTreeDepth; h++ {
		d[h] = blockNodeHash(h, &d[h-1], &d[h-1], &d[h-1])
	}
	return d
}()

// pow3[i] is 3^i.
var pow3 = func() (p [BlockTreeDepth + 1]uint64) {
	p[0] = 1
	for i := 1; i <= BlockTreeDepth; i++ {
		p[i] = 3 * p[i-1]
	}
	return p
}()

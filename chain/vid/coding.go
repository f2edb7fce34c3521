package vid

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/gospresso/gospresso/types"
	"github.com/klauspost/reedsolomon"
)

// leopardAbove is the total shard count above which reedsolomon switches to
// Leopard GF(2^16), whose shards must be a multiple of leopardAlign bytes.
const (
	leopardAbove = 256
	leopardAlign = 64
)

// shardSize is the size of each of the w shards of a namespace of n bytes
// with recovery threshold k: ceil(n/k), at least 1, rounded up to a multiple
// of 64 when w > 256 (doc.go, "Shards").
func shardSize(n, w, k int) int {
	s := max((n+k-1)/k, 1)
	if w > leopardAbove {
		s = (s + leopardAlign - 1) / leopardAlign * leopardAlign
	}
	return s
}

// coder erasure-codes the namespaces of one payload with fixed (W, k). It
// is not safe for concurrent use.
type coder struct {
	w, k    int
	enc     reedsolomon.Encoder // nil when w == k (a one-shard network)
	hasher  *leafHasher
	scratch []byte     // reused shard buffer for encodings that are not kept
	shards  [][]byte   // reused shard slice headers
	leafBuf [][32]byte // reused leaf hashes
}

func newCoder(w, k int) (*coder, error) {
	if err := checkTotals(w, k); err != nil {
		return nil, err
	}
	c := &coder{w: w, k: k, hasher: newLeafHasher()}
	if w > k {
		enc, err := reedsolomon.New(k, w-k)
		if err != nil {
			return nil, fmt.Errorf("%w: reed-solomon code for %d data and %d parity shards: %v", ErrInvalidParams, k, w-k, err)
		}
		c.enc = enc
	}
	return c, nil
}

// split slices buf, of w*size bytes, into w shards.
func (c *coder) split(buf []byte, size int, shards [][]byte) [][]byte {
	shards = shards[:0]
	for i := range c.w {
		shards = append(shards, buf[i*size:(i+1)*size:(i+1)*size])
	}
	return shards
}

// encode splits data into k zero-padded data shards, extends them to w
// shards and returns them, slices of buf (which must hold w*size zero bytes
// for size = shardSize(len(data), w, k)).
func (c *coder) encode(buf, data []byte) ([][]byte, error) {
	size := shardSize(len(data), c.w, c.k)
	copy(buf, data)
	shards := c.split(buf, size, make([][]byte, 0, c.w))
	if err := c.parity(shards); err != nil {
		return nil, err
	}
	return shards, nil
}

// parity fills the parity shards from the data shards.
func (c *coder) parity(shards [][]byte) error {
	if c.enc == nil {
		return nil
	}
	if err := c.enc.Encode(shards); err != nil {
		return fmt.Errorf("vid: reed-solomon encode of %d shards: %w", len(shards), err)
	}
	return nil
}

// leaves returns the leaf hashes of shards in a new slice.
func (c *coder) leaves(shards [][]byte) [][32]byte {
	leaves := make([][32]byte, len(shards))
	for i, s := range shards {
		leaves[i] = c.hasher.leaf(i, s)
	}
	return leaves
}

// root returns the Merkle root over the leaves of shards.
func (c *coder) root(shards [][]byte) [32]byte {
	c.leafBuf = c.leafBuf[:0]
	for i, s := range shards {
		c.leafBuf = append(c.leafBuf, c.hasher.leaf(i, s))
	}
	return merkleRoot(c.leafBuf)
}

// scratchFor returns the reused buffer resized to n zero bytes.
func (c *coder) scratchFor(n int) []byte {
	if cap(c.scratch) < n {
		c.scratch = make([]byte, n)
	}
	c.scratch = c.scratch[:n]
	clear(c.scratch)
	return c.scratch
}

// nsRoot encodes data and returns its namespace root.
func (c *coder) nsRoot(data []byte) ([32]byte, error) {
	size := shardSize(len(data), c.w, c.k)
	buf := c.scratchFor(c.w * size)
	copy(buf, data)
	c.shards = c.split(buf, size, c.shards)
	if err := c.parity(c.shards); err != nil {
		return [32]byte{}, err
	}
	return c.root(c.shards), nil
}

// recoverNs rebuilds a namespace of n bytes from shards (w entries, nil where
// missing, at least k present) into dst, then re-encodes dst alone and
// returns the root. shards is modified.
func (c *coder) recoverNs(dst []byte, shards [][]byte) ([32]byte, error) {
	n := len(dst)
	size := shardSize(n, c.w, c.k)
	buf := c.scratchFor(c.w * size)
	// Reconstruct the data shards straight into buf.
	for i := range c.k {
		at := buf[i*size : (i+1)*size : (i+1)*size]
		if shards[i] != nil {
			copy(at, shards[i])
			shards[i] = at
		} else {
			shards[i] = at[:0]
		}
	}
	if c.enc != nil {
		if err := c.enc.ReconstructData(shards); err != nil {
			return [32]byte{}, fmt.Errorf("vid: reed-solomon reconstruct: %w", err)
		}
	}
	for i := range c.k {
		if at := buf[i*size:]; len(shards[i]) != size || &shards[i][0] != &at[0] {
			copy(at[:size], shards[i])
		}
	}
	copy(dst, buf)
	// Re-encode from the namespace bytes alone: zero padding and parity.
	clear(buf[n:])
	c.shards = c.split(buf, size, c.shards)
	if err := c.parity(c.shards); err != nil {
		return [32]byte{}, err
	}
	return c.root(c.shards), nil
}

// payloadCommitment computes C (doc.go, "Commitment") from the parts.
func payloadCommitment(w, k int, payloadLen uint64, nsTable []byte, roots [][32]byte) types.Commitment {
	return commitWithRoot(w, k, payloadLen, sha256.Sum256(nsTable), merkleRoot(append([][32]byte(nil), roots...)))
}

func commitWithRoot(w, k int, payloadLen uint64, tableHash, rootOfRoots [32]byte) types.Commitment {
	var buf [len(commitTag) + 4 + 4 + 8 + 32 + 32]byte
	n := copy(buf[:], commitTag)
	binary.BigEndian.PutUint32(buf[n:], uint32(w))
	binary.BigEndian.PutUint32(buf[n+4:], uint32(k))
	binary.BigEndian.PutUint64(buf[n+8:], payloadLen)
	copy(buf[n+16:], tableHash[:])
	copy(buf[n+48:], rootOfRoots[:])
	return types.Commitment(sha256.Sum256(buf[:]))
}

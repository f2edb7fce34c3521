package vid

import (
	"encoding/binary"
	"fmt"
	"math"
)

// encodingVersion is the first byte of every encoding (doc.go, "Encodings").
const encodingVersion = 1

// Longest Merkle paths the decoders accept: a shard tree has at most
// MaxShards < 2^16 leaves, a tree of namespace roots fewer than 2^32.
const (
	maxShardPath = 16
	maxNsPath    = 32
)

// EncodeCommon returns the binary encoding of c. It fails with ErrMalformed
// for values the encoding cannot hold or DecodeCommon would refuse.
func EncodeCommon(c Common) ([]byte, error) {
	if err := checkTotals(c.Total, c.Recovery); err != nil {
		return nil, fmt.Errorf("%w: common: %w", ErrMalformed, err)
	}
	if c.PayloadLen < 0 || int64(c.PayloadLen) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: common: payload length %d, want 0 to %d", ErrMalformed, c.PayloadLen, uint32(math.MaxUint32))
	}
	if int64(len(c.NsTable)) > math.MaxUint32 || int64(len(c.Roots)) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: common: namespace table of %d bytes or %d roots exceed 32-bit counts", ErrMalformed, len(c.NsTable), len(c.Roots))
	}
	b := make([]byte, 0, 1+4+4+8+4+len(c.NsTable)+4+32*len(c.Roots))
	b = append(b, encodingVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(c.Total))
	b = binary.BigEndian.AppendUint32(b, uint32(c.Recovery))
	b = binary.BigEndian.AppendUint64(b, uint64(c.PayloadLen))
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.NsTable)))
	b = append(b, c.NsTable...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.Roots)))
	for _, r := range c.Roots {
		b = append(b, r[:]...)
	}
	return b, nil
}

// DecodeCommon decodes the encoding of EncodeCommon. It checks the layout
// and the (W, k) pair but not the namespace table, which VerifyShare checks.
// The result does not share memory with b.
func DecodeCommon(b []byte) (Common, error) {
	r := reader{b: b, what: "common"}
	r.version()
	w, k := int(r.u32("total")), int(r.u32("recovery"))
	if r.err == nil {
		if err := checkTotals(w, k); err != nil {
			return Common{}, fmt.Errorf("%w: common: %w", ErrMalformed, err)
		}
	}
	n := r.u64("payload length")
	if r.err == nil && n > math.MaxUint32 {
		r.fail("payload length %d exceeds %d", n, uint32(math.MaxUint32))
	}
	table := r.bytes("namespace table", int(r.u32("namespace table length")))
	roots := r.hashes("namespace roots", int(r.u32("namespace root count")), math.MaxUint32)
	r.end()
	if r.err != nil {
		return Common{}, r.err
	}
	return Common{Total: w, Recovery: k, PayloadLen: int(n), NsTable: table, Roots: roots}, nil
}

// EncodeShare returns the binary encoding of s. It fails with ErrMalformed
// for values the encoding cannot hold or DecodeShare would refuse.
func EncodeShare(s Share) ([]byte, error) {
	if s.Node < 0 || s.Node >= MaxShards {
		return nil, fmt.Errorf("%w: share: node %d, want 0 to %d", ErrMalformed, s.Node, MaxShards-1)
	}
	if int64(len(s.Namespaces)) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: share: %d namespaces exceed a 32-bit count", ErrMalformed, len(s.Namespaces))
	}
	size := 1 + 4 + 4
	for j, ns := range s.Namespaces {
		if len(ns) > MaxShards {
			return nil, fmt.Errorf("%w: share: namespace %d: %d shards, want at most %d", ErrMalformed, j, len(ns), MaxShards)
		}
		size += 4
		for t, sh := range ns {
			if int64(len(sh.Data)) > math.MaxUint32 || len(sh.Proof) > maxShardPath {
				return nil, fmt.Errorf("%w: share: namespace %d shard %d: %d bytes with a proof of %d hashes, want at most %d hashes",
					ErrMalformed, j, t, len(sh.Data), len(sh.Proof), maxShardPath)
			}
			size += 4 + len(sh.Data) + 1 + 32*len(sh.Proof)
		}
	}
	b := make([]byte, 0, size)
	b = append(b, encodingVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(s.Node))
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.Namespaces)))
	for _, ns := range s.Namespaces {
		b = binary.BigEndian.AppendUint32(b, uint32(len(ns)))
		for _, sh := range ns {
			b = binary.BigEndian.AppendUint32(b, uint32(len(sh.Data)))
			b = append(b, sh.Data...)
			b = append(b, byte(len(sh.Proof)))
			for _, h := range sh.Proof {
				b = append(b, h[:]...)
			}
		}
	}
	return b, nil
}

// DecodeShare decodes the encoding of EncodeShare. It checks the layout
// only; VerifyShare checks the contents. The result does not share memory
// with b.
func DecodeShare(b []byte) (Share, error) {
	r := reader{b: b, what: "share"}
	r.version()
	node := r.u32("node")
	if r.err == nil && node >= MaxShards {
		r.fail("node %d, want 0 to %d", node, MaxShards-1)
	}
	// Each namespace takes at least its 4-byte count, each shard at least
	// its 4-byte length and 1-byte proof length.
	nns := r.count("namespace count", 4, math.MaxUint32)
	var s Share
	if r.err == nil {
		s = Share{Node: int(node), Namespaces: make([][]Shard, nns)}
	}
	for j := 0; j < nns && r.err == nil; j++ {
		n := r.count("shard count", 5, MaxShards)
		if r.err != nil {
			break
		}
		shards := make([]Shard, n)
		for t := 0; t < n && r.err == nil; t++ {
			shards[t].Data = r.bytes("shard", int(r.u32("shard length")))
			shards[t].Proof = r.hashes("merkle proof", int(r.u8("merkle proof length")), maxShardPath)
		}
		s.Namespaces[j] = shards
	}
	r.end()
	if r.err != nil {
		return Share{}, r.err
	}
	return s, nil
}

// EncodeNsProof returns the binary encoding of p. It fails with
// ErrMalformed for values the encoding cannot hold or DecodeNsProof would
// refuse.
func EncodeNsProof(p NsProof) ([]byte, error) {
	if err := checkTotals(p.Total, p.Recovery); err != nil {
		return nil, fmt.Errorf("%w: namespace proof: %w", ErrMalformed, err)
	}
	if p.NsIndex < 0 || int64(p.NsIndex) > math.MaxUint32 || int64(len(p.Bytes)) > math.MaxUint32 || len(p.Path) > maxNsPath {
		return nil, fmt.Errorf("%w: namespace proof: index %d, %d bytes, path of %d hashes, want a 32-bit index and length and at most %d hashes",
			ErrMalformed, p.NsIndex, len(p.Bytes), len(p.Path), maxNsPath)
	}
	b := make([]byte, 0, 1+4+4+4+4+len(p.Bytes)+1+32*len(p.Path))
	b = append(b, encodingVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(p.Total))
	b = binary.BigEndian.AppendUint32(b, uint32(p.Recovery))
	b = binary.BigEndian.AppendUint32(b, uint32(p.NsIndex))
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Bytes)))
	b = append(b, p.Bytes...)
	b = append(b, byte(len(p.Path)))
	for _, h := range p.Path {
		b = append(b, h[:]...)
	}
	return b, nil
}

// DecodeNsProof decodes the encoding of EncodeNsProof. It checks the layout
// and the (W, k) pair; VerifyNamespace checks the rest. The result does not
// share memory with b.
func DecodeNsProof(b []byte) (NsProof, error) {
	r := reader{b: b, what: "namespace proof"}
	r.version()
	w, k := int(r.u32("total")), int(r.u32("recovery"))
	if r.err == nil {
		if err := checkTotals(w, k); err != nil {
			return NsProof{}, fmt.Errorf("%w: namespace proof: %w", ErrMalformed, err)
		}
	}
	idx := int(r.u32("namespace index"))
	data := r.bytes("namespace bytes", int(r.u32("namespace length")))
	path := r.hashes("path", int(r.u8("path length")), maxNsPath)
	r.end()
	if r.err != nil {
		return NsProof{}, r.err
	}
	return NsProof{Total: w, Recovery: k, NsIndex: idx, Bytes: data, Path: path}, nil
}

// reader decodes big-endian fields, remembering the first error; after one,
// every read returns zero values.
type reader struct {
	b    []byte
	off  int
	what string
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d: %s", ErrMalformed, r.what, r.off, fmt.Sprintf(format, args...))
	}
}

func (r *reader) take(name string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("%s needs %d bytes, %d remain", name, n, len(r.b)-r.off)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) version() {
	p := r.take("version", 1)
	if r.err == nil && p[0] != encodingVersion {
		r.fail("version %d, want %d", p[0], encodingVersion)
	}
}

func (r *reader) u8(name string) uint8 {
	if p := r.take(name, 1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u32(name string) uint32 {
	if p := r.take(name, 4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64(name string) uint64 {
	if p := r.take(name, 8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// count reads a u32 count of items taking at least minSize bytes each and
// checks that the remaining bytes can hold them and that it is at most limit.
func (r *reader) count(name string, minSize int, limit uint64) int {
	n := r.u32(name)
	if r.err != nil {
		return 0
	}
	if uint64(n) > limit || uint64(n)*uint64(minSize) > uint64(len(r.b)-r.off) {
		r.fail("%s %d does not fit in %d remaining bytes (limit %d)", name, n, len(r.b)-r.off, limit)
		return 0
	}
	return int(n)
}

// bytes reads n bytes into a new slice.
func (r *reader) bytes(name string, n int) []byte {
	p := r.take(name, n)
	if r.err != nil {
		return nil
	}
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

// hashes reads n 32-byte hashes; n must be at most limit.
func (r *reader) hashes(name string, n, limit int) [][32]byte {
	if r.err != nil {
		return nil
	}
	if n > limit {
		r.fail("%s of %d hashes, want at most %d", name, n, limit)
		return nil
	}
	p := r.take(name, 32*n)
	if r.err != nil || n == 0 {
		return nil
	}
	out := make([][32]byte, n)
	for i := range out {
		copy(out[i][:], p[32*i:])
	}
	return out
}

// end fails if bytes remain.
func (r *reader) end() {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
}

package fs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/gospresso/gospresso/types"
)

// frameHeaderLen is the size of a frame's length and checksum.
const frameHeaderLen = 8

// maxFrameBody bounds a frame body: the u32 length field.
const maxFrameBody = math.MaxUint32

// castagnoli is the CRC-32C table; read-only after package initialisation.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameSum is the checksum of a frame: CRC-32C over the length field and
// the body, so that a run of zero bytes is never a valid frame.
func frameSum(lenField []byte, body []byte) uint32 {
	return crc32.Update(crc32.Checksum(lenField, castagnoli), castagnoli, body)
}

// appendFrame appends body as a frame. The caller keeps len(body) within
// maxFrameBody and non-zero.
func appendFrame(dst, body []byte) []byte {
	var hdr [frameHeaderLen]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(body)))
	binary.BigEndian.PutUint32(hdr[4:], frameSum(hdr[:4], body))
	dst = append(dst, hdr[:]...)
	return append(dst, body...)
}

// frameError describes a frame that cannot be read. Short is set when the
// bytes end before the frame does (what a crash during an append leaves).
type frameError struct {
	short  bool
	reason string
}

func (e *frameError) Error() string { return e.reason }

// parseFrame reads the frame at the start of p and returns its body (a
// sub-slice of p) and its total length.
func parseFrame(p []byte) ([]byte, int, *frameError) {
	if len(p) < frameHeaderLen {
		return nil, 0, &frameError{short: true, reason: fmt.Sprintf("%d bytes, want a %d-byte frame header", len(p), frameHeaderLen)}
	}
	n := binary.BigEndian.Uint32(p[:4])
	if n == 0 {
		return nil, 0, &frameError{reason: "frame length 0 (frames are never empty)"}
	}
	if uint64(n) > uint64(len(p)-frameHeaderLen) {
		return nil, 0, &frameError{short: true, reason: fmt.Sprintf("frame length %d, only %d bytes follow the header", n, len(p)-frameHeaderLen)}
	}
	body := p[frameHeaderLen : frameHeaderLen+int(n)]
	if got, want := frameSum(p[:4], body), binary.BigEndian.Uint32(p[4:8]); got != want {
		return nil, 0, &frameError{reason: fmt.Sprintf("frame checksum %08x, stored %08x", got, want)}
	}
	return body, frameHeaderLen + int(n), nil
}

// payloadRecordVersion is the first byte of a payload record.
const payloadRecordVersion = 1

// payloadRecordHead returns the bytes of a payload record before the raw
// payload: the version, and the namespace table only when it differs from
// the header's (headerNs). The record is the head followed by p.Raw.
func payloadRecordHead(p types.Payload, headerNs []byte) []byte {
	if bytes.Equal(p.NsTable.Bytes, headerNs) {
		return []byte{payloadRecordVersion, 0}
	}
	out := make([]byte, 0, 6+len(p.NsTable.Bytes))
	out = append(out, payloadRecordVersion, 1)
	out = binary.BigEndian.AppendUint32(out, uint32(len(p.NsTable.Bytes)))
	return append(out, p.NsTable.Bytes...)
}

// encodePayloadRecord returns the whole payload record of p.
func encodePayloadRecord(p types.Payload, headerNs []byte) []byte {
	return append(payloadRecordHead(p, headerNs), p.Raw...)
}

// writeFrame writes the concatenation of parts as one frame and returns
// the frame's size.
func writeFrame(w io.Writer, parts ...[]byte) (int, error) {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	var hdr [frameHeaderLen]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(total))
	sum := crc32.Checksum(hdr[:4], castagnoli)
	for _, p := range parts {
		sum = crc32.Update(sum, castagnoli, p)
	}
	binary.BigEndian.PutUint32(hdr[4:], sum)
	if _, err := w.Write(hdr[:]); err != nil {
		return 0, err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return 0, err
		}
	}
	return frameHeaderLen + total, nil
}

// decodePayloadRecord decodes what encodePayloadRecord produced for a
// header whose namespace table is headerNs. The returned payload shares
// b's memory for Raw; empty byte strings decode to nil.
func decodePayloadRecord(b []byte, headerNs []byte) (types.Payload, error) {
	if len(b) < 2 {
		return types.Payload{}, fmt.Errorf("%w: payload record: %d bytes, want at least 2 (version, table flag)", ErrCorrupt, len(b))
	}
	if b[0] != payloadRecordVersion {
		return types.Payload{}, fmt.Errorf("%w: payload record: version %d, want %d", ErrCorrupt, b[0], payloadRecordVersion)
	}
	var p types.Payload
	rest := b[2:]
	switch b[1] {
	case 0:
		if len(headerNs) > 0 {
			p.NsTable.Bytes = bytes.Clone(headerNs)
		}
	case 1:
		if len(rest) < 4 {
			return types.Payload{}, fmt.Errorf("%w: payload record: ns_table length: %d bytes left, want 4", ErrCorrupt, len(rest))
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return types.Payload{}, fmt.Errorf("%w: payload record: ns_table length %d, only %d bytes left", ErrCorrupt, n, len(rest))
		}
		if bytes.Equal(rest[:n], headerNs) {
			return types.Payload{}, fmt.Errorf("%w: payload record: ns_table written in full but equal to the header's (want flag 0)", ErrCorrupt)
		}
		if n > 0 {
			p.NsTable.Bytes = bytes.Clone(rest[:n])
		}
		rest = rest[n:]
	default:
		return types.Payload{}, fmt.Errorf("%w: payload record: ns_table flag %d, want 0 or 1", ErrCorrupt, b[1])
	}
	if len(rest) > 0 {
		p.Raw = rest[:len(rest):len(rest)]
	}
	return p, nil
}

// indexVersion is the first byte of an index batch.
const indexVersion = 1

// indexEntry is what the index keeps of one block: where its frames are and
// every key it is looked up by.
type indexEntry struct {
	height      uint64
	view        uint64
	timestamp   uint64
	seg         uint32
	off         uint64 // offset of the leaf frame in the segment
	leafLen     uint32 // size of the leaf frame, header included
	payLen      uint32 // size of the payload frame that follows it
	leaf        types.Commitment
	hash        types.Commitment
	payloadHash types.Commitment
	payloadSize uint64
	namespaces  []uint32
	txs         []types.Commitment
}

// end is the offset just past the block's frames.
func (e *indexEntry) end() uint64 { return e.off + uint64(e.leafLen) + uint64(e.payLen) }

// encodeIndexBatch encodes the entries of one SaveDecided call.
func encodeIndexBatch(entries []indexEntry) []byte {
	size := 1 + binary.MaxVarintLen64
	for i := range entries {
		size += 10*binary.MaxVarintLen64 + 3*32 + 5*len(entries[i].namespaces) + 32*len(entries[i].txs)
	}
	b := make([]byte, 0, size)
	b = append(b, indexVersion)
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for i := range entries {
		e := &entries[i]
		b = binary.AppendUvarint(b, e.height)
		b = binary.AppendUvarint(b, e.view)
		b = binary.AppendUvarint(b, e.timestamp)
		b = binary.AppendUvarint(b, uint64(e.seg))
		b = binary.AppendUvarint(b, e.off)
		b = binary.AppendUvarint(b, uint64(e.leafLen))
		b = binary.AppendUvarint(b, uint64(e.payLen))
		b = append(b, e.leaf[:]...)
		b = append(b, e.hash[:]...)
		b = append(b, e.payloadHash[:]...)
		b = binary.AppendUvarint(b, e.payloadSize)
		b = binary.AppendUvarint(b, uint64(len(e.namespaces)))
		for _, ns := range e.namespaces {
			b = binary.AppendUvarint(b, uint64(ns))
		}
		b = binary.AppendUvarint(b, uint64(len(e.txs)))
		for _, tx := range e.txs {
			b = append(b, tx[:]...)
		}
	}
	return b
}

// minIndexEntry is the fewest bytes an encoded entry takes: ten one-byte
// varints and three commitments.
const minIndexEntry = 10 + 3*32

// indexReader consumes an index batch; after the first error every read
// returns zero and the error is kept.
type indexReader struct {
	b   []byte
	err error
}

func (r *indexReader) fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: index entry: %s: %s", ErrCorrupt, field, fmt.Sprintf(format, args...))
	}
}

func (r *indexReader) uvarint(field string, max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(field, "bad varint")
		return 0
	}
	// Only the shortest encoding is accepted, so decoding is canonical.
	var tmp [binary.MaxVarintLen64]byte
	if binary.PutUvarint(tmp[:], v) != n {
		r.fail(field, "non-minimal varint")
		return 0
	}
	if v > max {
		r.fail(field, "%d exceeds %d", v, max)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *indexReader) commitment(field string) types.Commitment {
	var c types.Commitment
	if r.err != nil {
		return c
	}
	if len(r.b) < len(c) {
		r.fail(field, "%d bytes left, want %d", len(r.b), len(c))
		return c
	}
	copy(c[:], r.b)
	r.b = r.b[len(c):]
	return c
}

// decodeIndexBatch decodes what encodeIndexBatch produced, checking that
// heights are consecutive and every count fits in the bytes left.
func decodeIndexBatch(b []byte) ([]indexEntry, error) {
	if len(b) < 1 {
		return nil, fmt.Errorf("%w: index batch: empty (want a version byte)", ErrCorrupt)
	}
	if b[0] != indexVersion {
		return nil, fmt.Errorf("%w: index batch: version %d, want %d", ErrCorrupt, b[0], indexVersion)
	}
	r := &indexReader{b: b[1:]}
	count := r.uvarint("count", uint64(len(r.b))/minIndexEntry)
	if r.err == nil && count == 0 {
		r.fail("count", "0 (a batch holds at least one block)")
	}
	entries := make([]indexEntry, count)
	for i := range entries {
		e := &entries[i]
		e.height = r.uvarint("height", math.MaxUint64)
		if i > 0 && r.err == nil && e.height != entries[i-1].height+1 {
			r.fail("height", "%d follows %d (want consecutive heights)", e.height, entries[i-1].height)
		}
		e.view = r.uvarint("view", math.MaxUint64)
		e.timestamp = r.uvarint("timestamp", math.MaxUint64)
		e.seg = uint32(r.uvarint("segment", math.MaxUint32))
		e.off = r.uvarint("offset", math.MaxInt64)
		e.leafLen = uint32(r.uvarint("leaf frame length", math.MaxUint32))
		e.payLen = uint32(r.uvarint("payload frame length", math.MaxUint32))
		if r.err == nil && (e.leafLen <= frameHeaderLen || e.payLen <= frameHeaderLen) {
			r.fail("frame lengths", "%d and %d (want more than the %d-byte frame header)", e.leafLen, e.payLen, frameHeaderLen)
		}
		if r.err == nil && e.off > math.MaxInt64-uint64(e.leafLen)-uint64(e.payLen) {
			r.fail("offset", "%d plus the frames overflows a file offset", e.off)
		}
		e.leaf = r.commitment("leaf commitment")
		e.hash = r.commitment("block hash")
		e.payloadHash = r.commitment("payload hash")
		e.payloadSize = r.uvarint("payload size", math.MaxUint32)
		nns := r.uvarint("namespace count", uint64(len(r.b)))
		if r.err == nil && nns > 0 {
			e.namespaces = make([]uint32, nns)
			for j := range e.namespaces {
				e.namespaces[j] = uint32(r.uvarint("namespace", math.MaxUint32))
			}
		}
		ntx := r.uvarint("transaction count", uint64(len(r.b))/32)
		if r.err == nil && ntx > 0 {
			e.txs = make([]types.Commitment, ntx)
			for j := range e.txs {
				e.txs[j] = r.commitment("transaction hash")
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("block %d of the batch: %w", i, r.err)
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("end", "%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return entries, nil
}

package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/gospresso/gospresso/types"
)

// Snapshot format (docs/state.md, "Snapshots"). Integers are big-endian.
//
//	magic     8 bytes  "GSPSTATE"
//	version   1 byte   1
//	accounts  u64      number of fee accounts
//	entries            per account: address (20 bytes), balance (32 bytes);
//	                   addresses strictly increasing, balances non-zero
//	frontier           the block-tree frontier: u64 leaf count, then 32
//	                   bytes for each of its hashes (BlockFrontier.MarshalBinary)
//	checksum  u32      CRC-32C (Castagnoli) of every byte before it
const (
	snapshotMagic   = "GSPSTATE"
	snapshotVersion = 1
	snapshotEntry   = 20 + 32
	// snapshotMin is the size of a snapshot of the empty state.
	snapshotMin = len(snapshotMagic) + 1 + 8 + 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode returns the snapshot of s: a versioned, checksummed, canonical
// binary form of every fee account and of the block-tree frontier
// (docs/state.md, "Snapshots"). Two equal states have the same snapshot.
// The block tree is kept as its frontier only, so a state decoded from a
// snapshot proves no block-tree leaf pushed before it.
func (s *State) Encode() []byte {
	f := s.blocks.Frontier()
	b := make([]byte, 0, snapshotMin+snapshotEntry*s.fees.Len()+32*len(f.Hashes))
	b = append(b, snapshotMagic...)
	b = append(b, snapshotVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(s.fees.Len()))
	for a, bal := range s.fees.All() {
		b = append(b, a[:]...)
		v := bal.Bytes32()
		b = append(b, v[:]...)
	}
	b = appendFrontier(b, f)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// DecodeState decodes a snapshot Encode wrote. Anything else — truncated,
// extended, bit-flipped, out of order, or of another version — is an error
// wrapping ErrInvalidSnapshot that says what is wrong. It never allocates
// much more than the size of data.
func DecodeState(data []byte) (*State, error) {
	fail := func(format string, args ...any) (*State, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidSnapshot, fmt.Sprintf(format, args...))
	}
	if len(data) < snapshotMin {
		return fail("%d bytes, shorter than the %d of an empty state", len(data), snapshotMin)
	}
	if !bytes.Equal(data[:len(snapshotMagic)], []byte(snapshotMagic)) {
		return fail("not a state snapshot (no %q header)", snapshotMagic)
	}
	if v := data[len(snapshotMagic)]; v != snapshotVersion {
		return fail("format version %d, this version of gospresso reads %d", v, snapshotVersion)
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return fail("checksum %08x, the content gives %08x (corrupt or truncated)", sum, got)
	}
	r := body[len(snapshotMagic)+1:]
	count := binary.BigEndian.Uint64(r)
	r = r[8:]
	if count > uint64(len(r)/snapshotEntry) {
		return fail("%d fee accounts announced, but only %d bytes follow", count, len(r))
	}
	es := make([]feeEntry, count)
	for i := range es {
		e := &es[i]
		copy(e.addr[:], r)
		e.bal = types.U256FromBytes32([32]byte(r[20:snapshotEntry]))
		r = r[snapshotEntry:]
		if e.bal.IsZero() {
			return fail("fee account %d (%s) has a zero balance", i, e.addr)
		}
		if i > 0 && bytes.Compare(es[i-1].addr[:], e.addr[:]) >= 0 {
			return fail("fee account %d (%s) does not follow %s in increasing order", i, e.addr, es[i-1].addr)
		}
	}
	f, rest, err := readFrontier(r)
	if err != nil {
		return fail("block-tree frontier: %v", unwrapSentinel(err, ErrInvalidFrontier))
	}
	if len(rest) != 0 {
		return fail("%d bytes after the block-tree frontier", len(rest))
	}
	blocks, err := BlockTreeFromFrontier(f)
	if err != nil {
		return fail("block-tree frontier: %v", unwrapSentinel(err, ErrInvalidFrontier))
	}
	return &State{fees: feeTreeFromSorted(es), blocks: blocks}, nil
}

// unwrapSentinel returns err's message without the sentinel's prefix, so
// that a wrapped error does not name two sentinels.
func unwrapSentinel(err, sentinel error) string {
	msg := err.Error()
	if errors.Is(err, sentinel) {
		msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
	}
	return msg
}

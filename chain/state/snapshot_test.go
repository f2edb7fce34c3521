package state

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"maps"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/types"
)

// reseal replaces the last 4 bytes of b with the right checksum, so that
// tests reach the checks behind it.
func reseal(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	out := bytes.Clone(b)
	binary.BigEndian.PutUint32(out[len(out)-4:], crc32.Checksum(out[:len(out)-4], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// testStates returns states of several shapes, with the headers that lead
// to each.
func testStates(t testing.TB) map[string]*State {
	t.Helper()
	r := newRand(20)
	out := map[string]*State{
		"empty": Genesis(nil),
		"prefunded": Genesis(map[types.Address]types.U256{
			addr(1): u(1), addr(2): maxU256(), {}: u(3), addr(0xff, 0xff): u(1 << 62),
		}),
	}
	accounts := map[types.Address]types.U256{}
	for range 500 {
		accounts[randAddr(r)] = u(1 + r.Uint64N(1e12))
	}
	s := Genesis(accounts)
	parent := header(0, types.FeeInfo{})
	var payer types.Address
	for a := range accounts {
		payer = a
		break
	}
	for hgt := uint64(1); hgt <= 100; hgt++ {
		h := header(hgt, types.FeeInfo{Account: payer, Amount: u(1)})
		next, err := s.Apply(parent, h, []Credit{{randAddr(r), u(hgt)}})
		if err != nil {
			t.Fatal(err)
		}
		s, parent = next, h
	}
	out["after 100 blocks"] = s
	return out
}

func TestSnapshotRoundTrip(t *testing.T) {
	for name, s := range testStates(t) {
		enc := s.Encode()
		d, err := DecodeState(enc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sb, sf := s.Roots()
		db, df := d.Roots()
		if !bytes.Equal(sb, db) || !bytes.Equal(sf, df) {
			t.Fatalf("%s: decoded roots differ", name)
		}
		if d.BlockTree().NumLeaves() != s.BlockTree().NumLeaves() {
			t.Fatalf("%s: %d leaves, want %d", name, d.BlockTree().NumLeaves(), s.BlockTree().NumLeaves())
		}
		if !maps.Equal(maps.Collect(d.FeeTree().All()), maps.Collect(s.FeeTree().All())) {
			t.Fatalf("%s: decoded accounts differ", name)
		}
		if !bytes.Equal(d.Encode(), enc) {
			t.Fatalf("%s: re-encoding differs", name)
		}
		checkFeeInvariants(t, d.FeeTree().root, FeeTreeDepth)
		// The decoded state applies the next block as the original does.
		n := s.BlockTree().NumLeaves()
		parent, h := header(n, types.FeeInfo{}), header(n+1, types.FeeInfo{})
		a, err1 := s.Apply(parent, h, []Credit{{addr(5), u(5)}})
		b, err2 := d.Apply(parent, h, []Credit{{addr(5), u(5)}})
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", name, err1, err2)
		}
		if ab, af := a.Roots(); !bytes.Equal(ab, first(b.Roots())) || !bytes.Equal(af, second(b.Roots())) {
			t.Fatalf("%s: decoded state applies differently", name)
		}
	}
}

func first(a, _ []byte) []byte  { return a }
func second(_, b []byte) []byte { return b }

// TestSnapshotGolden pins the format of docs/state.md, "Snapshots".
func TestSnapshotGolden(t *testing.T) {
	s := Genesis(map[types.Address]types.U256{addr(2): u(0x0100), addr(1): u(5)})
	s, err := s.Apply(header(0, types.FeeInfo{}), header(1, types.FeeInfo{Account: addr(1), Amount: u(5)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := hex.EncodeToString(s.Encode())
	want := strings.Join([]string{
		"4753505354415445", // "GSPSTATE"
		"01",               // version
		"0000000000000002", // two accounts
		"0000000000000000000000000000000000000002" + "0000000000000000000000000000000000000000000000000000000000000100",
		"000000000000000000000000000000000000fee5" + "0000000000000000000000000000000000000000000000000000000000000005",
		"0000000000000001", // one leaf, so one frontier hash: the leaf's hash
		hex.EncodeToString(func() []byte { h := blockLeafHash((*[32]byte)(ptr(header(0, types.FeeInfo{}).Commit()))); return h[:] }()),
	}, "")
	if got[:len(want)] != want || len(got) != len(want)+8 {
		t.Fatalf("snapshot\n got %s\nwant %s + checksum", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecodeStateRejects(t *testing.T) {
	good := testStates(t)["prefunded"].Encode()
	// good: magic 8, version 1, count 8 (4 accounts), 4 × 52, frontier 8, crc 4.
	const countAt, entriesAt = 9, 17
	entry := func(i int) int { return entriesAt + 52*i }
	frontierAt := entry(4)
	mut := func(f func(b []byte) []byte) []byte { return reseal(f(bytes.Clone(good))) }
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, "shorter than"},
		{"short", good[:20], "shorter than"},
		{"bad magic", mut(func(b []byte) []byte { b[0] = 'X'; return b }), "not a state snapshot"},
		{"other version", mut(func(b []byte) []byte { b[8] = 2; return b }), "format version 2"},
		{"bad checksum", func() []byte { b := bytes.Clone(good); b[len(b)-1] ^= 1; return b }(), "checksum"},
		{"flipped bit", func() []byte { b := bytes.Clone(good); b[entry(1)+3] ^= 8; return b }(), "checksum"},
		{"truncated", good[:len(good)-5], "checksum"},
		{"count too large", mut(func(b []byte) []byte { binary.BigEndian.PutUint64(b[countAt:], 1<<60); return b }), "announced"},
		{"count one more", mut(func(b []byte) []byte { binary.BigEndian.PutUint64(b[countAt:], 5); return b }), "announced"},
		{"count one less", mut(func(b []byte) []byte { binary.BigEndian.PutUint64(b[countAt:], 3); return b }), "after the block-tree frontier"},
		{"zero balance", mut(func(b []byte) []byte { clear(b[entry(2)+20 : entry(3)]); return b }), "zero balance"},
		{"out of order", mut(func(b []byte) []byte {
			tmp := bytes.Clone(b[entry(1):entry(2)])
			copy(b[entry(1):], b[entry(2):entry(3)])
			copy(b[entry(2):], tmp)
			return b
		}), "increasing order"},
		{"duplicate", mut(func(b []byte) []byte { copy(b[entry(2):entry(2)+20], b[entry(1):entry(1)+20]); return b }), "increasing order"},
		{"frontier needs hashes", mut(func(b []byte) []byte { binary.BigEndian.PutUint64(b[frontierAt:], 1); return b }), "need 1 hashes"},
		{"frontier too large", mut(func(b []byte) []byte { binary.BigEndian.PutUint64(b[frontierAt:], MaxBlockLeaves+1); return b }), "at most"},
		{"trailing bytes", reseal(append(append(bytes.Clone(good[:len(good)-4]), 0), 0, 0, 0, 0)), "after the block-tree frontier"},
	}
	for _, c := range cases {
		s, err := DecodeState(c.data)
		if !errors.Is(err, ErrInvalidSnapshot) || s != nil {
			t.Errorf("%s: %v, want ErrInvalidSnapshot", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q lacks %q", c.name, err, c.msg)
		}
		if strings.Count(err.Error(), "state: ") != 1 {
			t.Errorf("%s: error %q names more than one sentinel", c.name, err)
		}
	}
	// Every truncation and every single-bit flip is refused.
	for n := range len(good) {
		if _, err := DecodeState(good[:n]); err == nil {
			t.Fatalf("prefix of %d bytes accepted", n)
		}
	}
	for i := range 8 * len(good) {
		b := bytes.Clone(good)
		b[i/8] ^= 1 << (i % 8)
		if _, err := DecodeState(b); err == nil {
			t.Fatalf("bit %d flipped accepted", i)
		}
	}
}

package types

import (
	"bytes"
	"encoding/base64"
	"testing"

	"golang.org/x/crypto/sha3"
)

// keccak hashes the concatenation of parts with Keccak-256.
func keccak(parts ...[]byte) [32]byte {
	h := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// cstr is the reference's constant_str encoding: bytes then C0 7F.
func cstr(s string) []byte { return append([]byte(s), 0xC0, 0x7F) }

func le64(n uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(n >> (8 * i))
	}
	return b
}

// TestCommitmentTransactionVector checks the test vector of docs/data.md,
// "Transactions", computed
// with the Espresso Go client.
func TestCommitmentTransactionVector(t *testing.T) {
	const want = "TX~qOF0p1P0cuOKQ86DdEM7EANNB5cuQAO-AtSB1rfhr1Vn"
	got := NewCommitmentBuilder("Transaction").U64Field("namespace", 42).VarSizeBytes([]byte("hi")).Finalize()

	// Decode by hand (base64url of digest ‖ checksum byte) so this test
	// does not depend on the TaggedBase64 parser.
	raw, err := base64.RawURLEncoding.DecodeString(want[len("TX~"):])
	if err != nil || len(raw) != 33 {
		t.Fatalf("decoding the vector: %d bytes, %v", len(raw), err)
	}
	if !bytes.Equal(got[:], raw[:32]) {
		t.Fatalf("digest = %x, want %x", got, raw[:32])
	}
	tb, err := NewTaggedBase64("TX", got[:])
	if err != nil || tb.String() != want {
		t.Fatalf("TaggedBase64 = %v, %v; want %s", tb, err, want)
	}
}

// TestCommitmentBuilderLayout checks every method against the byte layout of
// docs/data.md, "Commitments", written out by hand.
func TestCommitmentBuilderLayout(t *testing.T) {
	var c [32]byte
	for i := range c {
		c[i] = byte(i + 1)
	}
	n := NewU256(0x0102030405)
	nLE := make([]byte, 32)
	copy(nLE, []byte{5, 4, 3, 2, 1})
	tests := []struct {
		name  string
		build func(*CommitmentBuilder)
		want  [][]byte
	}{
		{"new only", func(*CommitmentBuilder) {}, [][]byte{cstr("TAG")}},
		{"constant string", func(b *CommitmentBuilder) { b.ConstantString("abc") }, [][]byte{cstr("TAG"), cstr("abc")}},
		{"u64 field", func(b *CommitmentBuilder) { b.U64Field("n", 0x0102) }, [][]byte{cstr("TAG"), cstr("n"), le64(0x0102)}},
		{"u64", func(b *CommitmentBuilder) { b.U64(7) }, [][]byte{cstr("TAG"), le64(7)}},
		{"u256 field", func(b *CommitmentBuilder) { b.U256Field("x", n) }, [][]byte{cstr("TAG"), cstr("x"), nLE}},
		{"fixed size field", func(b *CommitmentBuilder) { b.FixedSizeField("f", []byte{9, 8, 7}) }, [][]byte{cstr("TAG"), cstr("f"), {9, 8, 7}}},
		{"field", func(b *CommitmentBuilder) { b.Field("c", c) }, [][]byte{cstr("TAG"), cstr("c"), c[:]}},
		{"var size bytes", func(b *CommitmentBuilder) { b.VarSizeBytes([]byte("xyz")) }, [][]byte{cstr("TAG"), le64(3), []byte("xyz")}},
		{"var size bytes empty", func(b *CommitmentBuilder) { b.VarSizeBytes(nil) }, [][]byte{cstr("TAG"), le64(0)}},
		{"var size field", func(b *CommitmentBuilder) { b.VarSizeField("v", []byte{1}) }, [][]byte{cstr("TAG"), cstr("v"), le64(1), {1}}},
		{"optional absent", func(b *CommitmentBuilder) { b.OptionalField("o", nil) }, [][]byte{cstr("TAG"), cstr("o"), le64(0)}},
		{"optional present", func(b *CommitmentBuilder) { b.OptionalField("o", &c) }, [][]byte{cstr("TAG"), cstr("o"), c[:]}},
		{"raw", func(b *CommitmentBuilder) { b.Raw([]byte{0xAA}) }, [][]byte{cstr("TAG"), {0xAA}}},
	}
	for _, tt := range tests {
		b := NewCommitmentBuilder("TAG")
		tt.build(b)
		if got, want := b.Finalize(), keccak(tt.want...); got != want {
			t.Errorf("%s: digest %x, want %x", tt.name, got, want)
		}
	}
}

func TestCommitmentFinalizeIsRepeatable(t *testing.T) {
	b := NewCommitmentBuilder("T").U64Field("a", 1)
	first := b.Finalize()
	if second := b.Finalize(); first != second {
		t.Fatalf("Finalize changed the state: %x then %x", first, second)
	}
	b.U64Field("b", 2)
	if third := b.Finalize(); third == first {
		t.Fatal("hashing more data did not change the digest")
	}
}

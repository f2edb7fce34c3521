package types

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// specTX is the TaggedBase64 test vector of docs/keys.md, "TaggedBase64" (transaction commitment
// of namespace 42, payload "hi", computed with the Espresso Go client).
const specTX = "TX~qOF0p1P0cuOKQ86DdEM7EANNB5cuQAO-AtSB1rfhr1Vn"

func TestCRC8CheckValue(t *testing.T) {
	var crc byte
	for _, b := range []byte("123456789") {
		crc = crc8Update(crc, b)
	}
	if crc != 0xF4 {
		t.Fatalf("CRC-8 check value = 0x%02x, want 0xf4", crc)
	}
	// With an empty tag the checksum is the plain CRC XOR len(value).
	if got, want := taggedBase64Checksum("", []byte("123456789")), byte(0xF4^9); got != want {
		t.Fatalf("checksum(\"\", 123456789) = 0x%02x, want 0x%02x", got, want)
	}
}

func TestParseTaggedBase64SpecVector(t *testing.T) {
	tb, err := ParseTaggedBase64(specTX)
	if err != nil {
		t.Fatalf("ParseTaggedBase64(%q): %v", specTX, err)
	}
	if tb.Tag != "TX" {
		t.Errorf("tag = %q, want TX", tb.Tag)
	}
	if len(tb.Value) != 32 {
		t.Errorf("value length = %d, want 32", len(tb.Value))
	}
	if got := tb.String(); got != specTX {
		t.Errorf("round trip = %q, want %q", got, specTX)
	}
	again, err := NewTaggedBase64("TX", tb.Value)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.String(); got != specTX {
		t.Errorf("NewTaggedBase64(TX, value).String() = %q, want %q", got, specTX)
	}
}

func TestTaggedBase64RoundTrip(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + 3)
		}
		return b
	}
	tests := []struct {
		name  string
		tag   string
		value []byte
	}{
		{"empty value", "EMPTY", nil},
		{"one byte", "A", []byte{0}},
		{"two bytes", "a-b_c", []byte{0xff, 0x00}},
		{"three bytes", "Z9", []byte{1, 2, 3}},
		{"key-sized", "BLS_VER_KEY", seq(48)},
		{"signature-sized", "BLS_POP", seq(96)},
		{"length 255", "L255", seq(255)},
		{"length 256 wraps length byte", "L256", seq(256)},
		{"length 300", "L300", seq(300)},
		{"all ones", "ONES", bytes.Repeat([]byte{0xff}, 33)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := NewTaggedBase64(tt.tag, tt.value)
			if err != nil {
				t.Fatalf("NewTaggedBase64: %v", err)
			}
			s := tb.String()
			if !strings.HasPrefix(s, tt.tag+"~") {
				t.Fatalf("String() = %q, want prefix %q", s, tt.tag+"~")
			}
			got, err := ParseTaggedBase64(s)
			if err != nil {
				t.Fatalf("ParseTaggedBase64(%q): %v", s, err)
			}
			if got.Tag != tt.tag || !bytes.Equal(got.Value, tt.value) {
				t.Fatalf("parsed %q/%x, want %q/%x", got.Tag, got.Value, tt.tag, tt.value)
			}
			if got.String() != s {
				t.Fatalf("re-encoded %q, want %q", got.String(), s)
			}
			text, err := tb.MarshalText()
			if err != nil || string(text) != s {
				t.Fatalf("MarshalText = %q, %v; want %q", text, err, s)
			}
			var u TaggedBase64
			if err := u.UnmarshalText(text); err != nil || u.String() != s {
				t.Fatalf("UnmarshalText = %q, %v; want %q", u.String(), err, s)
			}
		})
	}
}

func TestNewTaggedBase64CopiesValue(t *testing.T) {
	v := []byte{1, 2, 3}
	tb, err := NewTaggedBase64("T", v)
	if err != nil {
		t.Fatal(err)
	}
	v[0] = 9
	if tb.Value[0] != 1 {
		t.Fatal("NewTaggedBase64 aliases the caller's slice")
	}
}

func TestNewTaggedBase64BadTag(t *testing.T) {
	for _, tag := range []string{"", "A B", "A~B", "é", "TAG=", "a.b", "x/y", strings.Repeat("Q", 100) + "!"} {
		if _, err := NewTaggedBase64(tag, []byte{1}); !errors.Is(err, ErrBadTag) {
			t.Errorf("NewTaggedBase64(%q): err = %v, want ErrBadTag", tag, err)
		}
		if _, err := (TaggedBase64{Tag: tag}).MarshalText(); !errors.Is(err, ErrBadTag) {
			t.Errorf("MarshalText with tag %q: err = %v, want ErrBadTag", tag, err)
		}
		if ValidTag(tag) {
			t.Errorf("ValidTag(%q) = true", tag)
		}
	}
	if !ValidTag("BLS_VER_KEY") || !ValidTag("a-Z_0") {
		t.Error("ValidTag rejects a valid tag")
	}
}

// withData returns TAG~ + base64url(raw) without touching the checksum.
func withData(tag string, raw []byte) string {
	return tag + "~" + base64.RawURLEncoding.EncodeToString(raw)
}

// nonCanonical returns the text of a valid one-byte value with non-zero
// trailing bits in its last base64 character.
func nonCanonical(t *testing.T) string {
	t.Helper()
	s := TaggedBase64{Tag: "T", Value: []byte{0x42}}.String() // 2 raw bytes -> 3 chars, 2 spare bits
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	if last&3 != 0 {
		t.Fatalf("canonical encoding %q has trailing bits set", s)
	}
	return s[:len(s)-1] + string(alphabet[last|1])
}

func TestParseTaggedBase64Errors(t *testing.T) {
	good := TaggedBase64{Tag: "T", Value: []byte{1, 2, 3, 4}}.String()
	tests := []struct {
		name  string
		input string
		want  error
		text  string // substring of the error message
	}{
		{"empty", "", ErrMissingDelimiter, "0-character input"},
		{"no delimiter", "TXqOF0p1P0", ErrMissingDelimiter, "want TAG~DATA"},
		{"two delimiters", "TX~abc~def", ErrTooManyDelimiters, "offset 6"},
		{"trailing delimiter", specTX + "~", ErrTooManyDelimiters, "want exactly one"},
		{"empty tag", "~" + strings.SplitN(specTX, "~", 2)[1], ErrBadTag, "tag is empty"},
		{"space in tag", "T X~AA", ErrBadTag, `character ' '`},
		{"dot in tag", "a.b~AA", ErrBadTag, `"a.b"`},
		{"non-ascii tag", "TÄG~AA", ErrBadTag, "offset 1"},
		{"padding", withData("T", []byte{1, 2, 3, 4}) + "==", ErrBadBase64, `'='`},
		{"std alphabet plus", "T~ab+c", ErrBadBase64, `'+'`},
		{"std alphabet slash", "T~ab/c", ErrBadBase64, `'/'`},
		{"newline inside", good[:4] + "\n" + good[4:], ErrBadBase64, `'\n'`},
		{"carriage return at end", good + "\r", ErrBadBase64, `'\r'`},
		{"space", "T~AA AA", ErrBadBase64, `' '`},
		{"impossible length", "T~AAAAA", ErrBadBase64, "invalid length"},
		{"non-canonical trailing bits", nonCanonical(t), ErrBadBase64, "trailing bits"},
		{"empty data", "TX~", ErrMissingChecksum, "tag TX"},
		{"wrong checksum", withData("T", []byte{1, 2, 3, 0}), ErrIncorrectChecksum, "want 0x"},
		{"checksum of other tag", "TY~" + strings.SplitN(specTX, "~", 2)[1], ErrIncorrectChecksum, "tag TY"},
		{"lowercase tag changes checksum", "tx~" + strings.SplitN(specTX, "~", 2)[1], ErrIncorrectChecksum, "32-byte value"},
	}
	sentinels := []error{ErrMissingDelimiter, ErrTooManyDelimiters, ErrBadTag, ErrBadBase64, ErrMissingChecksum, ErrIncorrectChecksum}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTaggedBase64(tt.input)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseTaggedBase64(%q) error = %v, want %v", tt.input, err, tt.want)
			}
			for _, s := range sentinels {
				if s != tt.want && errors.Is(err, s) {
					t.Errorf("error also matches %v", s)
				}
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not contain %q", err, tt.text)
			}
			var u TaggedBase64
			if err := u.UnmarshalText([]byte(tt.input)); !errors.Is(err, tt.want) {
				t.Errorf("UnmarshalText error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseTaggedBase64ErrorsDoNotEchoData(t *testing.T) {
	secret := TaggedBase64{Tag: "SECRET", Value: bytes.Repeat([]byte{0xab}, 32)}.String()
	data := strings.SplitN(secret, "~", 2)[1]
	for _, input := range []string{
		secret[:len(secret)-1] + "A",         // checksum
		secret + "=",                         // padding
		strings.Replace(secret, "~", "", 1),  // delimiter
		secret + "~x",                        // two delimiters
		secret[:len(secret)-2] + "\n" + "AA", // bad char
	} {
		_, err := ParseTaggedBase64(input)
		if err == nil {
			t.Fatalf("ParseTaggedBase64(%q) succeeded", input)
		}
		if strings.Contains(err.Error(), data[:16]) {
			t.Errorf("error %q repeats the data", err)
		}
	}
}

func TestTaggedBase64JSON(t *testing.T) {
	tb, err := ParseTaggedBase64(specTX)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(struct{ C TaggedBase64 }{tb})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"C":"` + specTX + `"}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var back struct{ C TaggedBase64 }
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.C.String() != specTX {
		t.Fatalf("json round trip = %q", back.C.String())
	}
	if err := json.Unmarshal([]byte(`{"C":"TX~AA=="}`), &back); !errors.Is(err, ErrBadBase64) {
		t.Fatalf("json with padding: err = %v, want ErrBadBase64", err)
	}
}

func FuzzParseTaggedBase64(f *testing.F) {
	for _, s := range []string{
		specTX, "", "~", "T~", "T~AA", "TX~AA==", "a~b~c", "BLS_VER_KEY~" + strings.Repeat("A", 66),
		TaggedBase64{Tag: "T", Value: []byte{0x42}}.String(),
		TaggedBase64{Tag: "EMPTY"}.String(), "T~AA\n", "T X~AA", "T~ab+c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tb, err := ParseTaggedBase64(s)
		if err != nil {
			return
		}
		if got := tb.String(); got != s {
			t.Fatalf("ParseTaggedBase64(%q).String() = %q", s, got)
		}
		if _, err := tb.MarshalText(); err != nil {
			t.Fatalf("MarshalText after successful parse: %v", err)
		}
	})
}

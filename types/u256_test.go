package types

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

const maxU256Dec = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

func TestParseU256(t *testing.T) {
	tests := []struct {
		in      string
		want    string // decimal; empty when an error is expected
		wantErr error
	}{
		{in: "0", want: "0"},
		{in: "000", want: "0"},
		{in: "42", want: "42"},
		{in: "0042", want: "42"},
		{in: "0x0", want: "0"},
		{in: "0x2a", want: "42"},
		{in: "0X2A", want: "42"},
		{in: "0xdecaf", want: "912559"},
		{in: maxU256Dec, want: maxU256Dec},
		{in: "0x" + strings.Repeat("f", 64), want: maxU256Dec},
		{in: "0x" + strings.Repeat("0", 100) + "1", want: "1"},
		{in: strings.Repeat("0", 200) + "7", want: "7"},
		{in: "115792089237316195423570985008687907853269984665640564039457584007913129639936", wantErr: ErrNumberOutOfRange},
		{in: "0x1" + strings.Repeat("0", 64), wantErr: ErrNumberOutOfRange},
		{in: strings.Repeat("9", 1000), wantErr: ErrNumberOutOfRange},
		{in: "", wantErr: ErrInvalidNumber},
		{in: "0x", wantErr: ErrInvalidNumber},
		{in: "-1", wantErr: ErrInvalidNumber},
		{in: "+1", wantErr: ErrInvalidNumber},
		{in: "1_000", wantErr: ErrInvalidNumber},
		{in: " 1", wantErr: ErrInvalidNumber},
		{in: "1.5", wantErr: ErrInvalidNumber},
		{in: "0xg", wantErr: ErrInvalidNumber},
		{in: "ff", wantErr: ErrInvalidNumber},
	}
	for _, tt := range tests {
		got, err := ParseU256(tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseU256(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseU256(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("ParseU256(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseU256DecimalRejectsHex(t *testing.T) {
	if _, err := ParseU256Decimal("0x10"); !errors.Is(err, ErrInvalidNumber) {
		t.Fatalf("ParseU256Decimal(0x10) error = %v, want ErrInvalidNumber", err)
	}
	if v, err := ParseU256Decimal("10"); err != nil || v != NewU256(10) {
		t.Fatalf("ParseU256Decimal(10) = %v, %v", v, err)
	}
}

func TestU256Conversions(t *testing.T) {
	max, _ := new(big.Int).SetString(maxU256Dec, 10)
	u, err := U256FromBig(max)
	if err != nil {
		t.Fatal(err)
	}
	if u.Big().Cmp(max) != 0 || u.String() != maxU256Dec {
		t.Fatalf("round trip of 2^256-1 gave %s", u)
	}
	if _, ok := u.Uint64(); ok {
		t.Error("2^256-1 fits in uint64?")
	}
	if _, err := U256FromBig(new(big.Int).Add(max, big.NewInt(1))); !errors.Is(err, ErrNumberOutOfRange) {
		t.Errorf("U256FromBig(2^256) error = %v", err)
	}
	if _, err := U256FromBig(big.NewInt(-1)); !errors.Is(err, ErrNumberOutOfRange) {
		t.Errorf("U256FromBig(-1) error = %v", err)
	}
	if _, err := U256FromBig(nil); !errors.Is(err, ErrInvalidNumber) {
		t.Errorf("U256FromBig(nil) error = %v", err)
	}
	n := NewU256(1 << 40)
	if v, ok := n.Uint64(); !ok || v != 1<<40 {
		t.Errorf("Uint64() = %d, %v", v, ok)
	}
	if n.Hex() != "0x10000000000" || NewU256(0).Hex() != "0x0" {
		t.Errorf("Hex() = %s, %s", n.Hex(), NewU256(0).Hex())
	}
	if !NewU256(0).IsZero() || n.IsZero() {
		t.Error("IsZero wrong")
	}
	if NewU256(1).Cmp(NewU256(2)) != -1 || NewU256(2).Cmp(NewU256(2)) != 0 || NewU256(3).Cmp(NewU256(2)) != 1 {
		t.Error("Cmp wrong")
	}
	b := NewU256(0x0102).Bytes32()
	if b[30] != 1 || b[31] != 2 || U256FromBytes32(b) != NewU256(0x0102) {
		t.Errorf("Bytes32 = %x", b)
	}
	le := NewU256(0x0102).littleEndian32()
	if le[0] != 2 || le[1] != 1 || le[31] != 0 {
		t.Errorf("littleEndian32 = %x", le)
	}
	if got := U256FromUint256(u.Uint256()); got != u {
		t.Errorf("Uint256 round trip = %s", got)
	}
}

func TestU256JSON(t *testing.T) {
	b, err := json.Marshal(NewU256(1000000000))
	if err != nil || string(b) != `"1000000000"` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	for _, in := range []string{`"1000"`, `"0x3e8"`, `1000`} {
		var u U256
		if err := json.Unmarshal([]byte(in), &u); err != nil || u != NewU256(1000) {
			t.Errorf("Unmarshal(%s) = %s, %v", in, u, err)
		}
	}
	for _, in := range []string{`"-1"`, `-1`, `1.5`, `"x"`, `true`, `"` + maxU256Dec + `0"`} {
		var u U256
		if err := json.Unmarshal([]byte(in), &u); err == nil {
			t.Errorf("Unmarshal(%s) accepted: %s", in, u)
		}
	}
	// Text form (map keys, flags).
	txt, _ := NewU256(7).MarshalText()
	var u U256
	if err := u.UnmarshalText(txt); err != nil || u != NewU256(7) {
		t.Errorf("text round trip = %s, %v", u, err)
	}
}

func FuzzParseU256(f *testing.F) {
	for _, s := range []string{"0", "42", "0x2a", maxU256Dec, "0x" + strings.Repeat("f", 65), "-1", "", "0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseU256(s)
		if err != nil {
			return
		}
		// Whatever parses re-parses from its canonical forms to itself.
		if v, err := ParseU256(u.String()); err != nil || v != u {
			t.Fatalf("decimal round trip of %q: %s, %v", s, v, err)
		}
		if v, err := ParseU256(u.Hex()); err != nil || v != u {
			t.Fatalf("hex round trip of %q: %s, %v", s, v, err)
		}
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		var v U256
		if err := json.Unmarshal(b, &v); err != nil || v != u {
			t.Fatalf("JSON round trip of %q: %s, %v", s, v, err)
		}
	})
}

package types

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/holiman/uint256"
)

// Sentinel errors for the numeric value types. Errors returned by ParseU256,
// U256FromBig and the U256 decoders wrap one of these; test with errors.Is.
var (
	// ErrInvalidNumber marks text that is not a number in an accepted form.
	ErrInvalidNumber = errors.New("types: invalid number")
	// ErrNumberOutOfRange marks a number that does not fit the target type
	// (negative, or above 2^256-1 for a U256).
	ErrNumberOutOfRange = errors.New("types: number out of range")
)

// U256 is an unsigned 256-bit integer: fee amounts, balances, chain IDs and L1
// timestamps. The zero value is 0. U256 values are comparable with ==.
//
// Its JSON form is a decimal string ("1000000000"), the reference's "U256
// decimal" encoding (docs/data.md, "Headers"); use Hex for the "0x…" form where a format
// needs it.
type U256 struct {
	n uint256.Int
}

// NewU256 returns x as a U256.
func NewU256(x uint64) U256 {
	var u U256
	u.n.SetUint64(x)
	return u
}

// U256FromBig converts b, which must be in [0, 2^256-1].
func U256FromBig(b *big.Int) (U256, error) {
	var u U256
	if b == nil {
		return u, fmt.Errorf("%w: nil big integer", ErrInvalidNumber)
	}
	if b.Sign() < 0 {
		return u, fmt.Errorf("%w: %s is negative", ErrNumberOutOfRange, b)
	}
	if overflow := u.n.SetFromBig(b); overflow {
		return U256{}, fmt.Errorf("%w: %s exceeds 2^256-1", ErrNumberOutOfRange, b)
	}
	return u, nil
}

// U256FromUint256 converts a holiman/uint256 integer.
func U256FromUint256(x *uint256.Int) U256 {
	var u U256
	u.n.Set(x)
	return u
}

// U256FromBytes32 interprets b as a big-endian 256-bit integer.
func U256FromBytes32(b [32]byte) U256 {
	var u U256
	u.n.SetBytes32(b[:])
	return u
}

// ParseU256 parses a decimal ("1000") or 0x-prefixed hexadecimal ("0x3e8")
// unsigned integer up to 2^256-1. Signs, underscores, spaces and an empty
// digit string are rejected. Leading zeros are allowed.
func ParseU256(s string) (U256, error) {
	if hex, ok := cutHexPrefix(s); ok {
		return parseU256Digits(s, hex, 16)
	}
	return parseU256Digits(s, s, 10)
}

// ParseU256Decimal parses a decimal unsigned integer up to 2^256-1 (no hex).
func ParseU256Decimal(s string) (U256, error) {
	return parseU256Digits(s, s, 10)
}

func cutHexPrefix(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:], true
	}
	return s, false
}

// parseU256Digits parses digits in base 10 or 16; orig is quoted in errors.
func parseU256Digits(orig, digits string, base int) (U256, error) {
	want := "decimal digits or 0x-prefixed hex"
	if base == 16 {
		want = "hex digits after 0x"
	}
	if digits == "" {
		return U256{}, fmt.Errorf("%w: %q: no digits (want %s)", ErrInvalidNumber, orig, want)
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		ok := c >= '0' && c <= '9'
		if base == 16 {
			ok = ok || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
		}
		if !ok {
			return U256{}, fmt.Errorf("%w: %q: unexpected character %q (want %s)", ErrInvalidNumber, orig, c, want)
		}
	}
	// Leading zeros never change the value; dropping them bounds the work
	// below for absurdly long inputs.
	trimmed := strings.TrimLeft(digits, "0")
	if trimmed == "" {
		return U256{}, nil
	}
	if (base == 16 && len(trimmed) > 64) || (base == 10 && len(trimmed) > 78) {
		return U256{}, fmt.Errorf("%w: %q exceeds 2^256-1", ErrNumberOutOfRange, orig)
	}
	b, ok := new(big.Int).SetString(trimmed, base)
	if !ok {
		return U256{}, fmt.Errorf("%w: %q (want %s)", ErrInvalidNumber, orig, want)
	}
	var u U256
	if overflow := u.n.SetFromBig(b); overflow {
		return U256{}, fmt.Errorf("%w: %q exceeds 2^256-1", ErrNumberOutOfRange, orig)
	}
	return u, nil
}

// Big returns u as a new big.Int.
func (u U256) Big() *big.Int { return u.n.ToBig() }

// Uint256 returns a copy of u as a holiman/uint256 integer, for arithmetic.
func (u U256) Uint256() *uint256.Int { return new(uint256.Int).Set(&u.n) }

// Uint64 returns u as a uint64 and whether it fits.
func (u U256) Uint64() (uint64, bool) {
	if !u.n.IsUint64() {
		return 0, false
	}
	return u.n.Uint64(), true
}

// IsZero reports whether u is 0.
func (u U256) IsZero() bool { return u.n.IsZero() }

// Cmp compares u and v and returns -1, 0 or +1.
func (u U256) Cmp(v U256) int { return u.n.Cmp(&v.n) }

// Bytes32 returns u as 32 big-endian bytes.
func (u U256) Bytes32() [32]byte { return u.n.Bytes32() }

// littleEndian32 returns u as 32 little-endian bytes (docs/data.md,
// "Commitments").
func (u U256) littleEndian32() [32]byte {
	var out [32]byte
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(out[8*i:], u.n[i])
	}
	return out
}

// String returns u in decimal.
func (u U256) String() string { return u.n.Dec() }

// Hex returns u as "0x" followed by lowercase hex digits without leading
// zeros ("0x0" for zero), the reference's "U256 hex" form (docs/data.md,
// "Headers").
func (u U256) Hex() string { return u.n.Hex() }

// MarshalText encodes u in decimal.
func (u U256) MarshalText() ([]byte, error) { return []byte(u.n.Dec()), nil }

// UnmarshalText accepts the forms of ParseU256 (decimal or 0x hex).
func (u *U256) UnmarshalText(text []byte) error {
	v, err := ParseU256(string(text))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// MarshalJSON encodes u as a decimal JSON string.
func (u U256) MarshalJSON() ([]byte, error) {
	return []byte(`"` + u.n.Dec() + `"`), nil
}

// UnmarshalJSON accepts a JSON string in a ParseU256 form (decimal or 0x
// hex) or a non-negative JSON integer.
func (u *U256) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidNumber, err)
		}
		return u.UnmarshalText([]byte(s))
	}
	v, err := ParseU256Decimal(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

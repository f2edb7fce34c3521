package types

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// Sentinel errors for the fixed-size byte types. Parse errors wrap one of
// these; test with errors.Is.
var (
	// ErrInvalidAddress marks text that is not "0x" followed by 40 hex digits.
	ErrInvalidAddress = errors.New("types: invalid address")
	// ErrInvalidHash marks text that is not "0x" followed by 64 hex digits.
	ErrInvalidHash = errors.New("types: invalid hash")
)

// Address is a 20-byte Ethereum account or contract address. Its text and
// JSON form is "0x" followed by 40 lowercase hex digits.
type Address [20]byte

// ParseAddress parses "0x" followed by exactly 40 hex digits, in any case
// (the EIP-55 checksum is not enforced).
func ParseAddress(s string) (Address, error) {
	var a Address
	if err := decodeFixedHex(a[:], s); err != nil {
		return Address{}, fmt.Errorf("%w: %q: %v (want 0x followed by 40 hex digits)", ErrInvalidAddress, s, err)
	}
	return a, nil
}

// String returns a as "0x" followed by 40 lowercase hex digits.
func (a Address) String() string { return encodeHex(a[:]) }

// IsZero reports whether a is the zero address.
func (a Address) IsZero() bool { return a == Address{} }

// MarshalText encodes a as "0x" followed by 40 lowercase hex digits.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText accepts the form of ParseAddress.
func (a *Address) UnmarshalText(text []byte) error {
	v, err := ParseAddress(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Hash is a 32-byte hash such as an L1 block hash. Its text and JSON form is
// "0x" followed by 64 lowercase hex digits.
type Hash [32]byte

// ParseHash parses "0x" followed by exactly 64 hex digits, in any case.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if err := decodeFixedHex(h[:], s); err != nil {
		return Hash{}, fmt.Errorf("%w: %q: %v (want 0x followed by 64 hex digits)", ErrInvalidHash, s, err)
	}
	return h, nil
}

// String returns h as "0x" followed by 64 lowercase hex digits.
func (h Hash) String() string { return encodeHex(h[:]) }

// IsZero reports whether h is all zero bytes.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes h as "0x" followed by 64 lowercase hex digits.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText accepts the form of ParseHash.
func (h *Hash) UnmarshalText(text []byte) error {
	v, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// decodeFixedHex fills dst from "0x" plus exactly 2*len(dst) hex digits.
func decodeFixedHex(dst []byte, s string) error {
	digits, ok := cutHexPrefix(s)
	if !ok {
		return errors.New("missing 0x prefix")
	}
	if len(digits) != 2*len(dst) {
		return fmt.Errorf("%d hex digits", len(digits))
	}
	if _, err := hex.Decode(dst, []byte(digits)); err != nil {
		return errors.New("non-hex character")
	}
	return nil
}

func encodeHex(b []byte) string {
	out := make([]byte, 2+2*len(b))
	out[0], out[1] = '0', 'x'
	hex.Encode(out[2:], b)
	return string(out)
}

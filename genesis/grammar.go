package genesis

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pelletier/go-toml/v2"

	"github.com/gospresso/gospresso/types"
)

// What each grammar accepts, for error messages.
const (
	wantFee       = `integer wei, "0x" hex wei, or "<number> [unit]" such as "1.5 gwei"`
	wantFeeUnits  = "wei, kwei, mwei, gwei, twei, szabo, pwei, finney, eth or ether"
	wantSize      = `integer bytes or "<number>[ ]<unit>" such as "1mb", "30 MiB"`
	wantSizeUnits = "b, kb, kib, mb, ..."
	wantTimestamp = `RFC 3339 string such as "2024-09-17T16:00:00Z" or integer unix seconds`
	wantChainID   = `integer, decimal string or "0x" hex string`
	wantAddress   = `"0x" followed by 40 hex digits`
	wantHash      = `"0x" followed by 64 hex digits`
	wantU256Hex   = `"0x" hex string or integer`
	wantVersion   = `"major.minor" string such as "0.2"`
)

// maxDecimalDigits bounds the digits of an amount or size before any
// arithmetic: more integer digits always overflow, and a fraction with more
// significant digits can never give a whole number of wei or bytes (every
// unit factor is at most 10^18 or 2^60).
const maxDecimalDigits = 100

// ParseFeeAmount parses a fee amount string (docs/genesis.md, "Fee amounts")
// into wei: "0x" hex
// wei ("0x3e8"), or a decimal number optionally followed by whitespace and a
// unit ("1000", "1 gwei", "1.5 eth"). Units are case-insensitive: wei, kwei,
// mwei, gwei, twei/szabo, pwei/finney, eth/ether; the default is wei. A
// fraction is allowed when the result is a whole number of wei ("1.5 gwei",
// not "0.5 wei"). Negative amounts and amounts above 2^256-1 are rejected.
//
// Errors are *Error values with an empty Path, whose Value is the quoted
// input and whose Reason says what was expected.
func ParseFeeAmount(s string) (types.U256, error) {
	q := strconv.Quote(s)
	t := strings.TrimSpace(s)
	if t == "" {
		return types.U256{}, valueErr(ErrInvalidValue, q, "empty fee amount (want "+wantFee+")")
	}
	if t[0] == '-' {
		return types.U256{}, valueErr(ErrOutOfRange, q, "negative fee amount (want an amount ≥ 0)")
	}
	if len(t) >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		v, err := types.ParseU256(t)
		switch {
		case errors.Is(err, types.ErrNumberOutOfRange):
			return types.U256{}, &Error{Err: ErrOutOfRange, Value: q, Reason: "exceeds 2^256-1 wei", Cause: err}
		case err != nil:
			return types.U256{}, &Error{Err: ErrInvalidValue, Value: q, Reason: "invalid hex amount (want 0x followed by hex digits, no unit)", Cause: err}
		}
		return v, nil
	}
	num, unit := t, ""
	if i := strings.IndexFunc(t, unicode.IsSpace); i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	exp, ok := feeUnitExponent(strings.ToLower(unit))
	if !ok {
		return types.U256{}, valueErr(ErrUnknownUnit, q, fmt.Sprintf("unknown unit %q (want %s)", unit, wantFeeUnits))
	}
	intPart, frac, ok := splitDecimal(num)
	if !ok {
		return types.U256{}, valueErr(ErrInvalidValue, q,
			fmt.Sprintf("invalid number %q (want %s; separate number and unit with a space)", num, wantFee))
	}
	mul := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)
	v, whole, overflow := scaleDecimal(intPart, frac, mul, maxU256())
	switch {
	case overflow:
		return types.U256{}, valueErr(ErrOutOfRange, q, "exceeds 2^256-1 wei")
	case !whole:
		return types.U256{}, valueErr(ErrInvalidValue, q, "not a whole number of wei")
	}
	u, err := types.U256FromBig(v)
	if err != nil {
		return types.U256{}, &Error{Err: ErrOutOfRange, Value: q, Reason: "exceeds 2^256-1 wei", Cause: err}
	}
	return u, nil
}

// feeUnitExponent returns the power of ten of a lower-case fee unit; the
// empty unit is wei.
func feeUnitExponent(unit string) (int, bool) {
	switch unit {
	case "", "wei":
		return 0, true
	case "kwei":
		return 3, true
	case "mwei":
		return 6, true
	case "gwei":
		return 9, true
	case "twei", "szabo":
		return 12, true
	case "pwei", "finney":
		return 15, true
	case "eth", "ether":
		return 18, true
	}
	return 0, false
}

// ParseSize parses a byte size (docs/genesis.md, "Sizes"; also used for sizes on
// the command line): a decimal number, optional spaces and an optional
// case-insensitive unit. Units: b; SI k/kb, m/mb, g/gb, t/tb, p/pb, e/eb
// (powers of 1000); binary ki/kib, mi/mib, gi/gib, ti/tib, pi/pib, ei/eib
// (powers of 1024). A bare number is bytes ("1mb" = 1000000, "1 MiB" =
// 1048576, "1048576" = 1048576). A fraction is allowed when the result is a
// whole number of bytes ("1.5kb", not "0.5b"). Zero is accepted here; fields
// that must be positive check that themselves. Results above 2^64-1 are
// rejected.
//
// Errors are *Error values with an empty Path, whose Value is the quoted
// input and whose Reason says what was expected.
func ParseSize(s string) (uint64, error) {
	q := strconv.Quote(s)
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, valueErr(ErrInvalidValue, q, "empty size (want "+wantSize+")")
	}
	if t[0] == '-' {
		return 0, valueErr(ErrOutOfRange, q, "negative size (want a size ≥ 0)")
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mul, ok := sizeUnitFactor(strings.ToLower(unit))
	if !ok {
		return 0, valueErr(ErrUnknownUnit, q, "unknown unit (want "+wantSizeUnits+")")
	}
	intPart, frac, ok := splitDecimal(num)
	if !ok {
		return 0, valueErr(ErrInvalidValue, q, fmt.Sprintf("invalid number %q (want %s)", num, wantSize))
	}
	v, whole, overflow := scaleDecimal(intPart, frac, mul, new(big.Int).SetUint64(^uint64(0)))
	switch {
	case overflow:
		return 0, valueErr(ErrOutOfRange, q, "exceeds 2^64-1 bytes")
	case !whole:
		return 0, valueErr(ErrInvalidValue, q, "not a whole number of bytes")
	}
	return v.Uint64(), nil
}

// sizeUnitFactor returns the byte factor of a lower-case size unit.
func sizeUnitFactor(unit string) (*big.Int, bool) {
	if unit == "" || unit == "b" {
		return big.NewInt(1), true
	}
	n := strings.IndexByte("kmgtpe", unit[0]) + 1
	if n == 0 {
		return nil, false
	}
	var base int64
	switch unit[1:] {
	case "", "b":
		base = 1000
	case "i", "ib":
		base = 1024
	default:
		return nil, false
	}
	return new(big.Int).Exp(big.NewInt(base), big.NewInt(int64(n)), nil), true
}

// splitDecimal splits "123" or "123.45" into integer and fraction digits.
func splitDecimal(num string) (intPart, frac string, ok bool) {
	intPart, frac, hasDot := strings.Cut(num, ".")
	if !allDigits(intPart) || (hasDot && !allDigits(frac)) {
		return "", "", false
	}
	return intPart, frac, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// scaleDecimal computes intPart.frac × mul. whole is false when the product
// has a fractional part; overflow is true when it exceeds max.
func scaleDecimal(intPart, frac string, mul, max *big.Int) (v *big.Int, whole, overflow bool) {
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	if len(intPart) > maxDecimalDigits {
		return nil, true, true
	}
	if len(frac) > maxDecimalDigits {
		return nil, false, false
	}
	mant := new(big.Int)
	if digits := intPart + frac; digits != "" {
		mant.SetString(digits, 10)
	}
	mant.Mul(mant, mul)
	if frac != "" {
		div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
		rem := new(big.Int)
		mant.QuoRem(mant, div, rem)
		if rem.Sign() != 0 {
			return nil, false, mant.Cmp(max) > 0
		}
	}
	if mant.Cmp(max) > 0 {
		return nil, true, true
	}
	return mant, true, false
}

func maxU256() *big.Int {
	return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
}

// ParseTimestamp parses a timestamp (docs/genesis.md, "Timestamps") into unix
// seconds: an RFC
// 3339 date-time with a zone ("2024-09-17T16:00:00Z"; fractional seconds are
// truncated) or a decimal count of unix seconds ("1726588800"). Times before
// 1970 are rejected.
//
// Errors are *Error values with an empty Path, whose Value is the quoted
// input and whose Reason says what was expected.
func ParseTimestamp(s string) (uint64, error) {
	q := strconv.Quote(s)
	if allDigits(s) {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, &Error{Err: ErrOutOfRange, Value: q, Reason: "exceeds 2^64-1 seconds", Cause: err}
		}
		return n, nil
	}
	if len(s) > 1 && s[0] == '-' && allDigits(s[1:]) {
		return 0, valueErr(ErrOutOfRange, q, "negative timestamp (want unix seconds ≥ 0)")
	}
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, &Error{Err: ErrInvalidValue, Value: q, Reason: "invalid timestamp (want " + wantTimestamp + ")", Cause: err}
	}
	return unixSeconds(tm, q)
}

func unixSeconds(tm time.Time, value string) (uint64, error) {
	if tm.Unix() < 0 {
		return 0, valueErr(ErrOutOfRange, value, "before 1970-01-01T00:00:00Z (want unix seconds ≥ 0)")
	}
	return uint64(tm.Unix()), nil
}

// The functions below convert a value decoded from TOML (int64, float64,
// string, bool, time.Time, toml.Local*, []any, map[string]any) under one
// grammar. Their errors have no path; the decoder adds it with at.

// render returns a scalar TOML value as written, or "" for arrays and tables.
func render(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case toml.LocalDateTime, toml.LocalDate, toml.LocalTime:
		return fmt.Sprint(x)
	}
	return ""
}

// typeName names the TOML type of a decoded value.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case time.Time:
		return "offset date-time"
	case toml.LocalDateTime:
		return "local date-time"
	case toml.LocalDate:
		return "local date"
	case toml.LocalTime:
		return "local time"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

func wrongType(v any, want string) *Error {
	return valueErr(ErrInvalidValue, render(v), fmt.Sprintf("invalid type %s (want %s)", typeName(v), want))
}

func negative(v int64, want string) *Error {
	return valueErr(ErrOutOfRange, strconv.FormatInt(v, 10), "negative (want "+want+")")
}

func tomlFeeAmount(v any) (types.U256, error) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return types.U256{}, valueErr(ErrOutOfRange, render(v), "negative fee amount (want an amount ≥ 0)")
		}
		return types.NewU256(uint64(x)), nil
	case string:
		return ParseFeeAmount(x)
	}
	return types.U256{}, wrongType(v, wantFee)
}

func tomlChainID(v any) (types.U256, error) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return types.U256{}, negative(x, "a chain ID ≥ 0")
		}
		return types.NewU256(uint64(x)), nil
	case string:
		if strings.HasPrefix(x, "-") {
			return types.U256{}, valueErr(ErrOutOfRange, render(v), "negative (want a chain ID ≥ 0)")
		}
		u, err := types.ParseU256(x)
		switch {
		case errors.Is(err, types.ErrNumberOutOfRange):
			return types.U256{}, &Error{Err: ErrOutOfRange, Value: render(v), Reason: "exceeds 2^256-1", Cause: err}
		case err != nil:
			return types.U256{}, &Error{Err: ErrInvalidValue, Value: render(v), Reason: "invalid chain ID (want " + wantChainID + ")", Cause: err}
		}
		return u, nil
	}
	return types.U256{}, wrongType(v, wantChainID)
}

func tomlSize(v any) (uint64, error) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return 0, negative(x, "a size ≥ 0")
		}
		return uint64(x), nil
	case string:
		return ParseSize(x)
	}
	return 0, wrongType(v, wantSize)
}

func tomlTimestamp(v any) (uint64, error) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return 0, negative(x, "unix seconds ≥ 0")
		}
		return uint64(x), nil
	case string:
		return ParseTimestamp(x)
	case time.Time:
		return unixSeconds(x, render(v))
	case toml.LocalDateTime, toml.LocalDate, toml.LocalTime:
		return 0, valueErr(ErrInvalidValue, render(v), "date-time without a time zone offset (want "+wantTimestamp+")")
	}
	return 0, wrongType(v, wantTimestamp)
}

func tomlU256Hex(v any) (types.U256, error) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return types.U256{}, negative(x, "a value ≥ 0")
		}
		return types.NewU256(uint64(x)), nil
	case string:
		if len(x) < 2 || x[0] != '0' || (x[1] != 'x' && x[1] != 'X') {
			return types.U256{}, valueErr(ErrInvalidValue, render(v), "missing 0x prefix (want "+wantU256Hex+")")
		}
		u, err := types.ParseU256(x)
		switch {
		case errors.Is(err, types.ErrNumberOutOfRange):
			return types.U256{}, &Error{Err: ErrOutOfRange, Value: render(v), Reason: "exceeds 2^256-1", Cause: err}
		case err != nil:
			return types.U256{}, &Error{Err: ErrInvalidValue, Value: render(v), Reason: "invalid hex number (want " + wantU256Hex + ")", Cause: err}
		}
		return u, nil
	}
	return types.U256{}, wrongType(v, wantU256Hex)
}

func tomlAddress(v any) (types.Address, error) {
	s, ok := v.(string)
	if !ok {
		return types.Address{}, wrongType(v, wantAddress)
	}
	a, err := types.ParseAddress(s)
	if err != nil {
		return types.Address{}, &Error{Err: ErrInvalidValue, Value: render(v), Reason: "invalid address (want " + wantAddress + ")", Cause: err}
	}
	return a, nil
}

func tomlHash(v any) (types.Hash, error) {
	s, ok := v.(string)
	if !ok {
		return types.Hash{}, wrongType(v, wantHash)
	}
	h, err := types.ParseHash(s)
	if err != nil {
		return types.Hash{}, &Error{Err: ErrInvalidValue, Value: render(v), Reason: "invalid hash (want " + wantHash + ")", Cause: err}
	}
	return h, nil
}

func tomlUint(v any) (uint64, error) {
	x, ok := v.(int64)
	if !ok {
		return 0, wrongType(v, "integer")
	}
	if x < 0 {
		return 0, negative(x, "an integer ≥ 0")
	}
	return uint64(x), nil
}

func tomlString(v any, want string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", wrongType(v, want)
	}
	return s, nil
}

func tomlBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, wrongType(v, "true or false")
	}
	return b, nil
}

func tomlVersion(v any) (types.Version, error) {
	s, ok := v.(string)
	if !ok {
		return types.Version{}, wrongType(v, wantVersion)
	}
	ver, err := types.ParseVersion(s)
	if err != nil {
		return types.Version{}, &Error{Err: ErrInvalidValue, Value: render(v), Reason: "invalid version (want " + wantVersion + ")", Cause: err}
	}
	return ver, nil
}

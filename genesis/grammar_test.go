package genesis

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/types"
)

// grammarCase is one input of a value grammar: the result (decimal) or the
// error kind and a fragment of the reason.
type grammarCase struct {
	in     string
	want   string
	kind   error
	reason string
}

func checkGrammar(t *testing.T, fn string, c grammarCase, got string, err error) {
	t.Helper()
	if c.kind == nil {
		if err != nil || got != c.want {
			t.Errorf("%s(%q) = %s, %v; want %s", fn, c.in, got, err, c.want)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, c.kind) {
		t.Errorf("%s(%q) = %s, %v; want %v", fn, c.in, got, err, c.kind)
		return
	}
	if e.Path != "" || e.Value != strconv.Quote(c.in) || !strings.Contains(e.Reason, c.reason) {
		t.Errorf("%s(%q) error path %q value %q reason %q; want value %q, reason containing %q",
			fn, c.in, e.Path, e.Value, e.Reason, strconv.Quote(c.in), c.reason)
	}
	if want := "genesis: " + strconv.Quote(c.in) + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%s(%q) error text %q does not start with %q", fn, c.in, err, want)
	}
}

const maxU256Text = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

func feeAmountCases() []grammarCase {
	return []grammarCase{
		{in: "0", want: "0"},
		{in: "1", want: "1"},
		{in: "1000", want: "1000"},
		{in: "007", want: "7"},
		{in: "1 wei", want: "1"},
		{in: "0 wei", want: "0"},
		{in: "1 kwei", want: "1000"},
		{in: "1 mwei", want: "1000000"},
		{in: "1 gwei", want: "1000000000"},
		{in: "1.5 gwei", want: "1500000000"},
		{in: "1 twei", want: "1000000000000"},
		{in: "1 szabo", want: "1000000000000"},
		{in: "1 pwei", want: "1000000000000000"},
		{in: "1 finney", want: "1000000000000000"},
		{in: "1 eth", want: "1000000000000000000"},
		{in: "1 ether", want: "1000000000000000000"},
		{in: "0.000000000000000001 eth", want: "1"},
		{in: "1.000000000000000000000 eth", want: "1000000000000000000"},
		{in: "2 ETH", want: "2000000000000000000"},
		{in: "3 GWei", want: "3000000000"},
		{in: "1.0 wei", want: "1"},
		{in: "1\tgwei", want: "1000000000"},
		{in: "1   gwei", want: "1000000000"},
		{in: " 5 ", want: "5"},
		{in: "0x0", want: "0"},
		{in: "0xabcdef", want: "11259375"},
		{in: "0XABCDEF", want: "11259375"},
		{in: maxU256Text, want: maxU256Text},
		{in: "0x" + strings.Repeat("f", 64), want: maxU256Text},
		{in: "", kind: ErrInvalidValue, reason: "empty fee amount"},
		{in: "   ", kind: ErrInvalidValue, reason: "empty fee amount"},
		{in: "-1", kind: ErrOutOfRange, reason: "negative"},
		{in: "-1 gwei", kind: ErrOutOfRange, reason: "negative"},
		{in: "-0x1", kind: ErrOutOfRange, reason: "negative"},
		{in: "0.5 wei", kind: ErrInvalidValue, reason: "not a whole number of wei"},
		{in: "0.5", kind: ErrInvalidValue, reason: "not a whole number of wei"},
		{in: "1.0000000001 gwei", kind: ErrInvalidValue, reason: "not a whole number of wei"},
		{in: "0." + strings.Repeat("0", 200) + "1 eth", kind: ErrInvalidValue, reason: "not a whole number of wei"},
		{in: "1 parsec", kind: ErrUnknownUnit, reason: `unknown unit "parsec" (want wei, kwei`},
		{in: "1 gwei wei", kind: ErrUnknownUnit, reason: "unknown unit"},
		{in: "1gwei", kind: ErrInvalidValue, reason: `invalid number "1gwei"`},
		{in: "one gwei", kind: ErrInvalidValue, reason: "invalid number"},
		{in: "1.5.5 gwei", kind: ErrInvalidValue, reason: "invalid number"},
		{in: ".5 gwei", kind: ErrInvalidValue, reason: "invalid number"},
		{in: "5. gwei", kind: ErrInvalidValue, reason: "invalid number"},
		{in: "1e9", kind: ErrInvalidValue, reason: "invalid number"},
		{in: "+1", kind: ErrInvalidValue, reason: "invalid number"},
		{in: "1_000", kind: ErrInvalidValue, reason: "invalid number"},
		{in: "0x", kind: ErrInvalidValue, reason: "invalid hex amount"},
		{in: "0x1 gwei", kind: ErrInvalidValue, reason: "invalid hex amount"},
		{in: "0xzz", kind: ErrInvalidValue, reason: "invalid hex amount"},
		{in: "115792089237316195423570985008687907853269984665640564039457584007913129639936", kind: ErrOutOfRange, reason: "exceeds 2^256-1 wei"},
		{in: "0x1" + strings.Repeat("0", 64), kind: ErrOutOfRange, reason: "exceeds 2^256-1 wei"},
		{in: "115792089237316195423570985008687907853269984665640564039458 eth", kind: ErrOutOfRange, reason: "exceeds"},
		{in: strings.Repeat("9", 500) + " wei", kind: ErrOutOfRange, reason: "exceeds"},
	}
}

func TestParseFeeAmount(t *testing.T) {
	for _, c := range feeAmountCases() {
		got, err := ParseFeeAmount(c.in)
		checkGrammar(t, "ParseFeeAmount", c, got.String(), err)
	}
}

func sizeCases() []grammarCase {
	return []grammarCase{
		{in: "0", want: "0"},
		{in: "1048576", want: "1048576"},
		{in: "1b", want: "1"},
		{in: "1 B", want: "1"},
		{in: "1k", want: "1000"},
		{in: "1kb", want: "1000"},
		{in: "1 KB", want: "1000"},
		{in: "1ki", want: "1024"},
		{in: "1kib", want: "1024"},
		{in: "1 KiB", want: "1024"},
		{in: "1mb", want: "1000000"},
		{in: "1m", want: "1000000"},
		{in: "1mib", want: "1048576"},
		{in: "1 MiB", want: "1048576"},
		{in: "1Mi", want: "1048576"},
		{in: "30mb", want: "30000000"},
		{in: "100 GB", want: "100000000000"},
		{in: "3 TB", want: "3000000000000"},
		{in: "1g", want: "1000000000"},
		{in: "1gib", want: "1073741824"},
		{in: "1t", want: "1000000000000"},
		{in: "1tib", want: "1099511627776"},
		{in: "1pb", want: "1000000000000000"},
		{in: "1pib", want: "1125899906842624"},
		{in: "1eb", want: "1000000000000000000"},
		{in: "1eib", want: "1152921504606846976"},
		{in: "15.999999999999999999 eib", kind: ErrInvalidValue, reason: "not a whole number of bytes"},
		{in: "1.5kb", want: "1500"},
		{in: "1.5 KiB", want: "1536"},
		{in: "0.0009765625 kib", want: "1"},
		{in: "2.50 b", kind: ErrInvalidValue, reason: "not a whole number of bytes"},
		{in: "2.0 b", want: "2"},
		{in: " 7 mb ", want: "7000000"},
		{in: "18446744073709551615", want: "18446744073709551615"},
		{in: "18446744073709551616", kind: ErrOutOfRange, reason: "exceeds 2^64-1 bytes"},
		{in: "16 eib", kind: ErrOutOfRange, reason: "exceeds 2^64-1 bytes"},
		{in: "20 eb", kind: ErrOutOfRange, reason: "exceeds"},
		{in: strings.Repeat("1", 300), kind: ErrOutOfRange, reason: "exceeds"},
		{in: "", kind: ErrInvalidValue, reason: "empty size"},
		{in: "-1", kind: ErrOutOfRange, reason: "negative size"},
		{in: "-1 mb", kind: ErrOutOfRange, reason: "negative size"},
		{in: "0.5b", kind: ErrInvalidValue, reason: "not a whole number of bytes"},
		{in: "0.1", kind: ErrInvalidValue, reason: "not a whole number of bytes"},
		{in: "0." + strings.Repeat("0", 300) + "1 eib", kind: ErrInvalidValue, reason: "not a whole number of bytes"},
		{in: "12 parsecs", kind: ErrUnknownUnit, reason: "unknown unit (want b, kb, kib, mb, ...)"},
		{in: "1 bytes", kind: ErrUnknownUnit, reason: "unknown unit"},
		{in: "1 kibb", kind: ErrUnknownUnit, reason: "unknown unit"},
		{in: "1 ib", kind: ErrUnknownUnit, reason: "unknown unit"},
		{in: "1 zb", kind: ErrUnknownUnit, reason: "unknown unit"},
		{in: "0x100", kind: ErrUnknownUnit, reason: "unknown unit"},
		{in: "mb", kind: ErrInvalidValue, reason: `invalid number ""`},
		{in: ".5mb", kind: ErrInvalidValue, reason: "invalid number"},
		{in: "1..5mb", kind: ErrInvalidValue, reason: "invalid number"},
		{in: "1.mb", kind: ErrInvalidValue, reason: "invalid number"},
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range sizeCases() {
		got, err := ParseSize(c.in)
		checkGrammar(t, "ParseSize", c, strconv.FormatUint(got, 10), err)
	}
}

func timestampCases() []grammarCase {
	return []grammarCase{
		{in: "1970-01-01T00:00:00Z", want: "0"},
		{in: "2024-09-17T16:00:00Z", want: "1726588800"},
		{in: "2024-09-17T18:00:00+02:00", want: "1726588800"},
		{in: "2024-09-17T16:00:00.999Z", want: "1726588800"},
		{in: "0", want: "0"},
		{in: "1726588800", want: "1726588800"},
		{in: "18446744073709551615", want: "18446744073709551615"},
		{in: "18446744073709551616", kind: ErrOutOfRange, reason: "exceeds 2^64-1 seconds"},
		{in: "-1", kind: ErrOutOfRange, reason: "negative timestamp"},
		{in: "1969-12-31T23:59:59Z", kind: ErrOutOfRange, reason: "before 1970"},
		{in: "", kind: ErrInvalidValue, reason: "invalid timestamp (want RFC 3339"},
		{in: "1970-01-01", kind: ErrInvalidValue, reason: "invalid timestamp"},
		{in: "1970-01-01T00:00:00", kind: ErrInvalidValue, reason: "invalid timestamp"},
		{in: "1970-01-01 00:00:00Z", kind: ErrInvalidValue, reason: "invalid timestamp"},
		{in: "2024-13-01T00:00:00Z", kind: ErrInvalidValue, reason: "invalid timestamp"},
		{in: " 5", kind: ErrInvalidValue, reason: "invalid timestamp"},
		{in: "1.5", kind: ErrInvalidValue, reason: "invalid timestamp"},
		{in: "0x10", kind: ErrInvalidValue, reason: "invalid timestamp"},
		{in: "tomorrow", kind: ErrInvalidValue, reason: "invalid timestamp"},
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, c := range timestampCases() {
		got, err := ParseTimestamp(c.in)
		checkGrammar(t, "ParseTimestamp", c, strconv.FormatUint(got, 10), err)
	}
}

// TestGrammarInGenesis checks that a grammar error found inside a document
// carries the TOML path in front of the grammar's own value and reason.
func TestGrammarInGenesis(t *testing.T) {
	doc := strings.Replace(validDoc, "base_fee = '1 wei'", "base_fee = '0.5 wei'", 1)
	_, err := Parse([]byte(doc))
	if want := `genesis: chain_config.base_fee: "0.5 wei": not a whole number of wei`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	doc = strings.Replace(validDoc, `timestamp = "1970-01-01T00:00:00Z"`, `timestamp = "1969-12-31T23:59:59Z"`, 1)
	_, err = Parse([]byte(doc))
	if want := `genesis: header.timestamp: "1969-12-31T23:59:59Z": before 1970-01-01T00:00:00Z (want unix seconds ≥ 0)`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	// The value grammars are the same ones the decoder uses.
	for _, c := range feeAmountCases() {
		if c.kind != nil {
			continue
		}
		doc := strings.Replace(validDoc, "base_fee = '1 wei'", "base_fee = "+strconv.Quote(c.in), 1)
		g, err := Parse([]byte(doc))
		want, _ := types.ParseU256(c.want)
		if err != nil || g.ChainConfig.BaseFee != want {
			t.Errorf("base_fee = %q: %v", c.in, err)
		}
	}
}

func FuzzParseFeeAmount(f *testing.F) {
	for _, c := range feeAmountCases() {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseFeeAmount(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Value != strconv.Quote(s) {
				t.Fatalf("ParseFeeAmount(%q): error %v is not an *Error naming the input", s, err)
			}
			return
		}
		// A decimal wei amount re-parses to itself.
		if w, err := ParseFeeAmount(v.String()); err != nil || w != v {
			t.Fatalf("ParseFeeAmount(%q) = %s, which re-parses as %s, %v", s, v, w, err)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, c := range sizeCases() {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Value != strconv.Quote(s) {
				t.Fatalf("ParseSize(%q): error %v is not an *Error naming the input", s, err)
			}
			return
		}
		if w, err := ParseSize(strconv.FormatUint(v, 10)); err != nil || w != v {
			t.Fatalf("ParseSize(%q) = %d, which re-parses as %d, %v", s, v, w, err)
		}
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, c := range timestampCases() {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTimestamp(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Value != strconv.Quote(s) {
				t.Fatalf("ParseTimestamp(%q): error %v is not an *Error naming the input", s, err)
			}
			return
		}
		if w, err := ParseTimestamp(strconv.FormatUint(v, 10)); err != nil || w != v {
			t.Fatalf("ParseTimestamp(%q) = %d, which re-parses as %d, %v", s, v, w, err)
		}
	})
}

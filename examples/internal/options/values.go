package options

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gospresso/gospresso/genesis"
	"github.com/multiformats/go-multiaddr"
)

// This file holds the value grammars of docs/operator.md, "Option values".
// Each parser returns an
// error that says only what is wrong and what was expected; the option
// machinery (table.go) prefixes it with the flag, the environment variable
// and the offending value.

// value is what an option row fills: a typed field plus its grammar. It is
// also a pflag.Value (String, Set, Type).
type value interface {
	// Set parses s and stores the result in the field.
	Set(s string) error
	// String formats the field's current value in option syntax (secrets
	// and URL passwords redacted).
	String() string
	// Type is the placeholder shown in help, e.g. "DURATION".
	Type() string
	// IsBoolFlag reports whether the flag takes no value.
	IsBoolFlag() bool
	// display returns raw text as it may appear in an error message:
	// unchanged, or with secrets hidden.
	display(raw string) string
}

// field binds a typed target to its grammar.
type field[T any] struct {
	p      *T
	parse  func(string) (T, error)
	format func(T) string
	meta   string
	// redact, when set, hides secrets in raw text shown in errors.
	redact func(string) string
}

func (f *field[T]) Set(s string) error {
	v, err := f.parse(s)
	if err != nil {
		return err
	}
	*f.p = v
	return nil
}

func (f *field[T]) String() string   { return f.format(*f.p) }
func (f *field[T]) Type() string     { return f.meta }
func (f *field[T]) IsBoolFlag() bool { _, ok := any(f.p).(*bool); return ok }

func (f *field[T]) display(raw string) string {
	if f.redact != nil {
		return f.redact(raw)
	}
	return raw
}

// Secret is a string that never prints: String, GoString and Format (via
// String) give "<redacted>" for a non-empty value. Use Reveal to read it.
type Secret string

// String returns "<redacted>", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// GoString keeps %#v from printing the secret.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Reveal returns the secret text.
func (s Secret) Reveal() string { return string(s) }

// Ratio is a fraction Num/Den, written "N:D" on the command line (a decimal
// such as "0.1" or "N/D" is accepted too).
type Ratio struct {
	Num, Den uint64
}

// Float returns Num/Den.
func (r Ratio) Float() float64 { return float64(r.Num) / float64(r.Den) }

// String formats the ratio as "N:D".
func (r Ratio) String() string { return fmt.Sprintf("%d:%d", r.Num, r.Den) }

// ---- constructors used by the option tables ----

func stringVar(p *string) value {
	return &field[string]{p: p, meta: "STRING", parse: func(s string) (string, error) { return s, nil },
		format: func(v string) string { return v }}
}

func pathVar(p *string) value {
	f := stringVar(p).(*field[string])
	f.meta = "PATH"
	f.parse = func(s string) (string, error) {
		if strings.TrimSpace(s) == "" {
			return "", errors.New("empty path (want a file or directory path)")
		}
		return s, nil
	}
	return f
}

func secretVar(p *Secret) value {
	return &field[Secret]{p: p, meta: "SECRET", parse: func(s string) (Secret, error) { return Secret(s), nil },
		format: Secret.String, redact: func(s string) string { return Secret(s).String() }}
}

func boolVar(p *bool) value {
	return &field[bool]{p: p, parse: parseBool, format: strconv.FormatBool}
}

func durationVar(p *time.Duration) value {
	return &field[time.Duration]{p: p, meta: "DURATION", parse: parseDuration, format: formatDuration}
}

func uintVar(p *uint64, lo, hi uint64) value {
	return &field[uint64]{p: p, meta: "N", parse: func(s string) (uint64, error) { return parseUint(s, lo, hi) },
		format: func(v uint64) string { return strconv.FormatUint(v, 10) }}
}

func uint16Var(p *uint16, lo, hi uint16) value {
	return &field[uint16]{p: p, meta: "N", parse: func(s string) (uint16, error) {
		v, err := parseUint(s, uint64(lo), uint64(hi))
		return uint16(v), err
	}, format: func(v uint16) string { return strconv.FormatUint(uint64(v), 10) }}
}

func portVar(p *uint16) value {
	f := uint16Var(p, 0, math.MaxUint16).(*field[uint16])
	f.meta = "PORT"
	f.parse = parsePort
	return f
}

func sizeVar(p *uint64) value {
	return &field[uint64]{p: p, meta: "SIZE", parse: parseSize,
		format: func(v uint64) string { return strconv.FormatUint(v, 10) }}
}

func floatVar(p *float64, lo, hi float64) value {
	return &field[float64]{p: p, meta: "FLOAT", parse: func(s string) (float64, error) { return parseFloat(s, lo, hi) },
		format: formatFloat}
}

func optFloatVar(p **float64, lo, hi float64) value {
	return &field[*float64]{p: p, meta: "DECIMAL", parse: func(s string) (*float64, error) {
		v, err := parseFloat(s, lo, hi)
		if err != nil {
			return nil, err
		}
		return &v, nil
	}, format: func(v *float64) string {
		if v == nil {
			return ""
		}
		return formatFloat(*v)
	}}
}

func ratioVar(p *Ratio, limit *big.Rat) value {
	return &field[Ratio]{p: p, meta: "RATIO", parse: func(s string) (Ratio, error) { return parseRatio(s, limit) },
		format: Ratio.String}
}

func urlVar(p **url.URL, schemes ...string) value {
	return &field[*url.URL]{p: p, meta: "URL", parse: func(s string) (*url.URL, error) { return parseURL(s, schemes) },
		format: formatURL}
}

func urlListVar(p *[]*url.URL, schemes ...string) value {
	return &field[[]*url.URL]{p: p, meta: "URL[,URL...]",
		parse: func(s string) ([]*url.URL, error) {
			return parseList(s, func(s string) (*url.URL, error) { return parseURL(s, schemes) })
		},
		format: func(v []*url.URL) string { return formatList(v, formatURL) }}
}

func hostPortVar(p *string) value {
	return &field[string]{p: p, meta: "HOST:PORT", parse: parseHostPort, format: func(v string) string { return v }}
}

func multiaddrListVar(p *[]multiaddr.Multiaddr) value {
	return &field[[]multiaddr.Multiaddr]{p: p, meta: "MULTIADDR[,MULTIADDR...]",
		parse:  func(s string) ([]multiaddr.Multiaddr, error) { return parseList(s, parsePeerMultiaddr) },
		format: func(v []multiaddr.Multiaddr) string { return formatList(v, multiaddr.Multiaddr.String) }}
}

func enumVar(p *string, choices ...string) value {
	return &field[string]{p: p, meta: strings.Join(choices, "|"), parse: func(s string) (string, error) {
		for _, c := range choices {
			if strings.EqualFold(s, c) {
				return c, nil
			}
		}
		return "", fmt.Errorf("unknown value (want one of %s)", strings.Join(choices, ", "))
	}, format: func(v string) string { return v }}
}

func countryCodeVar(p *string) value {
	return &field[string]{p: p, meta: "CC", parse: parseCountryCode, format: func(v string) string { return v }}
}

// ---- grammars ----

// parseBool accepts true/false/1/0 in any letter case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errors.New("invalid boolean (want true, false, 1 or 0)")
}

// unitNanos returns the length of a duration unit in nanoseconds.
func unitNanos(unit string) (int64, bool) {
	switch unit {
	case "ns":
		return 1, true
	case "us", "µs", "μs":
		return 1e3, true
	case "ms":
		return 1e6, true
	case "s":
		return 1e9, true
	case "m":
		return 60e9, true
	case "h":
		return 3600e9, true
	case "d":
		return 24 * 3600e9, true
	}
	return 0, false
}

const durationWant = "want e.g. 500ms, 7s, 1h, 3d"

// parseDuration accepts Go time.ParseDuration syntax plus a "d" (24 h) unit,
// spaces between a number and its unit ("5400 s") and between terms
// ("1d 12h"). A bare number other than "0" is rejected: it needs a unit.
// Negative durations are rejected.
func parseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	in = strings.TrimPrefix(in, "+")
	if in == "" {
		return 0, fmt.Errorf("empty duration (%s)", durationWant)
	}
	if in == "0" {
		return 0, nil
	}
	if strings.HasPrefix(in, "-") {
		return 0, fmt.Errorf("negative duration (%s)", durationWant)
	}
	total := new(big.Rat)
	for in != "" {
		n := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if n < 0 {
			n = len(in)
		}
		num := in[:n]
		in = strings.TrimLeft(in[n:], " ")
		u := strings.IndexFunc(in, func(r rune) bool { return (r >= '0' && r <= '9') || r == '.' || r == ' ' })
		if u < 0 {
			u = len(in)
		}
		unit := in[:u]
		in = strings.TrimLeft(in[u:], " ")
		if num == "" || strings.Count(num, ".") > 1 || num == "." {
			return 0, fmt.Errorf("invalid duration (%s)", durationWant)
		}
		if unit == "" {
			return 0, fmt.Errorf("missing unit (%s; units: ns, us, ms, s, m, h, d)", durationWant)
		}
		ns, ok := unitNanos(unit)
		if !ok {
			return 0, fmt.Errorf("invalid duration (%s)", durationWant)
		}
		r, ok := new(big.Rat).SetString(num)
		if !ok {
			return 0, fmt.Errorf("invalid duration (%s)", durationWant)
		}
		total.Add(total, r.Mul(r, new(big.Rat).SetInt64(ns)))
	}
	whole := new(big.Int).Quo(total.Num(), total.Denom())
	if !whole.IsInt64() {
		return 0, fmt.Errorf("duration too long (want at most %s)", formatDuration(math.MaxInt64))
	}
	return time.Duration(whole.Int64()), nil
}

// formatDuration prints whole days as "<n>d" and everything else in Go
// syntax; both forms parse back with parseDuration.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// parseUint accepts a decimal integer in [lo, hi].
func parseUint(s string, lo, hi uint64) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("out of range (want %d..%d)", lo, hi)
		}
		return 0, fmt.Errorf("invalid number (want an integer %d..%d)", lo, hi)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("out of range (want %d..%d)", lo, hi)
	}
	return v, nil
}

func parsePort(s string) (uint16, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil {
		return 0, errors.New("invalid port (want an integer 0..65535)")
	}
	return uint16(v), nil
}

// parseSize uses the size grammar of the genesis file (docs/genesis.md,
// "Sizes"):
// "100 GB", "1mb", "1MiB", a bare integer is bytes.
func parseSize(s string) (uint64, error) {
	v, err := genesis.ParseSize(strings.TrimSpace(s))
	var ge *genesis.Error
	switch {
	case errors.As(err, &ge):
		return 0, fmt.Errorf("invalid size: %s", ge.Reason)
	case err != nil:
		return 0, fmt.Errorf("invalid size (want e.g. 1000000, 100 GB, 1mb, 1MiB): %w", err)
	}
	return v, nil
}

func parseFloat(s string, lo, hi float64) (float64, error) {
	want := fmt.Sprintf("want a decimal number %s..%s", formatFloat(lo), formatFloat(hi))
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid number (%s)", want)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("out of range (%s)", want)
	}
	return v, nil
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// parseRatio accepts "N:D" (also "N/D" or a decimal fraction) with D > 0 and,
// when limit is non-nil, a value of at most limit.
func parseRatio(s string, limit *big.Rat) (Ratio, error) {
	want := "want N:D, e.g. 1:10"
	if limit != nil {
		want += fmt.Sprintf(", at most %s", limit.RatString())
	}
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") || strings.ContainsAny(t, "eE") {
		return Ratio{}, fmt.Errorf("invalid ratio (%s)", want)
	}
	if a, b, ok := strings.Cut(t, ":"); ok {
		n, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 64)
		d, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
		if err1 != nil || err2 != nil || d == 0 {
			return Ratio{}, fmt.Errorf("invalid ratio (%s)", want)
		}
		r := Ratio{Num: n, Den: d}
		if limit != nil && new(big.Rat).SetFrac(new(big.Int).SetUint64(n), new(big.Int).SetUint64(d)).Cmp(limit) > 0 {
			return Ratio{}, fmt.Errorf("ratio too large (%s)", want)
		}
		return r, nil
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok || t == "" || len(t) > 40 {
		return Ratio{}, fmt.Errorf("invalid ratio (%s)", want)
	}
	if limit != nil && r.Cmp(limit) > 0 {
		return Ratio{}, fmt.Errorf("ratio too large (%s)", want)
	}
	if !r.Num().IsUint64() || !r.Denom().IsUint64() {
		return Ratio{}, fmt.Errorf("ratio out of range (%s)", want)
	}
	return Ratio{Num: r.Num().Uint64(), Den: r.Denom().Uint64()}, nil
}

// parseURL requires an absolute URL with one of the given schemes and a host.
func parseURL(s string, schemes []string) (*url.URL, error) {
	want := "want " + strings.Join(schemes, " or ") + " URL, e.g. " + schemes[0] + "://host:port"
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("invalid URL (%s)", want)
	}
	scheme := strings.ToLower(u.Scheme)
	ok := false
	for _, sc := range schemes {
		ok = ok || scheme == sc
	}
	switch {
	case u.Scheme == "" || u.Opaque != "":
		return nil, fmt.Errorf("not an absolute URL (%s)", want)
	case !ok:
		return nil, fmt.Errorf("unsupported URL scheme %q (%s)", u.Scheme, want)
	case u.Hostname() == "":
		return nil, fmt.Errorf("URL has no host (%s)", want)
	}
	if p := u.Port(); p != "" {
		if _, err := parsePort(p); err != nil {
			return nil, fmt.Errorf("URL has an invalid port %q (%s)", p, want)
		}
	}
	u.Scheme = scheme
	return u, nil
}

// formatURL prints a URL with any password replaced by "xxxxx".
func formatURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Redacted()
}

// parseHostPort requires "host:port" with a non-empty host and a numeric port.
func parseHostPort(s string) (string, error) {
	const want = "want host:port, e.g. 0.0.0.0:1769"
	t := strings.TrimSpace(s)
	host, port, err := net.SplitHostPort(t)
	if err != nil {
		return "", fmt.Errorf("invalid address (%s)", want)
	}
	if host == "" {
		return "", fmt.Errorf("address has no host (%s)", want)
	}
	if _, err := parsePort(port); err != nil || port == "" {
		return "", fmt.Errorf("address has an invalid port %q (%s)", port, want)
	}
	return t, nil
}

// parsePeerMultiaddr requires a multiaddr that ends in /p2p/<peer id>, such
// as /ip4/127.0.0.1/udp/2000/quic-v1/p2p/12D3KooW…
func parsePeerMultiaddr(s string) (multiaddr.Multiaddr, error) {
	const want = "want e.g. /ip4/127.0.0.1/udp/2000/quic-v1/p2p/12D3KooW..."
	m, err := multiaddr.NewMultiaddr(s)
	if err != nil {
		return nil, fmt.Errorf("invalid multiaddr (%s): %w", want, err)
	}
	if _, last := multiaddr.SplitLast(m); last == nil || last.Protocol().Code != multiaddr.P_P2P {
		return nil, fmt.Errorf("multiaddr does not end in /p2p/<peer id> (%s)", want)
	}
	return m, nil
}

func parseCountryCode(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) != 2 || !isASCIILetter(t[0]) || !isASCIILetter(t[1]) {
		return "", errors.New("invalid country code (want an ISO 3166 alpha-2 code, e.g. US, DE)")
	}
	return strings.ToUpper(t), nil
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// parseList splits a comma-separated list, trims spaces, drops empty items
// and parses each item; an error names the bad item.
func parseList[T any](s string, elem func(string) (T, error)) ([]T, error) {
	var out []T
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		v, err := elem(item)
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", item, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func formatList[T any](v []T, f func(T) string) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = f(x)
	}
	return strings.Join(parts, ",")
}

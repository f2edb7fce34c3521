package options

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	good := []struct {
		in   string
		want time.Duration
	}{
		{"100ms", 100 * time.Millisecond},
		{"500ms", 500 * time.Millisecond},
		{"1s", time.Second},
		{"10m", 10 * time.Minute},
		{"1h", time.Hour},
		{"3d", 3 * day},
		{"1d12h", 36 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"5400s", 5400 * time.Second},
		{"5400 s", 5400 * time.Second},
		{" 1d 12h ", 36 * time.Hour},
		{"1.5h", 90 * time.Minute},
		{".5s", 500 * time.Millisecond},
		{"250us", 250 * time.Microsecond},
		{"250µs", 250 * time.Microsecond},
		{"7ns", 7},
		{"+2s", 2 * time.Second},
		{"0", 0},
		{"0s", 0},
		{"106751d", 106751 * day},
	}
	for _, tc := range good {
		got, err := parseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if err == nil {
			back, err := parseDuration(formatDuration(got))
			if err != nil || back != got {
				t.Errorf("formatDuration(%v) = %q does not parse back: %v, %v", got, formatDuration(got), back, err)
			}
		}
	}
	bad := []struct{ in, msg string }{
		{"30", "missing unit (want e.g. 500ms, 7s, 1h, 3d; units: ns, us, ms, s, m, h, d)"},
		{"7 parsecs", "invalid duration (want e.g. 500ms, 7s, 1h, 3d)"},
		{"1h30", "missing unit"},
		{"", "empty duration"},
		{"-1s", "negative duration"},
		{"1..5s", "invalid duration"},
		{"s", "invalid duration"},
		{"1H", "invalid duration"},
		{"1e3s", "invalid duration"},
		{"106752d", "duration too long"},
		{strings.Repeat("9", 400) + "d", "duration too long"},
	}
	for _, tc := range bad {
		_, err := parseDuration(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseDuration(%q) error = %v, want one containing %q", tc.in, err, tc.msg)
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "TRUE": true, "True": true, "1": true, "false": false, "FALSE": false, "0": false, " true ": true} {
		if got, err := parseBool(in); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yes", "no", "on", "2", "", `"true"`} {
		if _, err := parseBool(in); err == nil || !strings.Contains(err.Error(), "want true, false, 1 or 0") {
			t.Errorf("parseBool(%q) error = %v", in, err)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	if v, err := parseUint("8000", 0, 10000); err != nil || v != 8000 {
		t.Errorf("parseUint(8000) = %v, %v", v, err)
	}
	for _, tc := range []struct{ in, msg string }{
		{"10001", "out of range (want 0..10000)"},
		{"-1", "invalid number (want an integer 0..10000)"},
		{"1.5", "invalid number"},
		{"abc", "invalid number"},
		{"99999999999999999999999", "out of range"},
	} {
		if _, err := parseUint(tc.in, 0, 10000); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseUint(%q) error = %v, want %q", tc.in, err, tc.msg)
		}
	}
	for _, in := range []string{"65536", "-1", "http", ""} {
		if _, err := parsePort(in); err == nil || err.Error() != "invalid port (want an integer 0..65535)" {
			t.Errorf("parsePort(%q) error = %v", in, err)
		}
	}
	if v, err := parseFloat("-82.907100", -180, 180); err != nil || v != -82.9071 {
		t.Errorf("parseFloat = %v, %v", v, err)
	}
	for _, tc := range []struct{ in, msg string }{
		{"91", "out of range (want a decimal number -90..90)"},
		{"NaN", "invalid number"}, {"Inf", "invalid number"}, {"north", "invalid number"},
	} {
		if _, err := parseFloat(tc.in, -90, 90); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseFloat(%q) error = %v, want %q", tc.in, err, tc.msg)
		}
	}
}

func TestParseRatio(t *testing.T) {
	one := big.NewRat(1, 1)
	for in, want := range map[string]Ratio{"1:10": {1, 10}, " 8 : 10 ": {8, 10}, "0.1": {1, 10}, "1/4": {1, 4}, "1:1": {1, 1}, "0:5": {0, 5}} {
		if got, err := parseRatio(in, one); err != nil || got != want {
			t.Errorf("parseRatio(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"1:0", "invalid ratio (want N:D, e.g. 1:10, at most 1)"},
		{"2:1", "ratio too large"}, {"1.5", "ratio too large"}, {"-1:2", "invalid ratio"},
		{"a:b", "invalid ratio"}, {"", "invalid ratio"}, {"1e3", "invalid ratio"},
	} {
		if _, err := parseRatio(tc.in, one); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseRatio(%q) error = %v, want %q", tc.in, err, tc.msg)
		}
	}
	if r := (Ratio{1, 4}); r.Float() != 0.25 || r.String() != "1:4" {
		t.Errorf("Ratio{1,4} = %v %v", r.Float(), r)
	}
}

func TestParseURL(t *testing.T) {
	u, err := parseURL("HTTP://Example.com:8545/rpc", httpSchemes())
	if err != nil || u.Scheme != "http" || u.Host != "Example.com:8545" || u.Path != "/rpc" {
		t.Errorf("parseURL = %v, %v", u, err)
	}
	for _, tc := range []struct {
		in      string
		schemes []string
		msg     string
	}{
		{"localhost:8080", httpSchemes(), "not an absolute URL (want http or https URL, e.g. http://host:port)"},
		{"localhost/x", httpSchemes(), "not an absolute URL"},
		{"example.com", httpSchemes(), "not an absolute URL"},
		{"ftp://example.com", httpSchemes(), `unsupported URL scheme "ftp"`},
		{"http://", httpSchemes(), "URL has no host"},
		{"http://a:99999", httpSchemes(), `URL has an invalid port "99999"`},
		{"http://example.com", wsSchemes(), `unsupported URL scheme "http" (want ws or wss URL, e.g. ws://host:port)`},
		{"http://exa mple.com", httpSchemes(), "invalid URL"},
	} {
		if _, err := parseURL(tc.in, tc.schemes); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseURL(%q) error = %v, want %q", tc.in, err, tc.msg)
		}
	}
	u, _ = parseURL("https://user:hunter2@rpc.example/v3/x", httpSchemes())
	if s := formatURL(u); strings.Contains(s, "hunter2") {
		t.Errorf("formatURL leaks the password: %s", s)
	}
}

func TestParseList(t *testing.T) {
	got, err := parseList(" http://a:1 ,, http://b:2/ ,", func(s string) (string, error) { return s, nil })
	if err != nil || strings.Join(got, "|") != "http://a:1|http://b:2/" {
		t.Errorf("parseList = %q, %v", got, err)
	}
	_, err = parseList("http://a:1,ftp://b", func(s string) (any, error) { return parseURL(s, httpSchemes()) })
	if err == nil || !strings.HasPrefix(err.Error(), `item "ftp://b": unsupported URL scheme "ftp"`) {
		t.Errorf("parseList error = %v", err)
	}
	if got, err := parseList(" , ", func(s string) (string, error) { return s, nil }); err != nil || got != nil {
		t.Errorf("empty list = %q, %v", got, err)
	}
}

func TestParseHostPortAndMultiaddr(t *testing.T) {
	for _, in := range []string{"0.0.0.0:1769", "localhost:1769", "[::1]:7000", "node.example.com:0"} {
		if _, err := parseHostPort(in); err != nil {
			t.Errorf("parseHostPort(%q): %v", in, err)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"localhost", "invalid address (want host:port, e.g. 0.0.0.0:1769)"},
		{":1769", "address has no host"},
		{"host:http", `invalid port "http"`},
		{"host:", `invalid port ""`},
		{"host:70000", `invalid port "70000"`},
	} {
		if _, err := parseHostPort(tc.in); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseHostPort(%q) error = %v, want %q", tc.in, err, tc.msg)
		}
	}
	const id = "12D3KooWDtGECieXrqKoVxfDhU7afYnS6toj1GqWXuEDfcaGPDxa"
	for _, in := range []string{"/ip4/127.0.0.1/udp/2000/quic-v1/p2p/" + id, "/dns/mynode.example.com/udp/2000/quic-v1/p2p/" + id} {
		if m, err := parsePeerMultiaddr(in); err != nil || m.String() != in {
			t.Errorf("parsePeerMultiaddr(%q) = %v, %v", in, m, err)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"/ip4/127.0.0.1/udp/2000/quic-v1", "does not end in /p2p/<peer id>"},
		{"127.0.0.1:2000", "invalid multiaddr"},
		{"/ip4/999.0.0.1/udp/2000/quic-v1/p2p/" + id, "invalid multiaddr"},
		{"/ip4/127.0.0.1/udp/2000/quic-v1/p2p/notapeer", "invalid multiaddr"},
	} {
		if _, err := parsePeerMultiaddr(tc.in); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parsePeerMultiaddr(%q) error = %v, want %q", tc.in, err, tc.msg)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"100 GB": 100e9, "3 TB": 3e12, "1mb": 1e6, "1MiB": 1 << 20, "1000000000": 1e9, "1 GB": 1e9} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"12 parsecs", "-1", "", "1.5.5 GB"} {
		if _, err := parseSize(in); err == nil || !strings.HasPrefix(err.Error(), "invalid size") || !strings.Contains(err.Error(), "want") {
			t.Errorf("parseSize(%q) error = %v", in, err)
		}
	}
}

func TestCountryCodeAndEnum(t *testing.T) {
	if v, err := parseCountryCode("us"); err != nil || v != "US" {
		t.Errorf("parseCountryCode(us) = %q, %v", v, err)
	}
	for _, in := range []string{"USA", "U", "1A", "", "üs"} {
		if _, err := parseCountryCode(in); err == nil {
			t.Errorf("parseCountryCode(%q) accepted", in)
		}
	}
	var s string
	v := enumVar(&s, "full", "compact", "json")
	if err := v.Set("JSON"); err != nil || s != "json" {
		t.Errorf("enum JSON = %q, %v", s, err)
	}
	if err := v.Set("xml"); err == nil || err.Error() != "unknown value (want one of full, compact, json)" {
		t.Errorf("enum xml error = %v", err)
	}
}

func TestStorageURI(t *testing.T) {
	for _, in := range []string{"postgres://u:p@h:5432/db", "postgresql://h/db?sslmode=require", "POSTGRES://h/db", "sqlite:///var/db", "sqlite://rel/db"} {
		if _, err := parseStorageURI(in); err != nil {
			t.Errorf("parseStorageURI(%q): %v", in, err)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"mysql://h/db", `unsupported scheme "mysql"`},
		{"/var/db", "not a URI"},
		{"sqlite://", "sqlite URI has no path"},
		{"postgres://a:1,b:2/db", "several hosts are not supported"},
		{"postgres://h:99999/db", "invalid"},
	} {
		if _, err := parseStorageURI(tc.in); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseStorageURI(%q) error = %v, want %q", tc.in, err, tc.msg)
		}
	}
}

// Storage URIs are shown with their passwords hidden (postgres.RedactURI),
// in the user info and in a password query parameter alike: in errors about
// the positional URI, about --uri, and in the summary.
func TestStorageURIRedacted(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"-- storage-sql postgres://alice:topsecret1@h:99999/db", `"postgres://alice:xxxxx@h:99999/db"`},
		{"-- storage-sql postgres://h:99999/db?password=topsecret2", `"postgres://h:99999/db?password=xxxxx"`},
		{"-- storage-sql --uri postgres://bob:topsecret3@h:99999/db?password=topsecret4", `"postgres://bob:xxxxx@h:99999/db?password=xxxxx"`},
		{"-- storage-sql --uri mysql://u:topsecret5@db/x", `"mysql://u:xxxxx@db/x"`},
		{"-- storage-sql postgres://a:topsecret6@h/db sqlite://x?password=topsecret7",
			"got 2 arguments: postgres://a:xxxxx@h/db sqlite://x?password=xxxxx"},
	} {
		_, err := Parse(words(tc.args), nil)
		if err == nil || strings.Contains(err.Error(), "topsecret") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want it to show %s and no password", tc.args, err, tc.want)
		}
	}
	c := mustParse(t, words("-- storage-sql --uri postgres://carol:topsecret8@db/seq?password=topsecret9"), nil)
	if s := c.Summary(); strings.Contains(s, "topsecret") || !strings.Contains(s, "postgres://carol:xxxxx@db/seq?password=xxxxx") {
		t.Errorf("summary does not hide the URI's passwords:\n%s", s)
	}
}

func TestSecret(t *testing.T) {
	s := Secret("BLS_SIGNING_KEY~abc")
	for _, out := range []string{s.String(), s.GoString()} {
		if strings.Contains(out, "abc") {
			t.Errorf("secret leaks: %q", out)
		}
	}
	if s.Reveal() != "BLS_SIGNING_KEY~abc" || Secret("").String() != "" {
		t.Error("Reveal or empty String wrong")
	}
}

package types

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	const lower = "0xa15bb66138824a1c7167f5e85b957d04dd34e468"
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{in: lower, want: lower, ok: true},
		{in: "0xA15BB66138824A1C7167F5E85B957D04DD34E468", want: lower, ok: true},
		{in: "0XA15bb66138824a1c7167f5e85b957d04dd34e468", want: lower, ok: true},
		{in: "0x0000000000000000000000000000000000000000", want: "0x0000000000000000000000000000000000000000", ok: true},
		{in: "a15bb66138824a1c7167f5e85b957d04dd34e468"},
		{in: "0xa15bb66138824a1c7167f5e85b957d04dd34e46"},
		{in: "0xa15bb66138824a1c7167f5e85b957d04dd34e4688"},
		{in: "0xg15bb66138824a1c7167f5e85b957d04dd34e468"},
		{in: ""},
		{in: "0x"},
		{in: " " + lower},
	}
	for _, tt := range tests {
		a, err := ParseAddress(tt.in)
		if !tt.ok {
			if !errors.Is(err, ErrInvalidAddress) || !strings.Contains(err.Error(), "40 hex digits") {
				t.Errorf("ParseAddress(%q) error = %v, want ErrInvalidAddress", tt.in, err)
			}
			continue
		}
		if err != nil || a.String() != tt.want {
			t.Errorf("ParseAddress(%q) = %s, %v; want %s", tt.in, a, err, tt.want)
		}
	}
}

func TestAddressJSON(t *testing.T) {
	a, _ := ParseAddress("0xA15BB66138824A1C7167F5E85B957D04DD34E468")
	b, err := json.Marshal(a)
	if err != nil || string(b) != `"0xa15bb66138824a1c7167f5e85b957d04dd34e468"` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back Address
	if err := json.Unmarshal(b, &back); err != nil || back != a {
		t.Fatalf("Unmarshal = %s, %v", back, err)
	}
	var nilAddr *Address
	if b, _ := json.Marshal(nilAddr); string(b) != "null" {
		t.Errorf("nil *Address = %s", b)
	}
	m := map[Address]int{a: 1}
	if b, _ := json.Marshal(m); string(b) != `{"0xa15bb66138824a1c7167f5e85b957d04dd34e468":1}` {
		t.Errorf("map key = %s", b)
	}
	if err := json.Unmarshal([]byte(`"0x12"`), &back); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("short address error = %v", err)
	}
	if !(Address{}).IsZero() || a.IsZero() {
		t.Error("IsZero wrong")
	}
}

func TestParseHash(t *testing.T) {
	const h = "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	got, err := ParseHash(strings.ToUpper(h[2:]))
	if !errors.Is(err, ErrInvalidHash) {
		t.Errorf("no prefix: %v, %v", got, err)
	}
	got, err = ParseHash("0x" + strings.ToUpper(h[2:]))
	if err != nil || got.String() != h {
		t.Fatalf("ParseHash = %s, %v", got, err)
	}
	b, _ := json.Marshal(got)
	var back Hash
	if err := json.Unmarshal(b, &back); err != nil || back != got || string(b) != `"`+h+`"` {
		t.Fatalf("JSON round trip = %s (%s), %v", back, b, err)
	}
	for _, bad := range []string{"0x", h[:65], h + "0", "0x" + strings.Repeat("z", 64)} {
		if _, err := ParseHash(bad); !errors.Is(err, ErrInvalidHash) {
			t.Errorf("ParseHash(%q) error = %v", bad, err)
		}
	}
	if !(Hash{}).IsZero() || got.IsZero() {
		t.Error("IsZero wrong")
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"0xa15bb66138824a1c7167f5e85b957d04dd34e468", "0x", "0xZZ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseAddress(s); err == nil {
			if !strings.EqualFold(a.String(), s) {
				t.Fatalf("ParseAddress(%q) = %s", s, a)
			}
		}
		if h, err := ParseHash(s); err == nil {
			if !strings.EqualFold(h.String(), s) {
				t.Fatalf("ParseHash(%q) = %s", s, h)
			}
		}
	})
}

package types

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseVersion(t *testing.T) {
	good := map[string]Version{
		"0.1": {0, 1}, "0.2": {0, 2}, "0.3": {0, 3}, "0.99": {0, 99}, "0.100": {0, 100},
		"1.0": {1, 0}, "65535.65535": {65535, 65535},
	}
	for in, want := range good {
		got, err := ParseVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("String() = %q, want %q", got.String(), in)
		}
	}
	for _, bad := range []string{"", "0", "2", ".2", "0.", "0.2.0", "v0.2", "0.02", "00.2", "+0.2", "-0.2",
		" 0.2", "0.2 ", "0.65536", "65536.0", "0,2", "0.x"} {
		if v, err := ParseVersion(bad); !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("ParseVersion(%q) = %v, %v; want ErrInvalidVersion", bad, v, err)
		}
	}
}

func TestVersionOrder(t *testing.T) {
	ordered := []Version{{0, 1}, {0, 2}, {0, 3}, {0, 99}, {0, 100}, {1, 0}}
	for i := range ordered {
		for j := range ordered {
			if got, want := ordered[i].Less(ordered[j]), i < j; got != want {
				t.Errorf("%v.Less(%v) = %v", ordered[i], ordered[j], got)
			}
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := ordered[i].Compare(ordered[j]); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestVersionJSON(t *testing.T) {
	b, err := json.Marshal(Version{0, 2})
	if err != nil || string(b) != `{"major":0,"minor":2}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"0.2", "0.100", "0.02", "1.2.3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err == nil && v.String() != s {
			t.Fatalf("ParseVersion(%q) = %v, which prints as %q", s, v, v.String())
		}
	})
}

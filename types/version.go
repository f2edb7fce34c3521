package types

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidVersion marks text that is not a "major.minor" protocol version.
var ErrInvalidVersion = errors.New("types: invalid version")

// Version is a protocol version (docs/genesis.md, "Versions"): 0.1 base, 0.2 fees, 0.3 or 0.100
// epochs, 0.99 marketplace. Its JSON form is {"major": M, "minor": N}, as in
// versioned headers (docs/data.md, "Headers"); String gives the "M.N" text of genesis files.
type Version struct {
	Major uint16 `json:"major"`
	Minor uint16 `json:"minor"`
}

// ParseVersion parses "major.minor" strictly: two decimal numbers that fit in
// 16 bits, separated by one dot, with no sign, spaces or leading zeros
// ("0.2", "0.99", "0.100"; not "0.02", "v0.2" or "0.2.0").
func ParseVersion(s string) (Version, error) {
	major, minor, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, fmt.Errorf("%w: %q: missing dot (want major.minor, e.g. 0.2)", ErrInvalidVersion, s)
	}
	ma, err := parseVersionPart(major)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %q: major %v (want major.minor, e.g. 0.2)", ErrInvalidVersion, s, err)
	}
	mi, err := parseVersionPart(minor)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %q: minor %v (want major.minor, e.g. 0.2)", ErrInvalidVersion, s, err)
	}
	return Version{Major: ma, Minor: mi}, nil
}

func parseVersionPart(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("is empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("has non-digit %q", s[i])
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("has a leading zero")
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, errors.New("exceeds 65535")
	}
	return uint16(n), nil
}

// String returns v as "major.minor".
func (v Version) String() string {
	return strconv.FormatUint(uint64(v.Major), 10) + "." + strconv.FormatUint(uint64(v.Minor), 10)
}

// Compare returns -1, 0 or +1 as v is lower than, equal to or higher than w,
// ordering by major then minor (so 0.3 < 0.99 < 0.100).
func (v Version) Compare(w Version) int {
	switch {
	case v.Major != w.Major:
		if v.Major < w.Major {
			return -1
		}
		return 1
	case v.Minor < w.Minor:
		return -1
	case v.Minor > w.Minor:
		return 1
	}
	return 0
}

// Less reports whether v is lower than w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

package types

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// TaggedBase64 errors. ParseTaggedBase64 and UnmarshalText wrap exactly one of
// them, so callers can tell the failures apart with errors.Is.
//
// Error messages never repeat the DATA part of the input, because TaggedBase64
// text often carries private keys; they name the tag, positions and lengths.
var (
	// ErrMissingDelimiter means the text has no "~" between tag and data.
	ErrMissingDelimiter = errors.New("types: tagged base64: missing delimiter")
	// ErrTooManyDelimiters means the text has more than one "~".
	ErrTooManyDelimiters = errors.New("types: tagged base64: too many delimiters")
	// ErrBadTag means the tag is empty or has a character outside [A-Za-z0-9_-].
	ErrBadTag = errors.New("types: tagged base64: bad tag")
	// ErrBadBase64 means the data is not canonical unpadded base64url.
	ErrBadBase64 = errors.New("types: tagged base64: bad base64")
	// ErrMissingChecksum means the data decodes to zero bytes, leaving no checksum byte.
	ErrMissingChecksum = errors.New("types: tagged base64: missing checksum")
	// ErrIncorrectChecksum means the checksum byte does not match tag and value.
	ErrIncorrectChecksum = errors.New("types: tagged base64: incorrect checksum")
)

// TaggedBase64Delimiter separates the tag from the data in the text form.
const TaggedBase64Delimiter = "~"

// maxQuotedTag bounds how much of a bad tag an error message repeats.
const maxQuotedTag = 64

// tb64Encoding is base64 with the URL-safe alphabet, no padding, and strict
// decoding (non-zero trailing bits are rejected), so each value has exactly
// one text form.
var tb64Encoding = base64.RawURLEncoding.Strict()

// TaggedBase64 is a tagged binary value with its text form TAG~DATA.
//
// TAG is a non-empty string over [A-Za-z0-9_-]. DATA is the unpadded base64url
// encoding of Value followed by one checksum byte: the CRC-8 (polynomial 0x07,
// initial value 0, no reflection, no final XOR) of the tag bytes followed by
// the value bytes, XORed with len(Value) mod 256 (docs/keys.md, "TaggedBase64").
// The zero value has
// an empty (invalid) tag; use NewTaggedBase64 or ParseTaggedBase64.
type TaggedBase64 struct {
	// Tag names the kind of value, e.g. "BLS_VER_KEY" or "TX".
	Tag string
	// Value is the binary payload.
	Value []byte
}

// NewTaggedBase64 returns a TaggedBase64 holding a copy of value. It fails
// with ErrBadTag when tag is empty or has a character outside [A-Za-z0-9_-].
func NewTaggedBase64(tag string, value []byte) (TaggedBase64, error) {
	if err := checkTag(tag); err != nil {
		return TaggedBase64{}, err
	}
	v := make([]byte, len(value))
	copy(v, value)
	return TaggedBase64{Tag: tag, Value: v}, nil
}

// ParseTaggedBase64 parses the text form TAG~DATA (docs/keys.md,
// "TaggedBase64"). It accepts exactly
// the strings that String produces: one "~", a valid tag, canonical unpadded
// base64url data (no padding, no line breaks, no non-zero trailing bits) that
// decodes to the value plus a correct checksum byte.
func ParseTaggedBase64(s string) (TaggedBase64, error) {
	tag, data, ok := strings.Cut(s, TaggedBase64Delimiter)
	if !ok {
		return TaggedBase64{}, fmt.Errorf("%w %q in %d-character input (want TAG~DATA)",
			ErrMissingDelimiter, TaggedBase64Delimiter, len(s))
	}
	if i := strings.Index(data, TaggedBase64Delimiter); i >= 0 {
		return TaggedBase64{}, fmt.Errorf("%w: second %q at offset %d (want exactly one)",
			ErrTooManyDelimiters, TaggedBase64Delimiter, len(tag)+1+i)
	}
	if err := checkTag(tag); err != nil {
		return TaggedBase64{}, err
	}
	// The standard decoder skips '\r' and '\n' even in strict mode; reject
	// every byte outside the alphabet first so that one value has one form.
	for i := 0; i < len(data); i++ {
		if !isBase64URLChar(data[i]) {
			return TaggedBase64{}, fmt.Errorf("%w: tag %s: character %q at data offset %d (want [A-Za-z0-9_-], no padding)",
				ErrBadBase64, tag, data[i], i)
		}
	}
	raw, err := tb64Encoding.DecodeString(data)
	if err != nil {
		var corrupt base64.CorruptInputError
		if errors.As(err, &corrupt) {
			return TaggedBase64{}, fmt.Errorf("%w: tag %s: invalid length or non-zero trailing bits at data offset %d",
				ErrBadBase64, tag, int64(corrupt))
		}
		return TaggedBase64{}, fmt.Errorf("%w: tag %s: %v", ErrBadBase64, tag, err)
	}
	if len(raw) == 0 {
		return TaggedBase64{}, fmt.Errorf("%w: tag %s: data is empty (want value and one checksum byte)",
			ErrMissingChecksum, tag)
	}
	value, got := raw[:len(raw)-1], raw[len(raw)-1]
	if want := taggedBase64Checksum(tag, value); got != want {
		return TaggedBase64{}, fmt.Errorf("%w: tag %s: %d-byte value has checksum 0x%02x, want 0x%02x",
			ErrIncorrectChecksum, tag, len(value), got, want)
	}
	return TaggedBase64{Tag: tag, Value: value}, nil
}

// String returns the text form TAG~DATA. It does not validate the tag; use
// MarshalText to get an error for an invalid one.
func (t TaggedBase64) String() string {
	buf := make([]byte, len(t.Value)+1)
	copy(buf, t.Value)
	buf[len(t.Value)] = taggedBase64Checksum(t.Tag, t.Value)
	return t.Tag + TaggedBase64Delimiter + tb64Encoding.EncodeToString(buf)
}

// MarshalText implements encoding.TextMarshaler (so JSON encodes the value as
// a string). It fails with ErrBadTag for an invalid tag.
func (t TaggedBase64) MarshalText() ([]byte, error) {
	if err := checkTag(t.Tag); err != nil {
		return nil, err
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseTaggedBase64.
func (t *TaggedBase64) UnmarshalText(text []byte) error {
	v, err := ParseTaggedBase64(string(text))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ValidTag reports whether tag is a valid TaggedBase64 tag: non-empty, every
// character in [A-Za-z0-9_-].
func ValidTag(tag string) bool {
	return checkTag(tag) == nil
}

// checkTag returns a wrapped ErrBadTag when tag is not valid.
func checkTag(tag string) error {
	if tag == "" {
		return fmt.Errorf("%w: tag is empty (want [A-Za-z0-9_-]+)", ErrBadTag)
	}
	for i := 0; i < len(tag); i++ {
		if !isBase64URLChar(tag[i]) {
			return fmt.Errorf("%w: %q: character %q at offset %d (want [A-Za-z0-9_-]+)",
				ErrBadTag, quotedPrefix(tag), tag[i], i)
		}
	}
	return nil
}

// quotedPrefix shortens s for an error message.
func quotedPrefix(s string) string {
	if len(s) <= maxQuotedTag {
		return s
	}
	return s[:maxQuotedTag] + "..."
}

// isBase64URLChar reports whether c is in [A-Za-z0-9_-], which is both the
// tag alphabet and the base64url alphabet.
func isBase64URLChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// taggedBase64Checksum is CRC-8 over tag then value, XORed with len(value) mod 256.
func taggedBase64Checksum(tag string, value []byte) byte {
	var crc byte
	for i := 0; i < len(tag); i++ {
		crc = crc8Update(crc, tag[i])
	}
	for _, b := range value {
		crc = crc8Update(crc, b)
	}
	return crc ^ byte(len(value))
}

// crc8Update feeds one byte to CRC-8 with polynomial 0x07, no reflection.
func crc8Update(crc, b byte) byte {
	crc ^= b
	for range 8 {
		if crc&0x80 != 0 {
			crc = crc<<1 ^ 0x07
		} else {
			crc <<= 1
		}
	}
	return crc
}

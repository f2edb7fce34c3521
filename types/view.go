package types

import "strconv"

// ViewNumber numbers the views of consensus. View 0 is the genesis view; the
// first proposal is made in view 1.
type ViewNumber uint64

// String returns the decimal form of v.
func (v ViewNumber) String() string { return strconv.FormatUint(uint64(v), 10) }

// Commitment is a 32-byte digest binding an object (a leaf, a header, a
// payload). Its meaning, and the tag of its text form, depend on the object.
type Commitment [32]byte

// IsZero reports whether c is all zero bytes.
func (c Commitment) IsZero() bool { return c == Commitment{} }

// String returns c as lowercase hex with a 0x prefix, for logs.
func (c Commitment) String() string {
	const hexdigits = "0123456789abcdef"
	b := make([]byte, 2+64)
	b[0], b[1] = '0', 'x'
	for i, x := range c {
		b[2+2*i] = hexdigits[x>>4]
		b[3+2*i] = hexdigits[x&15]
	}
	return string(b)
}

// Short returns the first 8 hex digits of c, for compact log lines.
func (c Commitment) Short() string { return c.String()[2:10] }

// Package storagecodec is the binary encoding the storage backends use for
// what they keep as bytes: decided blocks (leaf, payload and certificate),
// leaves with their certificate, headers, and the consensus safety state.
//
// Every encoding starts with a format version byte and a kind byte (block,
// header, safety state, leaf), then the fields in a fixed order, and ends
// with a CRC-32C (Castagnoli) of everything before it. Encodings are
// written in format [Version] (2); version 1, which lacks the header's
// builder signature, payload commitment tag and chain config commitment,
// still decodes, with those fields nil or empty. Integers are
// big-endian and fixed-size (u16 version parts, u64 heights, views and
// timestamps, 32-byte U256 values); byte strings carry a u32 length;
// optional values a presence byte that is 0 or 1. A block's payload
// namespace table is written once when it equals the header's (the usual
// case) and in full otherwise.
//
// The encoding is canonical: for every input of the current version a
// Decode function accepts, the matching Encode function gives back exactly
// the same bytes (nil and empty byte strings both decode to nil); a
// version 1 input re-encodes in the current version. Decoding checks every length
// against the bytes left, so no input can make it allocate more than its
// own size, and it never panics: any malformed, truncated, mixed-up or
// bit-flipped input is an error wrapping [ErrCorrupt] that names the field.
package storagecodec

package keys

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Functions of this package return errors that wrap one of
// these (test with errors.Is) and, for text input, the types.TaggedBase64
// error that caused them.
var (
	// ErrWrongTag means a TaggedBase64 value has a tag other than the one expected.
	ErrWrongTag = errors.New("keys: wrong tag")
	// ErrBadLength means an encoded key or signature has the wrong number of bytes.
	ErrBadLength = errors.New("keys: wrong length")
	// ErrInvalidPoint means bytes are not the canonical encoding of a curve point.
	ErrInvalidPoint = errors.New("keys: invalid point encoding")
	// ErrIdentity means a public key or signature is the identity point.
	ErrIdentity = errors.New("keys: identity point")
	// ErrNotInSubgroup means a point lies outside the prime-order subgroup.
	ErrNotInSubgroup = errors.New("keys: point not in prime-order subgroup")
	// ErrInvalidScalar means a private key scalar is zero or not below the group order.
	ErrInvalidScalar = errors.New("keys: invalid private scalar")
	// ErrZeroKey means a method was called on the zero value of a key type.
	ErrZeroKey = errors.New("keys: key is not initialised")
	// ErrBadProofOfPossession means a proof of possession does not verify for its key.
	ErrBadProofOfPossession = errors.New("keys: bad proof of possession")
	// ErrNoSignatures means AggregateSignatures or AggregatePubKeys got an
	// empty list.
	ErrNoSignatures = errors.New("keys: nothing to aggregate")
	// ErrUnknownScheme means a key scheme name is not all, bls or schnorr.
	ErrUnknownScheme = errors.New("keys: unknown key scheme")

	// ErrKeyFileSyntax means a key file line is not valid .env syntax.
	ErrKeyFileSyntax = errors.New("keys: key file syntax error")
	// ErrMissingKey means a key file lacks a required private key line.
	ErrMissingKey = errors.New("keys: missing key")
	// ErrPublicKeyMismatch means a key file's public key line does not belong to
	// its private key.
	ErrPublicKeyMismatch = errors.New("keys: public key does not match private key")

	// ErrNoKeys is returned by Load when neither a key file nor both private
	// keys were given. Its text is the sequencer's error text (docs/operator.md,
	// "Checks on the whole configuration").
	ErrNoKeys = errors.New("neither key file nor full set of private keys was provided")
	// ErrConflictingKeys is returned by Load when a key file and a private key
	// were both given.
	ErrConflictingKeys = errors.New("keys: key file conflicts with directly given private keys (use one or the other)")
)

// kindError carries a sentinel for errors.Is while printing only its own
// message, so messages read "keys: <context>: <problem>" without repeating the
// sentinel's text.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// errorf formats an error that matches kind under errors.Is (and whatever
// format wraps with %w).
func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

// contextError prefixes an error's message with context, keeping the error
// itself for errors.Is and errors.As.
type contextError struct {
	msg string
	err error
}

func (e *contextError) Error() string { return e.msg }
func (e *contextError) Unwrap() error { return e.err }

// within wraps err as "keys: <context>: <err without its own "keys: " prefix>".
func within(err error, format string, args ...any) error {
	return &contextError{
		msg: "keys: " + fmt.Sprintf(format, args...) + ": " + strings.TrimPrefix(err.Error(), "keys: "),
		err: err,
	}
}

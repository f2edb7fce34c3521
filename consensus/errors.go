package consensus

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these.
var (
	// ErrInvalidStakeTable marks a stake table consensus cannot run on.
	ErrInvalidStakeTable = errors.New("consensus: invalid stake table")
	// ErrInvalidConfig marks bad consensus parameters.
	ErrInvalidConfig = errors.New("consensus: invalid config")
	// ErrInvalidMessage marks a message that failed decoding or a check
	// (signature, signer, view, certificate). Such messages are dropped and
	// counted, never trusted.
	ErrInvalidMessage = errors.New("consensus: invalid message")
	// ErrInvalidCertificate marks a certificate whose signatures, signers or
	// stake do not hold.
	ErrInvalidCertificate = errors.New("consensus: invalid certificate")
	// ErrSafetyViolation is returned (in Ready.Halt) when the node would
	// have to decide a leaf that does not extend its last decided leaf. The
	// engine stops; this is never papered over.
	ErrSafetyViolation = errors.New("consensus: safety violation")
	// ErrNotYet is returned by a Validator or BlockBuilder that cannot
	// decide yet because it waits for data (an L1 block, deposits, state it
	// is fetching). The engine asks again a little later instead of
	// rejecting the proposal or giving up on proposing.
	ErrNotYet = errors.New("consensus: not yet")
	// ErrHalted is returned by an engine that has stopped after a safety
	// violation or a failed storage write.
	ErrHalted = errors.New("consensus: engine halted")
)

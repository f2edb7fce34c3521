package p2p

import "errors"

// Sentinel errors of package p2p, besides the network package's ErrClosed,
// ErrUnknownPeer, ErrMessageTooLarge and ErrInvalidTopic that a Transport
// returns. Test for them with errors.Is.
var (
	// ErrInvalidConfig is returned by New for a Config it cannot run with;
	// the message names the field.
	ErrInvalidConfig = errors.New("p2p: invalid config")

	// ErrQueueFull is returned by Send (and counted by Broadcast) when the
	// outgoing queue of the destination peer is full: the message is dropped
	// rather than blocking the sender.
	ErrQueueFull = errors.New("p2p: send queue full")

	// ErrBadFrame marks a direct-stream frame that breaks the framing rules
	// (unknown kind, a length over the limits, a fragment out of order). The
	// stream it arrived on is reset.
	ErrBadFrame = errors.New("p2p: bad frame")

	// ErrHandshake marks a handshake that could not be read or was refused.
	ErrHandshake = errors.New("p2p: handshake refused")
)

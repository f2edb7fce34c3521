package network

import "errors"

// Sentinel errors returned (usually wrapped with context) by every Transport.
// Test for them with errors.Is.
var (
	// ErrClosed is returned by Send and Broadcast on a transport that has been
	// closed (by Close or, for memnet, by its hub disconnecting it).
	ErrClosed = errors.New("network: transport closed")

	// ErrUnknownPeer is returned by Send when the destination is not a peer the
	// transport knows how to reach (never joined, or already left).
	ErrUnknownPeer = errors.New("network: unknown peer")

	// ErrMessageTooLarge is returned by Send and Broadcast for a message longer
	// than MaxMessageSize; nothing is sent.
	ErrMessageTooLarge = errors.New("network: message too large")

	// ErrInvalidTopic is returned by Broadcast for an empty topic: the empty
	// topic marks direct messages in an Envelope, so broadcasts need a name.
	ErrInvalidTopic = errors.New("network: invalid topic")
)

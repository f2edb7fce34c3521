package memnet

import "errors"

// Sentinel errors of memnet, besides the network package's ErrClosed,
// ErrUnknownPeer, ErrMessageTooLarge and ErrInvalidTopic that its transports
// return. Test for them with errors.Is.
var (
	// ErrAlreadyJoined is returned by Hub.Join for an id whose transport is
	// still connected to the hub.
	ErrAlreadyJoined = errors.New("memnet: peer already joined")

	// ErrInvalidPeerID is returned by Hub.Join for an empty id.
	ErrInvalidPeerID = errors.New("memnet: invalid peer id")

	// ErrInvalidOption is returned by Hub.Join when an option given to NewHub
	// or Join has a bad value (such as a queue size below 1).
	ErrInvalidOption = errors.New("memnet: invalid option")
)

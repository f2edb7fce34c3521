package network

import (
	"context"
	"fmt"
)

// MaxMessageSize is the largest message, in bytes (64 MiB), that Send and
// Broadcast accept. Every transport enforces the same limit, so a message that
// one transport carries is never refused by another: larger messages fail with
// ErrMessageTooLarge before anything is sent. The bound sits well above the
// largest message consensus produces (a DA proposal carries a whole block
// payload, capped by the chain's max_block_size, 1 MB by default, and the
// reference libp2p configuration caps direct messages at 20 MB) while still
// keeping a single message from exhausting a receiver's memory.
const MaxMessageSize = 64 << 20

// PeerID identifies a node on the network. gospresso uses the node's staking
// public key in TaggedBase64 text ("BLS_VER_KEY~...") so consensus can address
// a stake-table member directly; transports map it to their own addresses.
type PeerID string

// Envelope is one received message.
type Envelope struct {
	// From is the peer that sent the message, as authenticated by the
	// transport (memnet trusts its hub; real transports bind it to the
	// connection's key).
	From PeerID
	// Topic is the broadcast topic, or "" for a direct message sent with Send.
	Topic string
	// Data is the message. It is the receiver's own copy: the receiver may
	// keep or modify it.
	Data []byte
}

// Transport moves opaque messages between peers. Bytes in, bytes out: a
// transport never interprets what it carries. All methods are safe for
// concurrent use.
type Transport interface {
	// Self returns the PeerID this transport sends as.
	Self() PeerID

	// Send sends msg as a direct message to the peer to. The message is never
	// delivered to this transport itself unless to == Self(). Send returns
	// once the message has been copied and handed on; it does not wait for
	// the receiver. It never blocks indefinitely: it returns ctx's error if
	// ctx is done, and a receiver whose queue is full loses the message rather
	// than stalling the sender. Errors: ErrClosed after Close,
	// ErrMessageTooLarge when len(msg) > MaxMessageSize, ErrUnknownPeer when
	// to cannot be reached at all.
	Send(ctx context.Context, to PeerID, msg []byte) error

	// Broadcast sends msg on the non-empty topic to every other connected
	// peer, never to this transport itself. It shares Send's guarantees and
	// errors, and returns ErrInvalidTopic for an empty topic.
	Broadcast(ctx context.Context, topic string, msg []byte) error

	// Incoming returns the channel of received messages. It is the same
	// channel on every call. Close closes it once; messages already queued
	// may still be read before the channel reports closed.
	Incoming() <-chan Envelope

	// Close stops the transport: later Send and Broadcast calls return
	// ErrClosed and Incoming is closed. Close is idempotent; calls after the
	// first return nil.
	Close() error
}

// PeerCounter is an optional interface of a Transport that knows how many
// peers it can currently reach.
type PeerCounter interface {
	// ConnectedPeers returns the number of other peers currently connected
	// (reachable by Send and Broadcast), not counting this transport itself.
	ConnectedPeers() int
}

// CheckMessage returns an error wrapping ErrMessageTooLarge when msg is longer
// than MaxMessageSize, and nil otherwise. Transports call it at the top of Send
// and Broadcast.
func CheckMessage(msg []byte) error {
	if len(msg) > MaxMessageSize {
		return fmt.Errorf("%w: %d bytes (want at most %d)", ErrMessageTooLarge, len(msg), MaxMessageSize)
	}
	return nil
}

// CheckTopic returns an error wrapping ErrInvalidTopic when topic is empty,
// and nil otherwise. Transports call it at the top of Broadcast.
func CheckTopic(topic string) error {
	if topic == "" {
		return fmt.Errorf("%w: broadcast topic %q is empty (want a non-empty name; \"\" marks direct messages)", ErrInvalidTopic, topic)
	}
	return nil
}

// Reporter is an optional interface of a Transport that keeps a score of
// its peers. The node reports a peer whose message could not be decoded or
// was found invalid; the transport lowers the peer's score and may
// disconnect a peer that keeps misbehaving. Report never blocks.
type Reporter interface {
	// Report says that peer sent a bad message, and why.
	Report(peer PeerID, reason error)
}

// Readier is an optional interface of a Transport whose broadcasts reach
// peers only after some setup (a gossip mesh forming). The node exposes it
// as consensus_libp2p_is_ready.
type Readier interface {
	// Ready reports whether a broadcast now reaches at least one peer.
	Ready() bool
}

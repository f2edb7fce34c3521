// Package network defines how gospresso nodes exchange messages: a small
// Transport interface that moves opaque bytes between peers, the sentinel
// errors every transport returns, and the limits every transport enforces.
//
// The package imports nothing else of gospresso. Consensus encodes its own
// messages and hands bytes to a Transport; the transport never interprets
// them. Implementations live in subpackages: network/memnet is an in-process
// transport with fault injection (partitions, drops, delays, duplicates) for
// tests; a libp2p transport and a CDN client follow. Every implementation
// passes the conformance suite in network/networktest.
//
// # Addressing
//
// A peer is named by a PeerID, the node's staking public key in TaggedBase64
// text ("BLS_VER_KEY~..."), so consensus can address a stake-table member
// directly. Each transport maps PeerIDs onto its own addresses.
//
// # Delivery contract
//
// Send delivers one message to one peer (to the sender itself only when the
// destination is Self); Broadcast delivers one message, tagged with a
// non-empty topic, to every other connected peer and never to the sender.
// Both are best effort: a message may be lost (a full receive queue, a
// partition, a peer that left), and only a transport that says so preserves
// order. Neither ever blocks indefinitely: both honour their context, and a
// slow receiver never stalls a sender, because each transport gives every
// receiver a bounded queue and drops, and counts, what does not fit.
//
// A transport copies the message before Send or Broadcast returns, so the
// caller may reuse its buffer at once; the Data of a received Envelope belongs
// to the receiver.
//
// Messages larger than MaxMessageSize are rejected with ErrMessageTooLarge
// before anything is sent. After Close, Send and Broadcast return ErrClosed
// and the Incoming channel is closed (once the messages already queued have
// been read).
//
// # Optional interfaces
//
// Keep Transport small and widen it through optional interfaces checked at
// run time, such as PeerCounter:
//
//	if pc, ok := tr.(network.PeerCounter); ok {
//		logger.Info("peers", "count", pc.ConnectedPeers())
//	}
package network

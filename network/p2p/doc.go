// Package p2p is the libp2p transport of gospresso: a network.Transport (and
// network.PeerCounter, network.Reporter and network.Readier) over QUIC
// connections, with gossipsub for broadcasts and one ordered stream per peer
// for direct messages (docs/network.md).
//
// # Identity
//
// A node is named on the network by its staking public key text
// ("BLS_VER_KEY~..."): Self, Envelope.From and the destination of Send. Its
// libp2p identity derives from the staking key (PrivKey, PeerID), and every
// connection starts with a handshake in which each side proves, with a BLS
// signature by its staking key, that its peer ID belongs to that key, and
// that it runs the same genesis and protocol version. Peers of another
// network are refused with one log line naming both genesis commitments.
// Only verified peers' messages are delivered.
//
// # Members and observers
//
// Config.Members is the stake table. Peers outside it may connect as
// observers: they receive broadcasts and may send direct messages, but the
// gossip they publish is neither delivered nor relayed (their own Broadcast
// goes direct to every peer instead).
//
// # Delivery
//
// Send queues a message on the destination's ordered stream and never
// blocks: a full queue drops the message with ErrQueueFull. Broadcast
// gossips messages up to Config.MaxGossipSize and sends longer ones as
// direct messages to every peer; the first broadcast on a topic waits
// (briefly) for the peers to join it. Messages up to network.MaxMessageSize
// go through either way: direct messages longer than Config.MaxDirectSize
// are split into frames. Incoming is bounded; what does not fit is dropped
// and counted (Dropped).
//
// # Scoring and reconnection
//
// Report and protocol violations lower a peer's score; at the threshold the
// peer is disconnected and refused for Config.BanDuration. The transport
// redials its bootstrap peers and every member it has learned of, with
// exponential backoff, and tells members about each other so that they form
// a full mesh.
package p2p

package memnet

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gospresso/gospresso/network"
)

// Transport is one peer's connection to a Hub. It implements
// network.Transport and network.PeerCounter. Create it with Hub.Join; all
// methods are safe for concurrent use.
type Transport struct {
	hub *Hub
	id  network.PeerID
	in  chan network.Envelope

	// mu orders deliveries (read-locked while pushing into in) against
	// shutdown (write-locked while closing in), so no push hits a closed
	// channel.
	mu       sync.RWMutex
	closed   bool        // guarded by mu
	isClosed atomic.Bool // mirrors closed for lock-free checks in Send
	dropped  atomic.Uint64
}

var (
	_ network.Transport   = (*Transport)(nil)
	_ network.PeerCounter = (*Transport)(nil)
)

// Self returns the id the transport joined with.
func (t *Transport) Self() network.PeerID { return t.id }

// Send copies msg into the queue of the peer to (subject to the hub's faults)
// and returns without waiting for the receiver. It fails with
// network.ErrClosed after Close or Disconnect, with ctx's error if ctx is
// done, with network.ErrMessageTooLarge for a message over
// network.MaxMessageSize and with network.ErrUnknownPeer if to is not
// connected to the hub. Sending to Self delivers to this transport's own
// queue.
func (t *Transport) Send(ctx context.Context, to network.PeerID, msg []byte) error {
	if err := t.check(ctx, msg); err != nil {
		return fmt.Errorf("memnet: send from %s to %s: %w", t.id, to, err)
	}
	dst := t.hub.peers.Load().byID[to]
	if dst == nil {
		return fmt.Errorf("memnet: send from %s to %s: %w", t.id, to, network.ErrUnknownPeer)
	}
	t.hub.route(t.id, dst, "", msg)
	return nil
}

// Broadcast copies msg into the queue of every other peer connected to the hub
// (subject to the hub's faults), never to this transport's own. It fails like
// Send, and with network.ErrInvalidTopic for an empty topic.
func (t *Transport) Broadcast(ctx context.Context, topic string, msg []byte) error {
	if err := t.check(ctx, msg); err != nil {
		return fmt.Errorf("memnet: broadcast from %s on %q: %w", t.id, topic, err)
	}
	if err := network.CheckTopic(topic); err != nil {
		return fmt.Errorf("memnet: broadcast from %s: %w", t.id, err)
	}
	for _, dst := range t.hub.peers.Load().list {
		if dst.id != t.id {
			t.hub.route(t.id, dst, topic, msg)
		}
	}
	return nil
}

// check returns the error shared by Send and Broadcast, if any.
func (t *Transport) check(ctx context.Context, msg []byte) error {
	if t.isClosed.Load() {
		return network.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return network.CheckMessage(msg)
}

// Incoming returns the transport's queue of received envelopes. Close and
// Hub.Disconnect close it; envelopes already queued can still be read first.
func (t *Transport) Incoming() <-chan network.Envelope { return t.in }

// Close disconnects the transport from its hub (like Hub.Disconnect of its
// id, which may then Join again) and closes Incoming. It never blocks on
// unread messages, is idempotent, and always returns nil.
func (t *Transport) Close() error {
	t.hub.leave(t.id, t)
	t.shutdown()
	return nil
}

// shutdown closes the queue once.
func (t *Transport) shutdown() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	t.isClosed.Store(true)
	close(t.in)
}

// ConnectedPeers returns how many other peers this transport can currently
// reach: those connected to the hub and not separated from it by a partition.
// It is 0 after Close.
func (t *Transport) ConnectedPeers() int {
	if t.isClosed.Load() {
		return 0
	}
	part := t.hub.part.Load()
	n := 0
	for _, p := range t.hub.peers.Load().list {
		if p.id != t.id && part.connected(t.id, p.id) {
			n++
		}
	}
	return n
}

// Dropped returns how many envelopes addressed to this transport were dropped
// because its incoming queue was full.
func (t *Transport) Dropped() uint64 { return t.dropped.Load() }

package memnet

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gospresso/gospresso/network"
)

// Hub is an in-process network: transports that join the same hub reach each
// other. The zero Hub is not usable; create one with NewHub. All methods are
// safe for concurrent use.
type Hub struct {
	defaults []Option

	mu    sync.Mutex                // serialises membership changes
	peers atomic.Pointer[peerSet]   // copy-on-write membership, read without locks
	part  atomic.Pointer[partition] // nil when healed
	// filter holds the current Filter; nil when none.
	filter atomic.Pointer[Filter]

	sent, delivered, dropped, duplicated atomic.Uint64
	inFlight                             atomic.Int64
}

// peerSet is an immutable snapshot of the hub's members.
type peerSet struct {
	byID map[network.PeerID]*Transport
	list []*Transport // in joining order, so broadcasts visit peers deterministically
}

// Stats counts what a hub has carried since NewHub. Every envelope (one per
// recipient: a broadcast to three peers is three envelopes) is counted in Sent
// once, and each copy of it ends up either Delivered or Dropped, so once no
// delayed message is pending (InFlight == 0):
//
//	Sent + Duplicated == Delivered + Dropped
//
// The fields are read one after another, not as one atomic snapshot, so the
// equation may be off while messages are moving.
type Stats struct {
	// Sent is the number of envelopes handed to the hub by Send and Broadcast.
	Sent uint64
	// Delivered is the number of envelopes placed in a receiver's queue,
	// duplicates included.
	Delivered uint64
	// Dropped is the number of envelopes discarded: by a filter, by a
	// partition, because the receiver had left, or because its queue was full.
	Dropped uint64
	// Duplicated is the number of extra copies filters asked for.
	Duplicated uint64
	// InFlight is the number of delayed envelopes not yet delivered or dropped.
	InFlight int64
}

// NewHub returns an empty hub. The options (WithQueueSize) are the defaults of
// every transport that joins it; Join checks them and reports bad values.
func NewHub(opts ...Option) *Hub {
	h := &Hub{defaults: slices.Clone(opts)}
	h.peers.Store(&peerSet{byID: map[network.PeerID]*Transport{}})
	return h
}

// Join connects a new transport with the given id to the hub. The options
// override the hub's defaults for this transport only. Joining an id whose
// transport is still connected fails with ErrAlreadyJoined; after that
// transport is closed or disconnected the id may join again, getting a fresh
// transport (messages sent to the old one are not carried over). An empty id
// fails with ErrInvalidPeerID, a bad option with ErrInvalidOption.
func (h *Hub) Join(id network.PeerID, opts ...Option) (*Transport, error) {
	if id == "" {
		return nil, fmt.Errorf("memnet: join: %w: id %q is empty (want the peer's id)", ErrInvalidPeerID, id)
	}
	s := defaultSettings()
	for _, opt := range h.defaults {
		opt(&s)
	}
	for _, opt := range opts {
		opt(&s)
	}
	if s.queueSize < 1 {
		return nil, fmt.Errorf("memnet: join %s: %w: queue size %d (want at least 1)", id, ErrInvalidOption, s.queueSize)
	}
	t := &Transport{hub: h, id: id, in: make(chan network.Envelope, s.queueSize)}

	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.peers.Load()
	if _, ok := old.byID[id]; ok {
		return nil, fmt.Errorf("memnet: join %s: %w", id, ErrAlreadyJoined)
	}
	next := &peerSet{byID: make(map[network.PeerID]*Transport, len(old.byID)+1), list: make([]*Transport, 0, len(old.list)+1)}
	for _, p := range old.list {
		next.byID[p.id] = p
		next.list = append(next.list, p)
	}
	next.byID[id] = t
	next.list = append(next.list, t)
	h.peers.Store(next)
	return t, nil
}

// Disconnect closes the transport of the peer id and removes it from the hub,
// as if the node crashed or lost its connection: it receives nothing more, its
// Send and Broadcast fail with network.ErrClosed and its Incoming channel is
// closed (after the envelopes already queued). Messages still delayed on their
// way to it are dropped. The id may Join again. Disconnect of an id that is not
// connected fails with network.ErrUnknownPeer.
func (h *Hub) Disconnect(id network.PeerID) error {
	t := h.leave(id, nil)
	if t == nil {
		return fmt.Errorf("memnet: disconnect %s: %w", id, network.ErrUnknownPeer)
	}
	t.shutdown()
	return nil
}

// leave removes the member id from the hub, but only if it is want (when want
// is not nil), and returns the removed transport or nil.
func (h *Hub) leave(id network.PeerID, want *Transport) *Transport {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.peers.Load()
	t, ok := old.byID[id]
	if !ok || (want != nil && t != want) {
		return nil
	}
	next := &peerSet{byID: make(map[network.PeerID]*Transport, len(old.byID)), list: make([]*Transport, 0, len(old.list))}
	for _, p := range old.list {
		if p != t {
			next.byID[p.id] = p
			next.list = append(next.list, p)
		}
	}
	h.peers.Store(next)
	return t
}

// Peers returns the ids of the connected transports, sorted.
func (h *Hub) Peers() []network.PeerID {
	set := h.peers.Load()
	ids := make([]network.PeerID, 0, len(set.list))
	for _, p := range set.list {
		ids = append(ids, p.id)
	}
	slices.Sort(ids)
	return ids
}

// SetFilter installs f as the hub's filter, replacing any previous one; nil
// removes it. The filter decides the Fate of every envelope sent from then on
// (see Filter).
func (h *Hub) SetFilter(f Filter) {
	if f == nil {
		h.filter.Store(nil)
		return
	}
	h.filter.Store(&f)
}

// Partition splits the network: two peers can exchange messages only if some
// group names both. A peer that is in no group is isolated; a peer named in
// several groups talks to the members of each (a bridge). Partition() with no
// groups isolates every peer. The partition applies to ids, so it also covers
// peers that join later, and it replaces any previous partition. A peer can
// always send to itself. Messages between separated peers are dropped
// silently (the filter is not asked) and counted in Stats.Dropped, as are
// delayed messages whose delay ends while a partition separates the peers.
func (h *Hub) Partition(groups ...[]network.PeerID) {
	p := &partition{groups: make(map[network.PeerID][]int)}
	for g, members := range groups {
		for _, id := range members {
			if gs := p.groups[id]; len(gs) == 0 || gs[len(gs)-1] != g {
				p.groups[id] = append(gs, g)
			}
		}
	}
	h.part.Store(p)
}

// Heal removes the partition: every peer can reach every other again.
func (h *Hub) Heal() {
	h.part.Store(nil)
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	// Read the pending count first: an envelope that leaves InFlight is already
	// counted as delivered or dropped, so the sum never looks short.
	inFlight := h.inFlight.Load()
	return Stats{
		Sent:       h.sent.Load(),
		Delivered:  h.delivered.Load(),
		Dropped:    h.dropped.Load(),
		Duplicated: h.duplicated.Load(),
		InFlight:   inFlight,
	}
}

// partition is an immutable view of Hub.Partition's groups.
type partition struct {
	groups map[network.PeerID][]int // each peer's group indexes, ascending
}

// connected reports whether a and b may talk under p (nil p: no partition).
func (p *partition) connected(a, b network.PeerID) bool {
	if p == nil || a == b {
		return true
	}
	ga, gb := p.groups[a], p.groups[b]
	for i, j := 0, 0; i < len(ga) && j < len(gb); {
		switch {
		case ga[i] == gb[j]:
			return true
		case ga[i] < gb[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// route applies the partition and the filter to one envelope from → dst and
// delivers its copies, now or after the filter's delay.
func (h *Hub) route(from network.PeerID, dst *Transport, topic string, msg []byte) {
	h.sent.Add(1)
	if !h.part.Load().connected(from, dst.id) {
		h.dropped.Add(1)
		return
	}
	var fate Fate
	if f := h.filter.Load(); f != nil {
		fate = (*f)(from, dst.id, topic, msg)
	}
	if fate.Drop {
		h.dropped.Add(1)
		return
	}
	copies := 1
	if fate.Duplicate {
		copies = 2
		h.duplicated.Add(1)
	}
	for range copies {
		env := network.Envelope{From: from, Topic: topic, Data: bytes.Clone(msg)}
		if fate.Delay <= 0 {
			h.deliver(dst, env)
			continue
		}
		h.inFlight.Add(1)
		time.AfterFunc(fate.Delay, func() {
			// The partition may have changed while the envelope was delayed.
			if h.part.Load().connected(env.From, dst.id) {
				h.deliver(dst, env)
			} else {
				h.dropped.Add(1)
			}
			h.inFlight.Add(-1)
		})
	}
}

// deliver puts env into dst's queue if dst is still open and its queue has
// room; otherwise it counts a drop.
func (h *Hub) deliver(dst *Transport, env network.Envelope) {
	dst.mu.RLock()
	defer dst.mu.RUnlock()
	if dst.closed {
		h.dropped.Add(1)
		return
	}
	select {
	case dst.in <- env:
		h.delivered.Add(1)
	default:
		dst.dropped.Add(1)
		h.dropped.Add(1)
	}
}

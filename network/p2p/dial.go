package p2p

import (
	"context"
	"math/rand/v2"
	"time"

	libp2pnet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Reconnection (docs/network.md, "Reconnection").
const (
	// reconnectBase is the first retry delay after a failed dial or a
	// disconnection; each further failure doubles it, up to reconnectMax,
	// with ±10% jitter.
	reconnectBase = 500 * time.Millisecond
	reconnectMax  = 30 * time.Second
	// reconnectTick is how often the address book is scanned.
	reconnectTick = 100 * time.Millisecond
	// dialTimeout bounds one dial.
	dialTimeout = 10 * time.Second
	// maxLearnedFailures is how many failed dials an announced peer that
	// never verified survives in the address book.
	maxLearnedFailures = 5
	// maxUnverified bounds the announced peers in the address book that
	// have not yet verified as members.
	maxUnverified = 256
)

// bookEntry is a peer the transport keeps connected to: a bootstrap peer,
// or a member it learned of (from the member's own hello, or announced by a
// verified peer).
type bookEntry struct {
	addrs     []ma.Multiaddr // from Bootstrap
	learned   []ma.Multiaddr // from the peer's hello or an announcement
	bootstrap bool
	member    bool // verified as a member at least once
	failures  int
	next      time.Time
	dialing   bool
}

// backoff returns the delay after n consecutive failures.
func backoff(n int) time.Duration {
	d := reconnectBase
	for i := 1; i < n && d < reconnectMax; i++ {
		d *= 2
	}
	d = min(d, reconnectMax)
	jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	return d + jitter
}

// reconnectLoop dials every address-book peer that is not connected once its
// backoff has passed.
func (t *Transport) reconnectLoop() {
	tick := time.NewTicker(reconnectTick)
	defer tick.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		if now.Sub(lastPrune) > 10*time.Second {
			t.prune(now)
			lastPrune = now
		}
		type dial struct {
			p     peer.ID
			addrs []ma.Multiaddr
		}
		var due []dial
		t.mu.Lock()
		for p, e := range t.book {
			if e.dialing || now.Before(e.next) || t.peers[p] != nil {
				continue
			}
			e.dialing = true
			due = append(due, dial{p, appendUnique(append([]ma.Multiaddr(nil), e.addrs...), e.learned...)})
		}
		t.mu.Unlock()
		for _, d := range due {
			if t.isRefused(d.p) {
				t.dialDone(d.p, false)
				continue
			}
			if !t.goTracked(func() { t.dial(d.p, d.addrs) }) {
				return
			}
		}
	}
}

func (t *Transport) dial(p peer.ID, addrs []ma.Multiaddr) {
	ctx, cancel := context.WithTimeout(t.ctx, dialTimeout)
	defer cancel()
	// This loop has its own backoff: skip the host's dial backoff.
	ctx = libp2pnet.WithForceDirectDial(ctx, "gospresso reconnect")
	err := t.host.Connect(ctx, peer.AddrInfo{ID: p, Addrs: addrs})
	if err != nil && t.ctx.Err() == nil {
		t.log.Debug("p2p: dial", "peer", p.String(), "err", err)
	}
	t.dialDone(p, err == nil)
}

// dialDone records a dial's outcome. A dial that connected still counts as
// a failure until the peer's hello verifies (which resets the count), so a
// peer that keeps refusing is not redialled in a tight loop.
func (t *Transport) dialDone(p peer.ID, connected bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.book[p]
	if e == nil {
		return
	}
	e.dialing = false
	if connected {
		if st := t.peers[p]; st != nil && st.info != nil {
			e.failures = 0
			return
		}
	}
	e.failures++
	e.next = time.Now().Add(backoff(e.failures))
	if !e.bootstrap && !e.member && e.failures >= maxLearnedFailures {
		delete(t.book, p)
	}
}

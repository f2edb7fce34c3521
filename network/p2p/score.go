package p2p

import (
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	libp2pnet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/gospresso/gospresso/network"
)

// Peer scoring (docs/network.md, "Scoring"). A peer starts at 0; each
// misdeed subtracts a penalty; the score decays back towards 0 with a
// half-life of scoreHalfLife; at banThreshold or below the peer is
// disconnected and refused for Config.BanDuration.
const (
	// penaltyReport is what one Report costs.
	penaltyReport = 10
	// penaltyProtocol is what breaking the wire protocol costs (a bad
	// frame, a malformed announcement): the transport itself saw it.
	penaltyProtocol = 25
	// banThreshold is the score at or below which a peer is banned.
	banThreshold = -100
	// scoreHalfLife is how fast a score recovers.
	scoreHalfLife = time.Minute
)

type score struct {
	value float64
	at    time.Time
}

// decayed returns the score at now.
func (s *score) decayed(now time.Time) float64 {
	return s.value * math.Exp2(-now.Sub(s.at).Seconds()/scoreHalfLife.Seconds())
}

// Report lowers the score of the peer whose staking key text is id because it
// sent a bad message (reason); a peer whose score reaches the ban threshold
// is disconnected and refused for Config.BanDuration. Reports about peers
// that are not connected are ignored. Report never blocks.
func (t *Transport) Report(id network.PeerID, reason error) {
	if t.isClosed.Load() {
		return
	}
	t.mu.Lock()
	p, ok := t.byKey[id]
	t.mu.Unlock()
	if !ok {
		return
	}
	t.penalize(p, penaltyReport, reason)
}

// penalize subtracts penalty from p's score and bans p at the threshold.
func (t *Transport) penalize(p peer.ID, penalty float64, reason error) {
	now := time.Now()
	t.banMu.Lock()
	s := t.scores[p]
	if s == nil {
		s = &score{at: now}
		t.scores[p] = s
	}
	s.value = s.decayed(now) - penalty
	s.at = now
	value := s.value
	banned := value <= banThreshold
	if banned {
		delete(t.scores, p)
		t.refused[p] = now.Add(t.cfg.BanDuration)
	}
	t.banMu.Unlock()
	key := t.keyOf(p)
	if !banned {
		t.log.Debug("p2p: peer penalised", "peer", p.String(), "key", string(key), "score", value, "reason", reason)
		return
	}
	t.log.Warn("p2p: peer banned", "peer", p.String(), "key", string(key), "for", t.cfg.BanDuration.String(), "reason", reason)
	t.closePeer(p, 0)
}

// Score returns the current score of the peer whose staking key text is id
// (0 for a peer with no misdeeds, or unknown).
func (t *Transport) Score(id network.PeerID) float64 {
	t.mu.Lock()
	p, ok := t.byKey[id]
	t.mu.Unlock()
	if !ok {
		return 0
	}
	t.banMu.Lock()
	defer t.banMu.Unlock()
	if s := t.scores[p]; s != nil {
		return s.decayed(time.Now())
	}
	return 0
}

// keyOf returns p's staking key text, or "" when p is not verified.
func (t *Transport) keyOf(p peer.ID) network.PeerID {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.peers[p]; st != nil && st.info != nil {
		return st.info.key
	}
	return ""
}

// isRefused reports whether p is banned or refused now.
func (t *Transport) isRefused(p peer.ID) bool {
	t.banMu.Lock()
	defer t.banMu.Unlock()
	until, ok := t.refused[p]
	if !ok {
		return false
	}
	if time.Now().Before(until) {
		return true
	}
	delete(t.refused, p)
	return false
}

// prune forgets scores that have decayed to nothing.
func (t *Transport) prune(now time.Time) {
	t.banMu.Lock()
	defer t.banMu.Unlock()
	for p, s := range t.scores {
		if s.decayed(now) > -1 {
			delete(t.scores, p)
		}
	}
	for p, until := range t.refused {
		if !now.Before(until) {
			delete(t.refused, p)
		}
	}
}

// gater is the transport as the host's connection gater: it refuses banned
// peers, both ways, and every connection before the transport has started
// (its handlers are not in place yet) and after it closed.
type gater Transport

func (g *gater) t() *Transport { return (*Transport)(g) }

func (g *gater) InterceptPeerDial(p peer.ID) bool {
	return g.open() && !g.t().isRefused(p)
}

func (g *gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }

func (g *gater) InterceptAccept(libp2pnet.ConnMultiaddrs) bool { return g.open() }

func (g *gater) InterceptSecured(_ libp2pnet.Direction, p peer.ID, _ libp2pnet.ConnMultiaddrs) bool {
	return g.open() && !g.t().isRefused(p)
}

func (g *gater) open() bool { return g.t().started.Load() && !g.t().isClosed.Load() }

func (g *gater) InterceptUpgraded(libp2pnet.Conn) (bool, control.DisconnectReason) { return true, 0 }

package p2p

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	libp2pnet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	msmux "github.com/multiformats/go-multistream"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network"
)

// ensurePeerLocked returns p's state, creating it; t.mu is held.
func (t *Transport) ensurePeerLocked(p peer.ID) *peerState {
	st := t.peers[p]
	if st == nil {
		st = &peerState{ready: make(chan struct{})}
		t.peers[p] = st
	}
	return st
}

// onConnected runs (synchronously, from the host) for every new connection:
// it sends this side's hello on the connection and closes the connection
// if the peer has not proven its identity within handshakeTimeout.
func (t *Transport) onConnected(c libp2pnet.Conn) {
	p := c.RemotePeer()
	t.mu.Lock()
	ready := t.ensurePeerLocked(p).ready
	t.mu.Unlock()
	t.goTracked(func() { t.sendHello(c) })
	t.goTracked(func() {
		timer := time.NewTimer(handshakeTimeout)
		defer timer.Stop()
		select {
		case <-ready:
			return
		case <-t.ctx.Done():
			return
		case <-timer.C:
		}
		t.mu.Lock()
		st := t.peers[p]
		verified := st != nil && st.info != nil
		t.mu.Unlock()
		if !verified && !c.IsClosed() {
			t.log.Debug("p2p: no handshake, closing the connection", "peer", p.String(), "addr", c.RemoteMultiaddr().String())
			_ = c.Close()
		}
	})
}

// onDisconnected runs for every closed connection. Once the last connection
// to a peer is gone, the peer leaves the table and its queue is dropped; a
// peer in the address book is redialled soon.
func (t *Transport) onDisconnected(c libp2pnet.Conn) {
	p := c.RemotePeer()
	if len(t.host.Network().ConnsToPeer(p)) > 0 {
		return
	}
	t.mu.Lock()
	st := t.peers[p]
	if st == nil {
		t.mu.Unlock()
		return
	}
	delete(t.peers, p)
	if st.info != nil && t.byKey[st.info.key] == p {
		delete(t.byKey, st.info.key)
	}
	if e := t.book[p]; e != nil {
		e.next = time.Now().Add(reconnectBase)
	}
	w := st.writer
	t.mu.Unlock()
	if w != nil {
		w.stop()
	}
	if st.info != nil {
		t.log.Info("p2p: peer disconnected", "peer", p.String(), "key", string(st.info.key))
	}
}

// sendHello opens a handshake stream on c and writes this side's hello.
func (t *Transport) sendHello(c libp2pnet.Conn) {
	ctx, cancel := context.WithTimeout(t.ctx, handshakeTimeout)
	defer cancel()
	s, err := c.NewStream(ctx)
	if err != nil {
		t.log.Debug("p2p: open handshake stream", "peer", c.RemotePeer().String(), "err", err)
		return
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := s.SetProtocol(helloProtocol); err != nil {
		s.Reset()
		return
	}
	if err := msmux.SelectProtoOrFail(helloProtocol, s); err != nil {
		t.log.Debug("p2p: handshake protocol", "peer", c.RemotePeer().String(), "err", err)
		s.Reset()
		return
	}
	if err := writePrefixed(s, t.hello); err != nil {
		t.log.Debug("p2p: send handshake", "peer", c.RemotePeer().String(), "err", err)
		s.Reset()
	}
}

// handleHello reads and checks a peer's hello.
func (t *Transport) handleHello(s libp2pnet.Stream) {
	if !t.track() {
		s.Reset()
		return
	}
	defer t.wg.Done()
	defer s.Close()
	c := s.Conn()
	p := c.RemotePeer()
	t.mu.Lock()
	st := t.peers[p]
	again := st != nil && st.hellos[c.ID()]
	if st != nil && !again {
		if st.hellos == nil {
			st.hellos = make(map[string]bool)
		}
		st.hellos[c.ID()] = true
	}
	t.mu.Unlock()
	if st == nil || again {
		// One hello per connection.
		if again {
			t.penalize(p, penaltyProtocol, fmt.Errorf("%w: a second handshake on one connection", ErrHandshake))
		}
		s.Reset()
		return
	}
	_ = s.SetReadDeadline(time.Now().Add(handshakeTimeout))
	b, err := readPrefixed(s, maxHelloSize)
	if err != nil {
		t.log.Debug("p2p: read handshake", "peer", p.String(), "err", err)
		s.Reset()
		return
	}
	h, perr := parseHello(b)
	t.verifyHello(c, h, perr)
}

// verifyHello admits or refuses the peer of c on the strength of its hello.
func (t *Transport) verifyHello(c libp2pnet.Conn, h hello, perr error) {
	p := c.RemotePeer()
	ours := hex.EncodeToString(t.cfg.Genesis[:])
	if h.version != protocolVersion || h.genesis != t.cfg.Genesis {
		// One line, naming both networks (SPEC "Network identity").
		t.log.Warn("p2p: refused a peer of another network",
			"peer", p.String(), "addr", c.RemoteMultiaddr().String(),
			"our_genesis", ours, "peer_genesis", hex.EncodeToString(h.genesis[:]),
			"our_chain_id", t.cfg.ChainID, "peer_chain_id", h.chainID,
			"our_version", protocolVersion, "peer_version", h.version)
		t.refuse(p, mismatchBackoff)
		return
	}
	if perr != nil {
		t.log.Warn("p2p: refused a peer: malformed handshake", "peer", p.String(), "addr", c.RemoteMultiaddr().String(), "err", perr)
		t.refuse(p, mismatchBackoff)
		return
	}
	key, kerr := keys.StakingPubKeyFromBytes(h.key)
	sig, serr := keys.SignatureFromBytes(h.sig)
	if err := errors.Join(kerr, serr); err != nil || !key.Verify(handshakeMessage(h.genesis, p), sig) {
		t.log.Warn("p2p: refused a peer: bad handshake signature", "peer", p.String(), "addr", c.RemoteMultiaddr().String(), "err", err)
		t.refuse(p, mismatchBackoff)
		return
	}
	if t.isRefused(p) {
		t.closePeer(p, 0)
		return
	}
	info := &peerInfo{
		key: network.PeerID(key.String()), member: t.cfg.members[network.PeerID(key.String())],
		nonce: h.nonce, maxChunk: min(int(h.maxChunk), t.cfg.MaxDirectSize),
		// What it advertises, and the address this side sees (its listening
		// socket, which QUIC reuses to dial: dialable even when what it
		// advertises is not).
		addrs: appendUnique(slices.Clone(h.addrs), c.RemoteMultiaddr()),
	}
	if info.maxChunk < minDirectSize {
		info.maxChunk = minDirectSize
	}
	t.mu.Lock()
	if c.IsClosed() {
		t.mu.Unlock()
		return
	}
	st := t.ensurePeerLocked(p)
	prev := st.info
	restarted := prev != nil && prev.nonce != info.nonce
	if prev != nil && prev.key != info.key && t.byKey[prev.key] == p {
		delete(t.byKey, prev.key)
	}
	st.info = info
	t.byKey[info.key] = p
	if st.writer == nil || restarted {
		if st.writer != nil {
			st.writer.stop()
		}
		st.writer = newWriter(t, p, info.maxChunk)
		w := st.writer
		if !t.goTracked(w.run) {
			w.stop()
		}
	}
	if prev == nil {
		close(st.ready)
	}
	pending := st.pending
	st.pending = nil
	e := t.book[p]
	switch {
	case info.member && len(info.addrs) > 0:
		if e == nil {
			e = &bookEntry{}
			t.book[p] = e
		}
		e.member = true
		e.learned = e.learned[:0]
		e.learned = appendUnique(e.learned, info.addrs...)
		e.failures = 0
	case !info.member && e != nil && !e.bootstrap:
		delete(t.book, p) // observers redial us; we do not chase them
	case e != nil:
		e.failures = 0
	}
	t.mu.Unlock()
	if info.member {
		// Members keep a full mesh: libp2p's connection manager (which
		// trims past 192 connections) must leave them alone.
		t.host.ConnManager().Protect(p, "gospresso/member")
	}
	for _, topic := range pending {
		t.requestJoin(topic)
	}
	if restarted {
		// The peer restarted: connections to its previous run are dead.
		for _, old := range t.host.Network().ConnsToPeer(p) {
			if old != c {
				_ = old.Close()
			}
		}
		t.log.Info("p2p: peer restarted", "peer", p.String(), "key", string(info.key))
	}
	if prev == nil {
		t.log.Info("p2p: peer connected", "peer", p.String(), "key", string(info.key), "member", info.member,
			"addr", c.RemoteMultiaddr().String())
		t.goTracked(func() { t.announce(p, info) })
	}
}

// refuse closes the connections to p (after a grace period in which p can
// read this side's hello) and refuses p for d.
func (t *Transport) refuse(p peer.ID, d time.Duration) {
	t.banMu.Lock()
	if until := time.Now().Add(d); until.After(t.refused[p]) {
		t.refused[p] = until
	}
	t.banMu.Unlock()
	t.closePeer(p, refuseGrace)
}

// closePeer closes every connection to p after delay.
func (t *Transport) closePeer(p peer.ID, delay time.Duration) {
	t.goTracked(func() {
		if delay > 0 {
			timer := time.NewTimer(delay)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-t.ctx.Done():
				return
			}
		}
		_ = t.host.Network().ClosePeer(p)
	})
}

// waitVerified returns p's verified identity, waiting (bounded by ctx and
// handshakeTimeout) while p is connected and its handshake is under way. It
// returns nil for a peer that is not connected or does not verify.
func (t *Transport) waitVerified(ctx context.Context, p peer.ID) *peerInfo {
	t.mu.Lock()
	st := t.peers[p]
	if st == nil {
		t.mu.Unlock()
		return nil
	}
	if st.info != nil {
		info := st.info
		t.mu.Unlock()
		return info
	}
	ready := st.ready
	t.mu.Unlock()
	timer := time.NewTimer(handshakeTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	case <-t.ctx.Done():
		return nil
	case <-timer.C:
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.peers[p]; st != nil {
		return st.info
	}
	return nil
}

// announce tells a newly verified peer p about the members this transport
// is connected to, and, when p is a member, tells the other verified peers
// about p: so every member ends up connected to every other.
func (t *Transport) announce(p peer.ID, info *peerInfo) {
	var known []announced
	var others []peer.ID
	t.mu.Lock()
	for q, st := range t.peers {
		if q == p || st.info == nil {
			continue
		}
		others = append(others, q)
		if st.info.member && len(st.info.addrs) > 0 {
			known = append(known, announced{id: q, addrs: st.info.addrs})
		}
	}
	t.mu.Unlock()
	if len(known) > 0 {
		t.sendAnnounce(p, known)
	}
	if info.member && len(info.addrs) > 0 {
		for _, q := range others {
			t.sendAnnounce(q, []announced{{id: p, addrs: info.addrs}})
		}
	}
}

func (t *Transport) sendAnnounce(to peer.ID, list []announced) {
	ctx, cancel := context.WithTimeout(t.ctx, handshakeTimeout)
	defer cancel()
	s, err := t.host.NewStream(libp2pnet.WithNoDial(ctx, "announce"), to, peersProtocol)
	if err != nil {
		t.log.Debug("p2p: announce", "peer", to.String(), "err", err)
		return
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := writePrefixed(s, marshalAnnounce(list)); err != nil {
		s.Reset()
	}
}

// handlePeers reads a verified peer's announcement and adds the peers it
// names to the address book, to be dialled.
func (t *Transport) handlePeers(s libp2pnet.Stream) {
	if !t.track() {
		s.Reset()
		return
	}
	defer t.wg.Done()
	defer s.Close()
	from := s.Conn().RemotePeer()
	if t.waitVerified(t.ctx, from) == nil {
		s.Reset()
		return
	}
	_ = s.SetReadDeadline(time.Now().Add(handshakeTimeout))
	b, err := readPrefixed(s, maxAnnounceBytes)
	if err != nil {
		s.Reset()
		return
	}
	list, err := parseAnnounce(b)
	if err != nil {
		t.penalize(from, penaltyProtocol, err)
		s.Reset()
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	unverified := 0
	for _, e := range t.book {
		if !e.bootstrap && !e.member {
			unverified++
		}
	}
	for _, a := range list {
		if a.id == t.id || len(a.addrs) == 0 || t.peers[a.id] != nil {
			continue
		}
		e := t.book[a.id]
		if e == nil {
			// Announced peers are dialled before anyone vouched for them:
			// keep their number small.
			if unverified >= maxUnverified {
				return
			}
			unverified++
			e = &bookEntry{next: now}
			t.book[a.id] = e
		}
		if len(e.addrs) == 0 && len(e.learned) == 0 {
			e.learned = appendUnique(e.learned, a.addrs...)
		}
	}
}

// appendUnique appends the addresses of add that dst lacks.
func appendUnique(dst []ma.Multiaddr, add ...ma.Multiaddr) []ma.Multiaddr {
	for _, a := range add {
		if !slices.ContainsFunc(dst, a.Equal) {
			dst = append(dst, a)
		}
	}
	return dst
}

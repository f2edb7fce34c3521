package p2p

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/network"
)

// TestDiscovery: every transport bootstraps from the first only, yet all end
// up connected to all (the first announces each member to the others).
func TestDiscovery(t *testing.T) {
	ks := testKeys(t, 5)
	trs := startNet(t, ks, nil) // waits for the full mesh
	for i, from := range trs {
		to := trs[(i+2)%len(trs)]
		exchange(t, from, to, fmt.Sprintf("d%d", i))
	}
	for _, tr := range trs {
		if !tr.Ready() {
			t.Errorf("%s: not Ready in a full mesh", tr.Self())
		}
		if tr.ID() == "" || len(tr.Addrs()) == 0 || !strings.HasSuffix(tr.Addrs()[0], "/p2p/"+tr.ID()) {
			t.Errorf("ID %q, Addrs %v", tr.ID(), tr.Addrs())
		}
	}
}

// TestOtherGenesisRefused: a peer of another network is refused on both
// sides with one log line naming both genesis commitments and chain ids, and
// no message goes through either way.
func TestOtherGenesisRefused(t *testing.T) {
	ks := testKeys(t, 2)
	members := pubKeys(ks)
	other := [32]byte{0: 0xbb, 31: 7}
	var logA, logB logBuffer
	cfgA := testConfig(ks[0], members)
	cfgA.ChainID, cfgA.Logger = "net-a", logA.logger()
	a := start(t, cfgA)
	cfgB := testConfig(ks[1], members)
	cfgB.Genesis, cfgB.ChainID, cfgB.Logger, cfgB.Bootstrap = other, "net-b", logB.logger(), a.Addrs()
	b := start(t, cfgB)

	const refusal = "refused a peer of another network"
	waitFor(t, 10*time.Second, "refusal on both sides", func() string {
		if !strings.Contains(logA.String(), refusal) || !strings.Contains(logB.String(), refusal) {
			return "not logged yet"
		}
		return ""
	})
	for name, log := range map[string]string{"a": logA.String(), "b": logB.String()} {
		var lines []string
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, refusal) {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 {
			t.Errorf("%s: %d refusal lines, want 1:\n%s", name, len(lines), strings.Join(lines, "\n"))
			continue
		}
		for _, want := range []string{hex.EncodeToString(testGenesis[:]), hex.EncodeToString(other[:]), "net-a", "net-b"} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("%s: refusal line lacks %q: %s", name, want, lines[0])
			}
		}
	}
	ctx := t.Context()
	if err := a.Send(ctx, b.Self(), []byte("hi")); !errors.Is(err, network.ErrUnknownPeer) {
		t.Errorf("a.Send to the other network: %v, want ErrUnknownPeer", err)
	}
	if err := b.Send(ctx, a.Self(), []byte("hi")); !errors.Is(err, network.ErrUnknownPeer) {
		t.Errorf("b.Send to the other network: %v, want ErrUnknownPeer", err)
	}
	// A raw direct stream from b is not accepted either (refused, or reset
	// unread: b never verified at a).
	if s, err := b.host.NewStream(ctx, a.id, directProtocol); err == nil {
		_ = writeMessage(s, "", []byte("sneaky"), 1024)
		_ = s.Close()
	}
	// With no peer, a first broadcast waits for one until its context ends.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := a.Broadcast(short, "x", []byte("to nobody")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a.Broadcast with no peer: %v, want the context's error", err)
	}
	_ = b.Broadcast(short, "x", []byte("to nobody"))
	expectNothing(t, 500*time.Millisecond, a, b)
	waitFor(t, 5*time.Second, "disconnection", func() string {
		if n := len(a.host.Network().Peers()) + len(b.host.Network().Peers()); n != 0 {
			return fmt.Sprintf("%d connections", n)
		}
		return ""
	})
	if a.ConnectedPeers() != 0 || b.ConnectedPeers() != 0 || a.Ready() || b.Ready() {
		t.Errorf("ConnectedPeers %d, %d; Ready %v, %v", a.ConnectedPeers(), b.ConnectedPeers(), a.Ready(), b.Ready())
	}
}

// TestRestartReconnects: a peer restarted on the same port is reconnected,
// whether it is a bootstrap peer of the other side or only a member whose
// address the other side learned from its handshake.
func TestRestartReconnects(t *testing.T) {
	ks := testKeys(t, 2)
	members := pubKeys(ks)
	trs := startNet(t, ks, nil) // b bootstraps from a
	a, b := trs[0], trs[1]
	exchange(t, a, b, "before")
	portA, portB := udpPort(t, a), udpPort(t, b)

	// Restart a (b's bootstrap peer): b redials it.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "b to notice", func() string {
		if n := b.ConnectedPeers(); n != 0 {
			return fmt.Sprintf("%d peers", n)
		}
		return ""
	})
	if err := b.Send(t.Context(), a.Self(), []byte("lost")); !errors.Is(err, network.ErrUnknownPeer) {
		t.Errorf("Send to the stopped peer: %v, want ErrUnknownPeer", err)
	}
	time.Sleep(300 * time.Millisecond) // let b fail a dial or two
	cfg := testConfig(ks[0], members)
	cfg.BindAddress = "127.0.0.1:" + portA
	a2 := start(t, cfg) // no bootstrap: b must come to it
	waitMesh(t, a2, b)
	exchange(t, a2, b, "a-restarted")
	exchange(t, b, a2, "a-restarted-back")

	// Restart b with no bootstrap: a2 learned its address from its hello.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a2 to notice", func() string {
		if n := a2.ConnectedPeers(); n != 0 {
			return fmt.Sprintf("%d peers", n)
		}
		return ""
	})
	time.Sleep(300 * time.Millisecond)
	cfg = testConfig(ks[1], members)
	cfg.BindAddress = "127.0.0.1:" + portB
	b2 := start(t, cfg)
	waitMesh(t, a2, b2)
	exchange(t, a2, b2, "b-restarted")
	exchange(t, b2, a2, "b-restarted-back")
}

// TestBadFrames: garbage and oversized frames on a direct stream from a
// verified peer reset that stream and cost the sender score, but the
// receiver keeps its connections, and honest peers (and the sender's own
// well-formed stream) keep delivering.
func TestBadFrames(t *testing.T) {
	ks := testKeys(t, 3)
	trs := startNet(t, ks, nil)
	a, m, h := trs[0], trs[1], trs[2] // receiver, misbehaving, honest
	ctx := t.Context()

	raw := func(what string, b []byte) {
		t.Helper()
		s, err := m.host.NewStream(ctx, a.id, directProtocol)
		if err != nil {
			t.Fatalf("%s: open a raw stream: %v", what, err)
		}
		defer s.Reset()
		if _, err := s.Write(b); err != nil {
			t.Fatalf("%s: write: %v", what, err)
		}
		// The receiver resets the stream: a read fails.
		_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := s.Read(make([]byte, 1)); err == nil || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "deadline") {
			t.Fatalf("%s: the stream was not reset (read: %v)", what, err)
		}
	}
	raw("garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	raw("unknown kind", frame('X', u16(0), []byte("data")))
	raw("length over MaxDirectSize", u32(DefaultMaxDirectSize+frameOverhead+1))
	raw("fragment total over the limit", frame(frameFirst, u32(network.MaxMessageSize+1), u16(0), []byte("x")))

	expectNothing(t, 200*time.Millisecond, a)
	if score := a.Score(m.Self()); score > -3*penaltyProtocol {
		t.Errorf("score of the misbehaving peer = %v, want at most %d", score, -3*penaltyProtocol)
	}
	if a.ConnectedPeers() != 2 {
		t.Fatalf("receiver has %d peers, want 2", a.ConnectedPeers())
	}
	exchange(t, h, a, "honest")
	exchange(t, a, h, "honest-back")
	exchange(t, m, a, "sender")
	if a.Dropped() != 0 {
		t.Errorf("Dropped = %d", a.Dropped())
	}
}

// TestReportBans: reports lower a peer's score; at the threshold the peer
// is disconnected and refused for the ban duration, then reconnects; other
// peers are not affected.
func TestReportBans(t *testing.T) {
	const ban = 3 * time.Second
	ks := testKeys(t, 3)
	trs := startNet(t, ks, func(_ int, c *Config) { c.BanDuration = ban })
	a, bad, good := trs[0], trs[1], trs[2] // bad bootstraps from a: it keeps redialling
	reason := errors.New("test: invalid message")

	a.Report("BLS_VER_KEY~nobody", reason) // unknown: ignored
	for range 5 {
		a.Report(bad.Self(), reason)
	}
	if got := a.Score(bad.Self()); got > -5*penaltyReport+1 || got < -5*penaltyReport-1 {
		t.Errorf("score after 5 reports = %v, want about %d", got, -5*penaltyReport)
	}
	if a.ConnectedPeers() != 2 {
		t.Fatalf("banned too early: %d peers", a.ConnectedPeers())
	}
	reports := 5
	for a.keyOf(bad.id) != "" && reports < 20 {
		a.Report(bad.Self(), reason)
		reports++
		time.Sleep(time.Millisecond) // the ban closes the connection asynchronously
		if a.isRefused(bad.id) {
			break
		}
	}
	if reports > 11 || !a.isRefused(bad.id) {
		t.Fatalf("%d reports, refused %v; want a ban after about %d", reports, a.isRefused(bad.id), -banThreshold/penaltyReport)
	}
	bannedAt := time.Now()
	waitFor(t, 5*time.Second, "the ban to disconnect", func() string {
		if a.ConnectedPeers() != 1 || bad.ConnectedPeers() != 1 {
			return fmt.Sprintf("a has %d peers, bad %d", a.ConnectedPeers(), bad.ConnectedPeers())
		}
		return ""
	})
	if err := a.Send(t.Context(), bad.Self(), []byte("x")); !errors.Is(err, network.ErrUnknownPeer) {
		t.Errorf("Send to the banned peer: %v, want ErrUnknownPeer", err)
	}
	// Refused while the ban lasts, although bad keeps redialling a.
	for time.Since(bannedAt) < ban-time.Second {
		if n := len(a.host.Network().ConnsToPeer(bad.id)); n != 0 || a.ConnectedPeers() != 1 {
			t.Fatalf("banned peer connected again after %v", time.Since(bannedAt))
		}
		time.Sleep(20 * time.Millisecond)
	}
	exchange(t, good, a, "unaffected")
	exchange(t, good, bad, "unaffected-too")
	// After the ban, bad's reconnection goes through.
	waitMesh(t, a, bad, good)
	if time.Since(bannedAt) < ban {
		t.Errorf("reconnected %v after the ban, before its end", time.Since(bannedAt))
	}
	exchange(t, bad, a, "forgiven")
}

// TestObserver: a peer outside the stake table receives broadcasts, and its
// direct messages (and its broadcasts, which go direct) are delivered, but
// gossip it publishes is neither delivered nor relayed.
func TestObserver(t *testing.T) {
	ks := testKeys(t, 3)
	members := pubKeys(ks[:2])
	m0 := start(t, testConfig(ks[0], members))
	cfg := testConfig(ks[1], members)
	cfg.Bootstrap = m0.Addrs()
	m1 := start(t, cfg)
	cfg = testConfig(ks[2], members)
	cfg.Bootstrap = m0.Addrs()
	obs := start(t, cfg)
	waitMesh(t, m0, m1, obs)
	if obs.member || !m0.member {
		t.Fatal("roles")
	}
	ctx := t.Context()

	// Members' gossip reaches the observer.
	msg := []byte("proposal")
	if err := m0.Broadcast(ctx, consensusTopic, msg); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []*Transport{m1, obs} {
		if env := recv(t, tr, 10*time.Second); env.From != m0.Self() || env.Topic != consensusTopic || !bytes.Equal(env.Data, msg) {
			t.Fatalf("%s got %q from %s on %q", tr.Self(), env.Data, env.From, env.Topic)
		}
	}
	// The observer's direct messages (a fetch request, say) are delivered.
	exchange(t, m0, obs, "to-observer")
	if err := obs.Send(ctx, m0.Self(), []byte("fetch")); err != nil {
		t.Fatal(err)
	}
	if env := recvData(t, m0, []byte("fetch"), 10*time.Second); env.From != obs.Self() || env.Topic != "" {
		t.Fatalf("got %q from %s", env.Data, env.From)
	}
	// Its broadcasts go direct to every peer.
	if err := obs.Broadcast(ctx, transactionsTopic, []byte("tx")); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []*Transport{m0, m1} {
		if env := recvData(t, tr, []byte("tx"), 10*time.Second); env.From != obs.Self() || env.Topic != transactionsTopic {
			t.Fatalf("%s got %q from %s on %q", tr.Self(), env.Data, env.From, env.Topic)
		}
	}
	if !obs.Ready() {
		t.Error("a connected observer is not Ready")
	}
	// Gossip published by the observer itself is ignored by the members.
	ts, err := obs.join("raw")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "members in the observer's topic", func() string {
		if n := len(obs.ps.ListPeers("raw")); n != 2 {
			return fmt.Sprintf("%d peers", n)
		}
		return ""
	})
	drain(m0, m1)
	if err := ts.topic.Publish(ctx, []byte("sneaky gossip")); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, 500*time.Millisecond, m0, m1)
}

// TestLargeMessages: a broadcast over MaxGossipSize goes as direct messages
// (keeping its topic), and a message over MaxDirectSize is split into
// frames, both with small limits and with the defaults.
func TestLargeMessages(t *testing.T) {
	t.Run("small limits", func(t *testing.T) {
		ks := testKeys(t, 3)
		trs := startNet(t, ks, func(_ int, c *Config) { c.MaxGossipSize, c.MaxDirectSize = 4096, 1024 })
		big := make([]byte, 100<<10)
		_, _ = rand.Read(big)
		ctx := t.Context()
		if err := trs[0].Broadcast(ctx, "big", big); err != nil {
			t.Fatal(err)
		}
		for _, tr := range trs[1:] {
			if env := recv(t, tr, 10*time.Second); env.From != trs[0].Self() || env.Topic != "big" || !bytes.Equal(env.Data, big) {
				t.Fatalf("%s: got %d bytes on %q from %s", tr.Self(), len(env.Data), env.Topic, env.From)
			}
		}
		if err := trs[1].Send(ctx, trs[2].Self(), big); err != nil {
			t.Fatal(err)
		}
		if env := recv(t, trs[2], 10*time.Second); env.From != trs[1].Self() || env.Topic != "" || !bytes.Equal(env.Data, big) {
			t.Fatalf("got %d bytes on %q from %s", len(env.Data), env.Topic, env.From)
		}
		small := big[:4000] // fits gossip
		if err := trs[2].Broadcast(ctx, "small", small); err != nil {
			t.Fatal(err)
		}
		for _, tr := range trs[:2] {
			if env := recv(t, tr, 10*time.Second); env.Topic != "small" || !bytes.Equal(env.Data, small) {
				t.Fatalf("%s: got %d bytes on %q", tr.Self(), len(env.Data), env.Topic)
			}
		}
	})
	t.Run("defaults", func(t *testing.T) {
		ks := testKeys(t, 2)
		trs := startNet(t, ks, nil)
		big := make([]byte, DefaultMaxDirectSize+DefaultMaxDirectSize/5) // over both default limits
		_, _ = rand.Read(big)
		if err := trs[0].Broadcast(t.Context(), "huge", big); err != nil {
			t.Fatal(err)
		}
		if env := recv(t, trs[1], 30*time.Second); env.Topic != "huge" || !bytes.Equal(env.Data, big) {
			t.Fatalf("got %d bytes on %q", len(env.Data), env.Topic)
		}
	})
}

// TestQueueBounds: a peer's outgoing queue refuses, without blocking, a
// message past its count or byte bound, but always takes one message.
func TestQueueBounds(t *testing.T) {
	tr := &Transport{}
	w := newWriter(tr, "peer", 1024)
	for i := range maxQueueMessages {
		if err := w.enqueue(outMsg{data: []byte{byte(i)}}); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := w.enqueue(outMsg{}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("past the count bound: %v, want ErrQueueFull", err)
	}
	if got := len(w.take()); got != maxQueueMessages {
		t.Fatalf("took %d messages", got)
	}
	huge := make([]byte, maxQueueBytes)
	if err := w.enqueue(outMsg{data: huge}); err != nil {
		t.Fatalf("a message of the byte bound into an empty queue: %v", err)
	}
	if err := w.enqueue(outMsg{data: []byte("x")}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("past the byte bound: %v, want ErrQueueFull", err)
	}
	if tr.SendDropped() != 2 {
		t.Errorf("SendDropped = %d, want 2", tr.SendDropped())
	}
	w.stop()
	w.stop()
	if err := w.enqueue(outMsg{}); !errors.Is(err, network.ErrUnknownPeer) {
		t.Fatalf("after stop: %v, want ErrUnknownPeer", err)
	}
}

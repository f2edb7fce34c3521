package p2p

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	libp2pnet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/gospresso/gospresso/network"
)

// Timing of the transport (docs/network.md).
const (
	// handshakeTimeout bounds a handshake: a connection whose peer has not
	// proven its identity by then is closed, and a message waiting for its
	// sender's handshake is dropped.
	handshakeTimeout = 10 * time.Second
	// readyTimeout bounds the wait of a topic's first broadcast for the
	// connected peers to join the topic.
	readyTimeout = 2 * time.Second
	// refuseGrace is how long a refused peer's connection stays open, so
	// that it can read this side's hello and log the refusal too.
	refuseGrace = 500 * time.Millisecond
	// mismatchBackoff is how long a peer of another network is refused.
	mismatchBackoff = time.Minute
)

// The topics a node uses (node/replica): joined at start so that peers see
// the subscription as soon as they connect.
const (
	consensusTopic    = "gospresso/consensus"
	transactionsTopic = "gospresso/transactions"
)

// Transport is a network.Transport over libp2p: QUIC connections between
// peers that prove their staking key in a handshake, gossipsub for
// broadcasts and one ordered stream per peer for direct messages
// (docs/network.md). It also implements network.PeerCounter,
// network.Reporter and network.Readier. Create it with New; all methods are
// safe for concurrent use.
type Transport struct {
	cfg    *settings
	log    *slog.Logger
	self   network.PeerID // staking public key text
	id     peer.ID
	member bool // Key is in Members; otherwise an observer
	hello  []byte
	nonce  [8]byte

	host host.Host
	ps   *pubsub.PubSub

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	started  atomic.Bool // the handlers are in place: connections are accepted
	closeMu  sync.Mutex
	closing  bool // guarded by closeMu: no new goroutines
	isClosed atomic.Bool
	once     sync.Once

	in       chan network.Envelope
	inMu     sync.RWMutex // read-locked while delivering, write-locked to close in
	inClosed bool

	dropped     atomic.Uint64 // incoming messages dropped: Incoming full
	sendDropped atomic.Uint64 // outgoing direct messages dropped

	// mu guards the peer table and the address book. Never call into the
	// host or pubsub while holding it: they call back into the transport.
	mu    sync.Mutex
	peers map[peer.ID]*peerState
	byKey map[network.PeerID]peer.ID
	book  map[peer.ID]*bookEntry

	// banMu guards the scores and the refusals (read by the connection
	// gater on the host's dial and accept paths).
	banMu   sync.Mutex
	scores  map[peer.ID]*score
	refused map[peer.ID]time.Time

	topicMu    sync.Mutex
	topics     map[string]*topicState // guarded by topicMu
	joined     sync.Map               // topic name → true, readable from pubsub's loop
	autoJoin   chan string
	autoJoined int // guarded by topicMu

	notifiee *libp2pnet.NotifyBundle
}

var (
	_ network.Transport   = (*Transport)(nil)
	_ network.PeerCounter = (*Transport)(nil)
	_ network.Reporter    = (*Transport)(nil)
	_ network.Readier     = (*Transport)(nil)
)

// peerState is what the transport knows of a connected peer.
type peerState struct {
	ready    chan struct{} // closed once the peer's hello verified
	info     *peerInfo     // nil until then
	writer   *writer       // its direct-message queue, once verified
	inDirect libp2pnet.Stream
	pending  []string        // topics it subscribed to before its hello verified
	hellos   map[string]bool // connections (by ID) that carried a hello
}

// peerInfo is what a verified hello proved.
type peerInfo struct {
	key      network.PeerID // staking public key text
	member   bool
	nonce    [8]byte
	maxChunk int
	addrs    []ma.Multiaddr
}

// New starts a transport: it listens on cfg.BindAddress, joins the node's
// gossip topics and dials the bootstrap peers in the background (and keeps
// redialling them, and every member it learns of, with backoff). ctx bounds
// start-up only; Close stops the transport.
func New(ctx context.Context, cfg Config) (*Transport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	priv, err := PrivKey(s.Key)
	if err != nil {
		return nil, err
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("p2p: peer id: %w", err)
	}
	t := &Transport{
		cfg: s, id: id,
		self:     network.PeerID(s.Key.PubKey().String()),
		in:       make(chan network.Envelope, s.QueueSize),
		peers:    make(map[peer.ID]*peerState),
		byKey:    make(map[network.PeerID]peer.ID),
		book:     make(map[peer.ID]*bookEntry),
		scores:   make(map[peer.ID]*score),
		refused:  make(map[peer.ID]time.Time),
		topics:   make(map[string]*topicState),
		autoJoin: make(chan string, 256),
	}
	t.member = s.members[t.self]
	t.log = s.Logger.With("peer_id", id.String())
	if _, err := rand.Read(t.nonce[:]); err != nil {
		return nil, fmt.Errorf("p2p: nonce: %w", err)
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())

	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.ListenAddrs(s.listen),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.ConnectionGater((*gater)(t)),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.DisableIdentifyAddressDiscovery(),
		libp2p.Ping(false),
		libp2p.UserAgent("gospresso"),
		// Every dial here is UDP: never let failed dials to peers that are
		// down mark UDP as black-holed.
		libp2p.UDPBlackHoleSuccessCounter(nil),
		libp2p.IPv6BlackHoleSuccessCounter(nil),
	}
	if adv := s.advertise; adv != nil {
		opts = append(opts, libp2p.AddrsFactory(func([]ma.Multiaddr) []ma.Multiaddr { return []ma.Multiaddr{adv} }))
	}
	// libp2p leaks goroutines when it fails to listen: find a busy port
	// first.
	if err := canListen(s.listen); err != nil {
		t.cancel()
		return nil, fmt.Errorf("p2p: listen on %s: %w", s.BindAddress, err)
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		t.cancel()
		return nil, fmt.Errorf("p2p: listen on %s: %w", s.BindAddress, err)
	}
	t.host = h
	if err := t.start(); err != nil {
		_ = t.Close()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		_ = t.Close()
		return nil, err
	}
	role := "member"
	if !t.member {
		role = "observer"
	}
	t.log.Info("p2p: listening", "addrs", t.Addrs(), "key", string(t.self), "role", role,
		"chain_id", s.ChainID, "genesis", hex.EncodeToString(s.Genesis[:]))
	return t, nil
}

// canListen binds the UDP address of m and releases it at once.
func canListen(m ma.Multiaddr) error {
	na, err := manet.ToNetAddr(m.Decapsulate(ma.StringCast("/quic-v1")))
	if err != nil {
		return nil // not a plain UDP address: let libp2p judge it
	}
	ua, ok := na.(*net.UDPAddr)
	if !ok || ua.Port == 0 {
		return nil
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return err
	}
	return c.Close()
}

// start sets up gossipsub, the protocol handlers and the background loops.
func (t *Transport) start() error {
	sig := t.cfg.Key.Sign(handshakeMessage(t.cfg.Genesis, t.id))
	t.hello = (&hello{
		version: protocolVersion, genesis: t.cfg.Genesis, chainID: t.cfg.ChainID,
		key: t.cfg.Key.PubKey().Bytes(), sig: sig.Bytes(), nonce: t.nonce,
		maxChunk: uint32(t.cfg.MaxDirectSize), addrs: t.host.Addrs(),
	}).marshal()

	ps, err := t.newPubSub()
	if err != nil {
		return fmt.Errorf("p2p: gossipsub: %w", err)
	}
	t.ps = ps

	t.host.SetStreamHandler(helloProtocol, t.handleHello)
	t.host.SetStreamHandler(directProtocol, t.handleDirect)
	t.host.SetStreamHandler(peersProtocol, t.handlePeers)
	t.notifiee = &libp2pnet.NotifyBundle{
		ConnectedF:    func(_ libp2pnet.Network, c libp2pnet.Conn) { t.onConnected(c) },
		DisconnectedF: func(_ libp2pnet.Network, c libp2pnet.Conn) { t.onDisconnected(c) },
	}
	t.host.Network().Notify(t.notifiee)

	for _, topic := range []string{consensusTopic, transactionsTopic} {
		if _, err := t.join(topic); err != nil {
			return fmt.Errorf("p2p: join %s: %w", topic, err)
		}
	}
	now := time.Now()
	t.mu.Lock()
	for _, ai := range t.cfg.bootstrap {
		if ai.ID == t.id {
			continue
		}
		e := t.book[ai.ID]
		if e == nil {
			e = &bookEntry{next: now}
			t.book[ai.ID] = e
		}
		e.bootstrap = true
		e.addrs = appendUnique(e.addrs, ai.Addrs...)
	}
	t.mu.Unlock()
	t.started.Store(true)
	t.goTracked(t.reconnectLoop)
	t.goTracked(t.autoJoinLoop)
	return nil
}

// track registers a goroutine that Close waits for; it reports false once
// Close has begun.
func (t *Transport) track() bool {
	t.closeMu.Lock()
	defer t.closeMu.Unlock()
	if t.closing {
		return false
	}
	t.wg.Add(1)
	return true
}

// goTracked runs f in a goroutine that Close waits for.
func (t *Transport) goTracked(f func()) bool {
	if !t.track() {
		return false
	}
	go func() {
		defer t.wg.Done()
		f()
	}()
	return true
}

// Self returns the node's staking public key text ("BLS_VER_KEY~...").
func (t *Transport) Self() network.PeerID { return t.self }

// ID returns the libp2p peer ID ("12D3KooW...").
func (t *Transport) ID() string { return t.id.String() }

// Addrs returns the multiaddrs peers can dial this transport on, each ending
// in /p2p/<peer id>: the advertised address, or else the addresses bound
// (with the actual port when BindAddress asked for port 0). Give them to
// other nodes as Bootstrap.
func (t *Transport) Addrs() []string {
	var out []string
	for _, a := range t.host.Addrs() {
		out = append(out, a.String()+"/p2p/"+t.id.String())
	}
	return out
}

// Incoming returns the channel of received messages (capacity
// Config.QueueSize). Close closes it.
func (t *Transport) Incoming() <-chan network.Envelope { return t.in }

// Dropped returns how many received messages were dropped because Incoming
// was full.
func (t *Transport) Dropped() uint64 { return t.dropped.Load() }

// SendDropped returns how many outgoing direct messages were dropped: a
// full queue (ErrQueueFull), or a stream that failed before they were
// written.
func (t *Transport) SendDropped() uint64 { return t.sendDropped.Load() }

// deliver queues env on Incoming, or drops and counts it when Incoming is
// full or closed.
func (t *Transport) deliver(env network.Envelope) {
	t.inMu.RLock()
	defer t.inMu.RUnlock()
	if t.inClosed {
		return
	}
	select {
	case t.in <- env:
	default:
		t.dropped.Add(1)
	}
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

// Send queues msg on the ordered stream to the peer whose staking key text
// is to, and returns without waiting for it to be written. It fails with
// network.ErrUnknownPeer when no verified connection to that peer exists,
// and with ErrQueueFull (the message dropped) when the peer's outgoing queue
// is full; otherwise as network.Transport documents.
func (t *Transport) Send(ctx context.Context, to network.PeerID, msg []byte) error {
	if err := t.check(ctx, msg); err != nil {
		return fmt.Errorf("p2p: send to %s: %w", to, err)
	}
	if to == t.self {
		t.deliver(network.Envelope{From: t.self, Data: bytes.Clone(nonEmpty(msg))})
		return nil
	}
	t.mu.Lock()
	var w *writer
	if st := t.peers[t.byKey[to]]; st != nil {
		w = st.writer
	}
	t.mu.Unlock()
	if w == nil {
		return fmt.Errorf("p2p: send to %s: %w", to, network.ErrUnknownPeer)
	}
	if err := w.enqueue(outMsg{data: bytes.Clone(nonEmpty(msg))}); err != nil {
		return fmt.Errorf("p2p: send to %s: %w", to, err)
	}
	return nil
}

// nonEmpty maps an empty message to nil, so every receiver sees the same.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Broadcast sends msg on topic to every other peer: through gossipsub when it
// is smaller than DirectBroadcastSize (and at most MaxGossipSize) and this
// transport is a member, otherwise as direct messages to every verified
// peer (docs/network.md,
// "Broadcasts"). The first broadcast on a topic waits (at most 2s, and never
// past ctx) for the connected peers to join the topic.
func (t *Transport) Broadcast(ctx context.Context, topic string, msg []byte) error {
	if err := t.check(ctx, msg); err != nil {
		return fmt.Errorf("p2p: broadcast on %q: %w", topic, err)
	}
	if err := network.CheckTopic(topic); err != nil {
		return fmt.Errorf("p2p: broadcast: %w", err)
	}
	if len(topic) > maxTopicLen {
		return fmt.Errorf("p2p: broadcast: %w: topic of %d bytes (at most %d)", network.ErrInvalidTopic, len(topic), maxTopicLen)
	}
	data := bytes.Clone(nonEmpty(msg))
	if !t.member || len(msg) > t.cfg.MaxGossipSize || len(msg) >= t.cfg.DirectBroadcastSize {
		t.broadcastDirect(topic, data)
		return nil
	}
	ts, err := t.join(topic)
	if err != nil {
		return fmt.Errorf("p2p: broadcast on %q: %w", topic, err)
	}
	if err := t.waitTopicReady(ctx, ts); err != nil {
		return fmt.Errorf("p2p: broadcast on %q: %w", topic, err)
	}
	if err := ts.topic.Publish(ctx, data); err != nil {
		if t.isClosed.Load() {
			err = network.ErrClosed
		}
		return fmt.Errorf("p2p: broadcast on %q: %w", topic, err)
	}
	return nil
}

// broadcastDirect queues a broadcast on the direct stream of every verified
// peer. A peer whose queue is full loses it.
func (t *Transport) broadcastDirect(topic string, data []byte) {
	t.mu.Lock()
	var ws []*writer
	for _, st := range t.peers {
		if st.writer != nil {
			ws = append(ws, st.writer)
		}
	}
	t.mu.Unlock()
	for _, w := range ws {
		_ = w.enqueue(outMsg{topic: topic, data: data}) // shared: never modified
	}
}

// ConnectedPeers returns the number of peers connected with a verified
// handshake (members and observers).
func (t *Transport) ConnectedPeers() int {
	if t.isClosed.Load() {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, st := range t.peers {
		if st.info != nil {
			n++
		}
	}
	return n
}

// Ready reports whether a broadcast now reaches at least one peer: a
// verified peer has joined the consensus topic (for an observer, which
// broadcasts direct: a verified peer is connected).
func (t *Transport) Ready() bool {
	if t.isClosed.Load() {
		return false
	}
	verified := t.verifiedPeers()
	if len(verified) == 0 {
		return false
	}
	if !t.member {
		return true
	}
	for _, p := range t.ps.ListPeers(consensusTopic) {
		if verified[p] {
			return true
		}
	}
	return false
}

// verifiedPeers returns the set of connected peers whose hello verified.
func (t *Transport) verifiedPeers() map[peer.ID]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[peer.ID]bool, len(t.peers))
	for p, st := range t.peers {
		if st.info != nil {
			out[p] = true
		}
	}
	return out
}

// Close stops the transport: it closes every connection, ends every
// goroutine it started and closes Incoming. It is idempotent and returns the
// host's close error, if any, the first time.
func (t *Transport) Close() error {
	var err error
	t.once.Do(func() {
		t.closeMu.Lock()
		t.closing = true
		t.closeMu.Unlock()
		t.isClosed.Store(true)
		t.cancel()
		if t.host != nil {
			if t.notifiee != nil {
				t.host.Network().StopNotify(t.notifiee)
			}
			err = t.host.Close()
		}
		t.mu.Lock()
		var ws []*writer
		for _, st := range t.peers {
			if st.writer != nil {
				ws = append(ws, st.writer)
			}
		}
		t.mu.Unlock()
		for _, w := range ws {
			w.stop()
		}
		t.wg.Wait()
		t.inMu.Lock()
		t.inClosed = true
		close(t.in)
		t.inMu.Unlock()
		t.log.Debug("p2p: closed")
	})
	if err != nil {
		return fmt.Errorf("p2p: close: %w", err)
	}
	return nil
}

package p2p

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network"
)

// Defaults of Config (docs/network.md, "Tunables").
const (
	// DefaultMaxGossipSize is the largest broadcast, in bytes, sent through
	// gossipsub (MAX_GOSSIP_TRANSMIT_SIZE of the reference); larger
	// broadcasts go as direct messages.
	DefaultMaxGossipSize = 2_000_000
	// DefaultDirectBroadcastSize is the size, in bytes, from which a
	// broadcast goes as direct messages to every connected peer even though
	// gossipsub could carry it: among fully connected members that sends
	// each peer one copy, where gossip relaying sends large messages (block
	// proposals, transactions) to every peer several times and signs and
	// verifies each one.
	DefaultDirectBroadcastSize = 4 << 10
	// DefaultMaxDirectSize is the largest direct frame, in bytes, that a
	// transport sends or accepts (MAX_DIRECT_TRANSMIT_SIZE of the reference).
	// Longer messages are split into frames of at most this size.
	DefaultMaxDirectSize = 20_000_000
	// DefaultQueueSize is the capacity, in messages, of the Incoming channel.
	DefaultQueueSize = 4096
	// DefaultBanDuration is how long a peer whose score fell to the ban
	// threshold is refused.
	DefaultBanDuration = 10 * time.Minute
)

// minDirectSize is the smallest MaxDirectSize New accepts.
const minDirectSize = 1024

// Config configures a Transport. Key, Members and BindAddress are required;
// zero values of the other fields take the defaults documented on them.
type Config struct {
	// Key is the node's staking key. It signs the handshake, and the libp2p
	// identity derives from it (PrivKey).
	Key keys.StakingKey
	// Genesis is the genesis commitment (genesis.Genesis.Commitment). Peers
	// with another genesis are refused.
	Genesis [32]byte
	// ChainID names the network in logs (the handshake carries it, and a
	// refusal names both sides' values).
	ChainID string
	// Members is the stake table. A peer whose staking key is not in it may
	// connect as an observer: it receives broadcasts and may send direct
	// messages, but its gossip is neither delivered nor relayed
	// (docs/network.md, "Members and observers"). When Key is not in Members
	// this transport is itself an observer.
	Members []keys.StakingPubKey
	// BindAddress is the UDP "host:port" to listen on (QUIC), such as
	// "0.0.0.0:1769"; port 0 picks a free port (read it back with Addrs).
	BindAddress string
	// AdvertiseAddress is the "host:port" (UDP) that peers should dial, such
	// as "node0.example.com:1769", or a multiaddr without /p2p. Default: the
	// addresses bound.
	AdvertiseAddress string
	// Bootstrap lists multiaddrs ending in /p2p/<peer id> to connect to (and
	// reconnect to, with backoff). Entries naming this node are skipped, so
	// every node may be given the same list.
	Bootstrap []string
	// Gossip tunes gossipsub. The zero value means DefaultGossipConfig()
	// (see GossipConfig for partly set values).
	Gossip GossipConfig
	// MaxGossipSize is the largest broadcast, in bytes, sent through
	// gossipsub (default DefaultMaxGossipSize). Every node of a network must
	// use the same value.
	MaxGossipSize int
	// DirectBroadcastSize is the size from which broadcasts go as direct
	// messages to every connected peer (default DefaultDirectBroadcastSize;
	// -1 sends everything up to MaxGossipSize through gossipsub).
	DirectBroadcastSize int
	// MaxDirectSize is the largest direct frame, in bytes, sent or accepted
	// (default DefaultMaxDirectSize). Messages up to network.MaxMessageSize
	// still go through, split into frames.
	MaxDirectSize int
	// QueueSize is the capacity of the Incoming channel, in messages
	// (default DefaultQueueSize). Messages arriving while it is full are
	// dropped and counted (Dropped).
	QueueSize int
	// BanDuration is how long a peer whose score reached the ban threshold
	// stays disconnected and refused (default DefaultBanDuration).
	BanDuration time.Duration
	// Logger receives the transport's logs. Default: discard.
	Logger *slog.Logger
}

// GossipConfig holds the gossipsub tunables of the reference's
// ESPRESSO_SEQUENCER_LIBP2P_* options. The zero GossipConfig means
// DefaultGossipConfig(). Otherwise a zero numeric field takes its default
// (so none can be set to zero) and FloodPublish is used as given: start from
// DefaultGossipConfig() to change a few fields.
type GossipConfig struct {
	// HeartbeatInterval is the gossipsub heartbeat period (default 1s).
	HeartbeatInterval time.Duration
	// HistoryGossip is how many heartbeats of message IDs are gossiped
	// (default 3). It must not exceed HistoryLength.
	HistoryGossip int
	// HistoryLength is how many heartbeats of messages are kept in the
	// message cache (default 5).
	HistoryLength int
	// MeshN is the target mesh degree (default 8).
	MeshN int
	// MeshNHigh is the upper mesh degree bound (default 12).
	MeshNHigh int
	// MeshNLow is the lower mesh degree bound (default 6).
	MeshNLow int
	// MeshOutboundMin is the minimum of outbound peers in the mesh
	// (default 2). It must be below MeshNLow and MeshN/2.
	MeshOutboundMin int
	// MaxIHaveLength is the most message IDs in one IHAVE (default 5000).
	MaxIHaveLength int
	// MaxIHaveMessages is the most IHAVE messages accepted from a peer per
	// heartbeat (default 10).
	MaxIHaveMessages int
	// PublishedMessageIDsCacheTime is how long the IDs of this node's own
	// messages are remembered (default 10s). go-libp2p-pubsub marks its own
	// messages as seen for DuplicateCacheTime, which covers this; the value
	// is checked and otherwise unused.
	PublishedMessageIDsCacheTime time.Duration
	// MaxIWantFollowupTime is how long to wait for a message after an IWANT
	// before penalising the peer's promise (default 3s).
	MaxIWantFollowupTime time.Duration
	// GossipRetransmission is the most IWANT replies per message and peer
	// (default 3).
	GossipRetransmission int
	// FloodPublish makes this node send its own messages to every peer in
	// the topic, not only to its mesh (default true).
	FloodPublish bool
	// DuplicateCacheTime is how long seen message IDs are remembered
	// (default 20m).
	DuplicateCacheTime time.Duration
	// FanoutTTL is the lifetime of fanout peers of topics not joined
	// (default 60s).
	FanoutTTL time.Duration
	// HeartbeatInitialDelay is the delay before the first heartbeat
	// (default 5s).
	HeartbeatInitialDelay time.Duration
	// GossipFactor is the fraction of peers gossiped to, in (0, 1]
	// (default 0.25).
	GossipFactor float64
	// GossipLazy is the minimum of peers gossiped to (default 6).
	GossipLazy int
	// MaxMessagesPerRPC is the most messages accepted in one RPC; an RPC
	// carrying more is dropped whole. Default 0: no limit.
	MaxMessagesPerRPC int
}

// DefaultGossipConfig returns the reference's defaults.
func DefaultGossipConfig() GossipConfig {
	return GossipConfig{
		HeartbeatInterval:            time.Second,
		HistoryGossip:                3,
		HistoryLength:                5,
		MeshN:                        8,
		MeshNHigh:                    12,
		MeshNLow:                     6,
		MeshOutboundMin:              2,
		MaxIHaveLength:               5000,
		MaxIHaveMessages:             10,
		PublishedMessageIDsCacheTime: 10 * time.Second,
		MaxIWantFollowupTime:         3 * time.Second,
		GossipRetransmission:         3,
		FloodPublish:                 true,
		DuplicateCacheTime:           20 * time.Minute,
		FanoutTTL:                    60 * time.Second,
		HeartbeatInitialDelay:        5 * time.Second,
		GossipFactor:                 0.25,
		GossipLazy:                   6,
	}
}

// withDefaults fills zero numeric fields from DefaultGossipConfig; the zero
// GossipConfig becomes DefaultGossipConfig.
func (g GossipConfig) withDefaults() GossipConfig {
	d := DefaultGossipConfig()
	if g == (GossipConfig{}) {
		return d
	}
	dur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	num := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	dur(&g.HeartbeatInterval, d.HeartbeatInterval)
	num(&g.HistoryGossip, d.HistoryGossip)
	num(&g.HistoryLength, d.HistoryLength)
	num(&g.MeshN, d.MeshN)
	num(&g.MeshNHigh, d.MeshNHigh)
	num(&g.MeshNLow, d.MeshNLow)
	num(&g.MeshOutboundMin, d.MeshOutboundMin)
	num(&g.MaxIHaveLength, d.MaxIHaveLength)
	num(&g.MaxIHaveMessages, d.MaxIHaveMessages)
	dur(&g.PublishedMessageIDsCacheTime, d.PublishedMessageIDsCacheTime)
	dur(&g.MaxIWantFollowupTime, d.MaxIWantFollowupTime)
	num(&g.GossipRetransmission, d.GossipRetransmission)
	dur(&g.DuplicateCacheTime, d.DuplicateCacheTime)
	dur(&g.FanoutTTL, d.FanoutTTL)
	dur(&g.HeartbeatInitialDelay, d.HeartbeatInitialDelay)
	if g.GossipFactor == 0 {
		g.GossipFactor = d.GossipFactor
	}
	num(&g.GossipLazy, d.GossipLazy)
	return g
}

// validate checks a GossipConfig with its defaults filled in.
func (g GossipConfig) validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"HeartbeatInterval", g.HeartbeatInterval}, {"PublishedMessageIDsCacheTime", g.PublishedMessageIDsCacheTime},
		{"MaxIWantFollowupTime", g.MaxIWantFollowupTime}, {"DuplicateCacheTime", g.DuplicateCacheTime},
		{"FanoutTTL", g.FanoutTTL}, {"HeartbeatInitialDelay", g.HeartbeatInitialDelay},
	} {
		if d.v < 0 {
			return fmt.Errorf("%w: Gossip.%s is negative (%v)", ErrInvalidConfig, d.name, d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"HistoryGossip", g.HistoryGossip}, {"HistoryLength", g.HistoryLength}, {"MeshN", g.MeshN},
		{"MeshNHigh", g.MeshNHigh}, {"MeshNLow", g.MeshNLow}, {"MeshOutboundMin", g.MeshOutboundMin},
		{"MaxIHaveLength", g.MaxIHaveLength}, {"MaxIHaveMessages", g.MaxIHaveMessages},
		{"GossipRetransmission", g.GossipRetransmission}, {"GossipLazy", g.GossipLazy},
		{"MaxMessagesPerRPC", g.MaxMessagesPerRPC},
	} {
		if n.v < 0 {
			return fmt.Errorf("%w: Gossip.%s is negative (%d)", ErrInvalidConfig, n.name, n.v)
		}
	}
	switch {
	case !(g.MeshNLow <= g.MeshN && g.MeshN <= g.MeshNHigh):
		return fmt.Errorf("%w: gossipsub mesh degrees must satisfy MeshNLow (%d) <= MeshN (%d) <= MeshNHigh (%d)",
			ErrInvalidConfig, g.MeshNLow, g.MeshN, g.MeshNHigh)
	case !(g.MeshOutboundMin < g.MeshNLow && g.MeshOutboundMin < g.MeshN/2):
		return fmt.Errorf("%w: Gossip.MeshOutboundMin (%d) must be below MeshNLow (%d) and MeshN/2 (%d)",
			ErrInvalidConfig, g.MeshOutboundMin, g.MeshNLow, g.MeshN/2)
	case g.HistoryGossip > g.HistoryLength:
		return fmt.Errorf("%w: Gossip.HistoryGossip (%d) exceeds HistoryLength (%d)", ErrInvalidConfig, g.HistoryGossip, g.HistoryLength)
	case !(g.GossipFactor > 0 && g.GossipFactor <= 1):
		return fmt.Errorf("%w: Gossip.GossipFactor (%v) must be in (0, 1]", ErrInvalidConfig, g.GossipFactor)
	}
	return nil
}

// params maps a checked GossipConfig onto go-libp2p-pubsub's parameters.
func (g GossipConfig) params() pubsub.GossipSubParams {
	p := pubsub.DefaultGossipSubParams()
	p.D, p.Dlo, p.Dhi, p.Dout = g.MeshN, g.MeshNLow, g.MeshNHigh, g.MeshOutboundMin
	p.Dscore = min(p.Dscore, g.MeshNHigh)
	p.Dlazy = g.GossipLazy
	p.GossipFactor = g.GossipFactor
	p.HistoryLength, p.HistoryGossip = g.HistoryLength, g.HistoryGossip
	p.HeartbeatInterval, p.HeartbeatInitialDelay = g.HeartbeatInterval, g.HeartbeatInitialDelay
	p.FanoutTTL = g.FanoutTTL
	p.MaxIHaveLength, p.MaxIHaveMessages = g.MaxIHaveLength, g.MaxIHaveMessages
	p.IWantFollowupTime = g.MaxIWantFollowupTime
	p.GossipRetransmission = g.GossipRetransmission
	return p
}

// settings is a checked Config with its defaults applied and its addresses
// parsed.
type settings struct {
	Config
	listen    ma.Multiaddr
	advertise ma.Multiaddr // nil: advertise what is bound
	bootstrap []peer.AddrInfo
	members   map[network.PeerID]bool
}

func (c Config) settings() (*settings, error) {
	s := &settings{Config: c, members: make(map[network.PeerID]bool, len(c.Members))}
	if c.Key.IsZero() {
		return nil, fmt.Errorf("%w: Key is required", ErrInvalidConfig)
	}
	if len(c.Members) == 0 {
		return nil, fmt.Errorf("%w: Members is empty (want the stake table's staking keys)", ErrInvalidConfig)
	}
	for i, m := range c.Members {
		if m.IsZero() {
			return nil, fmt.Errorf("%w: Members[%d] is a zero key", ErrInvalidConfig, i)
		}
		s.members[network.PeerID(m.String())] = true
	}
	if len(c.ChainID) > maxChainIDLen {
		return nil, fmt.Errorf("%w: ChainID is %d bytes long (at most %d)", ErrInvalidConfig, len(c.ChainID), maxChainIDLen)
	}
	var err error
	if s.listen, err = udpMultiaddr(c.BindAddress, false); err != nil {
		return nil, fmt.Errorf("%w: BindAddress: %w", ErrInvalidConfig, err)
	}
	if c.AdvertiseAddress != "" {
		if s.advertise, err = udpMultiaddr(c.AdvertiseAddress, true); err != nil {
			return nil, fmt.Errorf("%w: AdvertiseAddress: %w", ErrInvalidConfig, err)
		}
	}
	for i, b := range c.Bootstrap {
		ai, err := peer.AddrInfoFromString(strings.TrimSpace(b))
		if err != nil {
			return nil, fmt.Errorf("%w: Bootstrap[%d] %q: %v (want a multiaddr ending in /p2p/<peer id>)", ErrInvalidConfig, i, b, err)
		}
		if len(ai.Addrs) == 0 {
			return nil, fmt.Errorf("%w: Bootstrap[%d] %q has no address before /p2p", ErrInvalidConfig, i, b)
		}
		s.bootstrap = append(s.bootstrap, *ai)
	}
	s.Gossip = c.Gossip.withDefaults()
	if err := s.Gossip.validate(); err != nil {
		return nil, err
	}
	if s.MaxGossipSize == 0 {
		s.MaxGossipSize = DefaultMaxGossipSize
	}
	if s.MaxDirectSize == 0 {
		s.MaxDirectSize = DefaultMaxDirectSize
	}
	switch {
	case s.DirectBroadcastSize == 0:
		s.DirectBroadcastSize = DefaultDirectBroadcastSize
	case s.DirectBroadcastSize < 0:
		s.DirectBroadcastSize = network.MaxMessageSize + 1
	}
	if s.MaxGossipSize < 0 || s.MaxGossipSize > network.MaxMessageSize {
		return nil, fmt.Errorf("%w: MaxGossipSize %d out of range (0, %d]", ErrInvalidConfig, s.MaxGossipSize, network.MaxMessageSize)
	}
	if s.MaxDirectSize < minDirectSize || s.MaxDirectSize > network.MaxMessageSize {
		return nil, fmt.Errorf("%w: MaxDirectSize %d out of range [%d, %d]", ErrInvalidConfig, s.MaxDirectSize, minDirectSize, network.MaxMessageSize)
	}
	if s.QueueSize == 0 {
		s.QueueSize = DefaultQueueSize
	}
	if s.QueueSize < 0 {
		return nil, fmt.Errorf("%w: QueueSize %d is negative", ErrInvalidConfig, s.QueueSize)
	}
	if s.BanDuration == 0 {
		s.BanDuration = DefaultBanDuration
	}
	if s.BanDuration < 0 {
		return nil, fmt.Errorf("%w: BanDuration %v is negative", ErrInvalidConfig, s.BanDuration)
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Multiaddr returns the multiaddr peers dial a node on: hostPort ("host:port",
// UDP; a host that is not an IP address becomes /dns) for QUIC, ending in
// /p2p/peerID. For example Multiaddr("node0.example.com:1769", id) is
// "/dns/node0.example.com/udp/1769/quic-v1/p2p/12D3KooW...". hostPort may
// also be a multiaddr without /p2p.
func Multiaddr(hostPort, peerID string) (string, error) {
	id, err := peer.Decode(peerID)
	if err != nil {
		return "", fmt.Errorf("p2p: peer id %q: %w", peerID, err)
	}
	m, err := udpMultiaddr(hostPort, true)
	if err != nil {
		return "", fmt.Errorf("p2p: address: %w", err)
	}
	return m.String() + "/p2p/" + id.String(), nil
}

// udpMultiaddr turns "host:port" into a QUIC multiaddr. A host that is not
// an IP literal becomes /dns (allowed only when dns is set: one cannot bind
// to a name); "" means every interface. A string starting with "/" is taken
// as a multiaddr already.
func udpMultiaddr(hostPort string, dns bool) (ma.Multiaddr, error) {
	if hostPort == "" {
		return nil, fmt.Errorf("empty address (want host:port, a UDP port for QUIC)")
	}
	if strings.HasPrefix(hostPort, "/") {
		m, err := ma.NewMultiaddr(hostPort)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", hostPort, err)
		}
		if _, err := m.ValueForProtocol(ma.P_P2P); err == nil {
			return nil, fmt.Errorf("%q: must not end in /p2p/<peer id>", hostPort)
		}
		return m, nil
	}
	host, portText, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, fmt.Errorf("%q: %w (want host:port)", hostPort, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%q: bad port %q", hostPort, portText)
	}
	var prefix string
	switch ip := net.ParseIP(host); {
	case host == "":
		prefix = "/ip4/0.0.0.0"
	case ip != nil && ip.To4() != nil:
		prefix = "/ip4/" + ip.String()
	case ip != nil:
		prefix = "/ip6/" + ip.String()
	case host == "localhost" && !dns:
		prefix = "/ip4/127.0.0.1"
	case dns:
		prefix = "/dns/" + host
	default:
		return nil, fmt.Errorf("%q: host %q is not an IP address", hostPort, host)
	}
	return ma.NewMultiaddr(fmt.Sprintf("%s/udp/%d/quic-v1", prefix, port))
}

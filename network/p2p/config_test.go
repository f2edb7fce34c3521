package p2p

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network"
)

func TestGossipDefaults(t *testing.T) {
	d := DefaultGossipConfig()
	// The reference's table (docs/network.md, "Tunables").
	want := GossipConfig{
		HeartbeatInterval: time.Second, HistoryGossip: 3, HistoryLength: 5, MeshN: 8, MeshNHigh: 12, MeshNLow: 6,
		MeshOutboundMin: 2, MaxIHaveLength: 5000, MaxIHaveMessages: 10, PublishedMessageIDsCacheTime: 10 * time.Second,
		MaxIWantFollowupTime: 3 * time.Second, GossipRetransmission: 3, FloodPublish: true,
		DuplicateCacheTime: 20 * time.Minute, FanoutTTL: 60 * time.Second, HeartbeatInitialDelay: 5 * time.Second,
		GossipFactor: 0.25, GossipLazy: 6,
	}
	if d != want {
		t.Fatalf("DefaultGossipConfig() = %+v, want %+v", d, want)
	}
	if got := (GossipConfig{}).withDefaults(); got != d {
		t.Errorf("zero GossipConfig = %+v, want the defaults", got)
	}
	// Partly set: zero numbers take defaults, FloodPublish is as given.
	got := GossipConfig{MeshN: 4, MeshNLow: 3, MeshNHigh: 6, MeshOutboundMin: 1}.withDefaults()
	if got.MeshN != 4 || got.HistoryLength != 5 || got.FloodPublish || got.GossipFactor != 0.25 {
		t.Errorf("partly set config = %+v", got)
	}
	if err := got.validate(); err != nil {
		t.Error(err)
	}
	p := d.params()
	if p.D != 8 || p.Dlo != 6 || p.Dhi != 12 || p.Dout != 2 || p.Dlazy != 6 || p.GossipFactor != 0.25 ||
		p.HistoryLength != 5 || p.HistoryGossip != 3 || p.HeartbeatInterval != time.Second ||
		p.HeartbeatInitialDelay != 5*time.Second || p.FanoutTTL != time.Minute || p.MaxIHaveLength != 5000 ||
		p.MaxIHaveMessages != 10 || p.IWantFollowupTime != 3*time.Second || p.GossipRetransmission != 3 {
		t.Errorf("gossipsub parameters %+v", p)
	}
}

func TestConfigErrors(t *testing.T) {
	ks := testKeys(t, 2)
	good := testConfig(ks[0], pubKeys(ks))
	if _, err := good.settings(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"no key", func(c *Config) { c.Key = keys.StakingKey{} }, "Key is required"},
		{"no members", func(c *Config) { c.Members = nil }, "Members is empty"},
		{"zero member", func(c *Config) { c.Members = []keys.StakingPubKey{{}} }, "Members[0]"},
		{"no bind address", func(c *Config) { c.BindAddress = "" }, "BindAddress"},
		{"bind to a name", func(c *Config) { c.BindAddress = "example.com:1" }, "not an IP address"},
		{"bad port", func(c *Config) { c.BindAddress = "127.0.0.1:x" }, "bad port"},
		{"advertise with /p2p", func(c *Config) {
			c.AdvertiseAddress = "/ip4/1.2.3.4/udp/1/quic-v1/p2p/" + peerIDKnownAnswers[0]
		}, "AdvertiseAddress"},
		{"bootstrap without peer id", func(c *Config) { c.Bootstrap = []string{"/ip4/1.2.3.4/udp/1/quic-v1"} }, "Bootstrap[0]"},
		{"bootstrap without address", func(c *Config) { c.Bootstrap = []string{"/p2p/" + peerIDKnownAnswers[0]} }, "no address"},
		{"mesh order", func(c *Config) { c.Gossip = DefaultGossipConfig(); c.Gossip.MeshNLow = 9 }, "MeshNLow (9) <= MeshN (8)"},
		{"outbound min", func(c *Config) { c.Gossip = DefaultGossipConfig(); c.Gossip.MeshOutboundMin = 4 }, "MeshOutboundMin"},
		{"history", func(c *Config) { c.Gossip = DefaultGossipConfig(); c.Gossip.HistoryGossip = 6 }, "HistoryGossip (6) exceeds"},
		{"gossip factor", func(c *Config) { c.Gossip = DefaultGossipConfig(); c.Gossip.GossipFactor = 1.5 }, "GossipFactor"},
		{"negative duration", func(c *Config) { c.Gossip = DefaultGossipConfig(); c.Gossip.FanoutTTL = -1 }, "FanoutTTL"},
		{"direct size too small", func(c *Config) { c.MaxDirectSize = 10 }, "MaxDirectSize"},
		{"direct size too large", func(c *Config) { c.MaxDirectSize = network.MaxMessageSize + 1 }, "MaxDirectSize"},
		{"gossip size", func(c *Config) { c.MaxGossipSize = -1 }, "MaxGossipSize"},
		{"queue", func(c *Config) { c.QueueSize = -1 }, "QueueSize"},
		{"ban", func(c *Config) { c.BanDuration = -time.Second }, "BanDuration"},
		{"chain id", func(c *Config) { c.ChainID = strings.Repeat("x", maxChainIDLen+1) }, "ChainID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			_, err := New(t.Context(), c)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want ErrInvalidConfig mentioning %q", err, tc.want)
			}
		})
	}
}

func TestNewPortInUse(t *testing.T) {
	ks := testKeys(t, 2)
	a := start(t, testConfig(ks[0], pubKeys(ks)))
	port := udpPort(t, a)
	cfg := testConfig(ks[1], pubKeys(ks))
	cfg.BindAddress = "127.0.0.1:" + port
	if tr, err := New(t.Context(), cfg); err == nil {
		_ = tr.Close()
		t.Fatalf("a second transport bound to port %s", port)
	}
}

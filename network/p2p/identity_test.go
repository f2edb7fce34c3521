package p2p

import (
	"errors"
	"strings"
	"testing"

	libp2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/gospresso/gospresso/keys"
)

// The peer IDs of keys.DeriveKeys({31: 1}, i), frozen when the derivation
// lived in package keys (StakingKey.PeerID): moving it here must not change
// a single peer ID (docs/keys.md, "libp2p peer IDs"). Index 0 was also
// recomputed independently (Python: Ed25519 + base58 multihash).
var peerIDKnownAnswers = []string{
	"12D3KooWMf7vS7VeoUrYBrSGpB7ewVLzWfCSabk8yGzDcf9utZC4",
	"12D3KooWJYmxhwQdUE9UUV1XnNWSoWbin4yvRh1uWaEJ5j7xQ7P7",
	"12D3KooWBX8Mi5fHJ9wyqWroKAGTfoBnGZxqcNKWQLgLyvvshzoJ",
	"12D3KooWRNrADd1aYCBYWTHgmh9Agb2FwE2Hpv8fRtvv3zSonKYm",
}

func TestPeerIDKnownAnswers(t *testing.T) {
	for i, want := range peerIDKnownAnswers {
		k, err := keys.DeriveKeys([32]byte{31: 1}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		got, err := PeerID(k.Staking)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PeerID(DeriveKeys({31: 1}, %d)) = %s, want %s", i, got, want)
		}
		// A key parsed back from its text has the same identity.
		parsed, err := keys.ParseStakingKey(k.Staking.Secret())
		if err != nil {
			t.Fatal(err)
		}
		if again, err := PeerID(parsed); err != nil || again != want {
			t.Errorf("PeerID of the parsed key = %s, %v; want %s", again, err, want)
		}
	}
}

func TestPrivKey(t *testing.T) {
	k, err := keys.DeriveKeys([32]byte{31: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := PrivKey(k.Staking)
	if err != nil {
		t.Fatal(err)
	}
	if priv.Type() != libp2pcrypto.Ed25519 {
		t.Errorf("key type %v, want Ed25519", priv.Type())
	}
	// The seed is DeriveSeed("gospresso/libp2p/v1").
	seed, err := k.Staking.DeriveSeed("gospresso/libp2p/v1")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := priv.Raw()
	if err != nil {
		t.Fatal(err)
	}
	if string(raw[:32]) != string(seed[:]) {
		t.Errorf("Ed25519 seed %x, want DeriveSeed = %x", raw[:32], seed)
	}
	id, err := peer.Decode(peerIDKnownAnswers[0])
	if err != nil {
		t.Fatal(err)
	}
	if !id.MatchesPrivateKey(priv) {
		t.Error("the known peer ID does not match PrivKey")
	}
	var zero keys.StakingKey
	if _, err := PrivKey(zero); !errors.Is(err, keys.ErrZeroKey) {
		t.Errorf("PrivKey(zero) error = %v, want keys.ErrZeroKey", err)
	}
	if _, err := PeerID(zero); !errors.Is(err, keys.ErrZeroKey) {
		t.Errorf("PeerID(zero) error = %v, want keys.ErrZeroKey", err)
	}
}

func TestMultiaddr(t *testing.T) {
	id := peerIDKnownAnswers[0]
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:2000", "/ip4/127.0.0.1/udp/2000/quic-v1/p2p/" + id},
		{"node0.example.com:1769", "/dns/node0.example.com/udp/1769/quic-v1/p2p/" + id},
		{"localhost:1769", "/dns/localhost/udp/1769/quic-v1/p2p/" + id},
		{"[::1]:7000", "/ip6/::1/udp/7000/quic-v1/p2p/" + id},
		{"/ip4/10.0.0.1/udp/9/quic-v1", "/ip4/10.0.0.1/udp/9/quic-v1/p2p/" + id},
	} {
		got, err := Multiaddr(tc.in, id)
		if err != nil || got != tc.want {
			t.Errorf("Multiaddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if _, err := peer.AddrInfoFromString(got); err != nil {
			t.Errorf("Multiaddr(%q) = %q does not parse back: %v", tc.in, got, err)
		}
	}
	for _, bad := range []struct{ addr, id string }{
		{"127.0.0.1", id}, {"127.0.0.1:99999", id}, {"", id}, {"127.0.0.1:1", "not-a-peer-id"},
		{"/ip4/1.2.3.4/udp/1/quic-v1/p2p/" + id, id},
	} {
		if got, err := Multiaddr(bad.addr, bad.id); err == nil {
			t.Errorf("Multiaddr(%q, %q) = %q, want an error", bad.addr, bad.id, got)
		}
	}
	if _, err := Multiaddr("x:1", "y"); err == nil || !strings.Contains(err.Error(), "peer id") {
		t.Errorf("error %v does not name the peer id", err)
	}
}

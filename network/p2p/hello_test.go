package p2p

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestHelloRoundTrip(t *testing.T) {
	k := testKeys(t, 1)[0]
	id, err := peerID(k)
	if err != nil {
		t.Fatal(err)
	}
	h := hello{
		version: protocolVersion, genesis: testGenesis, chainID: "999999999",
		key: k.PubKey().Bytes(), sig: k.Sign(handshakeMessage(testGenesis, id)).Bytes(),
		nonce: [8]byte{1, 2, 3}, maxChunk: DefaultMaxDirectSize,
		addrs: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/udp/2000/quic-v1"), ma.StringCast("/dns/x.example.com/udp/1/quic-v1")},
	}
	b := h.marshal()
	got, err := parseHello(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.version != h.version || got.genesis != h.genesis || got.chainID != h.chainID || !bytes.Equal(got.key, h.key) ||
		!bytes.Equal(got.sig, h.sig) || got.nonce != h.nonce || got.maxChunk != h.maxChunk || len(got.addrs) != 2 ||
		!got.addrs[0].Equal(h.addrs[0]) || !got.addrs[1].Equal(h.addrs[1]) {
		t.Fatalf("round trip: got %+v, want %+v", got, h)
	}
	// Every truncation fails cleanly; one that keeps the network identity
	// still reports it.
	for n := range len(b) {
		got, err := parseHello(b[:n])
		if err == nil || !errors.Is(err, ErrHandshake) {
			t.Fatalf("truncated to %d bytes: error %v", n, err)
		}
		if n >= 4+2+32+2+len(h.chainID) && (got.genesis != h.genesis || got.chainID != h.chainID) {
			t.Fatalf("truncated to %d bytes: lost the network identity", n)
		}
	}
	if _, err := parseHello(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if _, err := parseHello([]byte("GET / HTTP/1.1")); err == nil {
		t.Fatal("junk accepted")
	}
}

func TestAnnounceRoundTrip(t *testing.T) {
	var list []announced
	for i, k := range testKeys(t, 3) {
		id, err := peerID(k)
		if err != nil {
			t.Fatal(err)
		}
		a := announced{id: id}
		for j := range i {
			a.addrs = append(a.addrs, ma.StringCast(fmt.Sprintf("/ip4/10.0.0.1/udp/%d/quic-v1", 1000+j)))
		}
		list = append(list, a)
	}
	got, err := parseAnnounce(marshalAnnounce(list))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(list) {
		t.Fatalf("got %d peers, want %d", len(got), len(list))
	}
	for i := range list {
		if got[i].id != list[i].id || !reflect.DeepEqual(addrStrings(got[i].addrs), addrStrings(list[i].addrs)) {
			t.Fatalf("peer %d: got %v %v, want %v %v", i, got[i].id, got[i].addrs, list[i].id, list[i].addrs)
		}
	}
	b := marshalAnnounce(list)
	for n := 1; n < len(b); n++ {
		if _, err := parseAnnounce(b[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		}
	}
	if _, err := parseAnnounce([]byte{0, 1, 3, 'b', 'a', 'd', 0}); err == nil {
		t.Fatal("a bad peer id accepted")
	}
}

func addrStrings(as []ma.Multiaddr) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

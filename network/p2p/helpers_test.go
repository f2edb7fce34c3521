package p2p

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testGenesis is the genesis commitment of the test networks.
var testGenesis = [32]byte{0: 0x9e, 31: 1}

// testKeys derives n staking keys.
func testKeys(t testing.TB, n int) []keys.StakingKey {
	t.Helper()
	out := make([]keys.StakingKey, n)
	for i := range out {
		k, err := keys.DeriveKeys([32]byte{0: 0x70, 31: 2}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = k.Staking
	}
	return out
}

func pubKeys(ks []keys.StakingKey) []keys.StakingPubKey {
	out := make([]keys.StakingPubKey, len(ks))
	for i, k := range ks {
		out[i] = k.PubKey()
	}
	return out
}

// logBuffer collects log lines for checks.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testConfig is a loopback config for key k of the members.
func testConfig(k keys.StakingKey, members []keys.StakingPubKey) Config {
	return Config{
		Key: k, Genesis: testGenesis, ChainID: "test", Members: members,
		BindAddress: "127.0.0.1:0",
	}
}

// start creates a transport that is closed when the test ends.
func start(t testing.TB, cfg Config) *Transport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// startNet starts one transport per key, all members, bootstrapping from the
// first, and waits until every one is connected to every other. edit, if
// not nil, adjusts each config.
func startNet(t testing.TB, ks []keys.StakingKey, edit func(i int, c *Config)) []*Transport {
	t.Helper()
	members := pubKeys(ks)
	trs := make([]*Transport, len(ks))
	for i, k := range ks {
		cfg := testConfig(k, members)
		if i > 0 {
			cfg.Bootstrap = trs[0].Addrs()
		}
		if edit != nil {
			edit(i, &cfg)
		}
		trs[i] = start(t, cfg)
	}
	waitMesh(t, trs...)
	return trs
}

// waitMesh waits until each transport is verified-connected to every other.
func waitMesh(t testing.TB, trs ...*Transport) {
	t.Helper()
	waitFor(t, 15*time.Second, "a full mesh", func() string {
		var behind []string
		for i, tr := range trs {
			if n := tr.ConnectedPeers(); n != len(trs)-1 {
				behind = append(behind, fmt.Sprintf("transport %d has %d peers", i, n))
			}
		}
		return strings.Join(behind, ", ")
	})
}

// waitFor polls cond until it returns "" and fails the test at the timeout
// with cond's last answer.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v: %s", what, timeout, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recv waits for the next message of tr.
func recv(t testing.TB, tr network.Transport, timeout time.Duration) network.Envelope {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case env, ok := <-tr.Incoming():
		if !ok {
			t.Fatalf("%s: Incoming closed", tr.Self())
		}
		return env
	case <-timer.C:
		t.Fatalf("%s: nothing received within %v", tr.Self(), timeout)
	}
	return network.Envelope{}
}

// expectNothing fails the test if any of trs receives a message within d.
func expectNothing(t testing.TB, d time.Duration, trs ...network.Transport) {
	t.Helper()
	time.Sleep(d)
	for _, tr := range trs {
		select {
		case env, ok := <-tr.Incoming():
			if ok {
				t.Errorf("%s: unexpected message from %s (topic %q, %d bytes)", tr.Self(), env.From, env.Topic, len(env.Data))
			}
		default:
		}
	}
}

// udpPort returns the UDP port tr listens on.
func udpPort(t testing.TB, tr *Transport) string {
	t.Helper()
	for _, a := range tr.host.Addrs() {
		if port, err := a.ValueForProtocol(ma.P_UDP); err == nil {
			return port
		}
	}
	t.Fatalf("%s: no UDP address in %v", tr.Self(), tr.Addrs())
	return ""
}

// recvData waits for the message with data want on tr, skipping others
// (broadcasts of earlier checks reach every peer).
func recvData(t testing.TB, tr *Transport, want []byte, timeout time.Duration) network.Envelope {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("%s: %q not received within %v", tr.Self(), want, timeout)
		}
		env := recv(t, tr, left)
		if bytes.Equal(env.Data, want) {
			return env
		}
	}
}

// exchange checks that from reaches to, directly and by broadcast on a
// fresh topic.
func exchange(t testing.TB, from, to *Transport, label string) {
	t.Helper()
	ctx := context.Background()
	msg := []byte("direct " + label)
	if err := from.Send(ctx, to.Self(), msg); err != nil {
		t.Fatalf("%s: Send: %v", label, err)
	}
	if env := recvData(t, to, msg, 10*time.Second); env.From != from.Self() || env.Topic != "" {
		t.Fatalf("%s: got %q from %s on %q, want it from %s", label, env.Data, env.From, env.Topic, from.Self())
	}
	msg = []byte("broadcast " + label)
	if err := from.Broadcast(ctx, "topic-"+label, msg); err != nil {
		t.Fatalf("%s: Broadcast: %v", label, err)
	}
	if env := recvData(t, to, msg, 10*time.Second); env.From != from.Self() || env.Topic != "topic-"+label {
		t.Fatalf("%s: got %q from %s on %q, want it from %s", label, env.Data, env.From, env.Topic, from.Self())
	}
}

// drain discards what trs have received so far.
func drain(trs ...*Transport) {
	for _, tr := range trs {
		for len(tr.Incoming()) > 0 {
			<-tr.Incoming()
		}
	}
}

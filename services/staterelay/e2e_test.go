package staterelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/services/staterelay"
)

// serve serves r on a loopback port until the test ends and returns its
// base URL.
func serve(t *testing.T, r *staterelay.Relay) string {
	t.Helper()
	srv, err := r.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		// The nodes post through http.DefaultTransport, which keeps a
		// connection dialled for a request cancelled by Stop: the server
		// sees it as new, never idle, and Shutdown would wait 5s for it.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("relay shutdown: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("relay serve: %v", err)
			}
		case <-ctx.Done():
			t.Error("relay still serving 5s after Shutdown")
		}
	})
	return "http://" + ln.Addr().String()
}

// A four-node in-process network posts the states it signs to a relay on
// a loopback port (through the 307 of the unversioned path); GET /api/state
// then answers a certified state of the chain with signatures of at least
// the threshold's weight, each verifying against a stake-table key.
func TestNetworkCertifiesThroughTheRelay(t *testing.T) {
	ks, err := nodetest.Keys(nodetest.DefaultSeed, 4)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := nodetest.Genesis(ks, 0) // the network's stake table: same keys, stake 1 each
	if err != nil {
		t.Fatal(err)
	}
	relay, err := staterelay.New(staterelay.WithStakeTable(gen.StakeTable))
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, relay) // registered before the network: stopped after it
	var logs warnings
	network := nodetest.New(t, nodetest.Nodes(4), nodetest.StateRelay(url), nodetest.Timeout(20*time.Second),
		nodetest.Logger(slog.New(&logs)))

	stake := make(map[keys.StatePubKey]uint64)
	for _, e := range gen.StakeTable {
		stake[e.StateKey] = e.Stake
	}
	client := &http.Client{Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var c staterelay.Certified
	for {
		got, err := getLatest(ctx, client, url+"/api/state")
		if err == nil && got.State.BlockHeight >= 3 {
			c = got
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no certified state of height ≥ 3 within 30s; last answer: %v", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}

	if c.Threshold != relay.Threshold() || relay.Threshold() != 2 {
		t.Fatalf("threshold %d, relay's %d, want 2 (⌊4/3⌋+1)", c.Threshold, relay.Threshold())
	}
	var weight uint64
	for k, sig := range c.Signatures {
		w, ok := stake[k]
		if !ok {
			t.Fatalf("signature of %s, not in the stake table", k)
		}
		ss := lightclient.SignedState{Key: k, State: c.State, Signature: sig}
		if err := ss.Verify(); err != nil {
			t.Fatal(err)
		}
		weight += w
	}
	if weight < c.Threshold || weight != c.AccumulatedWeight {
		t.Fatalf("signatures of weight %d (reported %d), threshold %d", weight, c.AccumulatedWeight, c.Threshold)
	}
	// No node was refused or failed to post: a refusal would make it
	// retry and warn.
	if w := logs.relayWarnings(); len(w) > 0 {
		t.Fatalf("nodes warned about posting to the relay: %q", w)
	}
	// The certified state is the chain's: node 0's block at that height.
	for b, err := range network.Node(0).Decided(ctx, c.State.BlockHeight) {
		if err != nil {
			t.Fatal(err)
		}
		if want := lightclient.StateOf(&b.Leaf); want != c.State {
			t.Fatalf("certified state %+v, node 0's block at that height has %+v", c.State, want)
		}
		break
	}
}

// warnings is a slog.Handler keeping the nodes' warnings about posting
// to the relay.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnings) WithGroup(string) slog.Handler                { return w }

func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "relay") {
		return nil
	}
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	w.mu.Lock()
	w.msgs = append(w.msgs, msg)
	w.mu.Unlock()
	return nil
}

func (w *warnings) relayWarnings() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}

func getLatest(ctx context.Context, client *http.Client, url string) (staterelay.Certified, error) {
	var c staterelay.Certified
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return c, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return c, err
	}
	if resp.StatusCode != http.StatusOK {
		return c, errors.New(resp.Status + ": " + string(body))
	}
	return c, json.Unmarshal(body, &c)
}

package orchestrator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/p2p"
	"github.com/gospresso/gospresso/services/orchestrator"
)

// Every test stops what it started: servers, clients' connections,
// goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testKeys returns n key sets derived from a fixed seed.
func testKeys(t testing.TB, n int) []keys.Keys {
	t.Helper()
	out := make([]keys.Keys, n)
	for i := range out {
		k, err := keys.DeriveKeys([keys.SeedSize]byte{7}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = k
	}
	return out
}

// addr returns a libp2p multiaddr of k's peer ID at the UDP port.
func addr(t testing.TB, k keys.Keys, port int) string {
	t.Helper()
	id, err := p2p.PeerID(k.Staking)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/ip4/127.0.0.1/udp/%d/quic-v1/p2p/%s", port, id)
}

// reg returns k's registration with the address of addr(k, port).
func reg(t testing.TB, k keys.Keys, port int) orchestrator.Registration {
	t.Helper()
	r, err := orchestrator.NewRegistration(k, true, addr(t, k, port))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// server is an orchestrator served on a loopback port.
type server struct {
	o    *orchestrator.Orchestrator
	url  string
	http *http.Client
}

// serve serves o on a loopback port until the test ends.
func serve(t *testing.T, o *orchestrator.Orchestrator) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, o, ln)
}

func serveOn(t *testing.T, o *orchestrator.Orchestrator, ln net.Listener) *server {
	t.Helper()
	srv, err := o.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("orchestrator shutdown: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("orchestrator serve: %v", err)
			}
		case <-ctx.Done():
			t.Error("orchestrator still serving 5s after Shutdown")
		}
	})
	return &server{o: o, url: "http://" + ln.Addr().String(), http: hc}
}

// do sends a request with body (JSON-encoded unless it is a string or
// []byte) and returns the status and the body.
func (s *server) do(t *testing.T, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(out)
}

// register posts r and returns the status, the receipt (on 200) and the
// body.
func (s *server) register(t *testing.T, r any) (int, orchestrator.Receipt, string) {
	t.Helper()
	code, body := s.do(t, http.MethodPost, "/v0/api/register", r)
	var rc orchestrator.Receipt
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &rc); err != nil {
			t.Fatalf("receipt %s: %v", body, err)
		}
	}
	return code, rc, body
}

// mustRegister posts r and fails the test unless it is accepted with the
// index and outcome given.
func (s *server) mustRegister(t *testing.T, r orchestrator.Registration, index int, out orchestrator.Outcome) {
	t.Helper()
	code, rc, body := s.register(t, r)
	if code != http.StatusOK || rc.Index != index || rc.Outcome != out {
		t.Fatalf("register %s: %d %s; want 200, index %d, outcome %s", r.StakingKey, code, body, index, out)
	}
}

func (s *server) config(t *testing.T) orchestrator.NetworkConfig {
	t.Helper()
	code, body := s.do(t, http.MethodGet, "/v0/api/config", nil)
	var c orchestrator.NetworkConfig
	if code != http.StatusOK || json.Unmarshal([]byte(body), &c) != nil {
		t.Fatalf("GET config: %d %s", code, body)
	}
	return c
}

func (s *server) status(t *testing.T) orchestrator.StartStatus {
	t.Helper()
	code, body := s.do(t, http.MethodGet, "/v0/api/start", nil)
	var st orchestrator.StartStatus
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("GET start: %d %s", code, body)
	}
	return st
}

// toMap turns a registration into its JSON object, to tamper with.
func toMap(t *testing.T, r orchestrator.Registration) map[string]any {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func newOrchestrator(t *testing.T, n int, opts ...orchestrator.Option) *orchestrator.Orchestrator {
	t.Helper()
	o, err := orchestrator.New(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// logRecorder is a slog.Handler keeping messages and their attributes.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
	seen chan string // each message, when not full
}

func newLogRecorder() *logRecorder { return &logRecorder{seen: make(chan string, 1000)} }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	l.mu.Lock()
	l.msgs = append(l.msgs, msg)
	l.mu.Unlock()
	select {
	case l.seen <- msg:
	default:
	}
	return nil
}

func (l *logRecorder) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

func (l *logRecorder) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "\n")
}

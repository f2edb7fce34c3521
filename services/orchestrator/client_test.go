package orchestrator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/services/orchestrator"
)

func newClient(t *testing.T, url string, opts ...orchestrator.ClientOption) *orchestrator.Client {
	t.Helper()
	c, err := orchestrator.NewClient(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// The client keeps trying while nothing listens at the orchestrator's
// address (connection refused), logging each attempt, and registers once
// the orchestrator comes up.
func TestClientRetriesUntilUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := ln.Addr().String()
	ln.Close() // nothing listens there now

	ks := testKeys(t, 1)
	logs := newLogRecorder()
	c := newClient(t, "http://"+address, orchestrator.WithBackoff(10*time.Millisecond, 40*time.Millisecond),
		orchestrator.WithClientLogger(slog.New(logs)))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	type result struct {
		index int
		err   error
	}
	done := make(chan result, 1)
	go func() {
		i, err := c.Register(ctx, reg(t, ks[0], 1000))
		done <- result{i, err}
	}()

	// Three failed attempts first.
	for failures := 0; failures < 3; {
		select {
		case msg := <-logs.seen:
			if strings.Contains(msg, "not reachable; retrying") {
				if !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "url=http://"+address+"/v0/api/register") {
					t.Errorf("retry log line %q", msg)
				}
				failures++
			}
		case r := <-done:
			t.Fatalf("Register returned %d, %v while nothing listened", r.index, r.err)
		case <-time.After(10 * time.Second):
			t.Fatal("no retries logged within 10s")
		}
	}

	// Now the orchestrator comes up at that address.
	var ln2 net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln2, err = net.Listen("tcp", address); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen on %s again: %v", address, err)
		}
	}
	o := newOrchestrator(t, 4)
	serveOn(t, o, ln2)
	t.Cleanup(c.CloseIdleConnections) // before the server's shutdown
	select {
	case r := <-done:
		if r.err != nil || r.index != 0 {
			t.Fatalf("Register: %d, %v", r.index, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Register did not return within 10s of the orchestrator coming up")
	}
	if st := o.Status(); st.Registered != 1 {
		t.Fatalf("%d registered", st.Registered)
	}
	if n := logs.count("orchestrator: reachable"); n != 1 {
		t.Fatalf("%d 'reachable' lines:\n%s", n, logs.all())
	}
}

// flaky serves the orchestrator's handler behind failures: the first
// answers are the statuses in fail, then the real ones.
type flaky struct {
	h     http.Handler
	fail  []int
	calls atomic.Int32
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.calls.Add(1)) - 1
	if n < len(f.fail) {
		w.WriteHeader(f.fail[n])
		fmt.Fprintf(w, "proxy says %d", f.fail[n])
		return
	}
	f.h.ServeHTTP(w, r)
}

// 5xx and 429 answers are retried; other 4xx are not: they come back at
// once as an *APIError with the orchestrator's message.
func TestClientRetriesServerErrors(t *testing.T) {
	o := newOrchestrator(t, 4, orchestrator.WithManualStartPassword("pw"))
	srv, err := o.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{h: srv, fail: []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusInternalServerError}}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	logs := newLogRecorder()
	c := newClient(t, hs.URL+"/", orchestrator.WithBackoff(time.Millisecond, 5*time.Millisecond), orchestrator.WithClientLogger(slog.New(logs)))
	ks := testKeys(t, 2)

	i, err := c.Register(t.Context(), reg(t, ks[0], 1000))
	if err != nil || i != 0 || f.calls.Load() != 5 {
		t.Fatalf("Register: %d, %v after %d calls; want index 0 after 5", i, err, f.calls.Load())
	}
	if !strings.Contains(logs.all(), "proxy says 502") || logs.count("not reachable; retrying") != 4 {
		t.Fatalf("logs:\n%s", logs.all())
	}

	// A refused registration: one call, a 400.
	bad := reg(t, ks[1], 1001)
	bad.Libp2pAddress = addr(t, ks[1], 9999)
	_, err = c.Register(t.Context(), bad)
	var apiErr *orchestrator.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "signature does not verify") ||
		f.calls.Load() != 6 {
		t.Fatalf("refused registration: %v after %d calls", err, f.calls.Load())
	}
	// A wrong password: 403 at once; the right one starts the network.
	if _, err := c.ManualStart(t.Context(), "nope"); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || f.calls.Load() != 7 {
		t.Fatalf("wrong password: %v after %d calls", err, f.calls.Load())
	}
	st, err := c.ManualStart(t.Context(), "pw")
	if err != nil || !st.Started || st.Registered != 1 {
		t.Fatalf("manual start: %+v, %v", st, err)
	}
	cfg, err := c.WaitForStart(t.Context(), time.Millisecond)
	if err != nil || !cfg.Started || len(cfg.StakeTable) != 1 {
		t.Fatalf("WaitForStart after the manual start: %+v, %v", cfg, err)
	}
}

// Every call ends with its context, saying how many attempts failed and
// why.
func TestClientBoundedByContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := ln.Addr().String()
	ln.Close()
	c := newClient(t, "http://"+address, orchestrator.WithBackoff(10*time.Millisecond, 20*time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.NetworkConfig(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "attempts; the last: ") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("NetworkConfig with nothing listening: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("returned %v after the context's end", d)
	}

	// WaitForStart on a network nobody joins ends with its context too,
	// saying what it waited for. The context leaves time for a first answer
	// on a loaded machine.
	s := serve(t, newOrchestrator(t, 4))
	c2 := newClient(t, s.url)
	ctx2, cancel2 := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel2()
	if _, err := c2.WaitForStart(ctx2, 20*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "waiting for the start signal (0 of 4 registered, 4 needed)") {
		t.Fatalf("WaitForStart: %v", err)
	}
}

// A context that ends while a poll is in flight gives the same error as one
// that ends between polls: what the node waited for, not the cut request.
func TestClientWaitForStartEndsDuringPoll(t *testing.T) {
	orch := serve(t, newOrchestrator(t, 4))
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 1 {
			<-r.Context().Done() // every later poll hangs until the client gives up
			return
		}
		resp, err := orch.http.Get(orch.url + r.URL.Path)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(hs.Close)
	c := newClient(t, hs.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.WaitForStart(ctx, time.Millisecond); !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "waiting for the start signal (0 of 4 registered, 4 needed)") || calls.Load() != 2 {
		t.Fatalf("WaitForStart: %v after %d calls", err, calls.Load())
	}
}

// NewClient refuses URLs it cannot call; an answer that is not the
// orchestrator's fails with ErrInvalidResponse, unretried.
func TestClientInvalid(t *testing.T) {
	for _, u := range []string{"localhost:8080", "ftp://host", "http://", "http://host/?q=1", "http://u:p@host", "%"} {
		if _, err := orchestrator.NewClient(u); !errors.Is(err, orchestrator.ErrInvalidOption) {
			t.Errorf("NewClient(%q): %v", u, err)
		}
	}
	for _, o := range []orchestrator.ClientOption{nil, orchestrator.WithBackoff(0, 1), orchestrator.WithBackoff(2, 1),
		orchestrator.WithRequestTimeout(0), orchestrator.WithHTTPClient(nil), orchestrator.WithClientLogger(nil)} {
		if _, err := orchestrator.NewClient("http://localhost:8080", o); !errors.Is(err, orchestrator.ErrInvalidOption) {
			t.Errorf("bad option: %v", err)
		}
	}
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fmt.Fprint(w, "<html>not an orchestrator</html>")
	}))
	t.Cleanup(hs.Close)
	c := newClient(t, hs.URL+"/prefix")
	if _, err := c.StartStatus(t.Context()); !errors.Is(err, orchestrator.ErrInvalidResponse) || calls.Load() != 1 {
		t.Fatalf("StartStatus from a web page: %v after %d calls", err, calls.Load())
	}
	if c.BaseURL() != hs.URL+"/prefix" {
		t.Fatalf("base URL %s", c.BaseURL())
	}
}

// End to end: four nodes register concurrently through their own clients,
// wait for the start signal, and all get the same final config, whose
// stake table lists each of them once at the index it was given.
func TestEndToEnd(t *testing.T) {
	const n = 4
	ks := testKeys(t, n)
	s := serve(t, newOrchestrator(t, n, orchestrator.WithStartDelay(100*time.Millisecond),
		orchestrator.WithNextViewTimeout(12*time.Second)))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	type result struct {
		index int
		cfg   orchestrator.NetworkConfig
		err   error
	}
	results := make([]result, n)
	logs := make([]*logRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		logs[i] = newLogRecorder()
		c := newClient(t, s.url, orchestrator.WithClientLogger(slog.New(logs[i])))
		wg.Go(func() {
			r := &results[i]
			r.index, r.err = c.Register(ctx, reg(t, ks[i], 1000+i))
			if r.err == nil {
				r.cfg, r.err = c.WaitForStart(ctx, 10*time.Millisecond)
			}
		})
	}
	wg.Wait()

	var indices []int
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("node %d: %v", i, r.err)
		}
		indices = append(indices, r.index)
		if !reflect.DeepEqual(r.cfg, results[0].cfg) {
			t.Fatalf("node %d's config differs from node 0's:\n%+v\n%+v", i, r.cfg, results[0].cfg)
		}
		if logs[i].count("orchestrator: start signal received") != 1 {
			t.Errorf("node %d logs:\n%s", i, logs[i].all())
		}
		// Each node is at the index it was given.
		if e := r.cfg.StakeTable[r.index]; e.StakingKey != ks[i].Staking.PubKey() || e.StateKey != ks[i].State.PubKey() {
			t.Errorf("node %d at index %d: entry %+v", i, r.index, e)
		}
	}
	slices.Sort(indices)
	if !slices.Equal(indices, []int{0, 1, 2, 3}) {
		t.Fatalf("indices %v", indices)
	}
	cfg := results[0].cfg
	if !cfg.Started || len(cfg.StakeTable) != n || cfg.NextViewTimeoutMS != 12000 || len(cfg.BootstrapNodes) != n {
		t.Fatalf("config %+v", cfg)
	}
	table, err := cfg.GenesisStakeTable()
	if err != nil {
		t.Fatal(err)
	}
	pubs := make([]keys.StakingPubKey, len(table))
	for i, e := range table {
		pubs[i] = e.StakingKey
	}
	for i, k := range ks {
		if !slices.Contains(pubs, k.Staking.PubKey()) {
			t.Errorf("node %d not in the stake table", i)
		}
	}
	// The orchestrator's own view agrees, and it is healthy.
	if !reflect.DeepEqual(s.o.Config(), cfg) {
		t.Fatal("the orchestrator's config differs from the nodes'")
	}
	if code, body := s.do(t, http.MethodGet, "/healthcheck", nil); code != http.StatusOK || !strings.Contains(body, `"status":"available"`) {
		t.Fatalf("/healthcheck: %d %s", code, body)
	}
}

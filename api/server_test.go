package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gospresso/gospresso/api"
)

// rawGet sends a keep-alive GET on conn and reads the response.
func rawGet(conn net.Conn, path string) (*http.Response, []byte, error) {
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// expectRefused reads a connection the server refused: 429 with the error
// body, then the connection closes.
func expectRefused(t *testing.T, conn net.Conn) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("a connection beyond the bound: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := checkErrorBody(resp, b, http.StatusTooManyRequests); err != nil {
		t.Fatal(err)
	}
	if !resp.Close {
		t.Fatal("429 without Connection: close")
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("the refused connection stays open: %d %v", n, err)
	}
}

// TestConnectionBound: with WithMaxConnections(2), a third concurrent
// connection is answered 429 and closed; a freed slot is taken again; a
// WebSocket stream holds its slot until it ends.
func TestConnectionBound(t *testing.T) {
	srv, _ := newFakeServer(t, api.WithMaxConnections(2))
	base := serve(t, srv)
	addr := strings.TrimPrefix(base, "http://")
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var held []net.Conn
	for range 2 {
		c := dial()
		resp, _, err := rawGet(c, "/v0/status/block-height")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection within the bound: %v %v", resp, err)
		}
		held = append(held, c)
	}
	for range 3 {
		expectRefused(t, dial())
	}
	// The held connections still work.
	for _, c := range held {
		if resp, _, err := rawGet(c, "/v0/status/block-height"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("a held connection: %v %v", resp, err)
		}
	}
	// Freeing one lets a new connection in.
	held[0].Close()
	waitFor(t, "a freed connection slot", waitTimeout, func() bool {
		c := dial()
		defer c.Close()
		resp, _, err := rawGet(c, "/v0/status/block-height")
		return err == nil && resp.StatusCode == 200
	})
	held[1].Close()

	// A stream holds its connection: with both slots taken by streams a
	// plain request is refused; when they end the slots are free again.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var streams []*websocket.Conn
	waitFor(t, "two streams", waitTimeout, func() bool {
		u := "ws" + strings.TrimPrefix(base, "http") + "/v0/availability/stream/headers/1000"
		c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
		if err == nil {
			streams = append(streams, c)
		}
		return len(streams) == 2
	})
	expectRefused(t, dial())
	for _, s := range streams {
		s.CloseNow()
	}
	waitFor(t, "slots freed by ended streams", waitTimeout, func() bool {
		c := dial()
		defer c.Close()
		resp, _, err := rawGet(c, "/v0/status/block-height")
		return err == nil && resp.StatusCode == 200
	})
}

// TestBodyLimit: WithBodyLimit bounds request bodies (413), with or
// without a Content-Length.
func TestBodyLimit(t *testing.T) {
	srv, _ := newFakeServer(t, api.WithBodyLimit(100))
	c := newClient(t, serve(t, srv))
	small := []byte(`{"namespace":1,"payload":"aGk="}`)
	big := []byte(`{"namespace":1,"payload":"` + strings.Repeat("A", 100) + `"}`)
	json := http.Header{"Content-Type": {"application/json"}}
	if resp, b := c.do(http.MethodPost, "/v0/submit/submit", small, json); resp.StatusCode != 200 {
		t.Fatalf("small body: %s %s", resp.Status, b)
	}
	for _, path := range []string{"/v0/submit/submit", "/v0/submit/batch", "/v0/catchup/1/1/accounts"} {
		resp, b := c.do(http.MethodPost, path, big, json)
		if err := checkErrorBody(resp, b, http.StatusRequestEntityTooLarge); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		// Chunked, no Content-Length.
		req, _ := http.NewRequest(http.MethodPost, c.base+path, io.MultiReader(bytes.NewReader(big)))
		req.Header.Set("Content-Type", "application/json")
		r2, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b2, _ := io.ReadAll(r2.Body)
		r2.Body.Close()
		if err := checkErrorBody(r2, b2, http.StatusRequestEntityTooLarge); err != nil {
			t.Fatalf("%s chunked: %v", path, err)
		}
	}
}

// TestReadTimeout: a client that never finishes its request is cut off.
func TestReadTimeout(t *testing.T) {
	srv, _ := newFakeServer(t, api.WithTimeouts(200*time.Millisecond, time.Second))
	base := serve(t, srv)
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /v0/status/block-height HTTP/1.1\r\nHost: x\r\n")
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	start := time.Now()
	_, err = io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a stalled request held its connection for %v", d)
	}
}

// TestOptions: bad options and module sets are refused.
func TestOptions(t *testing.T) {
	fb := newFakeBackend(t)
	av, _ := api.Availability()
	for name, tc := range map[string]struct {
		mods []api.Module
		opts []api.Option
	}{
		"max connections 0": {nil, []api.Option{api.WithMaxConnections(0)}},
		"body limit 0":      {nil, []api.Option{api.WithBodyLimit(0)}},
		"read timeout 0":    {nil, []api.Option{api.WithTimeouts(0, time.Second)}},
		"nil logger":        {nil, []api.Option{api.WithLogger(nil)}},
		"nil module":        {[]api.Module{nil}, nil},
		"module twice":      {[]api.Module{av, av}, nil},
	} {
		if _, err := api.New(fb, tc.mods, tc.opts...); !errors.Is(err, api.ErrInvalidOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := api.Availability(api.WithRangeLimits(0, 1)); !errors.Is(err, api.ErrInvalidOption) {
		t.Errorf("range limit 0: %v", err)
	}
	if _, err := api.MerkleState("reward-state"); !errors.Is(err, api.ErrInvalidOption) {
		t.Errorf("MerkleState(reward-state): %v", err)
	}
	if _, err := api.Status(api.Identity{CountryCode: "XX"}); !errors.Is(err, api.ErrInvalidOption) {
		t.Errorf("country XX: %v", err)
	}
}

// TestHealth: a halted node is unhealthy (503); a server shutting down
// says so.
func TestHealth(t *testing.T) {
	srv, fb := newFakeServer(t)
	get := func(path string) (int, map[string]any) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return rec.Code, v
	}
	if code, v := get("/healthcheck"); code != 200 || v["status"] != "available" {
		t.Fatalf("healthcheck: %d %v", code, v)
	}
	fb.mu.Lock()
	fb.halted = true
	fb.mu.Unlock()
	if code, v := get("/healthcheck"); code != 503 || v["status"] != "unhealthy" {
		t.Fatalf("halted healthcheck: %d %v", code, v)
	}
	if code, v := get("/v0/node/healthcheck"); code != 503 || v["status"] != "unhealthy" {
		t.Fatalf("halted module healthcheck: %d %v", code, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code, v := get("/healthcheck"); code != 200 || v["status"] != "shutting_down" {
		t.Fatalf("healthcheck after shutdown: %d %v", code, v)
	}
	// time-since-last-decide before any decide is 404.
	fb2 := newFakeBackend(t)
	st, _ := api.Status(api.Identity{})
	srv2, _ := api.New(&noDecide{fb2}, []api.Module{st})
	rec := httptest.NewRecorder()
	srv2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v0/status/time-since-last-decide", nil))
	if err := checkErrorBody(rec.Result(), rec.Body.Bytes(), 404); err != nil {
		t.Fatal(err)
	}
}

// noDecide is a backend that has not decided yet.
type noDecide struct{ *fakeBackend }

func (n *noDecide) Status() api.NodeStatus { return api.NodeStatus{} }

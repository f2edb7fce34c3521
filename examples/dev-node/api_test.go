package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/types"
)

// syncBuffer is an io.Writer the test reads while the dev node writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	apiLine = regexp.MustCompile(`(?m)^dev-node: node 0 serves the HTTP API at (http://localhost:(\d+)) \(try: curl -L http://localhost:\d+/status/block-height\)$`)
	devLine = regexp.MustCompile(`(?m)^dev-node: dev API at (http://localhost:\d+)/api/dev-info$`)
)

// startDevNode runs the dev node on free ports until the test ends and
// returns the API URL and port and the dev API URL it prints.
func startDevNode(t *testing.T, args ...string) (string, int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"--port", "0", "--dev-port", "0"}, args...), &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d, stderr:\n%s", code, errOut.String())
		}
	})
	deadline := time.After(10 * time.Second)
	for {
		a, d := apiLine.FindStringSubmatch(out.String()), devLine.FindStringSubmatch(out.String())
		if a != nil && d != nil {
			port, _ := strconv.Atoi(a[2])
			return a[1], port, d[1]
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("dev-node ended (exit %d) before printing its addresses:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("no API addresses printed in 10s:\n%s\nstderr:\n%s", out.String(), errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// call sends a request and returns the status and body.
func call(t *testing.T, c *http.Client, method, url, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// The newcomer's path of the README: block height, submit, read back by
// hash; and the dev API.
func TestDevNodeServesAPI(t *testing.T) {
	apiURL, apiPort, devURL := startDevNode(t, "--no-transactions", "--builder-timeout", "20ms", "--view-timeout", "500ms")
	follow := http.DefaultClient
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// GET /status/block-height: 307 to /v0/..., then a bare number.
	code, hdr, _ := call(t, noFollow, http.MethodGet, apiURL+"/status/block-height", "")
	if code != http.StatusTemporaryRedirect || hdr.Get("Location") != "/v0/status/block-height" {
		t.Fatalf("GET /status/block-height: %d, Location %q; want 307 to /v0/status/block-height", code, hdr.Get("Location"))
	}
	code, _, body := call(t, follow, http.MethodGet, apiURL+"/status/block-height", "")
	var height uint64
	if err := json.Unmarshal(body, &height); code != http.StatusOK || err != nil {
		t.Fatalf("block height: %d %s", code, body)
	}

	// POST /v0/submit/submit answers the transaction's commitment.
	tx := types.Transaction{Namespace: 7, Payload: []byte("hello from the dev-node test")}
	code, _, body = call(t, follow, http.MethodPost, apiURL+"/v0/submit/submit",
		fmt.Sprintf(`{"namespace":7,"payload":%q}`, base64.StdEncoding.EncodeToString(tx.Payload)))
	var hash string
	if err := json.Unmarshal(body, &hash); code != http.StatusOK || err != nil {
		t.Fatalf("submit: %d %s", code, body)
	}
	if want := tx.Commit().Tagged(types.TagTransaction).String(); hash != want {
		t.Fatalf("submit answered %q, want %q", hash, want)
	}

	// GET /v0/availability/transaction/hash/{TX~...} once decided.
	var got struct {
		Transaction types.Transaction `json:"transaction"`
		Hash        string            `json:"hash"`
		BlockHeight uint64            `json:"block_height"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _, body = call(t, follow, http.MethodGet, apiURL+"/v0/availability/transaction/hash/"+hash, "")
		if code == http.StatusOK {
			break
		}
		if code != http.StatusNotFound || time.Now().After(deadline) {
			t.Fatalf("transaction by hash: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("transaction by hash: %v: %s", err, body)
	}
	if got.Hash != hash || got.Transaction.Namespace != 7 || !bytes.Equal(got.Transaction.Payload, tx.Payload) || got.BlockHeight == 0 {
		t.Errorf("transaction by hash: %s", body)
	}

	// Node 0 serves every module of the plan.
	code, _, body = call(t, follow, http.MethodGet, apiURL+"/healthcheck", "")
	var health struct {
		Status  string                    `json:"status"`
		Modules map[string]map[string]int `json:"modules"`
	}
	if err := json.Unmarshal(body, &health); code != http.StatusOK || err != nil || health.Status != "available" {
		t.Fatalf("healthcheck: %d %s", code, body)
	}
	for _, m := range []string{"status", "availability", "node", "submit", "catchup", "config", "state-signature", "block-state", "fee-state"} {
		if health.Modules[m] == nil {
			t.Errorf("module %s not served: %s", m, body)
		}
	}
	if len(health.Modules["availability"]) != 2 {
		t.Errorf("availability not at v0 and v1: %v", health.Modules["availability"])
	}
	code, _, body = call(t, follow, http.MethodGet, apiURL+"/v0/config/env", "")
	var env []string
	if err := json.Unmarshal(body, &env); code != http.StatusOK || err != nil || !slices.ContainsFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "ESPRESSO_DEV_NODE_PORT=")
	}) {
		t.Errorf("config/env: %d %s", code, body)
	}

	// The dev API: GET /api/dev-info (307 to /v0/api/dev-info).
	code, hdr, _ = call(t, noFollow, http.MethodGet, devURL+"/api/dev-info", "")
	if code != http.StatusTemporaryRedirect || hdr.Get("Location") != "/v0/api/dev-info" {
		t.Errorf("GET /api/dev-info: %d, Location %q", code, hdr.Get("Location"))
	}
	code, _, body = call(t, follow, http.MethodGet, devURL+"/api/dev-info", "")
	var info map[string]json.RawMessage
	if err := json.Unmarshal(body, &info); code != http.StatusOK || err != nil {
		t.Fatalf("dev-info: %d %s", code, body)
	}
	if string(info["sequencer_api_port"]) != strconv.Itoa(apiPort) || string(info["alt_chains"]) != "[]" {
		t.Errorf("dev-info: %s (API port %d)", body, apiPort)
	}
	for _, f := range []string{"builder_url", "l1_url", "l1_light_client_address", "l1_prover_port"} {
		if _, ok := info[f]; !ok {
			t.Errorf("dev-info lacks %s: %s", f, body)
		}
	}
	// l1_url is the embedded L1's JSON-RPC endpoint.
	var l1URL string
	if err := json.Unmarshal(info["l1_url"], &l1URL); err != nil || !strings.HasPrefix(l1URL, "http://127.0.0.1:") {
		t.Fatalf("dev-info l1_url: %s", info["l1_url"])
	}
	code, _, body = call(t, follow, http.MethodPost, l1URL, `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`)
	if code != http.StatusOK || !strings.Contains(string(body), `"result":"0x539"`) {
		t.Errorf("eth_chainId at l1_url %s: %d %s", l1URL, code, body)
	}
	// set-hotshot-down/up need a light client contract: 501 with a message.
	for _, route := range []string{"set-hotshot-down", "set-hotshot-up"} {
		code, _, body = call(t, follow, http.MethodPost, devURL+"/v0/api/"+route, `{"height": 10}`)
		var e struct {
			Status  int    `json:"status"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); code != http.StatusNotImplemented || err != nil || e.Status != http.StatusNotImplemented ||
			!strings.HasPrefix(e.Message, route+" is not available yet: ") || !strings.Contains(e.Message, "no light client contract") {
			t.Errorf("POST %s: %d %s", route, code, body)
		}
	}
}

// --port, --max-connections and --dev-port: flag, else environment
// variable, else default.
func TestDevNodePortOptions(t *testing.T) {
	parse := func(args string, env map[string]string) (options, string, error) {
		var errOut bytes.Buffer
		o, err := parseArgs(strings.Fields(args), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &errOut)
		return o, errOut.String(), err
	}
	for _, tc := range []struct {
		args          string
		env           map[string]string
		port, devPort uint16
		maxConns      uint64
	}{
		{"", nil, 8770, 20000, 0},
		{"", map[string]string{envAPIPort: "9000", envDevPort: "21000", envMaxConns: "5"}, 9000, 21000, 5},
		{"--port 0 --dev-port 0 --max-connections 3", map[string]string{envAPIPort: "9000", envDevPort: "21000", envMaxConns: "5"}, 0, 0, 3},
		{"", map[string]string{envAPIPort: " ", envDevPort: ""}, 8770, 20000, 0},
	} {
		o, errOut, err := parse(tc.args, tc.env)
		if err != nil || o.port != tc.port || o.devPort != tc.devPort || o.maxConns != tc.maxConns {
			t.Errorf("%q %v: port %d, dev port %d, max connections %d, err %v %s", tc.args, tc.env, o.port, o.devPort, o.maxConns, err, errOut)
		}
	}
	if _, errOut, err := parse("", map[string]string{envAPIPort: "http"}); err == nil ||
		errOut != `dev-node: --port (ESPRESSO_SEQUENCER_API_PORT): "http": want an integer from 0 to 65535`+"\n" {
		t.Errorf("bad env: %v, %q", err, errOut)
	}
	if _, errOut, err := parse("", map[string]string{envDevPort: "70000"}); err == nil || !strings.HasPrefix(errOut, "dev-node: --dev-port (ESPRESSO_DEV_NODE_PORT): ") {
		t.Errorf("dev port out of range: %v, %q", err, errOut)
	}
	var out, errOut bytes.Buffer
	if code := runEnv(t.Context(), nil, func(k string) (string, bool) { return "x", k == envMaxConns }, &out, &errOut); code != 2 {
		t.Errorf("bad ESPRESSO_SEQUENCER_MAX_CONNECTIONS: exit %d, want 2", code)
	}
}

// A port in use is a start-up error that says which option to change.
func TestDevNodePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct{ args, want string }{
		{"--dev-port " + busy + " --port 0", "choose another port with --dev-port or ESPRESSO_DEV_NODE_PORT)\n"},
		{"--dev-port 0 --port " + busy, "choose another HTTP API port with --port or ESPRESSO_SEQUENCER_API_PORT)\n"},
	} {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append(strings.Fields(tc.args), "--no-transactions"), &out, &errOut)
		if code != 1 || !strings.HasPrefix(errOut.String(), "dev-node: ") || !strings.HasSuffix(errOut.String(), tc.want) ||
			!strings.Contains(errOut.String(), "address already in use") {
			t.Errorf("%s: exit %d, stderr %q", tc.args, code, errOut.String())
		}
	}
}

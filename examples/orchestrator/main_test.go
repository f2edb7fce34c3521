package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/p2p"
	"github.com/gospresso/gospresso/services/orchestrator"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func withDefaults(edit func(c *config)) config {
	c := defaults()
	edit(&c)
	return c
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		args string
		env  map[string]string
		want config
	}{
		{"required flags", "-p 8080 -n 4", nil, withDefaults(func(c *config) { c.port, c.numNodes = 8080, 4 })},
		{"long flags", "--port=0 --num-nodes 10 --manual-start-password s3cret", nil,
			withDefaults(func(c *config) { c.port, c.numNodes, c.password = 0, 10, "s3cret" })},
		{"env", "", map[string]string{envPort: "30001", envNumNodes: " 5 ", envPassword: "from env"},
			withDefaults(func(c *config) { c.port, c.numNodes, c.password = 30001, 5, "from env" })},
		{"flags win", "-p 1 -n 2 --manual-start-password a", map[string]string{envPort: "x", envNumNodes: "y", envPassword: "b"},
			withDefaults(func(c *config) { c.port, c.numNodes, c.password = 1, 2, "a" })},
		{"blank env unset", "-p 1 -n 2", map[string]string{envPassword: " ", envStartDelay: "", envBuilderURLs: " "},
			withDefaults(func(c *config) { c.port, c.numNodes = 1, 2 })},
		{"every setting", "-p 1 -n 2", map[string]string{
			envStartDelay: "5s", envNextViewTimeout: "12s", envViewSyncTimeout: "1500ms", envTimeoutRatio: "3:2",
			envStartThreshold: "1/2", envRoundStartDelay: "0", envMeshN: "8",
			envKeygenSeed:  "0x0100000000000000000000000000000000000000000000000000000000000002",
			envBuilderURLs: "http://b0:31004, https://b1/x ,", envBuilderTimeout: "2 s",
		}, withDefaults(func(c *config) {
			c.port, c.numNodes = 1, 2
			c.startDelay, c.nextViewTimeout, c.viewSyncTimeout = 5*time.Second, 12*time.Second, 1500*time.Millisecond
			c.timeoutRatio, c.startThreshold, c.roundStartDelay, c.meshN = [2]uint64{3, 2}, [2]uint64{1, 2}, 0, 8
			c.keygenSeed[0], c.keygenSeed[31] = 1, 2
			c.builderURLs, c.builderTimeout = []string{"http://b0:31004", "https://b1/x"}, 2*time.Second
		})},
		{"decimal threshold, day units", "-p 1 -n 2", map[string]string{envStartThreshold: "0.8", envStartDelay: "1d 1.5h"},
			withDefaults(func(c *config) {
				c.port, c.numNodes, c.startThreshold, c.startDelay = 1, 2, [2]uint64{4, 5}, 25*time.Hour+30*time.Minute
			})},
	} {
		got, err := parse(strings.Fields(tc.args), mapEnv(tc.env))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	c := defaults()
	if c.startDelay != 10*time.Second || c.nextViewTimeout != 60*time.Second || c.viewSyncTimeout != 2*time.Second ||
		c.timeoutRatio != [2]uint64{11, 10} || c.startThreshold != [2]uint64{8, 10} || c.roundStartDelay != time.Millisecond ||
		c.meshN != 20 || c.keygenSeed != [32]byte{} || c.builderURLs != nil || c.builderTimeout != time.Second {
		t.Fatalf("defaults %+v", c)
	}
}

func runArgs(t *testing.T, ctx context.Context, args []string, env map[string]string, listen listenFunc) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runWith(ctx, args, mapEnv(env), &stdout, &stderr, listen)
	return code, stdout.String(), stderr.String()
}

func noListen(t *testing.T) listenFunc {
	return func(uint16) (net.Listener, error) {
		t.Error("listened although the configuration is bad")
		return nil, fmt.Errorf("no")
	}
}

func TestErrors(t *testing.T) {
	req := "-p 1 -n 2 "
	for _, tc := range []struct {
		name string
		args string
		env  map[string]string
		code int
		msg  string
	}{
		{"no port", "-n 4", nil, exitUsage, "orchestrator: --port (or ESPRESSO_ORCHESTRATOR_PORT) is required"},
		{"no nodes", "-p 8080", nil, exitUsage, "orchestrator: --num-nodes (or ESPRESSO_ORCHESTRATOR_NUM_NODES) is required"},
		{"nothing", "", nil, exitUsage, "is required"},
		{"unknown flag", req + "--no-such-flag", nil, exitUsage, "orchestrator: unknown flag: --no-such-flag (see --help)"},
		{"bad port", "-p 70000 -n 4", nil, exitUsage, `invalid argument "70000" for "-p, --port" flag: want a port number from 0 to 65535`},
		{"bad port env", "-n 4", map[string]string{envPort: "http"}, exitUsage,
			`orchestrator: --port (ESPRESSO_ORCHESTRATOR_PORT): "http": want a port number from 0 to 65535`},
		{"zero nodes", "-p 1 -n 0", nil, exitUsage, "want a whole number from 1 to 10000"},
		{"bad nodes env", "-p 1", map[string]string{envNumNodes: "four"}, exitUsage,
			`--num-nodes (ESPRESSO_ORCHESTRATOR_NUM_NODES): "four": want a whole number from 1 to 10000`},
		{"empty password", req + "--manual-start-password=", nil, exitUsage, "empty password"},
		{"argument", req + "extra", nil, exitUsage, `orchestrator: unexpected argument "extra"`},
		{"bad delay", req, map[string]string{envStartDelay: "10 parsecs"}, exitUsage,
			`orchestrator: ESPRESSO_ORCHESTRATOR_START_DELAY: "10 parsecs": invalid duration (want e.g. 500ms, 7s, 1h, 3d)`},
		{"bare number", req, map[string]string{envBuilderTimeout: "10"}, exitUsage, "missing unit"},
		{"negative", req, map[string]string{envRoundStartDelay: "-1ms"}, exitUsage, "negative duration"},
		{"zero view timeout", req, map[string]string{envNextViewTimeout: "0"}, exitUsage, "ESPRESSO_ORCHESTRATOR_NEXT_VIEW_TIMEOUT: \"0\": want at least 1ms"},
		{"shrinking timeout ratio", req, map[string]string{envTimeoutRatio: "9:10"}, exitUsage, "want N:D with N >= D"},
		{"bad ratio", req, map[string]string{envTimeoutRatio: "11:0"}, exitUsage, "invalid ratio (want N:D, e.g. 8:10)"},
		{"threshold above 1", req, map[string]string{envStartThreshold: "11:10"}, exitUsage, "want N:D with 0 < N <= D"},
		{"threshold 0", req, map[string]string{envStartThreshold: "0:10"}, exitUsage, "want N:D with 0 < N <= D"},
		{"mesh 0", req, map[string]string{envMeshN: "0"}, exitUsage, "ESPRESSO_ORCHESTRATOR_LIBP2P_MESH_N: \"0\": want a whole number"},
		{"short seed", req, map[string]string{envKeygenSeed: "00ff"}, exitUsage, "want exactly 64 hex digits"},
		{"bad builder URL", req, map[string]string{envBuilderURLs: "http://ok:1,builder:3000"}, exitUsage,
			`ESPRESSO_ORCHESTRATOR_BUILDER_URLS: "builder:3000": not an absolute http or https URL`},
	} {
		code, out, errOut := runArgs(t, t.Context(), strings.Fields(tc.args), tc.env, noListen(t))
		if code != tc.code || !strings.Contains(errOut, tc.msg) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%s: exit %d (want %d), stderr %q (want one line with %q), stdout %q", tc.name, code, tc.code, errOut, tc.msg, out)
		}
	}
	// A seed is never echoed.
	_, _, errOut := runArgs(t, t.Context(), strings.Fields(req), map[string]string{envKeygenSeed: "secretseedtext"}, noListen(t))
	if strings.Contains(errOut, "secretseedtext") {
		t.Errorf("the seed is echoed: %q", errOut)
	}
	// A port that cannot be bound.
	code, _, errOut := runArgs(t, t.Context(), strings.Fields(req), nil, func(port uint16) (net.Listener, error) {
		return nil, fmt.Errorf("listen tcp :%d: bind: permission denied", port)
	})
	if code != exitFailure || !strings.HasPrefix(errOut, "orchestrator: listen on port 1: ") {
		t.Errorf("bind failure: exit %d, %q", code, errOut)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-p", "1", "--help"}} {
		code, out, errOut := runArgs(t, t.Context(), args, nil, noListen(t))
		if code != exitOK || errOut != "" || !strings.HasPrefix(out, "Usage: orchestrator -p PORT -n N") {
			t.Errorf("%v: exit %d, stderr %q, stdout %.60q", args, code, errOut, out)
		}
		for _, want := range []string{envPort, envNumNodes, envPassword, envStartDelay, envNextViewTimeout, envViewSyncTimeout,
			envTimeoutRatio, envStartThreshold, envRoundStartDelay, envMeshN, envKeygenSeed, envBuilderURLs, envBuilderTimeout,
			"[10s]", "[60s]", "[11:10]", "[8:10]", "[1ms]", "[20]", "-h, --help", "-n, --num-nodes", "--manual-start-password"} {
			if !strings.Contains(out, want) {
				t.Errorf("help lacks %q:\n%s", want, out)
			}
		}
	}
}

// The binary reads its settings from the environment, serves /healthcheck
// and the orchestrator's routes (a node registers through the client and
// gets the start signal after the start delay), and stops with status 0
// when its context ends.
func TestServes(t *testing.T) {
	addrs := make(chan net.Addr, 1)
	listen := func(port uint16) (net.Listener, error) {
		if port != 18080 {
			t.Errorf("listening on port %d, want 18080 from %s", port, envPort)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			addrs <- ln.Addr()
		}
		return ln, err
	}
	env := map[string]string{envPort: "18080", envNumNodes: "1", envStartDelay: "50ms", envNextViewTimeout: "12s",
		envBuilderURLs: "http://builder:31004", envPassword: "pw"}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- runWith(ctx, nil, mapEnv(env), &stdout, &stderr, listen) }()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case code := <-done:
		t.Fatalf("exited %d before listening: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}

	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	resp, err := hc.Get(base + "/healthcheck")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthcheck: %d", resp.StatusCode)
	}
	hc.CloseIdleConnections()

	k, err := keys.DeriveKeys([keys.SeedSize]byte{3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p2p.PeerID(k.Staking)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := orchestrator.NewRegistration(k, true, "/ip4/127.0.0.1/udp/1769/quic-v1/p2p/"+id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := orchestrator.NewClient(base)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer wcancel()
	if i, err := c.Register(wctx, reg); err != nil || i != 0 {
		t.Fatalf("register: %d, %v", i, err)
	}
	cfg, err := c.WaitForStart(wctx, 10*time.Millisecond)
	if err != nil || len(cfg.StakeTable) != 1 || cfg.NextViewTimeoutMS != 12000 || cfg.StartThresholdNodes != 1 ||
		len(cfg.BuilderURLs) != 1 || cfg.BuilderURLs[0] != "http://builder:31004" {
		t.Fatalf("config: %+v, %v", cfg, err)
	}
	c.CloseIdleConnections()

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d after the context ended: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after the context ended")
	}
	out := stdout.String()
	for _, want := range []string{
		"orchestrator: listening on 127.0.0.1:",
		"; expecting 1 nodes, start signal 50ms after 1 of them (8:10) have registered; manual start enabled\n",
		"orchestrator: stopped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if logs := stderr.String(); !strings.Contains(logs, "orchestrator: node registered") || !strings.Contains(logs, "start signal given") {
		t.Errorf("logs:\n%s", logs)
	}
}

// A context ended before serving still stops cleanly.
func TestStopsBeforeServing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code, out, errOut := runArgs(t, ctx, []string{"-p", "0", "-n", "3"}, nil, func(uint16) (net.Listener, error) {
		return net.Listen("tcp", "127.0.0.1:0")
	})
	if code != exitOK || !strings.Contains(out, "expecting 3 nodes, start signal 10s after 3 of them (8:10) have registered; manual start disabled") ||
		!strings.HasSuffix(out, "stopped\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/services/staterelay"
	"github.com/gospresso/gospresso/types"
)

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		args string
		env  map[string]string
		want config
	}{
		{"defaults", "", nil, config{port: 8083, totalStake: 5}},
		{"flags", "-p 9001 --total-stake 7", nil, config{port: 9001, totalStake: 7, stakeGiven: true}},
		{"long port", "--port=0", nil, config{port: 0, totalStake: 5}},
		{"env", "", map[string]string{envPort: "9000", envTotalStake: "11"}, config{port: 9000, totalStake: 11, stakeGiven: true}},
		{"env genesis", "", map[string]string{envGenesis: "/g.toml"}, config{port: 8083, totalStake: 5, genesisFile: "/g.toml"}},
		{"flags win", "--port 9001 --total-stake 2", map[string]string{envPort: "9000", envTotalStake: "x"},
			config{port: 9001, totalStake: 2, stakeGiven: true}},
		{"genesis flag wins", "--genesis /a.toml", map[string]string{envGenesis: "/b.toml"}, config{port: 8083, totalStake: 5, genesisFile: "/a.toml"}},
		{"env trimmed", "-p 9001", map[string]string{envPort: "nonsense", envGenesis: " /b.toml "}, config{port: 9001, totalStake: 5, genesisFile: "/b.toml"}},
		{"blank env unset", "", map[string]string{envPort: " ", envTotalStake: ""}, config{port: 8083, totalStake: 5}},
	} {
		got, err := parse(strings.Fields(tc.args), mapEnv(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
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
	for _, tc := range []struct {
		name string
		args string
		env  map[string]string
		code int
		msg  string
	}{
		{"unknown flag", "--no-such-flag", nil, exitUsage, "state-relay-server: unknown flag: --no-such-flag (see --help)"},
		{"bad port", "-p 70000", nil, exitUsage, `state-relay-server: invalid argument "70000" for "-p, --port" flag: want a port number from 0 to 65535`},
		{"bad port env", "", map[string]string{envPort: "http"}, exitUsage,
			`state-relay-server: --port (ESPRESSO_STATE_RELAY_SERVER_PORT): "http": want a port number from 0 to 65535`},
		{"zero stake", "--total-stake 0", nil, exitUsage, "want a whole number of at least 1"},
		{"bad stake env", "", map[string]string{envTotalStake: "-1"}, exitUsage,
			`state-relay-server: --total-stake (ESPRESSO_STATE_SIGNATURE_TOTAL_STAKE): "-1": want a whole number of at least 1`},
		{"stake and genesis", "--total-stake 4 --genesis g.toml", nil, exitUsage,
			"state-relay-server: --total-stake and --genesis exclude each other"},
		{"stake env and genesis env", "", map[string]string{envTotalStake: "5", envGenesis: "g.toml"}, exitUsage,
			"state-relay-server: --total-stake and --genesis exclude each other"},
		{"argument", "extra", nil, exitUsage, `state-relay-server: unexpected argument "extra"`},
		{"missing genesis", "--genesis /nonexistent/genesis.toml", nil, exitFailure, "state-relay-server: genesis: read file: "},
		{"genesis without stake table", "--genesis " + writeFile(t, "no-table.toml", genesisHead), nil, exitFailure,
			"has no [[public_keys]] stake table"},
	} {
		code, out, errOut := runArgs(t, t.Context(), strings.Fields(tc.args), tc.env, noListen(t))
		if code != tc.code || !strings.Contains(errOut, tc.msg) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%s: exit %d (want %d), stderr %q (want one line with %q), stdout %q", tc.name, code, tc.code, errOut, tc.msg, out)
		}
	}
	// A port that cannot be bound.
	code, _, errOut := runArgs(t, t.Context(), []string{"-p", "1"}, nil, func(port uint16) (net.Listener, error) {
		return nil, fmt.Errorf("listen tcp :%d: bind: permission denied", port)
	})
	if code != exitFailure || !strings.HasPrefix(errOut, "state-relay-server: listen on port 1: ") {
		t.Errorf("bind failure: exit %d, %q", code, errOut)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-p", "1", "--help"}} {
		code, out, errOut := runArgs(t, t.Context(), args, nil, noListen(t))
		if code != exitOK || errOut != "" || !strings.HasPrefix(out, "Usage: state-relay-server ") {
			t.Errorf("%v: exit %d, stderr %q, stdout %.60q", args, code, errOut, out)
		}
		for _, want := range []string{envPort, envTotalStake, envGenesis, "(default 8083)", "(default 5)", "-h, --help"} {
			if !strings.Contains(out, want) {
				t.Errorf("help lacks %q:\n%s", want, out)
			}
		}
	}
}

const genesisHead = `base_version = "0.2"
upgrade_version = "0.2"

[stake_table]
capacity = 10

[chain_config]
chain_id = 999999999
base_fee = '0 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'

[header]
timestamp = "2024-01-01T00:00:00Z"
`

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeGenesis writes a genesis whose stake table holds ks with the given
// stakes.
func writeGenesis(t *testing.T, ks []keys.Keys, stakes ...uint64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(genesisHead)
	for i, k := range ks {
		fmt.Fprintf(&b, "\n[[public_keys]]\nstake_table_key = %q\nstate_ver_key = %q\nda = true\nstake = %d\nstake_table_key_pop = %q\n",
			k.Staking.PubKey(), k.State.PubKey(), stakes[i], k.Staking.ProvePossession())
	}
	return writeFile(t, "genesis.toml", b.String())
}

// The binary reads its port from the environment, loads the stake table
// from --genesis, serves /healthcheck and the relay's routes, and stops
// with status 0 when its context ends.
func TestServes(t *testing.T) {
	var ks []keys.Keys
	for i := range 5 {
		k, err := keys.DeriveKeys([keys.SeedSize]byte{9}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	gen := writeGenesis(t, ks[:4], 1, 2, 3, 4) // total 10: threshold 4; key 4 is not in it

	addrs := make(chan net.Addr, 1)
	listen := func(port uint16) (net.Listener, error) {
		if port != 18083 {
			t.Errorf("listening on port %d, want 18083 from %s", port, envPort)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			addrs <- ln.Addr()
		}
		return ln, err
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runWith(ctx, nil, mapEnv(map[string]string{envPort: "18083", envGenesis: gen}), &stdout, &stderr, listen)
	}()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case code := <-done:
		t.Fatalf("exited %d before listening: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}

	client := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(k keys.Keys, s lightclient.State) (int, string) {
		t.Helper()
		st, err := lightclient.Sign(k.State, s)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(st)
		resp, err := client.Post(base+"/api/state", "application/json", bytes.NewReader(body)) // follows the 307
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	if code, body := get("/healthcheck"); code != http.StatusOK || !strings.Contains(body, `"status":"available"`) {
		t.Fatalf("/healthcheck: %d %s", code, body)
	}
	if code, body := get("/api/state"); code != http.StatusNotFound || !strings.Contains(body, "no state certified yet") {
		t.Fatalf("GET /api/state before any post: %d %s", code, body)
	}
	s := lightclient.State{ViewNumber: 4, BlockHeight: 3, BlockCommRoot: types.NewU256(77)}
	if code, body := post(ks[4], s); code != http.StatusForbidden || !strings.Contains(body, "not a state key of the stake table") {
		t.Fatalf("post by a key outside the table: %d %s", code, body)
	}
	if code, body := post(ks[2], s); code != http.StatusOK || !strings.Contains(body, `"outcome":"pending"`) {
		t.Fatalf("post by key 2 (stake 3): %d %s", code, body)
	}
	if code, body := post(ks[0], s); code != http.StatusOK || !strings.Contains(body, `"outcome":"certified"`) {
		t.Fatalf("post by key 0 (stake 1, total 4): %d %s", code, body)
	}
	code, body := get("/v0/api/state")
	var c staterelay.Certified
	if code != http.StatusOK || json.Unmarshal([]byte(body), &c) != nil || c.State != s || c.AccumulatedWeight != 4 || len(c.Signatures) != 2 {
		t.Fatalf("GET /v0/api/state: %d %s", code, body)
	}

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
		"state-relay-server: listening on 127.0.0.1:",
		"threshold 4 of total stake 10 (the 4 state keys of the stake table in " + gen + ", weighed by stake)",
		"state-relay-server: stopped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

// Without --genesis: any key, weight 1, threshold from --total-stake; a
// context ended before serving still stops cleanly.
func TestServesWithoutGenesis(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code, out, errOut := runArgs(t, ctx, []string{"--total-stake", "9"}, nil, func(uint16) (net.Listener, error) {
		return net.Listen("tcp", "127.0.0.1:0")
	})
	if code != exitOK || !strings.Contains(out, "threshold 4 of total stake 9 (any key, each weighs 1") || !strings.HasSuffix(out, "stopped\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

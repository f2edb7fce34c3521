package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gospresso/gospresso/internal/shared"

	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/p2p"
)

// testKeys derives a key set and writes it as a key file.
func testKeys(t *testing.T) (keys.Keys, string) {
	t.Helper()
	k, err := keys.DeriveKeys([keys.SeedSize]byte{1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := keys.WriteKeyFile(&buf, k, keys.SchemeAll); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "0.env")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return k, path
}

func runWith(t *testing.T, ctx context.Context, args []string, env map[string]string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelpPaths(t *testing.T) {
	sql, err := options.ModuleHelp("storage-sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args string
		want string
	}{
		{"--help", options.GlobalHelp()},
		{"-- help", options.ModuleList()},
		{"-- help storage-sql", sql},
		{"-- http -- storage-sql --help", sql},
	} {
		// No environment at all: help needs no configuration.
		code, out, errOut := runWith(t, t.Context(), strings.Fields(tc.args), nil)
		if code != 0 || out != tc.want || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout starts %.60q", tc.args, code, errOut, out)
		}
	}
	if _, out, _ := runWith(t, t.Context(), []string{"--", "help", "http"}, nil); !strings.HasPrefix(out, "Usage: sequencer -- http ") {
		t.Errorf("module usage line: %.60q", out)
	}
}

func TestErrors(t *testing.T) {
	td := shared.Dir(t)
	demo := filepath.Join(td, "genesis", "demo.toml")
	_, keyFile := testKeys(t)
	bad := filepath.Join(t.TempDir(), "bad.env")
	if err := os.WriteFile(bad, []byte("ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY=nonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args string
		env  map[string]string
		code int
		msg  string
	}{
		{"unknown module", "-- api", nil, exitUsage, `sequencer: unknown module "api": there is no api module, use http`},
		{"bad value", "--l1-polling-interval 7parsecs", nil, exitUsage, `sequencer: --l1-polling-interval: "7parsecs": invalid duration`},
		{"bad env", "", map[string]string{"ESPRESSO_SEQUENCER_IS_DA": "yes"}, exitUsage,
			`sequencer: --is-da (ESPRESSO_SEQUENCER_IS_DA): "yes": invalid boolean`},
		{"no keys", "-- http", nil, exitUsage, "sequencer: neither key file nor full set of private keys was provided"},
		{"query without storage", "--key-file " + keyFile + " -- http -- query", nil, exitUsage,
			"sequencer: query module requested but not storage provided"},
		{"missing genesis", "--key-file " + keyFile + " --genesis-file /nonexistent/genesis.toml", nil, exitFailure, "sequencer: genesis: "},
		{"bad key file", "--key-file " + bad + " --genesis-file " + demo, nil, exitFailure, "sequencer: "},
		{"missing key file", "--key-file /nonexistent/0.env --genesis-file " + demo, nil, exitFailure, "sequencer: "},
		// Identity options are configuration errors, found before the
		// genesis file or the keys are read.
		{"unknown country code", "--key-file " + keyFile + " --genesis-file " + demo + " --country-code XX -- http -- status", nil, exitUsage,
			`sequencer: --country-code: "XX": not an ISO 3166-1 alpha-2 country code (want e.g. US or DE)`},
		{"unknown country code from env", "--key-file /nonexistent/0.env --genesis-file /nonexistent/genesis.toml",
			map[string]string{"ESPRESSO_SEQUENCER_IDENTITY_COUNTRY_CODE": "zz"}, exitUsage, `sequencer: --country-code: "ZZ": `},
		{"latitude without longitude", "--key-file " + keyFile + " --genesis-file " + demo + " --latitude 40.4", nil, exitUsage,
			"sequencer: --latitude needs --longitude too (give both or neither)"},
		{"longitude without latitude", "--key-file " + keyFile + " --genesis-file /nonexistent/genesis.toml", map[string]string{"ESPRESSO_SEQUENCER_IDENTITY_LONGITUDE": "-82.9"},
			exitUsage, "sequencer: --longitude needs --latitude too (give both or neither)"},
	} {
		code, out, errOut := runWith(t, t.Context(), strings.Fields(tc.args), tc.env)
		if code != tc.code || !strings.HasPrefix(errOut, tc.msg) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%s: exit %d (want %d), stderr %q (want one line starting %q), stdout %q", tc.name, code, tc.code, errOut, tc.msg, out)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if code, out, errOut := runWith(t, ctx, []string{"--key-file", keyFile, "--genesis-file", demo}, nil); code != exitFailure ||
		errOut != "sequencer: genesis: "+demo+": interrupted while loading the genesis file: context canceled\n" || out != "" {
		t.Errorf("cancelled: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
}

// mkfifo makes a FIFO nobody writes to: opening it for reading blocks. The
// cleanup opens it for writing, which unblocks a reader left behind.
func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	t.Cleanup(func() {
		if fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
	})
	return path
}

// A signal interrupts every start-up step, here reading a genesis or key
// file that is a FIFO nobody writes to: the sequencer returns promptly with
// status 1 and one line that says what it was doing.
func TestInterruptedWhileLoading(t *testing.T) {
	demo := filepath.Join(shared.Dir(t), "genesis", "demo.toml")
	_, keyFile := testKeys(t)
	genesisFIFO, keyFIFO := mkfifo(t), mkfifo(t)
	for _, tc := range []struct {
		name, args, want string
	}{
		{"genesis", "--key-file " + keyFile + " --genesis-file " + genesisFIFO,
			"sequencer: genesis: " + genesisFIFO + ": interrupted while loading the genesis file: context canceled\n"},
		{"keys", "--key-file " + keyFIFO + " --genesis-file " + demo,
			"sequencer: interrupted while loading the key file " + keyFIFO + ": context canceled\n"},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		var out, errOut syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, strings.Fields(tc.args), func(string) (string, bool) { return "", false }, &out, &errOut)
		}()
		select {
		case code := <-done:
			t.Fatalf("%s: exit %d before the signal: %q", tc.name, code, errOut.String())
		case <-time.After(200 * time.Millisecond):
		}
		cancel()
		select {
		case code := <-done:
			if code != exitFailure || errOut.String() != tc.want || out.String() != "" {
				t.Errorf("%s: exit %d, stderr %q (want %q), stdout %q", tc.name, code, errOut.String(), tc.want, out.String())
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the sequencer did not return within 5s of the signal", tc.name)
		}
	}
}

// A full command line in the operator guide's shape runs through parsing,
// genesis and keys and prints the summary without secrets; its Postgres
// server (db-0) does not exist here, so it ends with the one-line storage
// error, which does not show the password either, and status 1 (the paths
// that open a store are in storage_test.go).
func TestFullCommandLine(t *testing.T) {
	td := shared.Dir(t)
	k, keyFile := testKeys(t)
	env := map[string]string{
		"ESPRESSO_SEQUENCER_L1_PROVIDER":              "http://localhost:8545",
		"ESPRESSO_SEQUENCER_ORCHESTRATOR_URL":         "http://orchestrator:30001",
		"ESPRESSO_SEQUENCER_CDN_ENDPOINT":             "marshal-0:9090",
		"ESPRESSO_STATE_RELAY_SERVER_URL":             "http://state-relay-server:30011",
		"ESPRESSO_SEQUENCER_STATE_PEERS":              "http://sequencer1:24001",
		"ESPRESSO_SEQUENCER_GENESIS_FILE":             filepath.Join(td, "genesis", "demo.toml"),
		"ESPRESSO_SEQUENCER_LIBP2P_BIND_ADDRESS":      "0.0.0.0:7000",
		"ESPRESSO_SEQUENCER_LIBP2P_ADVERTISE_ADDRESS": "sequencer0:7000",
		"ESPRESSO_SEQUENCER_IS_DA":                    "true",
		"ESPRESSO_SEQUENCER_POSTGRES_HOST":            "db-0",
		"ESPRESSO_SEQUENCER_POSTGRES_PASSWORD":        "db-password-123",
		"ESPRESSO_SEQUENCER_POSTGRES_PRUNE":           "true",
		"ESPRESSO_SEQUENCER_PRUNER_PRUNING_THRESHOLD": "100 GB",
	}
	for _, keyMode := range []string{"file", "direct"} {
		e := map[string]string{}
		for a, b := range env {
			e[a] = b
		}
		if keyMode == "file" {
			e["ESPRESSO_SEQUENCER_KEY_FILE"] = keyFile
		} else {
			e["ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY"] = k.Staking.Secret()
			e["ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY"] = k.State.Secret()
		}
		args := strings.Fields("-- storage-sql -- http --port 50000 -- query -- submit -- status -- catchup -- config -- hotshot-events --events-service-port 9000")
		code, out, errOut := runWith(t, t.Context(), args, e)
		if code != exitFailure {
			t.Fatalf("%s: exit %d, stderr %q", keyMode, code, errOut)
		}
		if !strings.HasPrefix(errOut, "sequencer: storage: open Postgres postgres@db-0:5432/postgres schema public: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: stderr %q", keyMode, errOut)
		}
		peer, _ := p2p.PeerID(k.Staking)
		for _, want := range []string{
			"modules: storage-sql, http, query, submit, status, catchup, config, hotshot-events",
			"storage: storage-sql, Postgres postgres@db-0:5432/postgres",
			"--is-da=true", "--port=50000", "--prune=true",
			"genesis: " + env["ESPRESSO_SEQUENCER_GENESIS_FILE"] + " (base version 0.2, upgrade version 0.2, chain id 999999999",
			"keys: staking " + k.Staking.PubKey().String() + ", state " + k.State.PubKey().String() + ", libp2p peer " + peer,
			// The API plan (docs/operator.md, "What module combinations do").
			"\napi: :50000 (max connections 1024, the default): /v0/status, /v0/availability, /v1/availability, /v0/node, " +
				"/v0/submit, /v0/catchup, /v0/config, /v0/state-signature, /v0/block-state, /v0/fee-state\n" +
				"api: hotshot-events server :9000: /v0/hotshot-events\n" +
				"state relay: http://state-relay-server:30011 (signed light-client states are posted there)\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: summary lacks %q:\n%s", keyMode, want, out)
			}
		}
		for _, secret := range []string{k.Staking.Secret(), k.State.Secret(), "db-password-123"} {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("%s: output leaks a secret", keyMode)
			}
		}
	}
}

// The API plan is printed with the effective configuration: the address,
// the connection bound and the modules the combination serves (the modules
// themselves are tested in examples/internal/apiopen). Nothing is served:
// the demo genesis has no stake table, and the run is interrupted once it
// has opened its store and waits for an orchestrator that is not there.
func TestAPIPlan(t *testing.T) {
	td := shared.Dir(t)
	_, keyFile := testKeys(t)
	base := "--key-file " + keyFile + " --genesis-file " + filepath.Join(td, "genesis", "demo.toml")
	dir := t.TempDir()
	for _, tc := range []struct{ args, want string }{
		{"-- storage-fs --path " + filepath.Join(dir, "fs") + " -- http --max-connections 5 -- query -- submit",
			"\napi: :8080 (max connections 5): /v0/status, /v0/availability, /v1/availability, /v0/node, /v0/submit, /v0/catchup, /v0/state-signature\n"},
		{"-- storage-fs --path " + filepath.Join(dir, "fs-lightweight"), "\napi: none (no http module: no HTTP server at all)\n"},
		{"-- storage-sql --path " + filepath.Join(dir, "sql") + " -- http --port 24000 -- status -- explorer",
			"\napi: :24000 (max connections 1024, the default): /v0/status, /v0/state-signature\n" +
				"api: explorer: not served, this build has no explorer module yet\n"},
	} {
		code, out, errOut := runUntilStore(t, strings.Fields(base+noOrchestrator+" "+tc.args), nil)
		if code != exitFailure || !interrupted(errOut) {
			t.Fatalf("%s: exit %d, stderr %q", tc.args, code, errOut)
		}
		if !strings.Contains(out, tc.want) {
			t.Errorf("%s: stdout lacks %q:\n%s", tc.args, tc.want, out)
		}
	}
}

package apiopen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/examples/internal/options"
)

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// parse parses and validates a command line (keys given as a key file, so
// Validate passes) with env.
func parse(t *testing.T, args string, env map[string]string) *options.Config {
	t.Helper()
	cfg, err := options.Parse(strings.Fields("--key-file /keys/0.env "+args), mapEnv(env))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return cfg
}

// stubBackend is enough of a node for api.New to mount every module and
// for the routes these tests call (healthcheck, config/env, metrics).
type stubBackend struct{ api.Backend }

func (stubBackend) Metrics() prometheus.Gatherer { return prometheus.NewRegistry() }
func (stubBackend) Status() api.NodeStatus       { return api.NodeStatus{} }
func (stubBackend) BlockHeight() uint64          { return 0 }

// The module sets of docs/operator.md, "What module combinations do".
func TestModuleSets(t *testing.T) {
	const (
		status  = "/v0/status"
		avail0  = "/v0/availability"
		avail1  = "/v1/availability"
		nodeMod = "/v0/node"
		submit  = "/v0/submit"
		catchup = "/v0/catchup"
		config  = "/v0/config"
		sig     = "/v0/state-signature"
		block   = "/v0/block-state"
		fee     = "/v0/fee-state"
	)
	for _, tc := range []struct {
		name, args string
		opts       []Option
		want       []string // modules on the http port; nil = no HTTP
		events     []string
		notServed  string
	}{
		{name: "no http", args: "-- storage-fs --path /tmp/x"},
		{name: "http alone", args: "-- http", want: []string{sig}},
		{name: "http, no state key", args: "-- http", opts: []Option{WithoutStateKey()}, want: []string{}},
		{name: "consensus modules", args: "-- http -- config -- catchup -- submit", want: []string{submit, catchup, config, sig}},
		{name: "status without query", args: "-- http -- status", want: []string{status, sig}},
		{name: "status and submit", args: "-- http -- status -- submit", want: []string{status, submit, sig}},
		{name: "query over storage-fs", args: "-- http -- query -- storage-fs", want: []string{status, avail0, avail1, nodeMod, catchup, sig}},
		{name: "query and status", args: "-- storage-fs -- http -- status -- query", want: []string{status, avail0, avail1, nodeMod, catchup, sig}},
		{name: "query over storage-sql", args: "-- storage-sql -- http -- query",
			want: []string{status, avail0, avail1, nodeMod, catchup, sig, block, fee}},
		{name: "everything", args: "-- storage-sql -- http -- query -- submit -- status -- catchup -- config -- explorer -- hotshot-events --events-service-port 9000",
			want:   []string{status, avail0, avail1, nodeMod, submit, catchup, config, sig, block, fee},
			events: []string{"/v0/hotshot-events"}, notServed: "explorer: not served, this build has no explorer module yet"},
		{name: "query without state key", args: "-- http -- query -- storage-fs -- submit", opts: []Option{WithoutStateKey()},
			want: []string{status, avail0, avail1, nodeMod, submit, catchup}},
		{name: "hotshot-events", args: "-- http -- hotshot-events --events-service-port 9000", want: []string{sig}, events: []string{"/v0/hotshot-events"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Build(parse(t, tc.args, nil), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if p.Addr != "" || len(p.Modules) != 0 || p.EventsAddr != "" {
					t.Fatalf("no http, but plan %q %v %q", p.Addr, Paths(p.Modules), p.EventsAddr)
				}
				return
			}
			if p.Addr != ":8080" {
				t.Errorf("Addr %q, want :8080", p.Addr)
			}
			if got := Paths(p.Modules); !slices.Equal(got, tc.want) {
				t.Errorf("modules %v, want %v", got, tc.want)
			}
			if got := Paths(p.EventsModules); !slices.Equal(got, tc.events) && len(got)+len(tc.events) > 0 {
				t.Errorf("events modules %v, want %v", got, tc.events)
			}
			if (p.EventsAddr != "") != (tc.events != nil) || (p.EventsAddr != "" && p.EventsAddr != ":9000") {
				t.Errorf("EventsAddr %q", p.EventsAddr)
			}
			if got := strings.Join(p.NotServed, "; "); got != tc.notServed {
				t.Errorf("NotServed %q, want %q", got, tc.notServed)
			}
			if (p.Env != nil) != slices.Contains(tc.want, config) {
				t.Errorf("Env set: %t, config served: %t", p.Env != nil, slices.Contains(tc.want, config))
			}
			// The server mounts the set (no module twice, every version valid).
			if _, err := api.New(stubBackend{}, p.Modules, p.ServerOptions...); err != nil {
				t.Errorf("api.New: %v", err)
			}
			if p.EventsModules != nil {
				if _, err := api.New(stubBackend{}, p.EventsModules); err != nil {
					t.Errorf("api.New (events): %v", err)
				}
			}
		})
	}
}

func TestServerOptions(t *testing.T) {
	p, err := Build(parse(t, "-- http --port 50000", nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr != ":50000" || p.MaxConnections != api.DefaultMaxConnections || len(p.ServerOptions) != 0 {
		t.Errorf("defaults: %q %d %d options", p.Addr, p.MaxConnections, len(p.ServerOptions))
	}
	if d := p.Describe(); !strings.HasPrefix(d, "api: :50000 (max connections 1024, the default): /v0/state-signature\n") {
		t.Errorf("Describe:\n%s", d)
	}
	p, err = Build(parse(t, "-- http", map[string]string{"ESPRESSO_SEQUENCER_MAX_CONNECTIONS": "7", "ESPRESSO_SEQUENCER_API_PORT": "24000"}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr != ":24000" || p.MaxConnections != 7 || len(p.ServerOptions) != 1 {
		t.Errorf("from env: %q %d %d options", p.Addr, p.MaxConnections, len(p.ServerOptions))
	}
	if d := p.Describe(); !strings.HasPrefix(d, "api: :24000 (max connections 7): ") {
		t.Errorf("Describe:\n%s", d)
	}
	// The bound reaches the server: with one connection open, the next
	// one is answered 429.
	p, err = Build(parse(t, "-- http --max-connections 1", nil))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(stubBackend{}, p.Modules, p.ServerOptions...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown(context.Background())
	first, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// A keep-alive request on the first connection: once it is answered,
	// the connection is counted.
	if _, err := io.WriteString(first, "GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(first).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("first connection: %q, %v", line, err)
	}
	// The server answers a connection beyond the bound at once, without
	// waiting for a request.
	second, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(second).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 429") {
		t.Errorf("second connection: %q, %v; want 429", line, err)
	}
}

func TestDescribe(t *testing.T) {
	env := map[string]string{"ESPRESSO_STATE_RELAY_SERVER_URL": "http://relay:topsecret@relay.example:8083"}
	p, err := Build(parse(t, "-- storage-sql -- http --port 50000 -- query -- explorer -- hotshot-events --events-service-port 9000", env))
	if err != nil {
		t.Fatal(err)
	}
	want := "api: :50000 (max connections 1024, the default): /v0/status, /v0/availability, /v1/availability, /v0/node, /v0/catchup, /v0/state-signature, /v0/block-state, /v0/fee-state\n" +
		"api: hotshot-events server :9000: /v0/hotshot-events\n" +
		"api: explorer: not served, this build has no explorer module yet\n" +
		"state relay: http://relay:xxxxx@relay.example:8083 (signed light-client states are posted there)\n"
	if d := p.Describe(); d != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", d, want)
	}
	if p.StateRelayURL != "http://relay:topsecret@relay.example:8083" {
		t.Errorf("StateRelayURL %q: the node needs it as given", p.StateRelayURL)
	}
	p, err = Build(parse(t, "", nil), WithoutStateKey())
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Describe(); d != "api: none (no http module: no HTTP server at all)\n" {
		t.Errorf("Describe without http:\n%s", d)
	}
	p, err = Build(parse(t, "-- http", nil), WithoutStateKey())
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Describe(); d != "api: :8080 (max connections 1024, the default): /healthcheck and /version only\n" {
		t.Errorf("Describe of a bare http module:\n%s", d)
	}
}

func TestIdentity(t *testing.T) {
	cfg := parse(t, "--node-name n0 --company-name Acme --company-website https://acme.example/about --network-type AWS "+
		"--country-code de --latitude 52.52 --longitude 13.405 -- http -- status", nil)
	p, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := p.Identity
	if id.NodeName != "n0" || id.CompanyName != "Acme" || id.CompanyWebsite != "https://acme.example/about" || id.NetworkType != "AWS" ||
		id.CountryCode != "DE" || *id.Latitude != 52.52 || *id.Longitude != 13.405 || id.OperatingSystem == "" || !strings.HasPrefix(id.NodeType, "espresso-sequencer ") {
		t.Errorf("identity %+v", id)
	}
	// The status module reports it.
	srv, err := api.New(stubBackend{}, p.Modules)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v0/status/metrics", nil))
	if body := rec.Body.String(); !strings.Contains(body, `consensus_node_identity_location{country="DE",latitude="52.52",longitude="13.405"} 1`) ||
		!strings.Contains(body, `name="n0"`) {
		t.Errorf("metrics:\n%s", body)
	}
}

func TestIdentityErrors(t *testing.T) {
	lat, lon, big, ok := 95.0, 10.0, 181.0, 10.0
	for _, tc := range []struct {
		name string
		id   options.Identity
		kind error
		want string
	}{
		{"unknown country", options.Identity{CountryCode: "XX"}, options.ErrInvalidValue,
			`--country-code: "XX": not an ISO 3166-1 alpha-2 country code (want e.g. US or DE)`},
		{"region, not a country", options.Identity{CountryCode: "EU"}, options.ErrInvalidValue, `--country-code: "EU": `},
		{"latitude alone", options.Identity{Latitude: &ok}, options.ErrMissingValue, "--latitude needs --longitude too (give both or neither)"},
		{"longitude alone", options.Identity{Longitude: &ok}, options.ErrMissingValue, "--longitude needs --latitude too (give both or neither)"},
		{"latitude out of range", options.Identity{Latitude: &lat, Longitude: &lon}, options.ErrInvalidValue, "--latitude: 95: out of range (want -90 to 90)"},
		{"longitude out of range", options.Identity{Latitude: &lon, Longitude: &big}, options.ErrInvalidValue, "--longitude: 181: out of range (want -180 to 180)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Identity(&tc.id)
			var oe *options.Error
			if !errors.As(err, &oe) || !errors.Is(err, options.ErrUsage) || !errors.Is(err, tc.kind) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want a usage error starting %q", err, tc.want)
			}
			// Build reports it too, whatever modules are given.
			cfg := parse(t, "-- http", nil)
			cfg.Global.Identity = tc.id
			if _, err := Build(cfg); err == nil || err.Error() != oe.Error() {
				t.Errorf("Build: %v", err)
			}
		})
	}
	// From the command line: options.Parse accepts any two letters, Build
	// refuses what is no country.
	cfg, err := options.Parse(strings.Fields("--key-file k --country-code zz -- http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(cfg); !errors.Is(err, options.ErrUsage) || !strings.HasPrefix(err.Error(), `--country-code: "ZZ"`) {
		t.Errorf("--country-code zz: %v", err)
	}
	// A latitude without a longitude, if Validate was skipped.
	cfg, err = options.Parse(strings.Fields("--key-file k --latitude 1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(cfg); !errors.Is(err, options.ErrMissingValue) {
		t.Errorf("--latitude alone: %v", err)
	}
}

// secretEnv holds a value for every variable of the option tables, the
// secret ones included, and a few secrets that are in no table.
func secretEnv() map[string]string {
	env := map[string]string{
		"ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY":      "BLS_SIGNING_KEY~topsecret1",
		"ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY":        "SCHNORR_SIGNING_KEY~topsecret2",
		"ESPRESSO_SEQUENCER_POSTGRES_PASSWORD":        "topsecret3",
		"ESPRESSO_SEQUENCER_L1_PROVIDER":              "https://alice:topsecret4@rpc.example/v2/topsecret5,http://backup.example:8545",
		"ESPRESSO_SEQUENCER_L1_WS_PROVIDER":           "wss://rpc.example/ws?apikey=topsecret6",
		"ESPRESSO_SEQUENCER_ORCHESTRATOR_URL":         "http://orch:30001",
		"ESPRESSO_SEQUENCER_STATE_PEERS":              "http://bob:topsecret7@peer-1:24000,http://peer-2:24000/",
		"ESPRESSO_SEQUENCER_API_PORT":                 "50000",
		"ESPRESSO_SEQUENCER_ETH_MNEMONIC":             "topsecret8 test test junk",
		"ESPRESSO_ORCHESTRATOR_MANUAL_START_PASSWORD": "topsecret9",
		"AWS_SECRET_ACCESS_KEY":                       "topsecret10",
	}
	for _, n := range options.PublicEnvNames() {
		if _, ok := env[n]; !ok {
			env[n] = "value-of-" + n
		}
	}
	return env
}

func TestConfigEnvHoldsNoSecret(t *testing.T) {
	env := secretEnv()
	list := ConfigEnv(mapEnv(env), "ESPRESSO_DEV_NODE_PORT", "ESPRESSO_DEV_PASSWORD", "ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY")
	public := options.PublicEnvNames()
	if len(list) != len(public)+1 || !slices.IsSorted(list) {
		t.Errorf("%d entries (want %d), sorted %t", len(list), len(public)+1, slices.IsSorted(list))
	}
	for _, kv := range list {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || options.SecretName(name) || strings.Contains(value, "topsecret") {
			t.Errorf("entry %q holds a secret", kv)
		}
		if !slices.Contains(public, name) && name != "ESPRESSO_DEV_NODE_PORT" {
			t.Errorf("entry %q is in no option table", kv)
		}
	}
	for _, want := range []string{
		"ESPRESSO_SEQUENCER_API_PORT=50000",
		"ESPRESSO_SEQUENCER_ORCHESTRATOR_URL=http://orch:30001",
		"ESPRESSO_SEQUENCER_L1_PROVIDER=https://alice:xxxxx@rpc.example/xxxxx,http://backup.example:8545",
		"ESPRESSO_SEQUENCER_L1_WS_PROVIDER=wss://rpc.example/xxxxx",
		"ESPRESSO_SEQUENCER_STATE_PEERS=http://bob:xxxxx@peer-1:24000,http://peer-2:24000/",
		"ESPRESSO_DEV_NODE_PORT=",
	} {
		if !slices.Contains(list, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	// An empty environment lists every name with an empty value.
	for _, kv := range ConfigEnv(mapEnv(nil)) {
		if !strings.HasSuffix(kv, "=") {
			t.Errorf("unset variable listed as %q", kv)
		}
	}

	// What the config module serves holds no secret either.
	p, err := Build(parse(t, "-- http -- config", nil), WithEnv(mapEnv(env)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(stubBackend{}, p.Modules)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v0/config/env", nil))
	body, _ := io.ReadAll(rec.Body)
	var served []string
	if err := json.Unmarshal(body, &served); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /v0/config/env: %d %s", rec.Code, body)
	}
	if strings.Contains(string(body), "topsecret") || strings.Contains(string(body), "PRIVATE") || strings.Contains(string(body), "PASSWORD") {
		t.Errorf("config/env leaks a secret: %s", body)
	}
	if !slices.Equal(served, p.Env) {
		t.Errorf("served %d entries, planned %d", len(served), len(p.Env))
	}
}

func TestRedactValue(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"8080":                   "8080",
		"marshal-0:9090":         "marshal-0:9090",
		"http://localhost:8545":  "http://localhost:8545",
		"http://localhost:8545/": "http://localhost:8545/",
		"https://u:pw@h/p":       "https://u:xxxxx@h/xxxxx",
		"https://h/v3/key":       "https://h/xxxxx",
		"https://h?key=1":        "https://h/xxxxx",
		"postgres://u:p,w@db/x":  "postgres://u:xxxxx@db/xxxxx",
		"postgres://db/x?password=pw&sslmode=off": "postgres://db/xxxxx",
		"http://a:1,https://u:pw@b:2":             "http://a:1,https://u:xxxxx@b:2",
		"http://%zz:pw@h":                         "http://xxxxx",
	} {
		if got := RedactValue(in); got != want {
			t.Errorf("RedactValue(%q) = %q, want %q", in, got, want)
		}
	}
}

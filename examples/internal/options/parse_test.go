package options

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// keysEnv gives a key file, so that Validate passes on module tests.
var keysEnv = map[string]string{"ESPRESSO_SEQUENCER_KEY_FILE": "/keys/0.env"}

func words(s string) []string { return strings.Fields(s) }

func mustParse(t *testing.T, args []string, env map[string]string) *Config {
	t.Helper()
	c, err := Parse(args, mapEnv(env))
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	return c
}

// The command lines of the reference demo's compose file and the operator guide's
// examples parse and validate.
func TestModuleLines(t *testing.T) {
	for _, tc := range []struct {
		line    string
		modules []string
	}{
		{"-- storage-sql -- http -- query -- submit -- hotshot-events --events-service-port 9000 -- config",
			[]string{"storage-sql", "http", "query", "submit", "hotshot-events", "config"}},
		{"-- storage-sql -- http -- query -- explorer", []string{"storage-sql", "http", "query", "explorer"}},
		{"-- http -- query -- storage-fs", []string{"http", "query", "storage-fs"}},
		{"-- http", []string{"http"}},
		{"-- http --port 50000", []string{"http"}},
		{"-- http -- status", []string{"http", "status"}},
		{"-- http -- catchup", []string{"http", "catchup"}},
		{"-- http -- config", []string{"http", "config"}},
		{"-- http -- submit", []string{"http", "submit"}},
		{"-- http -- query -- storage-fs --path ./storage-path", []string{"http", "query", "storage-fs"}},
		{"-- http -- query -- storage-sql", []string{"http", "query", "storage-sql"}},
		{"-- http -- query -- storage", []string{"http", "query", "storage-fs"}},
		{"-- http --", []string{"http"}},
		{"--", nil},
		{"", nil},
	} {
		c := mustParse(t, words(tc.line), keysEnv)
		if !slices.Equal(c.Modules, tc.modules) {
			t.Errorf("%q: modules %q, want %q", tc.line, c.Modules, tc.modules)
		}
		for _, m := range []struct {
			name string
			set  bool
		}{
			{ModuleHTTP, c.HTTP != nil}, {ModuleQuery, c.Query != nil}, {ModuleSubmit, c.Submit != nil},
			{ModuleStatus, c.Status != nil}, {ModuleCatchup, c.Catchup != nil}, {ModuleConfig, c.Config != nil},
			{ModuleExplorer, c.Explorer != nil}, {ModuleHotShotEvents, c.HotShotEvents != nil},
			{ModuleStorageFS, c.StorageFS != nil}, {ModuleStorageSQL, c.StorageSQL != nil},
		} {
			if m.set != c.Has(m.name) {
				t.Errorf("%q: module %s pointer set = %v, in Modules = %v", tc.line, m.name, m.set, c.Has(m.name))
			}
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%q: Validate: %v", tc.line, err)
		}
	}
	c := mustParse(t, words("-- storage-sql -- http -- query -- submit -- hotshot-events --events-service-port 9000 -- config"), keysEnv)
	if c.HotShotEvents.EventsServicePort != 9000 || c.HTTP.Port != 8080 || c.StorageSQL.Backend() != BackendSQLite {
		t.Errorf("demo line: %+v %+v %q", c.HotShotEvents, c.HTTP, c.StorageSQL.Backend())
	}
	c = mustParse(t, words("-- http -- query -- storage-fs --path ./storage-path"), keysEnv)
	if c.StorageFS.Path != "./storage-path" || c.StorageFS.ConsensusViewRetention != 130000 || c.StorageFS.StoreUndecidedState {
		t.Errorf("storage-fs: %+v", c.StorageFS)
	}
}

// The operator guide's environment (required parameters, identity examples,
// DA mode) parses to the values it describes.
func TestOperatorGuideEnvironment(t *testing.T) {
	const peer = "12D3KooWDtGECieXrqKoVxfDhU7afYnS6toj1GqWXuEDfcaGPDxa"
	env := map[string]string{
		"ESPRESSO_SEQUENCER_L1_PROVIDER":               "http://localhost:8545",
		"ESPRESSO_SEQUENCER_ORCHESTRATOR_URL":          "http://orchestrator:30001",
		"ESPRESSO_SEQUENCER_CDN_ENDPOINT":              "marshal-0:9090",
		"ESPRESSO_STATE_RELAY_SERVER_URL":              "http://state-relay-server:30011",
		"ESPRESSO_SEQUENCER_STATE_PEERS":               "http://sequencer1:24001,http://sequencer2:24002",
		"ESPRESSO_SEQUENCER_KEY_FILE":                  "/keys/0.env",
		"ESPRESSO_SEQUENCER_GENESIS_FILE":              "/genesis/demo.toml",
		"ESPRESSO_SEQUENCER_LIBP2P_BIND_ADDRESS":       "0.0.0.0:7000",
		"ESPRESSO_SEQUENCER_LIBP2P_ADVERTISE_ADDRESS":  "sequencer0:7000",
		"ESPRESSO_SEQUENCER_LIBP2P_BOOTSTRAP_NODES":    "/ip4/127.0.0.1/udp/2000/quic-v1/p2p/" + peer + ",/dns/mynode.example.com/udp/2000/quic-v1/p2p/" + peer,
		"ESPRESSO_SEQUENCER_IS_DA":                     "true",
		"ESPRESSO_SEQUENCER_L1_EVENTS_MAX_BLOCK_RANGE": "5000",
		"ESPRESSO_SEQUENCER_IDENTITY_NODE_NAME":        "espresso-sequencer-01",
		"ESPRESSO_SEQUENCER_IDENTITY_COMPANY_NAME":     "Espresso Systems",
		"ESPRESSO_SEQUENCER_IDENTITY_COMPANY_WEBSITE":  "https://www.espressosys.com",
		"ESPRESSO_SEQUENCER_IDENTITY_OPERATING_SYSTEM": "Linux 5.15.0-101-generic",
		"ESPRESSO_SEQUENCER_IDENTITY_NODE_TYPE":        "espresso-sequencer 1.0.0",
		"ESPRESSO_SEQUENCER_IDENTITY_NETWORK_TYPE":     "AWS us-west-2",
		"ESPRESSO_SEQUENCER_IDENTITY_COUNTRY_CODE":     "US",
		"ESPRESSO_SEQUENCER_IDENTITY_LATITUDE":         "40.417300",
		"ESPRESSO_SEQUENCER_IDENTITY_LONGITUDE":        "-82.907100",
		"ESPRESSO_SEQUENCER_API_PORT":                  "24000",
		"ESPRESSO_SEQUENCER_POSTGRES_HOST":             "db-0",
		"ESPRESSO_SEQUENCER_POSTGRES_PASSWORD":         "password",
		"ESPRESSO_SEQUENCER_POSTGRES_PRUNE":            "true",
		"ESPRESSO_SEQUENCER_PRUNER_MINIMUM_RETENTION":  "1d",
		"ESPRESSO_SEQUENCER_PRUNER_TARGET_RETENTION":   "7d",
		"ESPRESSO_SEQUENCER_PRUNER_PRUNING_THRESHOLD":  "100 GB",
		"ESPRESSO_SEQUENCER_FETCH_RATE_LIMIT":          "25",
		"ESPRESSO_SEQUENCER_ACTIVE_FETCH_DELAY":        "50ms",
		"ESPRESSO_SEQUENCER_CHUNK_FETCH_DELAY":         "100ms",
		"ESPRESSO_SEQUENCER_API_PEERS":                 "http://sequencer1:24001",
	}
	c := mustParse(t, words("-- storage-sql -- http -- query -- submit -- status -- catchup"), env)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	g := c.Global
	if g.OrchestratorURL.String() != "http://orchestrator:30001" || g.CDNEndpoint != "marshal-0:9090" ||
		g.StateRelayServerURL.Host != "state-relay-server:30011" || len(g.StatePeers) != 2 || g.StatePeers[1].Host != "sequencer2:24002" ||
		g.KeyFile != "/keys/0.env" || g.GenesisFile != "/genesis/demo.toml" || g.Libp2pBindAddress != "0.0.0.0:7000" ||
		g.Libp2pAdvertiseAddress != "sequencer0:7000" || len(g.Libp2pBootstrapNodes) != 2 || !g.IsDA ||
		g.L1.EventsMaxBlockRange != 5000 || len(g.L1.ProviderURLs) != 1 {
		t.Errorf("global: %+v", g)
	}
	id := g.Identity
	if id.NodeName != "espresso-sequencer-01" || id.CompanyName != "Espresso Systems" || id.CompanyWebsite.Host != "www.espressosys.com" ||
		id.OperatingSystem != "Linux 5.15.0-101-generic" || id.NodeType != "espresso-sequencer 1.0.0" || id.NetworkType != "AWS us-west-2" ||
		id.CountryCode != "US" || *id.Latitude != 40.4173 || *id.Longitude != -82.9071 {
		t.Errorf("identity: %+v", id)
	}
	m := c.StorageSQL
	if m.Backend() != BackendPostgres || m.Host != "db-0" || m.Port != 5432 || m.Password.Reveal() != "password" || !m.Prune ||
		m.MinimumRetention != 24*time.Hour || m.TargetRetention != 7*24*time.Hour || m.PruningThreshold != 100e9 ||
		m.FetchRateLimit != 25 || m.ActiveFetchDelay != 50*time.Millisecond || m.ChunkFetchDelay != 100*time.Millisecond {
		t.Errorf("storage-sql: %+v", m)
	}
	if c.HTTP.Port != 24000 || len(c.Query.Peers) != 1 {
		t.Errorf("http %+v query %+v", c.HTTP, c.Query)
	}
}

// The documented defaults (docs/operator.md, "Global options" and "Modules")
// land in the fields.
func TestDefaults(t *testing.T) {
	c := mustParse(t, words("-- storage-sql -- http -- hotshot-events --events-service-port 1"), nil)
	g := c.Global
	if g.OrchestratorURL.String() != "http://localhost:8080" || g.CDNEndpoint != "127.0.0.1:8081" ||
		g.Libp2pBindAddress != "0.0.0.0:1769" || g.Libp2pAdvertiseAddress != "localhost:1769" || g.Libp2pBootstrapNodes != nil ||
		g.PublicAPIURL != nil || g.StateRelayServerURL.String() != "http://localhost:8083" || g.GenesisFile != "/genesis/demo.toml" ||
		g.KeyFile != "" || g.PrivateStakingKey != "" || g.IsDA || g.L1.ProviderURLs[0].String() != "http://localhost:8545" {
		t.Errorf("network defaults: %+v", g)
	}
	l1 := g.L1
	if l1.EventsMaxBlockRange != 10000 || l1.RetryDelay != time.Second || l1.PollingInterval != 7*time.Second || l1.BlocksCacheSize != 100 ||
		l1.EventsChannelCapacity != 100 || l1.SubscriptionTimeout != time.Minute || l1.FrequentFailureTolerance != time.Minute ||
		l1.ConsecutiveFailureTolerance != 10 || l1.RateLimitDelay != 0 || l1.WSProviderURLs != nil {
		t.Errorf("L1 defaults: %+v", l1)
	}
	cu := g.Catchup
	if cu.BackoffDisable || cu.BaseRetryDelay != 500*time.Millisecond || cu.MaxRetryDelay != 5*time.Second || cu.BackoffFactor != 2 ||
		cu.BackoffJitter != (Ratio{1, 10}) {
		t.Errorf("catchup defaults: %+v", cu)
	}
	if g.Consensus != (ConsensusOptions{12 * time.Second, 2 * time.Second, time.Second}) {
		t.Errorf("consensus defaults: %+v", g.Consensus)
	}
	if g.ConsensusStorage != (ConsensusStorageOptions{302000, 130000, 1000000000}) {
		t.Errorf("retention defaults: %+v", g.ConsensusStorage)
	}
	gs := g.Gossip
	if gs.HeartbeatInterval != time.Second || gs.MeshN != 8 || gs.MeshNHigh != 12 || gs.MeshNLow != 6 || !gs.FloodPublish ||
		gs.GossipFactor != 0.25 || gs.MaxGossipTransmitSize != 2000000 || gs.MaxDirectTransmitSize != 20000000 ||
		gs.DuplicateCacheTime != 20*time.Minute || gs.FanoutTTL != time.Minute || gs.MaxMessagesPerRPC != 0 {
		t.Errorf("gossip defaults: %+v", gs)
	}
	if g.Log != (LogOptions{"info", "full"}) || g.Marketplace.FallbackBuilderURL.String() != "http://localhost:31004" ||
		g.Marketplace.AuctionResultsSolverURL.String() != "http://localhost:25000" || g.Marketplace.MarketplaceSolverPath != "marketplace-solver/" ||
		g.Marketplace.AuctionResultsPath != "auction_results/" {
		t.Errorf("log/marketplace defaults: %+v %+v", g.Log, g.Marketplace)
	}
	if g.Identity.OperatingSystem == "" || !strings.HasPrefix(g.Identity.NodeType, "espresso-sequencer ") {
		t.Errorf("identity defaults: %+v", g.Identity)
	}
	m := c.StorageSQL
	if m.BatchSize != 30000 || m.MaxUsage != 8000 || m.Interval != 5400*time.Second || m.PruningThreshold != 3e12 ||
		m.MinimumRetention != 24*time.Hour || m.TargetRetention != 7*24*time.Hour || m.Prune || m.Archive || m.Lightweight ||
		m.IdleConnectionTimeout != 10*time.Minute || m.ConnectionTimeout != 30*time.Minute || m.SlowStatementThreshold != time.Second ||
		m.MinConnections != 0 || m.MaxConnections != 25 || m.Path != "./storage" {
		t.Errorf("storage-sql defaults: %+v", m)
	}
	if c.HTTP.Port != 8080 || c.HTTP.MaxConnections != 0 {
		t.Errorf("http defaults: %+v", c.HTTP)
	}
}

// Module options are scoped: --port means a different thing per module, and
// so do the environment variables.
func TestScoping(t *testing.T) {
	c := mustParse(t, words("-- http --port 1 -- storage-sql --port 2"), nil)
	if c.HTTP.Port != 1 || c.StorageSQL.Port != 2 {
		t.Errorf("ports: http %d, storage-sql %d", c.HTTP.Port, c.StorageSQL.Port)
	}
	env := map[string]string{"ESPRESSO_SEQUENCER_API_PORT": "11", "ESPRESSO_SEQUENCER_POSTGRES_PORT": "22"}
	c = mustParse(t, words("-- http -- storage-sql"), env)
	if c.HTTP.Port != 11 || c.StorageSQL.Port != 22 {
		t.Errorf("env ports: http %d, storage-sql %d", c.HTTP.Port, c.StorageSQL.Port)
	}
	c = mustParse(t, words("-- storage-fs --path /a"), map[string]string{"ESPRESSO_SEQUENCER_STORAGE_PATH": "/b"})
	if c.StorageFS.Path != "/a" {
		t.Errorf("flag beats env: %q", c.StorageFS.Path)
	}
	// A module's environment is not read when the module is absent: a bad
	// value there is no error.
	if _, err := Parse(words("-- http"), mapEnv(map[string]string{"ESPRESSO_SEQUENCER_POSTGRES_PORT": "x"})); err != nil {
		t.Errorf("absent module's env read: %v", err)
	}
}

func TestStorageSQLBackend(t *testing.T) {
	for _, tc := range []struct {
		args    string
		env     map[string]string
		backend string
		check   func(m *StorageSQLModule) bool
	}{
		{"-- storage-sql", nil, BackendSQLite,
			func(m *StorageSQLModule) bool { return m.SQLitePath == filepath.Join("storage", "sqlite", "database") }},
		{"-- storage-sql --path /data", nil, BackendSQLite,
			func(m *StorageSQLModule) bool { return m.SQLitePath == "/data/sqlite/database" }},
		{"-- storage-sql sqlite:///var/lib/seq.db", nil, BackendSQLite,
			func(m *StorageSQLModule) bool { return m.SQLitePath == "/var/lib/seq.db" }},
		{"-- storage-sql --uri sqlite://rel/seq.db", nil, BackendSQLite,
			func(m *StorageSQLModule) bool { return m.SQLitePath == "rel/seq.db" }},
		{"-- storage-sql --host db", nil, BackendPostgres,
			func(m *StorageSQLModule) bool { return m.Host == "db" && m.Port == 5432 && m.User == "postgres" }},
		{"-- storage-sql", map[string]string{"ESPRESSO_SEQUENCER_POSTGRES_HOST": "db"}, BackendPostgres,
			func(m *StorageSQLModule) bool { return m.Host == "db" }},
		{"-- storage-sql postgres://alice:pw@db.example:6543/seq?sslmode=disable", nil, BackendPostgres,
			func(m *StorageSQLModule) bool {
				return m.Host == "db.example" && m.Port == 6543 && m.User == "alice" && m.Password.Reveal() == "pw" &&
					m.Database == "seq" && m.Params.Get("sslmode") == "disable" && !m.UseTLS
			}},
		{"-- storage-sql postgresql://alice:pw@db.example:6543/seq --port 7000 --user bob --use-tls",
			map[string]string{"ESPRESSO_SEQUENCER_POSTGRES_PASSWORD": "pw2", "ESPRESSO_SEQUENCER_POSTGRES_DATABASE": "other"}, BackendPostgres,
			func(m *StorageSQLModule) bool {
				return m.Host == "db.example" && m.Port == 7000 && m.User == "bob" && m.Password.Reveal() == "pw2" &&
					m.Database == "other" && m.UseTLS
			}},
		{"-- storage-sql --uri postgres://db/x --host override", nil, BackendPostgres,
			func(m *StorageSQLModule) bool { return m.Host == "override" && m.Database == "x" }},
	} {
		c := mustParse(t, words(tc.args), tc.env)
		if m := c.StorageSQL; m.Backend() != tc.backend || !tc.check(m) {
			t.Errorf("%q: backend %q, module %+v", tc.args, m.Backend(), m)
		}
	}
}

func TestPruneEnvNames(t *testing.T) {
	for _, name := range []string{"ESPRESSO_SEQUENCER_DATABASE_PRUNE", "ESPRESSO_SEQUENCER_POSTGRES_PRUNE"} {
		c := mustParse(t, words("-- storage-sql"), map[string]string{name: "true"})
		if !c.StorageSQL.Prune {
			t.Errorf("%s=true does not enable pruning", name)
		}
	}
	c := mustParse(t, words("-- storage-sql"), map[string]string{
		"ESPRESSO_SEQUENCER_DATABASE_PRUNE": "TRUE", "ESPRESSO_SEQUENCER_POSTGRES_PRUNE": "1"})
	if !c.StorageSQL.Prune {
		t.Error("agreeing prune variables")
	}
	_, err := Parse(words("-- storage-sql"), mapEnv(map[string]string{
		"ESPRESSO_SEQUENCER_DATABASE_PRUNE": "true", "ESPRESSO_SEQUENCER_POSTGRES_PRUNE": "false"}))
	checkErr(t, err, ErrConflict, `storage-sql --prune: ESPRESSO_SEQUENCER_DATABASE_PRUNE="true" and ESPRESSO_SEQUENCER_POSTGRES_PRUNE="false" disagree (set only one of them)`)
}

func TestEnvironmentRules(t *testing.T) {
	// An empty variable counts as unset.
	c := mustParse(t, nil, map[string]string{"ESPRESSO_SEQUENCER_L1_POLLING_INTERVAL": "", "ESPRESSO_SEQUENCER_IS_DA": " "})
	if c.Global.L1.PollingInterval != 7*time.Second || c.Global.IsDA {
		t.Errorf("empty env not treated as unset: %v %v", c.Global.L1.PollingInterval, c.Global.IsDA)
	}
	for v, want := range map[string]bool{"true": true, "TRUE": true, "1": true, "False": false, "0": false} {
		c := mustParse(t, nil, map[string]string{"ESPRESSO_SEQUENCER_IS_DA": v})
		if c.Global.IsDA != want {
			t.Errorf("IS_DA=%q: %v", v, c.Global.IsDA)
		}
	}
	_, err := Parse(nil, mapEnv(map[string]string{"ESPRESSO_SEQUENCER_IS_DA": "yes"}))
	checkErr(t, err, ErrInvalidValue, `--is-da (ESPRESSO_SEQUENCER_IS_DA): "yes": invalid boolean (want true, false, 1 or 0)`)
	_, err = Parse(nil, mapEnv(map[string]string{"ESPRESSO_SEQUENCER_L1_POLLING_INTERVAL": "7 parsecs"}))
	checkErr(t, err, ErrInvalidValue, `--l1-polling-interval (ESPRESSO_SEQUENCER_L1_POLLING_INTERVAL): "7 parsecs": invalid duration (want e.g. 500ms, 7s, 1h, 3d)`)
	_, err = Parse(nil, mapEnv(map[string]string{"RUST_LOG_FORMAT": "xml"}))
	checkErr(t, err, ErrInvalidValue, `RUST_LOG_FORMAT: "xml": unknown value (want one of full, compact, json)`)
	// A bad secret is never echoed.
	_, err = Parse(words("-- storage-sql --uri mysql://u:hunter2@db/x"), nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("URI error leaks the password: %v", err)
	}
}

func checkErr(t *testing.T, err error, kind error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("want error %q, got none", want)
		return
	}
	if err.Error() != want {
		t.Errorf("error %q\n want %q", err, want)
	}
	if !errors.Is(err, kind) || !errors.Is(err, ErrUsage) {
		t.Errorf("error %q does not match %v and ErrUsage", err, kind)
	}
}

// The grammar rules and their exact error texts (docs/operator.md, "Grammar").
func TestParseErrors(t *testing.T) {
	const valid = "http, query, submit, status, catchup, config, explorer, hotshot-events, storage-fs, storage, storage-sql"
	for _, tc := range []struct {
		args string
		kind error
		want string
	}{
		{"-- http -- http", ErrDuplicateModule, "optional module http can only be started once"},
		{"-- storage -- storage-fs", ErrDuplicateModule, "optional module storage-fs can only be started once"},
		{"-- http -- query -- query", ErrDuplicateModule, "optional module query can only be started once"},
		{"-- query", ErrMissingModule, "module query is missing required module http"},
		{"-- query -- http", ErrMissingModule, "module query is missing required module http"},
		{"-- submit", ErrMissingModule, "module submit is missing required module http"},
		{"-- status", ErrMissingModule, "module status is missing required module http"},
		{"-- catchup", ErrMissingModule, "module catchup is missing required module http"},
		{"-- config", ErrMissingModule, "module config is missing required module http"},
		{"-- hotshot-events --events-service-port 1", ErrMissingModule, "module hotshot-events is missing required module http"},
		{"-- storage-sql -- explorer", ErrMissingModule, "module explorer is missing required module http"},
		{"-- http -- explorer -- storage-sql", ErrMissingModule, "module explorer is missing required module storage-sql"},
		{"-- http -- storage-fs -- explorer", ErrMissingModule, "module explorer is missing required module storage-sql"},
		{"-- bogus", ErrUnknownModule, `unknown module "bogus" (valid modules: ` + valid + ")"},
		{"-- api", ErrUnknownModule, `unknown module "api": there is no api module, use http (valid modules: ` + valid + ")"},
		{"-- state", ErrUnknownModule, `unknown module "state" (valid modules: ` + valid + ")"},
		{"-- http -- hotshot-events", ErrMissingValue,
			"hotshot-events requires --events-service-port (or ESPRESSO_SEQUENCER_HOTSHOT_EVENT_STREAMING_API_PORT)"},
		{"-- -- http", ErrUnknownModule, `missing module name between two "--"`},
		{"-- --port 1", ErrUnknownModule, `missing module name after "--" before option --port (e.g. "-- http --port")`},
		{"http", ErrUnexpectedArgument, `unexpected argument "http" before "--" (modules follow a standalone "--", e.g. "sequencer -- http")`},
		{"--is-da http", ErrUnexpectedArgument, `unexpected argument "http" before "--" (modules follow a standalone "--", e.g. "sequencer -- http")`},
		{"--is-da true", ErrUnexpectedArgument, `unexpected argument "true" before "--" (bool flags take no value: write --flag or --flag=false)`},
		{"-- storage-sql --prune false", ErrUnexpectedArgument,
			`storage-sql: unexpected argument "false" (bool flags take no value: write --flag or --flag=false)`},
		{"-- storage-fs --store-undecided-state 1", ErrUnexpectedArgument,
			`storage-fs: unexpected argument "1" (bool flags take no value: write --flag or --flag=false)`},
		{"-- http query", ErrUnexpectedArgument, `http: unexpected argument "query" (separate modules with "--", e.g. "-- http -- query")`},
		{"-- storage-sql sqlite://a sqlite://b", ErrUnexpectedArgument, "storage-sql takes one URI, got 2 arguments: sqlite://a sqlite://b"},
		{"-- storage-sql sqlite://a --uri sqlite://b", ErrConflict, "storage-sql: give the URI either as an argument or with --uri, not both"},
		{"-- storage-sql sqlite://a --host db", ErrConflict, "storage-sql: --host (Postgres) cannot be used with a sqlite:// URI"},
		{"-- storage-sql mysql://db/x", ErrInvalidValue,
			`storage-sql URI: "mysql://db/x": unsupported scheme "mysql" (want postgres://[user[:password]@]host[:port]/database, postgresql://... or sqlite://PATH)`},
		{"--bogus", ErrUnknownOption, `unknown option --bogus (run "sequencer --help" for the global options)`},
		{"-x", ErrUnknownOption, `unknown option -x (run "sequencer --help" for the global options)`},
		{"-- http --bogus", ErrUnknownOption, `http: unknown option --bogus (run "sequencer -- help http" for its options)`},
		{"--port 1 -- http", ErrUnknownOption, `unknown option --port: it is an option of module http, storage-sql: put it after "-- http"`},
		{"-- http --is-da", ErrUnknownOption, `http: unknown option --is-da: it is a global option: put it before the first "--"`},
		{"-- http --path x", ErrUnknownOption, "http: unknown option --path: it is an option of module storage-fs, storage-sql"},
		{"---x", ErrUnknownOption, `bad option syntax "---x"`},
		{"--genesis-file", ErrMissingValue, "--genesis-file: missing value (want PATH)"},
		{"-- http --port", ErrMissingValue, "http --port: missing value (want PORT)"},
		{"--is-da --is-da", ErrConflict, "--is-da given more than once"},
		{"-- http --port 1 --port 2", ErrConflict, "http --port given more than once"},
		{"--l1-polling-interval 30", ErrInvalidValue,
			`--l1-polling-interval: "30": missing unit (want e.g. 500ms, 7s, 1h, 3d; units: ns, us, ms, s, m, h, d)`},
		{"--l1-provider-url http://a:1,ws://b:2", ErrInvalidValue,
			`--l1-provider-url: "http://a:1,ws://b:2": item "ws://b:2": unsupported URL scheme "ws" (want http or https URL, e.g. http://host:port)`},
		{"-- storage-sql --max-usage 10001", ErrInvalidValue, `storage-sql --max-usage: "10001": out of range (want 0..10000)`},
		{"-- help http query", ErrUnexpectedArgument, `help takes at most one module name, got "http query"`},
		{"-- help api", ErrUnknownModule, `unknown module "api": there is no api module, use http (valid modules: ` + valid + ")"},
	} {
		_, err := Parse(words(tc.args), nil)
		checkErr(t, err, tc.kind, tc.want)
	}
}

// Validate's rules and texts.
func TestValidate(t *testing.T) {
	staking := map[string]string{"ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY": "BLS_SIGNING_KEY~x"}
	state := map[string]string{"ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY": "SCHNORR_SIGNING_KEY~y"}
	both := copyEnv(staking, "ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY", "SCHNORR_SIGNING_KEY~y")
	for _, tc := range []struct {
		args string
		env  map[string]string
		kind error
		want string // "" = valid
	}{
		{"", nil, ErrNoKeys, "neither key file nor full set of private keys was provided"},
		{"", staking, ErrNoKeys, "neither key file nor full set of private keys was provided"},
		{"", state, ErrNoKeys, "neither key file nor full set of private keys was provided"},
		{"", both, nil, ""},
		{"--key-file /k", nil, nil, ""},
		{"--private-staking-key BLS_SIGNING_KEY~x --private-state-key SCHNORR_SIGNING_KEY~y", nil, nil, ""},
		{"--key-file /k", staking, ErrConflict,
			"--key-file conflicts with --private-staking-key and --private-state-key (give the key file or both private keys)"},
		{"--key-file /k --private-state-key S", nil, ErrConflict,
			"--key-file conflicts with --private-staking-key and --private-state-key (give the key file or both private keys)"},
		{"--key-file /k -- http -- query", nil, ErrMissingModule, "query module requested but not storage provided"},
		{"--key-file /k -- http -- query -- storage-fs -- storage-sql", nil, ErrConflict,
			"only one storage module can be used: got both storage-fs and storage-sql"},
		{"--key-file /k -- storage-sql -- storage", nil, ErrConflict, "only one storage module can be used: got both storage-fs and storage-sql"},
		{"--key-file /k --latitude 40.4", nil, ErrMissingValue, "--latitude needs --longitude too (give both or neither)"},
		{"--key-file /k --longitude 40.4", nil, ErrMissingValue, "--longitude needs --latitude too (give both or neither)"},
		{"--key-file /k --latitude 0 --longitude 0", nil, nil, ""},
		{"--key-file /k -- storage-sql --prune --archive", nil, ErrConflict,
			"storage-sql: --prune conflicts with --archive (pruning deletes what archive mode keeps)"},
		{"--key-file /k -- storage-sql", map[string]string{"ESPRESSO_SEQUENCER_POSTGRES_PRUNE": "true", "ESPRESSO_SEQUENCER_ARCHIVE": "1"}, ErrConflict,
			"storage-sql: --prune conflicts with --archive (pruning deletes what archive mode keeps)"},
		{"--key-file /k -- storage-sql --minimum-retention 8d", nil, ErrConflict,
			"storage-sql: --minimum-retention (8d) exceeds --target-retention (7d)"},
		{"--key-file /k -- http --port 9000 -- hotshot-events --events-service-port 9000", nil, ErrConflict,
			"hotshot-events --events-service-port 9000 is the http --port too: the event stream needs its own port"},
		{"--key-file /k -- http --port 0 -- hotshot-events --events-service-port 0", nil, nil, ""},
		{"--key-file /k --consensus-storage-minimum-retention 400000", nil, ErrConflict,
			"--consensus-storage-minimum-retention (400000) exceeds --consensus-storage-target-retention (302000)"},
		{"--key-file /k --catchup-base-retry-delay 10s", nil, ErrConflict,
			"--catchup-base-retry-delay (10s) exceeds --catchup-max-retry-delay (5s)"},
		{"--key-file /k --libp2p-mesh-n 20", nil, ErrConflict,
			"gossipsub mesh degrees must satisfy --libp2p-mesh-n-low (6) <= --libp2p-mesh-n (20) <= --libp2p-mesh-n-high (12)"},
		{"--key-file /k --libp2p-history-gossip 6", nil, ErrConflict, "--libp2p-history-gossip (6) exceeds --libp2p-history-length (5)"},
	} {
		c := mustParse(t, words(tc.args), tc.env)
		err := c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.args, err)
			}
			continue
		}
		checkErr(t, err, tc.kind, tc.want)
	}
}

func TestHelp(t *testing.T) {
	// Help never reads the environment, so it works with no (or broken)
	// configuration.
	noEnv := func(k string) (string, bool) { t.Errorf("help read env %s", k); return "", false }
	list := ModuleList()
	sqlHelp, err := ModuleHelp("storage-sql")
	if err != nil {
		t.Fatal(err)
	}
	fsHelp, _ := ModuleHelp("storage-fs")
	httpHelp, _ := ModuleHelp("http")
	for _, tc := range []struct {
		args string
		want string
	}{
		{"--help", GlobalHelp()},
		{"-h", GlobalHelp()},
		{"--genesis-file x --help", GlobalHelp()},
		{"--help -- http", GlobalHelp()},
		{"-- help", list},
		{"--is-da -- http -- help", list},
		{"-- help storage-sql", sqlHelp},
		{"-- help storage", fsHelp},
		{"-- http --help", httpHelp},
		{"-- http -- storage-sql -h", sqlHelp},
	} {
		_, err := Parse(words(tc.args), noEnv)
		var he *HelpError
		if !errors.As(err, &he) || !errors.Is(err, ErrHelp) || errors.Is(err, ErrUsage) {
			t.Errorf("%q: want a *HelpError, got %v", tc.args, err)
			continue
		}
		if he.Text != tc.want {
			t.Errorf("%q: wrong help text:\n%s", tc.args, he.Text)
		}
	}
	if !strings.HasPrefix(sqlHelp, "Usage: sequencer -- storage-sql [OPTIONS] [URI]\n") {
		t.Errorf("module usage line: %q", strings.SplitN(sqlHelp, "\n", 2)[0])
	}
	for _, s := range modules() {
		if !strings.Contains(list, "\n  "+s.name+" ") {
			t.Errorf("module list lacks %s", s.name)
		}
		h, err := ModuleHelp(s.name)
		if err != nil || !strings.HasPrefix(h, "Usage: sequencer -- "+s.name+" ") {
			t.Errorf("ModuleHelp(%s) = %q, %v", s.name, h, err)
		}
	}
	if !strings.Contains(list, "storage-fs (storage)") || strings.Contains(list, " api ") {
		t.Error("module list: alias missing or api listed")
	}
	if h, _ := ModuleHelp("submit"); !strings.Contains(h, "This module has no options.") {
		t.Errorf("submit help: %q", h)
	}
	if _, err := ModuleHelp("nope"); !errors.Is(err, ErrUnknownModule) {
		t.Errorf("ModuleHelp(nope) = %v", err)
	}
	if !strings.Contains(GlobalHelp(), "Usage: sequencer [OPTIONS] -- <MODULE>") {
		t.Error("global usage line")
	}
}

func TestSummaryRedacts(t *testing.T) {
	env := map[string]string{
		"ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY": "BLS_SIGNING_KEY~topsecret1",
		"ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY":   "SCHNORR_SIGNING_KEY~topsecret2",
		"ESPRESSO_SEQUENCER_POSTGRES_PASSWORD":   "topsecret3",
		"ESPRESSO_SEQUENCER_L1_PROVIDER":         "https://user:topsecret4@rpc.example",
	}
	c := mustParse(t, words("--is-da -- storage-sql postgres://alice:topsecret5@db/seq -- http --port 24000"), env)
	s := c.Summary()
	if strings.Contains(s, "topsecret") {
		t.Errorf("summary leaks a secret:\n%s", s)
	}
	for _, want := range []string{"modules: storage-sql, http", "storage: storage-sql, Postgres alice@db:5432/seq", "--is-da=true",
		"--private-staking-key=<redacted>", "--password=<redacted>", "module http (changed from defaults):\n  --port=24000"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	for _, f := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(f, c.Global) + fmt.Sprintf(f, *c.StorageSQL); strings.Contains(out, "topsecret1") ||
			strings.Contains(out, "topsecret2") || strings.Contains(out, "topsecret3") {
			t.Errorf("%s of the config leaks a secret", f)
		}
	}
	s = mustParse(t, nil, nil).Summary()
	if !strings.Contains(s, "modules: none") || !strings.Contains(s, "file-system storage at ./storage") || !strings.Contains(s, "global options: all defaults") {
		t.Errorf("default summary:\n%s", s)
	}
	s = mustParse(t, words("-- storage-fs --path /x"), nil).Summary()
	if !strings.Contains(s, "storage: storage-fs at /x") {
		t.Errorf("fs summary:\n%s", s)
	}
	s = mustParse(t, words("-- storage-sql"), nil).Summary()
	if !strings.Contains(s, "SQLite at storage/sqlite/database") {
		t.Errorf("sqlite summary:\n%s", s)
	}
}

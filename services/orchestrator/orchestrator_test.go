package orchestrator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/services/orchestrator"
)

// A registration is accepted only with every field, a good address, the
// staking key's proof of possession and both keys' signatures of its
// digest; each refusal is 400 with a message naming what is wrong.
func TestRegisterChecks(t *testing.T) {
	ks := testKeys(t, 3)
	s := serve(t, newOrchestrator(t, 3))
	good := reg(t, ks[0], 1000)

	tampered := func(edit func(m map[string]any)) map[string]any {
		m := toMap(t, good)
		edit(m)
		return m
	}
	other := reg(t, ks[1], 1001)
	// Signed by ks[2], listing ks[1]'s staking key and (valid) proof of
	// possession: an attempt to register somebody else's key.
	thief, err := orchestrator.NewRegistration(ks[2], true, addr(t, ks[2], 1002))
	if err != nil {
		t.Fatal(err)
	}
	thief.StakingKey, thief.ProofOfPossession = other.StakingKey, other.ProofOfPossession
	// ks[1]'s own registration with the address changed after signing: an
	// attempt to register another node's key with one's own address.
	moved := other
	moved.Libp2pAddress = addr(t, ks[2], 4000)
	// The state signature of another state key.
	wrongState := other
	wrongState.StateSignature = reg(t, ks[2], 1001).StateSignature

	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"bad proof of possession", tampered(func(m map[string]any) { m["proof_of_possession"] = ks[1].Staking.ProvePossession().String() }),
			"bad proof of possession"},
		{"bad binding signature", tampered(func(m map[string]any) { m["signature"] = ks[0].Staking.Sign([]byte("something else")).String() }),
			"signature does not verify for staking key"},
		{"wrong staking key in body", thief, "signature does not verify for staking key " + other.StakingKey.String()},
		{"address changed after signing", moved, "signature does not verify for staking key"},
		{"DA flag changed after signing", tampered(func(m map[string]any) { m["da"] = false }), "signature does not verify"},
		{"bad state signature", wrongState, "state signature does not verify for state key"},
		{"no staking key", tampered(func(m map[string]any) { delete(m, "staking_key") }), "no staking key"},
		{"no state key", tampered(func(m map[string]any) { delete(m, "state_key") }), "no state key"},
		{"no proof", tampered(func(m map[string]any) { delete(m, "proof_of_possession") }), "no proof of possession"},
		{"no signature", tampered(func(m map[string]any) { delete(m, "signature") }), "no signature"},
		{"no state signature", tampered(func(m map[string]any) { delete(m, "state_signature") }), "no state signature"},
		{"no address", tampered(func(m map[string]any) { m["libp2p_address"] = "" }), "no libp2p address"},
		{"address without peer ID", tampered(func(m map[string]any) { m["libp2p_address"] = "/ip4/127.0.0.1/udp/1000/quic-v1" }),
			"does not end in /p2p/"},
		{"not a multiaddr", tampered(func(m map[string]any) { m["libp2p_address"] = "127.0.0.1:1000" }), "invalid multiaddr"},
		{"address too long", tampered(func(m map[string]any) { m["libp2p_address"] = "/dns4/" + strings.Repeat("a", 600) }),
			"want at most 512"},
		{"bad key text", tampered(func(m map[string]any) { m["staking_key"] = "BLS_VER_KEY~nonsense" }), "request body"},
		{"not JSON", "registration please", "request body"},
	} {
		code, _, body := s.register(t, tc.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s; want 400 with %q", tc.name, code, body, tc.want)
		}
	}
	if st := s.status(t); st.Registered != 0 {
		t.Fatalf("%d registered after refused registrations only", st.Registered)
	}
	// Over the body limit: 413.
	if code, body := s.do(t, http.MethodPost, "/v0/api/register", `{"libp2p_address": "`+strings.Repeat("a", 5000)+`"}`); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %s", code, body)
	}

	s.mustRegister(t, good, 0, orchestrator.OutcomeRegistered)
	s.mustRegister(t, other, 1, orchestrator.OutcomeRegistered)
	// Through the unversioned path's 307 too (the client follows it with
	// the body).
	code, rc, body := s.register(t, good)
	if code != http.StatusOK || rc != (orchestrator.Receipt{Index: 0, Outcome: orchestrator.OutcomeUnchanged, Registered: 2, NumNodes: 3}) {
		t.Fatalf("identical re-registration: %d %s", code, body)
	}
	if c, body := s.do(t, http.MethodPost, "/api/register", good); c != http.StatusOK || !strings.Contains(body, `"outcome":"unchanged"`) {
		t.Fatalf("POST /api/register: %d %s", c, body)
	}
}

// A node restarted with the same data gets its index again, before and
// after the start; other data replaces its registration before the start
// and is refused after; N registrations at most; conflicting state keys
// and peer IDs are refused.
func TestReregistration(t *testing.T) {
	ks := testKeys(t, 5)
	s := serve(t, newOrchestrator(t, 3, orchestrator.WithManualStartPassword("pw")))
	for i := range 2 {
		s.mustRegister(t, reg(t, ks[i], 1000+i), i, orchestrator.OutcomeRegistered)
	}
	// Same data: same index, nothing changes.
	s.mustRegister(t, reg(t, ks[1], 1001), 1, orchestrator.OutcomeUnchanged)

	// Another key using ks[0]'s state key (signed with it: the keys' holder
	// reusing a state key) or ks[0]'s peer ID: 409.
	reuse, err := orchestrator.NewRegistration(keys.Keys{Staking: ks[2].Staking, State: ks[0].State}, true, addr(t, ks[2], 1002))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := s.register(t, reuse); code != http.StatusConflict || !strings.Contains(body, "state key "+ks[0].State.PubKey().String()+" is already registered by node 0") {
		t.Fatalf("reused state key: %d %s", code, body)
	}
	samePeer, err := orchestrator.NewRegistration(ks[2], true, addr(t, ks[0], 1002))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := s.register(t, samePeer); code != http.StatusConflict || !strings.Contains(body, "is already registered by node 0") {
		t.Fatalf("reused peer ID: %d %s", code, body)
	}

	// A new address before the start: updated in place.
	s.mustRegister(t, reg(t, ks[1], 2001), 1, orchestrator.OutcomeUpdated)
	c := s.config(t)
	if c.StakeTable[1].Libp2pAddress != addr(t, ks[1], 2001) || c.BootstrapNodes[1] != addr(t, ks[1], 2001) || len(c.StakeTable) != 2 {
		t.Fatalf("after the update: %+v", c)
	}
	// And the old one back, still before the start.
	s.mustRegister(t, reg(t, ks[1], 1001), 1, orchestrator.OutcomeUpdated)

	// The third node fills the network; a fourth is refused with 409.
	s.mustRegister(t, reg(t, ks[2], 1002), 2, orchestrator.OutcomeRegistered)
	if code, _, body := s.register(t, reg(t, ks[3], 1003)); code != http.StatusConflict || !strings.Contains(body, "all nodes registered: 3 of 3 registered") {
		t.Fatalf("N+1th registration: %d %s", code, body)
	}
	// A full network still answers a registered node.
	s.mustRegister(t, reg(t, ks[2], 1002), 2, orchestrator.OutcomeUnchanged)

	// 3 of 3 ≥ ⌈0.8·3⌉, but the default start delay (10s) has not passed:
	// start manually.
	if code, body := s.do(t, http.MethodPost, "/v0/api/manual-start", orchestrator.ManualStartRequest{Password: "pw"}); code != http.StatusOK {
		t.Fatalf("manual start: %d %s", code, body)
	}
	// After the start: the same data is still accepted (a restarted node),
	// a new address is not.
	s.mustRegister(t, reg(t, ks[0], 1000), 0, orchestrator.OutcomeUnchanged)
	code, _, body := s.register(t, reg(t, ks[0], 3000))
	if code != http.StatusConflict || !strings.Contains(body, "network already started") || !strings.Contains(body, "cannot change to") {
		t.Fatalf("changed address after the start: %d %s", code, body)
	}
	if got := s.config(t).StakeTable[0].Libp2pAddress; got != addr(t, ks[0], 1000) {
		t.Fatalf("address after a refused change: %s", got)
	}
}

// A registration after the start signal by a key not in the stake table is
// refused even when the network is not full.
func TestNoJoiningAfterStart(t *testing.T) {
	ks := testKeys(t, 5)
	s := serve(t, newOrchestrator(t, 5, orchestrator.WithStartDelay(0)))
	for i := range 4 { // ⌈0.8·5⌉ = 4: started at once (no delay)
		s.mustRegister(t, reg(t, ks[i], 1000+i), i, orchestrator.OutcomeRegistered)
	}
	if st := s.status(t); !st.Started || st.Registered != 4 || st.StartThresholdNodes != 4 || st.StartsInMS != nil {
		t.Fatalf("status after 4 of 5 with no delay: %+v", st)
	}
	code, _, body := s.register(t, reg(t, ks[4], 1004))
	if code != http.StatusConflict || !strings.Contains(body, "network already started with 4 of 5 nodes") {
		t.Fatalf("late joiner: %d %s", code, body)
	}
}

// The network config lists the registered nodes in registration order,
// each with stake 1 and on the DA committee if it asked to be, their addresses as the
// bootstrap list, and the parameters of the options; it converts to a
// checked genesis stake table once the start signal was given.
func TestNetworkConfig(t *testing.T) {
	ks := testKeys(t, 3)
	o := newOrchestrator(t, 4,
		orchestrator.WithStartDelay(0),
		orchestrator.WithNextViewTimeout(12*time.Second),
		orchestrator.WithViewSyncTimeout(3*time.Second),
		orchestrator.WithBuilderTimeout(1500*time.Millisecond),
		orchestrator.WithTimeoutRatio(3, 2),
		orchestrator.WithStartThreshold(2, 3),
		orchestrator.WithRoundStartDelay(5*time.Millisecond),
		orchestrator.WithLibp2pMeshN(8),
		orchestrator.WithBuilderURLs("http://builder-0:31004", "https://builder-1"),
	)
	s := serve(t, o)

	// Before any registration: an empty table, empty lists (never null).
	code, body := s.do(t, http.MethodGet, "/v0/api/config", nil)
	for _, want := range []string{`"stake_table":[]`, `"libp2p_bootstrap_nodes":[]`, `"started":false`, `"next_view_timeout":12000`,
		`"view_sync_timeout":3000`, `"builder_timeout":1500`, `"timeout_ratio":[3,2]`, `"start_threshold":[2,3]`,
		`"start_threshold_nodes":3`, `"round_start_delay":5`, `"libp2p_mesh_n":8`, `"num_nodes_with_stake":4`,
		`"da_staked_committee_size":4`, `"builder_urls":["http://builder-0:31004","https://builder-1"]`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET config before any registration: %d %s; want %s", code, body, want)
		}
	}

	// Registered in the order 2, 0, 1, one asking not to be on the DA
	// committee.
	var regs []orchestrator.Registration
	for j, i := range []int{2, 0, 1} {
		r, err := orchestrator.NewRegistration(ks[i], i != 0, addr(t, ks[i], 1000+i))
		if err != nil {
			t.Fatal(err)
		}
		s.mustRegister(t, r, j, orchestrator.OutcomeRegistered)
		regs = append(regs, r)
	}
	c := s.config(t)
	if !c.Started || c.StartThresholdNodes != 3 || c.NumNodesWithStake != 4 || c.DAStakedCommitteeSize != 2 {
		t.Fatalf("config after 3 of 4 (threshold 2:3, no delay): %+v", c)
	}
	if len(c.StakeTable) != 3 || len(c.BootstrapNodes) != 3 {
		t.Fatalf("%d entries, %d bootstrap nodes, want 3", len(c.StakeTable), len(c.BootstrapNodes))
	}
	for j, r := range regs {
		want := orchestrator.StakeTableEntry{StakingKey: r.StakingKey, StateKey: r.StateKey, Stake: 1, DA: r.DA,
			ProofOfPossession: r.ProofOfPossession, Libp2pAddress: r.Libp2pAddress}
		if c.StakeTable[j] != want || c.BootstrapNodes[j] != r.Libp2pAddress {
			t.Errorf("entry %d: %+v, bootstrap %s; want %+v", j, c.StakeTable[j], c.BootstrapNodes[j], want)
		}
	}
	cc := c.ConsensusConfig()
	if cc.NextViewTimeout != 12*time.Second || cc.ViewSyncTimeout != 3*time.Second || cc.BuilderTimeout != 1500*time.Millisecond ||
		cc.TimeoutRatioNum != 3 || cc.TimeoutRatioDen != 2 {
		t.Fatalf("consensus config %+v", cc)
	}

	table, err := c.GenesisStakeTable()
	if err != nil {
		t.Fatal(err)
	}
	for j, e := range table {
		if e.StakingKey != regs[j].StakingKey || e.StateKey != regs[j].StateKey || e.Stake != 1 || e.DA != regs[j].DA ||
			e.ProofOfPossession != regs[j].ProofOfPossession || e.Libp2pAddress != regs[j].Libp2pAddress {
			t.Errorf("genesis entry %d: %+v", j, e)
		}
	}
	base, err := genesis.Parse([]byte(genesisHead))
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Genesis(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.StakeTable) != 3 || len(base.StakeTable) != 0 || g.ChainConfig != base.ChainConfig {
		t.Fatalf("genesis: %d entries (base %d)", len(g.StakeTable), len(base.StakeTable))
	}
	if _, err := c.Genesis(g); !errors.Is(err, orchestrator.ErrInvalidConfig) || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("genesis with a stake table of its own: %v", err)
	}
	small := *base
	small.StakeTableCapacity = 2
	if _, err := c.Genesis(&small); !errors.Is(err, orchestrator.ErrInvalidConfig) || !errors.Is(err, genesis.ErrInvalidStakeTable) {
		t.Fatalf("genesis of capacity 2 for 3 nodes: %v", err)
	}
}

// GenesisStakeTable refuses a config fetched before the start signal and
// one a node must not run from, whoever served it.
func TestGenesisStakeTableChecks(t *testing.T) {
	ks := testKeys(t, 2)
	good := func() orchestrator.NetworkConfig {
		c := orchestrator.NetworkConfig{Started: true}
		for i, k := range ks {
			r := reg(t, k, 1000+i)
			c.StakeTable = append(c.StakeTable, orchestrator.StakeTableEntry{StakingKey: r.StakingKey, StateKey: r.StateKey,
				Stake: 1, DA: true, ProofOfPossession: r.ProofOfPossession, Libp2pAddress: r.Libp2pAddress})
		}
		return c
	}
	if c := good(); func() error { _, err := c.GenesisStakeTable(); return err }() != nil {
		t.Fatal("the good config is refused")
	}
	for _, tc := range []struct {
		name string
		edit func(c *orchestrator.NetworkConfig)
		want error
		msg  string
	}{
		{"not started", func(c *orchestrator.NetworkConfig) { c.Started = false }, orchestrator.ErrNotStarted, "wait for the start signal"},
		{"empty", func(c *orchestrator.NetworkConfig) { c.StakeTable = nil }, orchestrator.ErrInvalidConfig, "empty stake table"},
		{"rogue key", func(c *orchestrator.NetworkConfig) {
			c.StakeTable[1].ProofOfPossession = c.StakeTable[0].ProofOfPossession
		}, orchestrator.ErrInvalidConfig, "entry 1: keys: proof of possession"},
		{"duplicate staking key", func(c *orchestrator.NetworkConfig) { c.StakeTable[1].StakingKey = c.StakeTable[0].StakingKey },
			orchestrator.ErrInvalidConfig, "repeats entry 0"},
		{"duplicate state key", func(c *orchestrator.NetworkConfig) { c.StakeTable[1].StateKey = c.StakeTable[0].StateKey },
			orchestrator.ErrInvalidConfig, "state key"},
		{"duplicate peer", func(c *orchestrator.NetworkConfig) { c.StakeTable[1].Libp2pAddress = c.StakeTable[0].Libp2pAddress },
			orchestrator.ErrInvalidConfig, "peer ID"},
		{"zero stake", func(c *orchestrator.NetworkConfig) { c.StakeTable[0].Stake = 0 }, orchestrator.ErrInvalidConfig, "stake 0"},
		{"no DA", func(c *orchestrator.NetworkConfig) { c.StakeTable[0].DA, c.StakeTable[1].DA = false, false },
			orchestrator.ErrInvalidConfig, "no DA member"},
		{"bad address", func(c *orchestrator.NetworkConfig) { c.StakeTable[0].Libp2pAddress = "/ip4/1.2.3.4/udp/1" },
			orchestrator.ErrInvalidConfig, "does not end in /p2p/"},
	} {
		c := good()
		tc.edit(&c)
		_, err := c.GenesisStakeTable()
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v; want %v with %q", tc.name, err, tc.want, tc.msg)
		}
	}
}

// The start threshold is ⌈num·N/den⌉ nodes.
func TestThresholdNodes(t *testing.T) {
	// 8:10 of N = 1..10 and a few more.
	want := map[int]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 6: 5, 7: 6, 8: 7, 9: 8, 10: 8, 11: 9, 100: 80, 101: 81}
	for n, w := range want {
		if got := orchestrator.ThresholdNodes(n, 8, 10); got != w {
			t.Errorf("8:10 of %d: %d, want %d", n, got, w)
		}
		if got := newOrchestrator(t, n).StartThresholdNodes(); got != w {
			t.Errorf("default threshold of %d nodes: %d, want %d", n, got, w)
		}
	}
	for _, tc := range []struct{ n, num, den, want int }{{4, 1, 1, 4}, {4, 1, 2, 2}, {5, 1, 2, 3}, {3, 2, 3, 2}, {10, 1, 3, 4}} {
		if got := orchestrator.ThresholdNodes(tc.n, uint64(tc.num), uint64(tc.den)); got != tc.want {
			t.Errorf("%d:%d of %d: %d, want %d", tc.num, tc.den, tc.n, got, tc.want)
		}
	}
}

// With N = 5 and 8:10 the start signal needs 4 registrations and then the
// start delay: false at 3, false right after the 4th (with the time left),
// true once the delay has passed, and true for ever.
func TestStartSignal(t *testing.T) {
	const delay = 300 * time.Millisecond
	ks := testKeys(t, 5)
	s := serve(t, newOrchestrator(t, 5, orchestrator.WithStartDelay(delay)))
	for i := range 3 {
		s.mustRegister(t, reg(t, ks[i], 1000+i), i, orchestrator.OutcomeRegistered)
	}
	if st := s.status(t); st != (orchestrator.StartStatus{Started: false, Registered: 3, NumNodes: 5, StartThresholdNodes: 4}) {
		t.Fatalf("status at 3 of 5: %+v", st)
	}
	before := time.Now()
	s.mustRegister(t, reg(t, ks[3], 1003), 3, orchestrator.OutcomeRegistered)
	st := s.status(t)
	if time.Since(before) < delay { // the reply came before the delay could have passed
		if st.Started || st.StartsInMS == nil || *st.StartsInMS <= 0 || *st.StartsInMS > delay.Milliseconds() {
			t.Fatalf("status right after the 4th of 5: %+v", st)
		}
	}
	if c := s.config(t); c.Started {
		if time.Since(before) < delay {
			t.Fatal("config started before the start delay passed")
		}
	}
	// A node registering during the delay still joins.
	s.mustRegister(t, reg(t, ks[4], 1004), 4, orchestrator.OutcomeRegistered)
	deadline := time.Now().Add(10 * time.Second)
	for !s.status(t).Started {
		if time.Now().After(deadline) {
			t.Fatal("no start signal 10s after the threshold")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if elapsed := time.Since(before); elapsed < delay {
		t.Fatalf("started %v after the threshold, before the start delay of %v", elapsed, delay)
	}
	for range 3 {
		if st := s.status(t); !st.Started || st.Registered != 5 || st.StartsInMS != nil {
			t.Fatalf("status after the start: %+v", st)
		}
	}
	if c := s.config(t); !c.Started || len(c.StakeTable) != 5 {
		t.Fatalf("config after the start: started %t, %d entries", c.Started, len(c.StakeTable))
	}
}

// The manual start needs the password: 403 without one configured or with
// a wrong one, 409 before any registration, then the start at once, below
// the threshold; repeating it is harmless.
func TestManualStart(t *testing.T) {
	ks := testKeys(t, 2)
	post := func(s *server, pw string) (int, string) {
		return s.do(t, http.MethodPost, "/v0/api/manual-start", orchestrator.ManualStartRequest{Password: pw})
	}

	disabled := serve(t, newOrchestrator(t, 4))
	if code, body := post(disabled, ""); code != http.StatusForbidden || !strings.Contains(body, "manual start not enabled") {
		t.Fatalf("manual start without a password configured: %d %s", code, body)
	}

	logs := newLogRecorder()
	s := serve(t, newOrchestrator(t, 10, orchestrator.WithManualStartPassword("correct horse"),
		orchestrator.WithLogger(slog.New(logs))))
	if code, body := post(s, "correct horse"); code != http.StatusConflict || !strings.Contains(body, "no node registered") {
		t.Fatalf("manual start before any registration: %d %s", code, body)
	}
	s.mustRegister(t, reg(t, ks[0], 1000), 0, orchestrator.OutcomeRegistered)
	for _, pw := range []string{"", "wrong", "correct horse ", "Correct horse"} {
		if code, body := post(s, pw); code != http.StatusForbidden || !strings.Contains(body, "wrong manual-start password") {
			t.Fatalf("manual start with %q: %d %s", pw, code, body)
		}
	}
	if s.status(t).Started {
		t.Fatal("started by wrong passwords")
	}
	if code, body := s.do(t, http.MethodPost, "/v0/api/manual-start", "{"); code != http.StatusBadRequest {
		t.Fatalf("manual start with a malformed body: %d %s", code, body)
	}
	for range 2 {
		code, body := post(s, "correct horse")
		if code != http.StatusOK || !strings.Contains(body, `"started":true`) || !strings.Contains(body, `"registered":1`) {
			t.Fatalf("manual start: %d %s", code, body)
		}
	}
	if st := s.status(t); !st.Started || st.StartThresholdNodes != 8 {
		t.Fatalf("status after the manual start: %+v", st)
	}
	if code, _, _ := s.register(t, reg(t, ks[1], 1001)); code != http.StatusConflict {
		t.Fatalf("registration after the manual start: %d", code)
	}
	if n := logs.count("manual start with a wrong password"); n != 4 {
		t.Fatalf("%d warnings about wrong passwords, want 4:\n%s", n, logs.all())
	}
	if strings.Contains(logs.all(), "correct horse") || strings.Contains(logs.all(), "wrong\"") {
		t.Fatalf("the logs show a password:\n%s", logs.all())
	}
}

// The unversioned paths redirect, /healthcheck and the module's own
// healthcheck answer, and / lists the routes.
func TestFramework(t *testing.T) {
	s := serve(t, newOrchestrator(t, 4))
	s.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+"/api/config", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "/v0/api/config" {
		t.Fatalf("GET /api/config: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for path, want := range map[string]string{
		"/healthcheck":        `{"modules":{"api":{"0":200}},"status":"available"}`,
		"/v0/api/healthcheck": `{"status":"available"}`,
	} {
		if code, body := s.do(t, http.MethodGet, path, nil); code != http.StatusOK || strings.TrimSpace(body) != want {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	_, index := s.do(t, http.MethodGet, "/", nil)
	for _, want := range []string{"POST /v0/api/register", "GET /v0/api/config", "GET /v0/api/start", "POST /v0/api/manual-start"} {
		if !strings.Contains(index, want) {
			t.Errorf("the index lacks %q", want)
		}
	}
	if code, _ := s.do(t, http.MethodGet, "/v0/api/register", nil); code != http.StatusMethodNotAllowed {
		t.Errorf("GET register: %d", code)
	}
}

// The signing message has the documented layout, and every field changes
// the digest.
func TestSigningMessage(t *testing.T) {
	ks := testKeys(t, 2)
	r := reg(t, ks[0], 1000)
	var want []byte
	want = append(want, "gospresso/orchestrator/registration/v1\x00"...)
	want = append(want, r.StakingKey.Bytes()...)
	want = append(want, r.StateKey.Bytes()...)
	want = append(want, 1)
	want = binary.BigEndian.AppendUint16(want, uint16(len(r.Libp2pAddress)))
	want = append(want, r.Libp2pAddress...)
	want = append(want, r.ProofOfPossession.Bytes()...)
	if got := r.SigningMessage(); !bytes.Equal(got, want) {
		t.Fatalf("signing message\n%x\nwant\n%x", got, want)
	}
	if r.Digest() != sha256.Sum256(want) {
		t.Fatal("digest is not SHA-256 of the signing message")
	}
	if _, err := r.Check(); err != nil {
		t.Fatal(err)
	}
	o := reg(t, ks[1], 1001)
	edits := []func(x *orchestrator.Registration){
		func(x *orchestrator.Registration) { x.StakingKey = o.StakingKey },
		func(x *orchestrator.Registration) { x.StateKey = o.StateKey },
		func(x *orchestrator.Registration) { x.DA = false },
		func(x *orchestrator.Registration) { x.Libp2pAddress += "x" },
		func(x *orchestrator.Registration) { x.ProofOfPossession = o.ProofOfPossession },
	}
	seen := [][32]byte{r.Digest()}
	for i, edit := range edits {
		x := r
		edit(&x)
		d := x.Digest()
		if slices.Contains(seen, d) {
			t.Errorf("edit %d leaves the digest unchanged", i)
		}
		seen = append(seen, d)
	}
	if _, err := orchestrator.NewRegistration(keys.Keys{Staking: ks[0].Staking}, true, "/x"); !errors.Is(err, orchestrator.ErrInvalidRegistration) {
		t.Fatalf("registration without a state key: %v", err)
	}
}

// New refuses bad options.
func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		opts []orchestrator.Option
	}{
		{"no nodes", 0, nil},
		{"too many nodes", orchestrator.MaxNodes + 1, nil},
		{"nil option", 1, []orchestrator.Option{nil}},
		{"negative delay", 1, []orchestrator.Option{orchestrator.WithStartDelay(-1)}},
		{"zero view timeout", 1, []orchestrator.Option{orchestrator.WithNextViewTimeout(0)}},
		{"sub-ms view sync timeout", 1, []orchestrator.Option{orchestrator.WithViewSyncTimeout(time.Microsecond)}},
		{"negative builder timeout", 1, []orchestrator.Option{orchestrator.WithBuilderTimeout(-time.Second)}},
		{"timeout ratio below 1", 1, []orchestrator.Option{orchestrator.WithTimeoutRatio(9, 10)}},
		{"timeout ratio over 0", 1, []orchestrator.Option{orchestrator.WithTimeoutRatio(1, 0)}},
		{"threshold 0", 1, []orchestrator.Option{orchestrator.WithStartThreshold(0, 10)}},
		{"threshold above 1", 1, []orchestrator.Option{orchestrator.WithStartThreshold(11, 10)}},
		{"mesh 0", 1, []orchestrator.Option{orchestrator.WithLibp2pMeshN(0)}},
		{"bad builder URL", 1, []orchestrator.Option{orchestrator.WithBuilderURLs("builder:3000")}},
		{"empty password", 1, []orchestrator.Option{orchestrator.WithManualStartPassword("")}},
		{"nil logger", 1, []orchestrator.Option{orchestrator.WithLogger(nil)}},
		{"twice", 1, []orchestrator.Option{orchestrator.WithStartDelay(1), orchestrator.WithStartDelay(2)}},
	} {
		if _, err := orchestrator.New(tc.n, tc.opts...); !errors.Is(err, orchestrator.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", tc.name, err)
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

// When no node registers with --is-da, every node is on the DA committee
// (the reference's da_staked_committee_size is N); as soon as one does,
// only those that did are.
func TestDACommitteeWithoutIsDA(t *testing.T) {
	ks := testKeys(t, 3)
	o := newOrchestrator(t, 3, orchestrator.WithStartDelay(0))
	s := serve(t, o)
	for i, k := range ks {
		r, err := orchestrator.NewRegistration(k, false, addr(t, k, 2000+i))
		if err != nil {
			t.Fatal(err)
		}
		s.mustRegister(t, r, i, orchestrator.OutcomeRegistered)
	}
	c := s.config(t)
	if c.DAStakedCommitteeSize != 3 {
		t.Fatalf("DA committee of %d without any --is-da, want all 3", c.DAStakedCommitteeSize)
	}
	for i, e := range c.StakeTable {
		if !e.DA {
			t.Errorf("entry %d is off the DA committee although no node asked to be on it", i)
		}
	}
}

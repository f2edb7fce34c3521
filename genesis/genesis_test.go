package genesis

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/internal/shared"

	"github.com/gospresso/gospresso/types"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func loadShared(t *testing.T, name string) *Genesis {
	t.Helper()
	g, err := Load(filepath.Join(shared.Dir(t), "genesis", name))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustAddress(t testing.TB, s string) types.Address {
	t.Helper()
	a, err := types.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLoadDemo(t *testing.T) {
	g := loadShared(t, "demo.toml")
	v02 := types.Version{Major: 0, Minor: 2}
	if g.BaseVersion != v02 || g.UpgradeVersion != v02 {
		t.Errorf("versions %v → %v, want 0.2 → 0.2", g.BaseVersion, g.UpgradeVersion)
	}
	if g.StakeTableCapacity != 10 {
		t.Errorf("capacity %d", g.StakeTableCapacity)
	}
	c := g.ChainConfig
	if c.ChainID != types.NewU256(999999999) || c.BaseFee != types.NewU256(1) || c.MaxBlockSize != 1000000 {
		t.Errorf("chain config %+v", c)
	}
	if c.FeeRecipient != (types.Address{}) {
		t.Errorf("fee recipient %s", c.FeeRecipient)
	}
	if c.FeeContract == nil || *c.FeeContract != mustAddress(t, "0xa15bb66138824a1c7167f5e85b957d04dd34e468") {
		t.Errorf("fee contract %v", c.FeeContract)
	}
	if c.BidRecipient != nil || c.StakeTableContract != nil {
		t.Errorf("unexpected optional addresses %+v", c)
	}
	if g.Timestamp != 0 {
		t.Errorf("timestamp %d", g.Timestamp)
	}
	if g.L1Finalized.Form() != FormNumber || *g.L1Finalized.Number != 0 {
		t.Errorf("l1_finalized %+v (form %v)", g.L1Finalized, g.L1Finalized.Form())
	}
	if len(g.Upgrades) != 0 || len(g.StakeTable) != 0 || len(g.Accounts) != 0 || len(g.BootstrapNodes) != 0 {
		t.Errorf("unexpected lists: %+v", g)
	}
	if !g.NeedsL1() {
		t.Error("demo has a fee contract and l1_finalized but NeedsL1 is false")
	}
	if err := g.Validate(); err != nil {
		t.Errorf("Validate after Load: %v", err)
	}
}

func TestLoadDemoMarketplace(t *testing.T) {
	g := loadShared(t, "demo-marketplace.toml")
	if g.BaseVersion != (types.Version{Major: 0, Minor: 2}) || g.UpgradeVersion != (types.Version{Major: 0, Minor: 99}) {
		t.Errorf("versions %v → %v, want 0.2 → 0.99", g.BaseVersion, g.UpgradeVersion)
	}
	if !g.ChainConfig.BaseFee.IsZero() {
		t.Errorf("base fee %s, want 0", g.ChainConfig.BaseFee)
	}
	if len(g.Upgrades) != 1 {
		t.Fatalf("%d upgrades", len(g.Upgrades))
	}
	u := g.Upgrades[0]
	if u.Version != (types.Version{Major: 0, Minor: 99}) || u.Mode != UpgradeModeView || u.StartProposingView != 10 ||
		u.StopProposingView != 60 || u.Type != UpgradeMarketplace {
		t.Errorf("upgrade %+v", u)
	}
	if u.ChainConfig.BaseFee != types.NewU256(1) || u.ChainConfig.BidRecipient == nil || !u.ChainConfig.BidRecipient.IsZero() {
		t.Errorf("upgrade chain config %+v", u.ChainConfig)
	}
	if u.ChainConfig.FeeContract == nil || u.ChainConfig.FeeContract.String() != "0xa15bb66138824a1c7167f5e85b957d04dd34e468" {
		t.Errorf("upgrade fee contract %v", u.ChainConfig.FeeContract)
	}
	if g.Commitment() == loadShared(t, "demo.toml").Commitment() {
		t.Error("demo and demo-marketplace have the same commitment")
	}
}

// TestGoldenDemoJSON pins the canonical JSON of demo.toml; run with -update
// to rewrite testdata/demo.json after an intended change.
func TestGoldenDemoJSON(t *testing.T) {
	g := loadShared(t, "demo.toml")
	compact, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, compact, "", "  "); err != nil {
		t.Fatal(err)
	}
	indented.WriteByte('\n')
	golden := filepath.Join("testdata", "demo.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenDemoJSON -update to create it)", err)
	}
	if !bytes.Equal(indented.Bytes(), want) {
		t.Errorf("canonical JSON of demo.toml differs from %s:\n%s", golden, indented.Bytes())
	}
	// The commitment is SHA-256 of the compact form; pin it too.
	const wantCommitment = "c580b4f238ba1c7b7e0ce23087ecf9b6f90563ecb838ccaf4a073438328f373d"
	if c := g.Commitment(); hex.EncodeToString(c[:]) != wantCommitment {
		t.Errorf("commitment %x, want %s", c, wantCommitment)
	}
}

func TestMarshalJSONCanonical(t *testing.T) {
	g, err := Parse([]byte(fullDoc(t)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	// Deterministic across calls and across parses.
	g2, err := Parse([]byte(fullDoc(t)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := g2.MarshalJSON()
	if !bytes.Equal(a, b) || g.Commitment() != g2.Commitment() {
		t.Fatal("canonical JSON differs between two parses of the same document")
	}
	// Keys sorted at every level: re-encoding through a map changes nothing.
	var v any
	dec := json.NewDecoder(bytes.NewReader(a))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(v)
	if !bytes.Equal(a, again) {
		t.Errorf("not in sorted-key form:\n%s\n%s", a, again)
	}
	for _, want := range []string{
		`"0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f":"100000"`,
		`"l1_finalized":{"hash":"0xc41e0637d18c879a9d6f09fb5046a37bae99d5637d12716b70fdd027a9135e00","number":6001199,"timestamp":"0x66575298"}`,
		`"bootstrap_nodes":["/dns/node0.example.com/udp/2000/quic-v1/p2p/`,
		`"bid_recipient":null`,
		`"stake_table_contract":null`,
		`"header":{"timestamp":1726588800}`,
		`"start_proposing_time":1726675200`,
		`"start_proposing_view":null`,
		`"libp2p_address":null`,
		`"da":true`,
		`"stake":3`,
	} {
		if !strings.Contains(string(a), want) {
			t.Errorf("canonical JSON lacks %s:\n%s", want, a)
		}
	}
	// A change anywhere changes the commitment.
	g2.StakeTable[0].Stake++
	if g.Commitment() == g2.Commitment() {
		t.Error("stake change did not change the commitment")
	}
}

func TestLoadErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.toml")
	_, err := Load(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	doc := strings.Replace(validDoc, "max_block_size = '1mb'", "max_block_size = '12 parsecs'", 1)
	if err := os.WriteFile(bad, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	var e *Error
	if !errors.As(err, &e) || e.File != bad || e.Path != "chain_config.max_block_size" {
		t.Fatalf("bad file: %#v", err)
	}
	want := "genesis: " + bad + `: chain_config.max_block_size: "12 parsecs": unknown unit (want b, kb, kib, mb, ...)`
	if err.Error() != want {
		t.Errorf("error text\n%s\nwant\n%s", err, want)
	}
	if !errors.Is(err, ErrUnknownUnit) {
		t.Errorf("%v does not wrap ErrUnknownUnit", err)
	}
}

func TestNeedsL1(t *testing.T) {
	g, err := Parse([]byte(noL1Doc))
	if err != nil {
		t.Fatal(err)
	}
	if g.NeedsL1() {
		t.Error("no fee contract and no l1_finalized, yet NeedsL1")
	}
	withL1 := *g
	withL1.L1Finalized = &L1Finalized{Number: new(uint64)}
	if !withL1.NeedsL1() {
		t.Error("l1_finalized set, yet !NeedsL1")
	}
	withFee := *g
	withFee.ChainConfig.FeeContract = &types.Address{}
	if !withFee.NeedsL1() {
		t.Error("fee contract set, yet !NeedsL1")
	}
	withUpgradeFee := *g
	cc := g.ChainConfig
	cc.FeeContract = &types.Address{1}
	withUpgradeFee.Upgrades = []Upgrade{{ChainConfig: cc}}
	if !withUpgradeFee.NeedsL1() {
		t.Error("upgrade fee contract set, yet !NeedsL1")
	}
}

func TestL1FinalizedForm(t *testing.T) {
	n, ts, h := uint64(1), types.NewU256(2), types.Hash{3}
	tests := []struct {
		l    *L1Finalized
		want L1FinalizedForm
	}{
		{nil, FormInvalid},
		{&L1Finalized{}, FormInvalid},
		{&L1Finalized{Number: &n, Timestamp: &ts, Hash: &h}, FormFull},
		{&L1Finalized{Number: &n}, FormNumber},
		{&L1Finalized{Timestamp: &ts}, FormTimestamp},
		{&L1Finalized{Number: &n, Hash: &h}, FormInvalid},
		{&L1Finalized{Number: &n, Timestamp: &ts}, FormInvalid},
		{&L1Finalized{Hash: &h}, FormInvalid},
		{&L1Finalized{Timestamp: &ts, Hash: &h}, FormInvalid},
	}
	for i, tt := range tests {
		if got := tt.l.Form(); got != tt.want {
			t.Errorf("%d: Form() = %v, want %v", i, got, tt.want)
		}
	}
	for f, s := range map[L1FinalizedForm]string{FormInvalid: "invalid", FormFull: "full", FormNumber: "number", FormTimestamp: "timestamp"} {
		if f.String() != s {
			t.Errorf("%d.String() = %q", f, f.String())
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{Err: ErrSyntax, Reason: "boom"}, "genesis: invalid toml: boom"},
		{&Error{Err: ErrSyntax, Reason: "boom", Line: 3, Column: 7, File: "g.toml"}, "genesis: g.toml: invalid toml at line 3, column 7: boom"},
		{&Error{Err: ErrUnknownKey, Path: "chain_config.max_blok_size"}, `genesis: unknown key "chain_config.max_blok_size"`},
		{&Error{Err: ErrUnknownKey, Path: `chain_config."a b"`}, `genesis: unknown key chain_config."a b"`},
		{&Error{Err: ErrMissingField, Path: "header.timestamp", Reason: "missing required field"}, "genesis: header.timestamp: missing required field"},
		{&Error{Err: ErrInvalidValue, Value: `"x"`, Reason: "bad"}, `genesis: "x": bad`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	// The underlying cause stays reachable.
	doc := strings.Replace(validDoc, "fee_recipient = '0x0000000000000000000000000000000000000000'", "fee_recipient = '0x1'", 1)
	_, err := Parse([]byte(doc))
	if !errors.Is(err, ErrInvalidValue) || !errors.Is(err, types.ErrInvalidAddress) {
		t.Errorf("error %v should wrap ErrInvalidValue and types.ErrInvalidAddress", err)
	}
}

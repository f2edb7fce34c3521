package genesis

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/p2p"
	"github.com/gospresso/gospresso/types"
)

// validDoc is the shape of the reference demo genesis; rule cases mutate it.
const validDoc = `base_version = "0.2"
upgrade_version = "0.2"

[stake_table]
capacity = 10

[chain_config]
chain_id = 999999999
base_fee = '1 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'
fee_contract = '0xa15bb66138824a1c7167f5e85b957d04dd34e468'

[header]
timestamp = "1970-01-01T00:00:00Z"

[l1_finalized]
number = 0
`

// upgradeDoc is the shape of the reference demo-marketplace genesis.
const upgradeDoc = `base_version = "0.2"
upgrade_version = "0.99"

[stake_table]
capacity = 10

[chain_config]
chain_id = 999999999
base_fee = '0 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'

[header]
timestamp = "1970-01-01T00:00:00Z"

[[upgrade]]
version = "0.99"
start_proposing_view = 10
stop_proposing_view = 60

[upgrade.marketplace]
[upgrade.marketplace.chain_config]
chain_id = 999999999
max_block_size = '1mb'
base_fee = '1 wei'
fee_recipient = "0x0000000000000000000000000000000000000000"
bid_recipient = "0x0000000000000000000000000000000000000000"
`

// upgradeHead is upgradeDoc up to the upgrade's type table.
var upgradeHead = upgradeDoc[:strings.Index(upgradeDoc, "[upgrade.marketplace]")]

// noL1Doc has neither a fee contract nor [l1_finalized].
const noL1Doc = `[stake_table]
capacity = 1

[chain_config]
chain_id = 1
base_fee = 0
max_block_size = 1024
fee_recipient = '0x0000000000000000000000000000000000000000'

[header]
timestamp = 0
`

// feeUpgradeDoc upgrades from 0.1 to 0.2 in time mode.
const feeUpgradeDoc = `base_version = "0.1"
upgrade_version = "0.2"

[stake_table]
capacity = 1

[chain_config]
chain_id = 1
base_fee = 0
max_block_size = 1024
fee_recipient = '0x0000000000000000000000000000000000000000'

[header]
timestamp = 0

[[upgrade]]
version = "0.2"
start_proposing_time = "2024-09-18T16:00:00Z"
stop_proposing_time = "2024-09-19T16:00:00Z"

[upgrade.fee.chain_config]
chain_id = 1
base_fee = '1 wei'
max_block_size = 1024
fee_recipient = '0x0000000000000000000000000000000000000000'
fee_contract = '0xa15bb66138824a1c7167f5e85b957d04dd34e468'
`

// epochDoc upgrades from 0.2 to 0.100, the older number of the epoch version.
const epochDoc = `upgrade_version = "0.100"

[stake_table]
capacity = 1

[chain_config]
chain_id = 1
base_fee = 0
max_block_size = 1024
fee_recipient = '0x0000000000000000000000000000000000000000'

[header]
timestamp = 0

[[upgrade]]
version = "0.100"
start_proposing_view = 1
stop_proposing_view = 2

[upgrade.epoch.chain_config]
chain_id = 1
base_fee = 0
max_block_size = 1024
fee_recipient = '0x0000000000000000000000000000000000000000'
stake_table_contract = '0x0000000000000000000000000000000000000003'
`

const upgradeChainConfig = `chain_id = 1
base_fee = 0
max_block_size = 1024
fee_recipient = '0x0000000000000000000000000000000000000000'
`

// testKey is the text of one derived key set, as a stake table lists it.
type testKey struct {
	keys    keys.Keys
	staking string
	state   string
	pop     string
	peer    string
}

// testKeys derives n key sets from a fixed seed.
func testKeys(t testing.TB, n int) []testKey {
	t.Helper()
	out := make([]testKey, n)
	for i := range out {
		k, err := keys.DeriveKeys([32]byte{1}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		id, err := p2p.PeerID(k.Staking)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = testKey{
			keys:    k,
			staking: k.Staking.PubKey().String(),
			state:   k.State.PubKey().String(),
			pop:     k.Staking.ProvePossession().String(),
			peer:    id,
		}
	}
	return out
}

// entryTOML renders one [[public_keys]] entry; extra lines are appended.
func entryTOML(k testKey, da bool, stake int, extra ...string) string {
	s := fmt.Sprintf("\n[[public_keys]]\nstake_table_key = %q\nstate_ver_key = %q\nda = %v\nstake = %d\nstake_table_key_pop = %q\n",
		k.staking, k.state, da, stake, k.pop)
	for _, e := range extra {
		s += e + "\n"
	}
	return s
}

// fullDoc uses every section and several value forms.
func fullDoc(t testing.TB) string {
	k := testKeys(t, 3)
	return `base_version = "0.1"
upgrade_version = "0.2"

[stake_table]
capacity = 5

[chain_config]
chain_id = 0xdecaf
base_fee = "1 gwei"
max_block_size = "30mb"
fee_recipient = "0x0000000000000000000000000000000000000001"

[header]
timestamp = 1726588800

[l1_finalized]
number = 6001199
timestamp = "0x66575298"
hash = "0xc41e0637d18c879a9d6f09fb5046a37bae99d5637d12716b70fdd027a9135e00"

[network]
bootstrap_nodes = ["/dns/node0.example.com/udp/2000/quic-v1/p2p/` + k[0].peer + `"]

[accounts]
"0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f" = 100000
"0x184ba627DB853244c9f17f3Cb4378cB8B39bf147" = "0xabcdef"
"0x0000000000000000000000000000000000000002" = "1 eth"

[[upgrade]]
version = "0.2"
start_proposing_time = "2024-09-18T16:00:00Z"
stop_proposing_time = "2024-09-19T16:00:00Z"

[upgrade.fee.chain_config]
chain_id = 0xdecaf
base_fee = "1 wei"
max_block_size = "30mb"
fee_recipient = "0x0000000000000000000000000000000000000001"
fee_contract = "0x9fce21c3f7600aa63392a5f5713986b39bb98884"
` + entryTOML(k[0], true, 3) +
		entryTOML(k[1], false, 1, `libp2p_address = "/ip4/127.0.0.1/udp/3001/quic-v1/p2p/`+k[1].peer+`"`) +
		entryTOML(k[2], true, 1)
}

func TestParseFullDoc(t *testing.T) {
	k := testKeys(t, 3)
	g, err := Parse([]byte(fullDoc(t)))
	if err != nil {
		t.Fatal(err)
	}
	if g.BaseVersion != (types.Version{Major: 0, Minor: 1}) || g.UpgradeVersion != (types.Version{Major: 0, Minor: 2}) {
		t.Errorf("versions %v %v", g.BaseVersion, g.UpgradeVersion)
	}
	if g.ChainConfig.ChainID != types.NewU256(0xdecaf) || g.ChainConfig.BaseFee != types.NewU256(1e9) ||
		g.ChainConfig.MaxBlockSize != 30e6 || g.ChainConfig.FeeContract != nil {
		t.Errorf("chain config %+v", g.ChainConfig)
	}
	if g.Timestamp != 1726588800 {
		t.Errorf("timestamp %d", g.Timestamp)
	}
	l := g.L1Finalized
	if l.Form() != FormFull || *l.Number != 6001199 || *l.Timestamp != types.NewU256(0x66575298) || l.Hash.String()[:8] != "0xc41e06" {
		t.Errorf("l1_finalized %+v", l)
	}
	eth, _ := types.ParseU256("1000000000000000000")
	wantAccounts := map[string]types.U256{
		"0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f": types.NewU256(100000),
		"0x184ba627db853244c9f17f3cb4378cb8b39bf147": types.NewU256(0xabcdef),
		"0x0000000000000000000000000000000000000002": eth,
	}
	if len(g.Accounts) != len(wantAccounts) {
		t.Errorf("accounts %v", g.Accounts)
	}
	for a, want := range wantAccounts {
		if got := g.Accounts[mustAddress(t, a)]; got != want {
			t.Errorf("account %s = %s, want %s", a, got, want)
		}
	}
	if len(g.Upgrades) != 1 || g.Upgrades[0].Mode != UpgradeModeTime || g.Upgrades[0].StartProposingTime != 1726675200 ||
		g.Upgrades[0].StopProposingTime != 1726761600 || g.Upgrades[0].Type != UpgradeFee {
		t.Errorf("upgrades %+v", g.Upgrades)
	}
	if len(g.StakeTable) != 3 {
		t.Fatalf("stake table %d entries", len(g.StakeTable))
	}
	for i, e := range g.StakeTable {
		if e.StakingKey != k[i].keys.Staking.PubKey() || e.StateKey != k[i].keys.State.PubKey() {
			t.Errorf("entry %d keys out of order", i)
		}
	}
	if !g.StakeTable[0].DA || g.StakeTable[1].DA || g.StakeTable[0].Stake != 3 {
		t.Errorf("entries %+v", g.StakeTable)
	}
	if !strings.HasSuffix(g.StakeTable[1].Libp2pAddress, k[1].peer) || g.StakeTable[0].Libp2pAddress != "" {
		t.Errorf("libp2p addresses %q %q", g.StakeTable[0].Libp2pAddress, g.StakeTable[1].Libp2pAddress)
	}
	if err := g.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// ruleCase mutates base (replacing old by new, or appending new when old is
// empty) and expects an error of kind at path with value.
type ruleCase struct {
	name     string
	base     string
	old, new string
	kind     error
	path     string // the *Error's Path
	value    string // the *Error's Value, exactly
	contains string // extra text the message must contain
}

func (c ruleCase) doc(t testing.TB) string {
	base := c.base
	if base == "" {
		base = validDoc
	}
	if c.old == "" {
		return base + c.new
	}
	if !strings.Contains(base, c.old) {
		t.Fatalf("%s: base document lacks %q", c.name, c.old)
	}
	return strings.Replace(base, c.old, c.new, 1)
}

func checkRuleError(t *testing.T, name string, err error, kind error, path, value, contains string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want %v at %s", name, kind, path)
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %T %v is not a *Error", name, err, err)
		return
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %q does not wrap %v", name, err, kind)
	}
	if e.Path != path || e.Value != value {
		t.Errorf("%s: error at path %q value %q, want %q %q (%v)", name, e.Path, e.Value, path, value, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "genesis: ") || !strings.Contains(msg, path) || !strings.Contains(msg, value) ||
		!strings.Contains(msg, contains) || strings.Contains(msg, "\n") {
		t.Errorf("%s: message %q must be one line naming %q, %q and %q", name, msg, path, value, contains)
	}
}

func syntaxAndKeyCases() []ruleCase {
	return []ruleCase{
		{name: "unknown root key", base: "foo = 1\n" + validDoc, kind: ErrUnknownKey, path: "foo", contains: `unknown key "foo"`},
		{name: "unknown section", new: "[foo]\nbar = 1\n", kind: ErrUnknownKey, path: "foo"},
		{name: "unknown chain_config key", old: "base_fee = '1 wei'", new: "base_fee = '1 wei'\nmax_blok_size = 5",
			kind: ErrUnknownKey, path: "chain_config.max_blok_size", contains: `genesis: unknown key "chain_config.max_blok_size"`},
		{name: "unknown stake_table key", old: "capacity = 10", new: "capacity = 10\nsize = 3", kind: ErrUnknownKey, path: "stake_table.size"},
		{name: "unknown header key", old: "[header]\n", new: "[header]\nheight = 0\n", kind: ErrUnknownKey, path: "header.height"},
		{name: "unknown l1_finalized key", old: "number = 0", new: "number = 0\nblock = 1", kind: ErrUnknownKey, path: "l1_finalized.block"},
		{name: "unknown network key", new: "[network]\npeers = []\n", kind: ErrUnknownKey, path: "network.peers"},
		{name: "quoted unknown key", base: "\"a b\" = 1\n" + validDoc, kind: ErrUnknownKey, path: `"a b"`},
		{name: "duplicate key", old: "chain_id = 999999999", new: "chain_id = 1\nchain_id = 2",
			kind: ErrSyntax, contains: "line 9, column 1: key chain_id is already defined"},
		{name: "duplicate table", new: "[header]\ntimestamp = 1\n", kind: ErrSyntax, contains: "line 19, column 2: table header already exists"},
		{name: "broken toml", new: "[[[\n", kind: ErrSyntax, contains: "invalid toml at line 19"},
		{name: "integer beyond int64", old: "chain_id = 999999999", new: "chain_id = 99999999999999999999", kind: ErrSyntax, contains: "line 8"},
		{name: "invalid utf-8", new: "x = \"\xff\"\n", kind: ErrSyntax},
	}
}

func requiredCases() []ruleCase {
	return []ruleCase{
		{name: "no stake_table", old: "[stake_table]\ncapacity = 10\n", new: "", kind: ErrMissingField, path: "stake_table", contains: "missing required table"},
		{name: "no capacity", old: "capacity = 10", new: "", kind: ErrMissingField, path: "stake_table.capacity"},
		{name: "no chain_config", old: "[chain_config]", new: "[other]", kind: ErrUnknownKey, path: "other"},
		{name: "no chain_config at all", base: "[stake_table]\ncapacity = 1\n", kind: ErrMissingField, path: "chain_config"},
		{name: "no chain_id", old: "chain_id = 999999999", new: "", kind: ErrMissingField, path: "chain_config.chain_id", contains: "missing required field (want integer"},
		{name: "no base_fee", old: "base_fee = '1 wei'", new: "", kind: ErrMissingField, path: "chain_config.base_fee"},
		{name: "no max_block_size", old: "max_block_size = '1mb'", new: "", kind: ErrMissingField, path: "chain_config.max_block_size"},
		{name: "no fee_recipient", old: "fee_recipient = '0x0000000000000000000000000000000000000000'", new: "",
			kind: ErrMissingField, path: "chain_config.fee_recipient"},
		{name: "no header", old: "[header]\ntimestamp = \"1970-01-01T00:00:00Z\"\n", new: "", kind: ErrMissingField, path: "header"},
		{name: "no timestamp", old: "timestamp = \"1970-01-01T00:00:00Z\"", new: "", kind: ErrMissingField, path: "header.timestamp"},
	}
}

func chainConfigCases() []ruleCase {
	fee := func(name, v string, kind error, value string) ruleCase {
		return ruleCase{name: name, old: "base_fee = '1 wei'", new: "base_fee = " + v, kind: kind, path: "chain_config.base_fee", value: value}
	}
	size := func(name, v string, kind error, value string) ruleCase {
		return ruleCase{name: name, old: "max_block_size = '1mb'", new: "max_block_size = " + v, kind: kind, path: "chain_config.max_block_size", value: value}
	}
	id := func(name, v string, kind error, value string) ruleCase {
		return ruleCase{name: name, old: "chain_id = 999999999", new: "chain_id = " + v, kind: kind, path: "chain_config.chain_id", value: value}
	}
	return []ruleCase{
		{name: "stake_table not a table", old: "[stake_table]\ncapacity = 10\n", new: "stake_table = 5\n",
			kind: ErrInvalidValue, path: "stake_table", value: "5", contains: "invalid type integer (want table)"},
		{name: "capacity string", old: "capacity = 10", new: `capacity = "10"`, kind: ErrInvalidValue, path: "stake_table.capacity", value: `"10"`},
		{name: "capacity negative", old: "capacity = 10", new: "capacity = -1", kind: ErrOutOfRange, path: "stake_table.capacity", value: "-1"},
		{name: "capacity zero", old: "capacity = 10", new: "capacity = 0", kind: ErrOutOfRange, path: "stake_table.capacity", value: "0", contains: "must be > 0"},
		{name: "chain_config not a table", old: "[chain_config]", new: "chain_config = 1\n[x]", kind: ErrUnknownKey, path: "x"},
		fee("fee boolean", "true", ErrInvalidValue, "true"),
		fee("fee float", "1.5", ErrInvalidValue, "1.5"),
		fee("fee negative integer", "-1", ErrOutOfRange, "-1"),
		fee("fee negative string", `"-1 wei"`, ErrOutOfRange, `"-1 wei"`),
		fee("fee fraction of wei", `"0.5 wei"`, ErrInvalidValue, `"0.5 wei"`),
		fee("fee unknown unit", `"1 parsec"`, ErrUnknownUnit, `"1 parsec"`),
		fee("fee overflow", `"0x1`+strings.Repeat("0", 64)+`"`, ErrOutOfRange, `"0x1`+strings.Repeat("0", 64)+`"`),
		fee("fee array", `[1]`, ErrInvalidValue, ""),
		id("chain id negative", "-1", ErrOutOfRange, "-1"),
		id("chain id negative string", `"-5"`, ErrOutOfRange, `"-5"`),
		id("chain id not a number", `"abc"`, ErrInvalidValue, `"abc"`),
		id("chain id float", "1.5", ErrInvalidValue, "1.5"),
		id("chain id overflow", `"0x1`+strings.Repeat("0", 64)+`"`, ErrOutOfRange, `"0x1`+strings.Repeat("0", 64)+`"`),
		id("chain id with unit", `"1 wei"`, ErrInvalidValue, `"1 wei"`),
		size("size zero", "0", ErrOutOfRange, "0"),
		size("size zero string", `"0 mb"`, ErrOutOfRange, "0"),
		{name: "size unknown unit", old: "max_block_size = '1mb'", new: "max_block_size = '12 parsecs'", kind: ErrUnknownUnit,
			path: "chain_config.max_block_size", value: `"12 parsecs"`,
			contains: `genesis: chain_config.max_block_size: "12 parsecs": unknown unit (want b, kb, kib, mb, ...)`},
		size("size negative", "-1", ErrOutOfRange, "-1"),
		size("size fraction of a byte", `"1.5b"`, ErrInvalidValue, `"1.5b"`),
		size("size overflow", `"20 eib"`, ErrOutOfRange, `"20 eib"`),
		size("size boolean", "false", ErrInvalidValue, "false"),
		{name: "fee_recipient short", old: "fee_recipient = '0x0000000000000000000000000000000000000000'", new: "fee_recipient = '0x12'",
			kind: ErrInvalidValue, path: "chain_config.fee_recipient", value: `"0x12"`, contains: "40 hex digits"},
		{name: "fee_recipient integer", old: "fee_recipient = '0x0000000000000000000000000000000000000000'", new: "fee_recipient = 5",
			kind: ErrInvalidValue, path: "chain_config.fee_recipient", value: "5"},
		{name: "fee_contract empty", old: "fee_contract = '0xa15bb66138824a1c7167f5e85b957d04dd34e468'", new: "fee_contract = ''",
			kind: ErrInvalidValue, path: "chain_config.fee_contract", value: `""`},
		{name: "bid_recipient bad", old: "[header]", new: "bid_recipient = '0xzz'\n[header]",
			kind: ErrInvalidValue, path: "chain_config.bid_recipient", value: `"0xzz"`},
		{name: "stake_table_contract bad", old: "base_fee = '1 wei'", new: "base_fee = '1 wei'\nstake_table_contract = 'x'",
			kind: ErrInvalidValue, path: "chain_config.stake_table_contract", value: `"x"`},
	}
}

func headerAndL1Cases() []ruleCase {
	ts := func(name, v string, kind error, value string) ruleCase {
		return ruleCase{name: name, old: `timestamp = "1970-01-01T00:00:00Z"`, new: "timestamp = " + v, kind: kind, path: "header.timestamp", value: value}
	}
	l1 := func(name, body string, kind error, path, value string) ruleCase {
		return ruleCase{name: name, old: "[l1_finalized]\nnumber = 0\n", new: "[l1_finalized]\n" + body, kind: kind, path: path, value: value}
	}
	const hash = `"0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"`
	return []ruleCase{
		ts("timestamp date only", `"1970-01-01"`, ErrInvalidValue, `"1970-01-01"`),
		ts("timestamp local date-time", "1970-01-01T00:00:00", ErrInvalidValue, "1970-01-01T00:00:00"),
		ts("timestamp local date", "1970-01-01", ErrInvalidValue, "1970-01-01"),
		ts("timestamp negative", "-1", ErrOutOfRange, "-1"),
		ts("timestamp negative string", `"-1"`, ErrOutOfRange, `"-1"`),
		ts("timestamp before 1970", `"1969-12-31T23:59:59Z"`, ErrOutOfRange, `"1969-12-31T23:59:59Z"`),
		ts("timestamp offset literal before 1970", "1969-12-31T23:59:59Z", ErrOutOfRange, "1969-12-31T23:59:59Z"),
		ts("timestamp float", "1.5", ErrInvalidValue, "1.5"),
		ts("timestamp words", `"yesterday"`, ErrInvalidValue, `"yesterday"`),
		l1("l1 number and hash", "number = 1\nhash = "+hash+"\n", ErrInvalidL1Finalized, "l1_finalized", ""),
		l1("l1 number and timestamp", "number = 1\ntimestamp = \"0x10\"\n", ErrInvalidL1Finalized, "l1_finalized", ""),
		l1("l1 hash only", "hash = "+hash+"\n", ErrInvalidL1Finalized, "l1_finalized", ""),
		l1("l1 timestamp and hash", "timestamp = 5\nhash = "+hash+"\n", ErrInvalidL1Finalized, "l1_finalized", ""),
		l1("l1 empty", "", ErrInvalidL1Finalized, "l1_finalized", ""),
		l1("l1 full bad hash", "number = 1\ntimestamp = \"0x10\"\nhash = \"0x12\"\n", ErrInvalidValue, "l1_finalized.hash", `"0x12"`),
		l1("l1 full decimal timestamp", "number = 1\ntimestamp = \"16\"\nhash = "+hash+"\n", ErrInvalidValue, "l1_finalized.timestamp", `"16"`),
		l1("l1 full negative timestamp", "number = 1\ntimestamp = -16\nhash = "+hash+"\n", ErrOutOfRange, "l1_finalized.timestamp", "-16"),
		l1("l1 negative number", "number = -1\n", ErrOutOfRange, "l1_finalized.number", "-1"),
		l1("l1 string number", "number = \"5\"\n", ErrInvalidValue, "l1_finalized.number", `"5"`),
		l1("l1 timestamp form bad time", "timestamp = \"soon\"\n", ErrInvalidValue, "l1_finalized.timestamp", `"soon"`),
		{name: "l1_finalized not a table", old: "[l1_finalized]\nnumber = 0\n", new: "", base: "l1_finalized = 5\n" + validDoc,
			kind: ErrInvalidValue, path: "l1_finalized", value: "5"},
	}
}

func networkAndAccountCases(t testing.TB) []ruleCase {
	k := testKeys(t, 1)
	node := func(name, v string, kind error, path, value string) ruleCase {
		return ruleCase{name: name, new: "[network]\nbootstrap_nodes = " + v + "\n", kind: kind, path: path, value: value}
	}
	acct := func(name, line string, kind error, path, value string) ruleCase {
		return ruleCase{name: name, new: "[accounts]\n" + line + "\n", kind: kind, path: path, value: value}
	}
	const a = "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f"
	return []ruleCase{
		node("bootstrap not an array", `"x"`, ErrInvalidValue, "network.bootstrap_nodes", `"x"`),
		node("bootstrap element not a string", `[1]`, ErrInvalidValue, "network.bootstrap_nodes[0]", "1"),
		node("bootstrap bad multiaddr", `["/ip4/999.1.1.1/udp/1"]`, ErrInvalidValue, "network.bootstrap_nodes[0]", `"/ip4/999.1.1.1/udp/1"`),
		node("bootstrap not a multiaddr", `["node0:2000"]`, ErrInvalidValue, "network.bootstrap_nodes[0]", `"node0:2000"`),
		node("bootstrap without peer id", `["/ip4/1.2.3.4/udp/2000/quic-v1"]`, ErrInvalidValue, "network.bootstrap_nodes[0]", `"/ip4/1.2.3.4/udp/2000/quic-v1"`),
		node("bootstrap peer id only", `["/p2p/`+k[0].peer+`"]`, ErrInvalidValue, "network.bootstrap_nodes[0]", `"/p2p/`+k[0].peer+`"`),
		node("bootstrap second bad", `["/ip4/1.2.3.4/udp/2000/quic-v1/p2p/`+k[0].peer+`", "x"]`, ErrInvalidValue, "network.bootstrap_nodes[1]", `"x"`),
		acct("account bad address", `"0x12" = 5`, ErrInvalidValue, "accounts.0x12", `"0x12"`),
		acct("account not an address", `alice = 5`, ErrInvalidValue, "accounts.alice", `"alice"`),
		acct("account duplicate address", `"`+a+`" = 5`+"\n"+`"`+strings.ToUpper(a[:2])+strings.ToUpper(a[2:])+`" = 6`,
			ErrInvalidValue, "accounts."+a, `"`+a+`"`),
		acct("account unknown unit", `"`+a+`" = "1 parsec"`, ErrUnknownUnit, "accounts."+a, `"1 parsec"`),
		acct("account negative", `"`+a+`" = -5`, ErrOutOfRange, "accounts."+a, "-5"),
		acct("account fraction", `"`+a+`" = "0.5 wei"`, ErrInvalidValue, "accounts."+a, `"0.5 wei"`),
		acct("account table value", `"`+a+`" = {x = 1}`, ErrInvalidValue, "accounts."+a, ""),
		{name: "accounts not a table", base: strings.Replace(validDoc, "[stake_table]", "accounts = 5\n[stake_table]", 1),
			kind: ErrInvalidValue, path: "accounts", value: "5"},
	}
}

func versionAndUpgradeCases() []ruleCase {
	up := func(name, old, new string, kind error, path, value string) ruleCase {
		return ruleCase{name: name, base: upgradeDoc, old: old, new: new, kind: kind, path: path, value: value}
	}
	const window = "start_proposing_view = 10\nstop_proposing_view = 60"
	const marketplace = "[upgrade.marketplace]\n[upgrade.marketplace.chain_config]"
	return []ruleCase{
		{name: "base_version leading zero", old: `base_version = "0.2"`, new: `base_version = "0.02"`, kind: ErrInvalidValue, path: "base_version", value: `"0.02"`},
		{name: "base_version number", old: `base_version = "0.2"`, new: `base_version = 0.2`, kind: ErrInvalidValue, path: "base_version", value: "0.2"},
		{name: "upgrade_version garbage", old: `upgrade_version = "0.2"`, new: `upgrade_version = "x"`, kind: ErrInvalidValue, path: "upgrade_version", value: `"x"`},
		up("upgrade_version matches no upgrade", `upgrade_version = "0.99"`, `upgrade_version = "0.3"`, ErrInvalidVersion, "upgrade_version", `"0.3"`),
		up("upgrade is a table", "[[upgrade]]", "[upgrade]", ErrInvalidValue, "upgrade", ""),
		{name: "upgrade element not a table", base: "upgrade = [1]\n" + validDoc, kind: ErrInvalidValue, path: "upgrade[0]", value: "1"},
		up("upgrade unknown key", window, window+"\nstart_view = 3", ErrUnknownKey, "upgrade[0].start_view", ""),
		up("upgrade type unknown key", "[upgrade.marketplace]\n", "[upgrade.marketplace]\nauction = 1\n", ErrUnknownKey, "upgrade[0].marketplace.auction", ""),
		up("upgrade chain_config unknown key", "bid_recipient =", "base_fees = 1\nbid_recipient =", ErrUnknownKey, "upgrade[0].marketplace.chain_config.base_fees", ""),
		up("upgrade no version", "[[upgrade]]\nversion = \"0.99\"", "[[upgrade]]", ErrMissingField, "upgrade[0].version", ""),
		up("upgrade bad version", "[[upgrade]]\nversion = \"0.99\"", "[[upgrade]]\nversion = \"ninety-nine\"", ErrInvalidValue, "upgrade[0].version", `"ninety-nine"`),
		up("upgrade version not above base", "[[upgrade]]\nversion = \"0.99\"", "[[upgrade]]\nversion = \"0.2\"", ErrInvalidVersion, "upgrade[0].version", `"0.2"`),
		up("upgrade type does not fit version", "[[upgrade]]\nversion = \"0.99\"", "[[upgrade]]\nversion = \"0.3\"", ErrInvalidVersion, "upgrade[0].version", `"0.3"`),
		up("upgrade both modes", window, window+"\nstart_proposing_time = 1\nstop_proposing_time = 2", ErrInvalidUpgrade, "upgrade[0]", ""),
		up("upgrade view start only", window, "start_proposing_view = 10", ErrMissingField, "upgrade[0].stop_proposing_view", ""),
		up("upgrade view stop only", window, "stop_proposing_view = 10", ErrMissingField, "upgrade[0].start_proposing_view", ""),
		up("upgrade time stop only", window, "stop_proposing_time = 10", ErrMissingField, "upgrade[0].start_proposing_time", ""),
		up("upgrade time start only", window, `start_proposing_time = "2024-09-17T16:00:00Z"`, ErrMissingField, "upgrade[0].stop_proposing_time", ""),
		up("upgrade no window", window, "", ErrInvalidUpgrade, "upgrade[0]", ""),
		up("upgrade view start after stop", window, "start_proposing_view = 61\nstop_proposing_view = 60", ErrInvalidUpgrade, "upgrade[0].start_proposing_view", "61"),
		up("upgrade time start after stop", window, "start_proposing_time = \"2024-09-18T16:00:00Z\"\nstop_proposing_time = \"2024-09-17T16:00:00Z\"",
			ErrInvalidUpgrade, "upgrade[0].start_proposing_time", "1726675200"),
		up("upgrade negative view", window, "start_proposing_view = -1\nstop_proposing_view = 60", ErrOutOfRange, "upgrade[0].start_proposing_view", "-1"),
		up("upgrade view as string", window, "start_proposing_view = \"1\"\nstop_proposing_view = 60", ErrInvalidValue, "upgrade[0].start_proposing_view", `"1"`),
		up("upgrade local time", window, "start_proposing_time = 2024-09-17T16:00:00\nstop_proposing_time = 2", ErrInvalidValue, "upgrade[0].start_proposing_time", "2024-09-17T16:00:00"),
		up("upgrade no type table", marketplace, "[upgrade.x]", ErrUnknownKey, "upgrade[0].x", ""),
		{name: "upgrade type table missing", base: upgradeHead, kind: ErrInvalidUpgrade, path: "upgrade[0]", contains: "has type tables: none"},
		up("upgrade two type tables", marketplace, "[upgrade.fee.chain_config]\n"+upgradeChainConfig+marketplace, ErrInvalidUpgrade, "upgrade[0]", ""),
		{name: "upgrade type not a table", base: upgradeHead + "marketplace = 1\n", kind: ErrInvalidValue, path: "upgrade[0].marketplace", value: "1"},
		{name: "upgrade type without chain_config", base: upgradeHead + "[upgrade.marketplace]\n", kind: ErrMissingField, path: "upgrade[0].marketplace.chain_config"},
		up("upgrade chain_config missing field", "base_fee = '1 wei'\nfee_recipient", "fee_recipient", ErrMissingField, "upgrade[0].marketplace.chain_config.base_fee", ""),
		up("upgrade chain_config bad fee", "base_fee = '1 wei'\nfee_recipient", "base_fee = '1 wie'\nfee_recipient", ErrUnknownUnit, "upgrade[0].marketplace.chain_config.base_fee", `"1 wie"`),
		up("upgrade chain_config zero size", "max_block_size = '1mb'\nbase_fee = '1 wei'", "max_block_size = 0\nbase_fee = '1 wei'",
			ErrOutOfRange, "upgrade[0].marketplace.chain_config.max_block_size", "0"),
		up("upgrade duplicate version", "", "\n[[upgrade]]\nversion = \"0.99\"\n"+window+"\n"+marketplace+"\n"+upgradeChainConfig,
			ErrInvalidUpgrade, "upgrade[1].version", `"0.99"`),
		up("second upgrade bad", "", "\n[[upgrade]]\nversion = \"0.3\"\n"+window+"\n[upgrade.epoch]\n",
			ErrMissingField, "upgrade[1].epoch.chain_config", ""),
	}
}

func TestParseRules(t *testing.T) {
	var cases []ruleCase
	cases = append(cases, syntaxAndKeyCases()...)
	cases = append(cases, requiredCases()...)
	cases = append(cases, chainConfigCases()...)
	cases = append(cases, headerAndL1Cases()...)
	cases = append(cases, networkAndAccountCases(t)...)
	cases = append(cases, versionAndUpgradeCases()...)
	for _, c := range cases {
		_, err := Parse([]byte(c.doc(t)))
		checkRuleError(t, c.name, err, c.kind, c.path, c.value, c.contains)
	}
}

// goodCase is a mutation of validDoc (or another base) that must parse.
type goodCase struct {
	name     string
	base     string
	old, new string
	check    func(*Genesis) bool
}

func goodCases(t testing.TB) []goodCase {
	k := testKeys(t, 1)
	const window = "start_proposing_view = 10\nstop_proposing_view = 60"
	fee := func(s string) func(*Genesis) bool {
		want, err := types.ParseU256(s)
		if err != nil {
			t.Fatal(err)
		}
		return func(g *Genesis) bool { return g.ChainConfig.BaseFee == want }
	}
	size := func(n uint64) func(*Genesis) bool {
		return func(g *Genesis) bool { return g.ChainConfig.MaxBlockSize == n }
	}
	chainID := func(n uint64) func(*Genesis) bool {
		return func(g *Genesis) bool { return g.ChainConfig.ChainID == types.NewU256(n) }
	}
	ts := func(n uint64) func(*Genesis) bool { return func(g *Genesis) bool { return g.Timestamp == n } }
	return []goodCase{
		{name: "fee integer", old: "base_fee = '1 wei'", new: "base_fee = 7", check: fee("7")},
		{name: "fee decimal string", old: "base_fee = '1 wei'", new: "base_fee = '7'", check: fee("7")},
		{name: "fee hex string", old: "base_fee = '1 wei'", new: "base_fee = '0xabcdef'", check: fee("11259375")},
		{name: "fee 1.5 gwei", old: "base_fee = '1 wei'", new: "base_fee = '1.5 gwei'", check: fee("1500000000")},
		{name: "fee ETH upper case", old: "base_fee = '1 wei'", new: "base_fee = '2 ETH'", check: fee("2000000000000000000")},
		{name: "chain id hex literal", old: "chain_id = 999999999", new: "chain_id = 0xdecaf", check: chainID(0xdecaf)},
		{name: "chain id hex string", old: "chain_id = 999999999", new: "chain_id = '0xdecaf'", check: chainID(0xdecaf)},
		{name: "chain id decimal string", old: "chain_id = 999999999", new: "chain_id = '888888888'", check: chainID(888888888)},
		{name: "size integer", old: "max_block_size = '1mb'", new: "max_block_size = 10240", check: size(10240)},
		{name: "size MiB", old: "max_block_size = '1mb'", new: "max_block_size = '1 MiB'", check: size(1 << 20)},
		{name: "size 30mb", old: "max_block_size = '1mb'", new: "max_block_size = '30mb'", check: size(30e6)},
		{name: "size bare string", old: "max_block_size = '1mb'", new: "max_block_size = '1048576'", check: size(1 << 20)},
		{name: "timestamp integer", old: `timestamp = "1970-01-01T00:00:00Z"`, new: "timestamp = 1726588800", check: ts(1726588800)},
		{name: "timestamp decimal string", old: `timestamp = "1970-01-01T00:00:00Z"`, new: `timestamp = "1726588800"`, check: ts(1726588800)},
		{name: "timestamp offset literal", old: `timestamp = "1970-01-01T00:00:00Z"`, new: "timestamp = 2024-09-17T18:00:00+02:00", check: ts(1726588800)},
		{name: "timestamp with offset", old: `timestamp = "1970-01-01T00:00:00Z"`, new: `timestamp = "2024-09-17T12:00:00-04:00"`, check: ts(1726588800)},
		{name: "l1 timestamp form", old: "number = 0", new: `timestamp = "2024-09-17T16:00:00Z"`,
			check: func(g *Genesis) bool {
				return g.L1Finalized.Form() == FormTimestamp && *g.L1Finalized.Timestamp == types.NewU256(1726588800)
			}},
		{name: "l1 full form with integer timestamp", old: "number = 0",
			new: "number = 5\ntimestamp = 16\nhash = \"0x0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"",
			check: func(g *Genesis) bool {
				return g.L1Finalized.Form() == FormFull && *g.L1Finalized.Timestamp == types.NewU256(16) &&
					g.L1Finalized.Hash.String() == "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			}},
		{name: "no l1_finalized", old: "[l1_finalized]\nnumber = 0\n", new: "", check: func(g *Genesis) bool { return g.L1Finalized == nil }},
		{name: "zero fee contract is present", old: "fee_contract = '0xa15bb66138824a1c7167f5e85b957d04dd34e468'",
			new:   "fee_contract = '0x0000000000000000000000000000000000000000'",
			check: func(g *Genesis) bool { return g.ChainConfig.FeeContract != nil && g.ChainConfig.FeeContract.IsZero() }},
		{name: "optional addresses", old: "[header]", new: "bid_recipient = '0x0000000000000000000000000000000000000001'\nstake_table_contract = '0x0000000000000000000000000000000000000002'\n[header]",
			check: func(g *Genesis) bool {
				return g.ChainConfig.BidRecipient != nil && g.ChainConfig.StakeTableContract != nil && g.ChainConfig.StakeTableContract[19] == 2
			}},
		{name: "versions default", old: "base_version = \"0.2\"\nupgrade_version = \"0.2\"\n", new: "",
			check: func(g *Genesis) bool {
				return g.BaseVersion == types.Version{Major: 0, Minor: 2} && g.UpgradeVersion == g.BaseVersion
			}},
		// Without [[upgrade]] entries upgrade_version may differ from
		// base_version (the reference accepts it); no upgrade is scheduled.
		{name: "upgrade_version above base without upgrade", old: `upgrade_version = "0.2"`, new: `upgrade_version = "0.3"`,
			check: func(g *Genesis) bool {
				return g.BaseVersion == types.Version{Major: 0, Minor: 2} && g.UpgradeVersion == types.Version{Major: 0, Minor: 3} && len(g.Upgrades) == 0
			}},
		{name: "upgrade_version below default base without upgrade", old: "base_version = \"0.2\"\nupgrade_version = \"0.2\"\n", new: "upgrade_version = \"0.1\"\n",
			check: func(g *Genesis) bool {
				return g.BaseVersion == types.Version{Major: 0, Minor: 2} && g.UpgradeVersion == types.Version{Major: 0, Minor: 1} && len(g.Upgrades) == 0
			}},
		{name: "bootstrap nodes", new: "[network]\nbootstrap_nodes = [\"/dns/x.example.com/udp/2000/quic-v1/p2p/" + k[0].peer + "\"]\n",
			check: func(g *Genesis) bool { return len(g.BootstrapNodes) == 1 }},
		{name: "empty network", new: "[network]\n", check: func(g *Genesis) bool { return len(g.BootstrapNodes) == 0 }},
		{name: "empty stake table", base: "public_keys = []\n" + validDoc,
			check: func(g *Genesis) bool { return len(g.StakeTable) == 0 }},
		{name: "upgrade start equals stop", base: upgradeDoc, old: window, new: "start_proposing_view = 10\nstop_proposing_view = 10",
			check: func(g *Genesis) bool {
				return g.Upgrades[0].StartProposingView == 10 && g.Upgrades[0].StopProposingView == 10
			}},
		{name: "upgrade time integers", base: upgradeDoc, old: window, new: "start_proposing_time = 5\nstop_proposing_time = 6",
			check: func(g *Genesis) bool {
				return g.Upgrades[0].Mode == UpgradeModeTime && g.Upgrades[0].StopProposingTime == 6
			}},
		{name: "fee upgrade from 0.1", base: feeUpgradeDoc,
			check: func(g *Genesis) bool { return g.Upgrades[0].Type == UpgradeFee && g.UpgradeVersion.Minor == 2 }},
		{name: "upgrades sorted by version", base: upgradeDoc, old: "",
			new: "\n[[upgrade]]\nversion = \"0.3\"\n" + window + "\n[upgrade.epoch.chain_config]\n" + upgradeChainConfig +
				"stake_table_contract = '0x0000000000000000000000000000000000000009'\n",
			check: func(g *Genesis) bool {
				return len(g.Upgrades) == 2 && g.Upgrades[0].Version.Minor == 3 && g.Upgrades[0].Type == UpgradeEpoch &&
					g.Upgrades[1].Version.Minor == 99 && g.Upgrades[0].ChainConfig.StakeTableContract != nil
			}},
		{name: "epoch 0.100", base: epochDoc,
			check: func(g *Genesis) bool { return g.Upgrades[0].Version.Minor == 100 && g.Upgrades[0].Type == UpgradeEpoch }},
	}
}

func TestParseGood(t *testing.T) {
	for _, c := range goodCases(t) {
		doc := ruleCase{name: c.name, base: c.base, old: c.old, new: c.new}.doc(t)
		g, err := Parse([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, doc)
			continue
		}
		if !c.check(g) {
			t.Errorf("%s: unexpected result %+v", c.name, g)
		}
		if err := g.Validate(); err != nil {
			t.Errorf("%s: Validate after Parse: %v", c.name, err)
		}
	}
}

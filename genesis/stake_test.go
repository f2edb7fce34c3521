package genesis

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/keys"
)

// stakeDoc is validDoc with the given [[public_keys]] entries appended.
func stakeDoc(entries ...string) string { return validDoc + strings.Join(entries, "") }

func TestStakeTableParses(t *testing.T) {
	k := testKeys(t, 4)
	addr := fmt.Sprintf(`libp2p_address = "/dns/node2.example.com/udp/2000/quic-v1/p2p/%s"`, k[2].peer)
	g, err := Parse([]byte(stakeDoc(entryTOML(k[3], false, 5), entryTOML(k[0], true, 1), entryTOML(k[2], false, 7, addr))))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		k     testKey
		da    bool
		stake uint64
	}{{k[3], false, 5}, {k[0], true, 1}, {k[2], false, 7}}
	if len(g.StakeTable) != len(want) {
		t.Fatalf("%d entries", len(g.StakeTable))
	}
	for i, w := range want {
		e := g.StakeTable[i]
		if e.StakingKey != w.k.keys.Staking.PubKey() || e.StateKey != w.k.keys.State.PubKey() || e.DA != w.da || e.Stake != w.stake ||
			e.ProofOfPossession.String() != w.k.pop {
			t.Errorf("entry %d = %+v (file order must be kept)", i, e)
		}
	}
	if !strings.HasSuffix(g.StakeTable[2].Libp2pAddress, k[2].peer) {
		t.Errorf("libp2p address %q", g.StakeTable[2].Libp2pAddress)
	}
}

func TestStakeTableRules(t *testing.T) {
	k := testKeys(t, 4)
	peerAddr := func(i int) string {
		return fmt.Sprintf(`libp2p_address = "/ip4/10.0.0.%d/udp/2000/quic-v1/p2p/%s"`, i, k[i].peer)
	}
	swapped := k[1]
	swapped.pop = k[0].pop // a valid proof, but for another key
	withState := func(base, stateOf testKey) testKey { base.state = stateOf.state; return base }
	garbled := k[2]
	garbled.staking = k[2].staking[:len(k[2].staking)-2] + "AA"

	tests := []struct {
		name        string
		doc         string
		kind        error
		path, value string
		contains    string
	}{
		{name: "wrong proof of possession", doc: stakeDoc(entryTOML(k[0], true, 1), entryTOML(swapped, false, 1)),
			kind: ErrInvalidStakeTable, path: "public_keys[1].stake_table_key_pop", value: `"` + k[0].pop + `"`, contains: "does not prove possession"},
		{name: "duplicate staking key", doc: stakeDoc(entryTOML(k[0], true, 1), entryTOML(k[1], true, 1), entryTOML(withState(k[0], k[2]), false, 1)),
			kind: ErrInvalidStakeTable, path: "public_keys[2].stake_table_key", value: `"` + k[0].staking + `"`, contains: "also public_keys[0]"},
		{name: "duplicate state key", doc: stakeDoc(entryTOML(k[0], true, 1), entryTOML(withState(k[1], k[0]), true, 1)),
			kind: ErrInvalidStakeTable, path: "public_keys[1].state_ver_key", value: `"` + k[0].state + `"`},
		{name: "zero stake", doc: stakeDoc(entryTOML(k[0], true, 1), entryTOML(k[1], true, 0)),
			kind: ErrOutOfRange, path: "public_keys[1].stake", value: "0", contains: "must be > 0"},
		{name: "negative stake", doc: stakeDoc(entryTOML(k[0], true, -3)),
			kind: ErrOutOfRange, path: "public_keys[0].stake", value: "-3"},
		{name: "no DA member", doc: stakeDoc(entryTOML(k[0], false, 1), entryTOML(k[1], false, 1)),
			kind: ErrInvalidStakeTable, path: "public_keys", contains: "no DA member"},
		{name: "more entries than capacity", doc: strings.Replace(stakeDoc(entryTOML(k[0], true, 1), entryTOML(k[1], true, 1), entryTOML(k[2], true, 1)),
			"capacity = 10", "capacity = 2", 1), kind: ErrInvalidStakeTable, path: "public_keys", contains: "3 entries, more than stake_table.capacity 2"},
		{name: "bad staking key", doc: stakeDoc(entryTOML(k[0], true, 1), entryTOML(k[1], true, 1), entryTOML(garbled, true, 1)),
			kind: ErrInvalidValue, path: "public_keys[2].stake_table_key", value: `"` + garbled.staking + `"`, contains: "invalid staking public key"},
		{name: "state key as staking key", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), k[0].staking, k[0].state, 1)),
			kind: ErrInvalidValue, path: "public_keys[0].stake_table_key", value: `"` + k[0].state + `"`},
		{name: "bad state key", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), k[0].state, "SCHNORR_VER_KEY~AAAA", 1)),
			kind: ErrInvalidValue, path: "public_keys[0].state_ver_key", value: `"SCHNORR_VER_KEY~AAAA"`, contains: "invalid state public key"},
		{name: "bad proof encoding", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), k[0].pop, "BLS_POP~AAAA", 1)),
			kind: ErrInvalidValue, path: "public_keys[0].stake_table_key_pop", value: `"BLS_POP~AAAA"`, contains: "invalid proof of possession"},
		{name: "missing proof", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), "stake_table_key_pop", "# stake_table_key_pop", 1)),
			kind: ErrMissingField, path: "public_keys[0].stake_table_key_pop", contains: "BLS_POP~"},
		{name: "missing da", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), "da = true", "", 1)),
			kind: ErrMissingField, path: "public_keys[0].da"},
		{name: "missing staking key", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), "stake_table_key =", "# ", 1)),
			kind: ErrMissingField, path: "public_keys[0].stake_table_key"},
		{name: "missing state key", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), "state_ver_key =", "# ", 1)),
			kind: ErrMissingField, path: "public_keys[0].state_ver_key"},
		{name: "missing stake", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), "stake = 1", "", 1)),
			kind: ErrMissingField, path: "public_keys[0].stake"},
		{name: "da as string", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), "da = true", `da = "yes"`, 1)),
			kind: ErrInvalidValue, path: "public_keys[0].da", value: `"yes"`},
		{name: "key as integer", doc: stakeDoc(strings.Replace(entryTOML(k[0], true, 1), `stake_table_key = "`+k[0].staking+`"`, "stake_table_key = 1", 1)),
			kind: ErrInvalidValue, path: "public_keys[0].stake_table_key", value: "1"},
		{name: "unknown entry key", doc: stakeDoc(entryTOML(k[0], true, 1, "weight = 2")),
			kind: ErrUnknownKey, path: "public_keys[0].weight"},
		{name: "libp2p address without peer id", doc: stakeDoc(entryTOML(k[0], true, 1, `libp2p_address = "/ip4/1.2.3.4/udp/2000/quic-v1"`)),
			kind: ErrInvalidValue, path: "public_keys[0].libp2p_address", value: `"/ip4/1.2.3.4/udp/2000/quic-v1"`, contains: "/p2p/<peer id>"},
		{name: "libp2p address not a multiaddr", doc: stakeDoc(entryTOML(k[0], true, 1, `libp2p_address = "10.0.0.1:2000"`)),
			kind: ErrInvalidValue, path: "public_keys[0].libp2p_address", value: `"10.0.0.1:2000"`, contains: "invalid multiaddr"},
		{name: "libp2p address integer", doc: stakeDoc(entryTOML(k[0], true, 1, `libp2p_address = 5`)),
			kind: ErrInvalidValue, path: "public_keys[0].libp2p_address", value: "5"},
		{name: "duplicate peer id", doc: stakeDoc(entryTOML(k[0], true, 1, peerAddr(0)),
			entryTOML(k[1], true, 1, `libp2p_address = "/ip4/10.9.9.9/udp/2000/quic-v1/p2p/`+k[0].peer+`"`)),
			kind: ErrInvalidStakeTable, path: "public_keys[1].libp2p_address",
			value: `"/ip4/10.9.9.9/udp/2000/quic-v1/p2p/` + k[0].peer + `"`, contains: "duplicate peer ID"},
		{name: "public_keys not an array", doc: "public_keys = 3\n" + validDoc, kind: ErrInvalidValue, path: "public_keys", value: "3"},
		{name: "public_keys element not a table", doc: "public_keys = [\"x\"]\n" + validDoc, kind: ErrInvalidValue, path: "public_keys[0]", value: `"x"`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc))
		checkRuleError(t, tt.name, err, tt.kind, tt.path, tt.value, tt.contains)
	}
}

// TestValidateStakeTableInGo builds a stake table in Go with DeriveKeys and
// checks Validate's stake-table rules without TOML.
func TestValidateStakeTableInGo(t *testing.T) {
	g, err := Parse([]byte(validDoc))
	if err != nil {
		t.Fatal(err)
	}
	entry := func(i uint64, da bool) StakeTableEntry {
		k, err := keys.DeriveKeys([32]byte{7}, i)
		if err != nil {
			t.Fatal(err)
		}
		return StakeTableEntry{StakingKey: k.Staking.PubKey(), StateKey: k.State.PubKey(), DA: da, Stake: 1,
			ProofOfPossession: k.Staking.ProvePossession()}
	}
	good := []StakeTableEntry{entry(0, true), entry(1, false), entry(2, false)}
	g.StakeTable = good
	if err := g.Validate(); err != nil {
		t.Fatalf("valid table: %v", err)
	}
	mutate := func(f func([]StakeTableEntry)) []StakeTableEntry {
		c := append([]StakeTableEntry(nil), good...)
		f(c)
		return c
	}
	tests := []struct {
		name  string
		table []StakeTableEntry
		kind  error
		path  string
	}{
		{"wrong PoP", mutate(func(e []StakeTableEntry) { e[1].ProofOfPossession = e[2].ProofOfPossession }), ErrInvalidStakeTable, "public_keys[1].stake_table_key_pop"},
		{"missing PoP", mutate(func(e []StakeTableEntry) { e[0].ProofOfPossession = keys.ProofOfPossession{} }), ErrInvalidStakeTable, "public_keys[0].stake_table_key_pop"},
		{"duplicate key", mutate(func(e []StakeTableEntry) { e[2] = e[0]; e[2].DA = false }), ErrInvalidStakeTable, "public_keys[2].stake_table_key"},
		{"zero stake", mutate(func(e []StakeTableEntry) { e[1].Stake = 0 }), ErrOutOfRange, "public_keys[1].stake"},
		{"no DA member", mutate(func(e []StakeTableEntry) { e[0].DA = false }), ErrInvalidStakeTable, "public_keys"},
		{"zero staking key", mutate(func(e []StakeTableEntry) { e[1].StakingKey = keys.StakingPubKey{} }), ErrInvalidStakeTable, "public_keys[1].stake_table_key"},
		{"zero state key", mutate(func(e []StakeTableEntry) { e[1].StateKey = keys.StatePubKey{} }), ErrInvalidStakeTable, "public_keys[1].state_ver_key"},
		{"bad libp2p address", mutate(func(e []StakeTableEntry) { e[1].Libp2pAddress = "/ip4/1.2.3.4" }), ErrInvalidValue, "public_keys[1].libp2p_address"},
	}
	for _, tt := range tests {
		h := *g
		h.StakeTable = tt.table
		checkRuleError(t, tt.name, h.Validate(), tt.kind, tt.path, errValue(h.Validate()), "")
	}
	h := *g
	h.StakeTableCapacity = 2
	checkRuleError(t, "over capacity", h.Validate(), ErrInvalidStakeTable, "public_keys", "", "more than stake_table.capacity 2")
}

// errValue returns the Value of an *Error (the rule tests above pin paths
// and kinds; values depend on generated keys).
func errValue(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Value
	}
	return ""
}

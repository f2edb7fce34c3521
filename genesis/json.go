package genesis

import (
	"crypto/sha256"
	"encoding/json"

	"github.com/gospresso/gospresso/types"
)

// MarshalJSON returns the canonical JSON of g: compact, object keys sorted,
// every field present (null when absent; empty lists and tables as [] and
// {}), in the TOML layout with the JSON value forms of docs/genesis.md,
// "Canonical JSON and the genesis commitment":
//
//	{"accounts": {"0x…": "<wei>"}, "base_version": "0.2",
//	 "chain_config": {"base_fee": "<wei>", "bid_recipient": null, "chain_id": "<dec>",
//	   "fee_contract": "0x…"|null, "fee_recipient": "0x…", "max_block_size": "<dec>",
//	   "stake_table_contract": null},
//	 "header": {"timestamp": <unix s>},
//	 "l1_finalized": {"hash": "0x…"|null, "number": <n>|null, "timestamp": "0x…"|null} | null,
//	 "network": {"bootstrap_nodes": ["/ip4/…"]},
//	 "public_keys": [{"da": true, "libp2p_address": "…"|null, "stake": 1,
//	   "stake_table_key": "BLS_VER_KEY~…", "stake_table_key_pop": "BLS_POP~…",
//	   "state_ver_key": "SCHNORR_VER_KEY~…"}],
//	 "stake_table": {"capacity": 10},
//	 "upgrade": [{"epoch": null, "fee": null, "marketplace": {"chain_config": {…}},
//	   "start_proposing_time": null, "start_proposing_view": 10,
//	   "stop_proposing_time": null, "stop_proposing_view": 60, "version": "0.99"}],
//	 "upgrade_version": "0.99"}
//
// Upgrades appear in slice order (sorted by version after Parse), stake
// table entries in file order. Equal genesis values give identical bytes.
func (g *Genesis) MarshalJSON() ([]byte, error) {
	return json.Marshal(g.tree())
}

// Commitment returns the genesis commitment: the SHA-256 of the canonical
// JSON of MarshalJSON (docs/genesis.md, "Canonical JSON and the genesis
// commitment").
func (g *Genesis) Commitment() [32]byte {
	b, err := g.MarshalJSON()
	if err != nil {
		// The tree holds only strings, integers, booleans, nil, slices and
		// string-keyed maps, which encoding/json always encodes.
		panic("genesis: canonical JSON encoding failed: " + err.Error())
	}
	return sha256.Sum256(b)
}

// tree builds the canonical JSON value from plain types only, so encoding
// cannot fail and maps give sorted keys.
func (g *Genesis) tree() map[string]any {
	accounts := make(map[string]any, len(g.Accounts))
	for a, v := range g.Accounts {
		accounts[a.String()] = v.String()
	}
	var l1 any
	if l := g.L1Finalized; l != nil {
		m := map[string]any{"number": nil, "timestamp": nil, "hash": nil}
		if l.Number != nil {
			m["number"] = *l.Number
		}
		if l.Timestamp != nil {
			m["timestamp"] = l.Timestamp.Hex()
		}
		if l.Hash != nil {
			m["hash"] = l.Hash.String()
		}
		l1 = m
	}
	nodes := make([]any, len(g.BootstrapNodes))
	for i, n := range g.BootstrapNodes {
		nodes[i] = n
	}
	upgrades := make([]any, len(g.Upgrades))
	for i, u := range g.Upgrades {
		m := map[string]any{
			"version":              u.Version.String(),
			"start_proposing_view": nil,
			"stop_proposing_view":  nil,
			"start_proposing_time": nil,
			"stop_proposing_time":  nil,
			"fee":                  nil,
			"marketplace":          nil,
			"epoch":                nil,
		}
		switch u.Mode {
		case UpgradeModeView:
			m["start_proposing_view"], m["stop_proposing_view"] = u.StartProposingView, u.StopProposingView
		case UpgradeModeTime:
			m["start_proposing_time"], m["stop_proposing_time"] = u.StartProposingTime, u.StopProposingTime
		}
		m[string(u.Type)] = map[string]any{"chain_config": chainConfigTree(u.ChainConfig)}
		upgrades[i] = m
	}
	entries := make([]any, len(g.StakeTable))
	for i, e := range g.StakeTable {
		var addr any
		if e.Libp2pAddress != "" {
			addr = e.Libp2pAddress
		}
		entries[i] = map[string]any{
			"stake_table_key":     e.StakingKey.String(),
			"state_ver_key":       e.StateKey.String(),
			"da":                  e.DA,
			"stake":               e.Stake,
			"stake_table_key_pop": e.ProofOfPossession.String(),
			"libp2p_address":      addr,
		}
	}
	return map[string]any{
		"base_version":    g.BaseVersion.String(),
		"upgrade_version": g.UpgradeVersion.String(),
		"stake_table":     map[string]any{"capacity": g.StakeTableCapacity},
		"chain_config":    chainConfigTree(g.ChainConfig),
		"header":          map[string]any{"timestamp": g.Timestamp},
		"l1_finalized":    l1,
		"network":         map[string]any{"bootstrap_nodes": nodes},
		"accounts":        accounts,
		"upgrade":         upgrades,
		"public_keys":     entries,
	}
}

// chainConfigTree is the canonical form of a chain config: every field,
// decimal strings for numbers, null for absent addresses.
func chainConfigTree(c types.ChainConfig) map[string]any {
	addr := func(a *types.Address) any {
		if a == nil {
			return nil
		}
		return a.String()
	}
	return map[string]any{
		"chain_id":             c.ChainID.String(),
		"max_block_size":       types.NewU256(c.MaxBlockSize).String(),
		"base_fee":             c.BaseFee.String(),
		"fee_recipient":        c.FeeRecipient.String(),
		"fee_contract":         addr(c.FeeContract),
		"bid_recipient":        addr(c.BidRecipient),
		"stake_table_contract": addr(c.StakeTableContract),
	}
}

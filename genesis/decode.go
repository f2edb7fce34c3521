package genesis

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// The keys each table may hold (docs/genesis.md, "Layout").
func rootKeys() []string {
	return []string{"base_version", "upgrade_version", "stake_table", "chain_config", "header",
		"l1_finalized", "network", "accounts", "upgrade", "public_keys"}
}

func chainConfigKeys() []string {
	return []string{"chain_id", "base_fee", "max_block_size", "fee_recipient", "fee_contract",
		"bid_recipient", "stake_table_contract"}
}

func upgradeKeys() []string {
	return []string{"version", "start_proposing_view", "stop_proposing_view", "start_proposing_time",
		"stop_proposing_time", "fee", "marketplace", "epoch"}
}

func upgradeTypes() []UpgradeType { return []UpgradeType{UpgradeFee, UpgradeMarketplace, UpgradeEpoch} }

func stakeTableKeys() []string {
	return []string{"stake_table_key", "state_ver_key", "da", "stake", "stake_table_key_pop", "libp2p_address"}
}

func l1FinalizedKeys() []string { return []string{"number", "timestamp", "hash"} }

// table is a decoded TOML table and its path in the document.
type table struct {
	path string
	m    map[string]any
}

// child returns the path of key inside t.
func (t table) child(key string) string { return joinPath(t.path, key) }

// joinPath appends key to a TOML path, quoting it unless it is a bare key.
func joinPath(parent, key string) string {
	if !isBareKey(key) {
		key = strconv.Quote(key)
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func isBareKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// checkKeys reports the first key of t, in sorted order, not in allowed.
func (t table) checkKeys(allowed []string) error {
	for _, k := range sortedKeys(t.m) {
		if !slices.Contains(allowed, k) {
			return &Error{Err: ErrUnknownKey, Path: t.child(k)}
		}
	}
	return nil
}

func (t table) has(key string) bool {
	_, ok := t.m[key]
	return ok
}

// field converts the value at key with conv. present is false when the key
// is absent; then a required key is an ErrMissingField error naming want.
func field[T any](t table, key string, required bool, want string, conv func(any) (T, error)) (v T, present bool, err error) {
	raw, ok := t.m[key]
	if !ok {
		if required {
			return v, false, fieldErr(ErrMissingField, t.child(key), "", "missing required field (want "+want+")")
		}
		return v, false, nil
	}
	v, err = conv(raw)
	if err != nil {
		return v, true, at(err, t.child(key))
	}
	return v, true, nil
}

// subtable returns the table at key; present is false when it is absent,
// which is an error when required.
func (t table) subtable(key string, required bool) (sub table, present bool, err error) {
	sub.path = t.child(key)
	raw, ok := t.m[key]
	if !ok {
		if required {
			return sub, false, fieldErr(ErrMissingField, sub.path, "", "missing required table")
		}
		return sub, false, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return sub, true, at(wrongType(raw, "table"), sub.path)
	}
	sub.m = m
	return sub, true, nil
}

// tableArray returns the array of tables ([[key]]) at key, or nil if absent.
func (t table) tableArray(key string) ([]table, error) {
	raw, ok := t.m[key]
	if !ok {
		return nil, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, at(wrongType(raw, "array of tables [["+key+"]]"), t.child(key))
	}
	out := make([]table, len(arr))
	for i, el := range arr {
		path := fmt.Sprintf("%s[%d]", t.child(key), i)
		m, ok := el.(map[string]any)
		if !ok {
			return nil, at(wrongType(el, "table"), path)
		}
		out[i] = table{path: path, m: m}
	}
	return out, nil
}

// decode builds a Genesis from a decoded TOML document, checking keys and
// value grammars; the semantic rules are left to validate.
func decode(raw map[string]any) (*Genesis, error) {
	root := table{m: raw}
	if err := root.checkKeys(rootKeys()); err != nil {
		return nil, err
	}
	g := &Genesis{BaseVersion: defaultBaseVersion()}
	var err error
	if v, ok, err := field(root, "base_version", false, wantVersion, tomlVersion); err != nil {
		return nil, err
	} else if ok {
		g.BaseVersion = v
	}
	g.UpgradeVersion = g.BaseVersion
	if v, ok, err := field(root, "upgrade_version", false, wantVersion, tomlVersion); err != nil {
		return nil, err
	} else if ok {
		g.UpgradeVersion = v
	}

	st, _, err := root.subtable("stake_table", true)
	if err != nil {
		return nil, err
	}
	if err := st.checkKeys([]string{"capacity"}); err != nil {
		return nil, err
	}
	if g.StakeTableCapacity, _, err = field(st, "capacity", true, "integer > 0", tomlUint); err != nil {
		return nil, err
	}

	cc, _, err := root.subtable("chain_config", true)
	if err != nil {
		return nil, err
	}
	if g.ChainConfig, err = decodeChainConfig(cc); err != nil {
		return nil, err
	}

	header, _, err := root.subtable("header", true)
	if err != nil {
		return nil, err
	}
	if err := header.checkKeys([]string{"timestamp"}); err != nil {
		return nil, err
	}
	if g.Timestamp, _, err = field(header, "timestamp", true, wantTimestamp, tomlTimestamp); err != nil {
		return nil, err
	}

	if l1, ok, err := root.subtable("l1_finalized", false); err != nil {
		return nil, err
	} else if ok {
		if g.L1Finalized, err = decodeL1Finalized(l1); err != nil {
			return nil, err
		}
	}

	if network, ok, err := root.subtable("network", false); err != nil {
		return nil, err
	} else if ok {
		if g.BootstrapNodes, err = decodeNetwork(network); err != nil {
			return nil, err
		}
	}

	if accounts, ok, err := root.subtable("accounts", false); err != nil {
		return nil, err
	} else if ok {
		if g.Accounts, err = decodeAccounts(accounts); err != nil {
			return nil, err
		}
	}

	upgrades, err := root.tableArray("upgrade")
	if err != nil {
		return nil, err
	}
	for _, t := range upgrades {
		u, err := decodeUpgrade(t)
		if err != nil {
			return nil, err
		}
		g.Upgrades = append(g.Upgrades, u)
	}

	entries, err := root.tableArray("public_keys")
	if err != nil {
		return nil, err
	}
	for _, t := range entries {
		e, err := decodeStakeTableEntry(t)
		if err != nil {
			return nil, err
		}
		g.StakeTable = append(g.StakeTable, e)
	}
	return g, nil
}

// decodeChainConfig decodes [chain_config] or an upgrade's chain_config.
func decodeChainConfig(t table) (types.ChainConfig, error) {
	var c types.ChainConfig
	if err := t.checkKeys(chainConfigKeys()); err != nil {
		return c, err
	}
	var err error
	if c.ChainID, _, err = field(t, "chain_id", true, wantChainID, tomlChainID); err != nil {
		return c, err
	}
	if c.BaseFee, _, err = field(t, "base_fee", true, wantFee, tomlFeeAmount); err != nil {
		return c, err
	}
	if c.MaxBlockSize, _, err = field(t, "max_block_size", true, wantSize, tomlSize); err != nil {
		return c, err
	}
	if c.FeeRecipient, _, err = field(t, "fee_recipient", true, wantAddress, tomlAddress); err != nil {
		return c, err
	}
	optional := []struct {
		key string
		dst **types.Address
	}{
		{"fee_contract", &c.FeeContract},
		{"bid_recipient", &c.BidRecipient},
		{"stake_table_contract", &c.StakeTableContract},
	}
	for _, o := range optional {
		a, ok, err := field(t, o.key, false, wantAddress, tomlAddress)
		if err != nil {
			return c, err
		}
		if ok {
			*o.dst = &a
		}
	}
	return c, nil
}

// decodeL1Finalized decodes [l1_finalized] in one of the forms of
// docs/genesis.md, "[l1_finalized]".
func decodeL1Finalized(t table) (*L1Finalized, error) {
	if err := t.checkKeys(l1FinalizedKeys()); err != nil {
		return nil, err
	}
	hasNumber, hasTimestamp, hasHash := t.has("number"), t.has("timestamp"), t.has("hash")
	l := &L1Finalized{}
	switch {
	case hasNumber && hasTimestamp && hasHash:
		n, _, err := field(t, "number", true, "integer", tomlUint)
		if err != nil {
			return nil, err
		}
		ts, _, err := field(t, "timestamp", true, wantU256Hex, tomlU256Hex)
		if err != nil {
			return nil, err
		}
		h, _, err := field(t, "hash", true, wantHash, tomlHash)
		if err != nil {
			return nil, err
		}
		l.Number, l.Timestamp, l.Hash = &n, &ts, &h
	case hasNumber && !hasTimestamp && !hasHash:
		n, _, err := field(t, "number", true, "integer", tomlUint)
		if err != nil {
			return nil, err
		}
		l.Number = &n
	case !hasNumber && hasTimestamp && !hasHash:
		ts, _, err := field(t, "timestamp", true, wantTimestamp, tomlTimestamp)
		if err != nil {
			return nil, err
		}
		u := types.NewU256(ts)
		l.Timestamp = &u
	default:
		return nil, fieldErr(ErrInvalidL1Finalized, t.path, "", l1FinalizedFormsReason(sortedKeys(t.m)))
	}
	return l, nil
}

func l1FinalizedFormsReason(present []string) string {
	got := "no fields"
	if len(present) > 0 {
		got = "only " + strings.Join(present, " and ")
	}
	return "has " + got + " (want number, timestamp and hash; or number only; or timestamp only)"
}

// decodeNetwork decodes [network].
func decodeNetwork(t table) ([]string, error) {
	if err := t.checkKeys([]string{"bootstrap_nodes"}); err != nil {
		return nil, err
	}
	raw, ok := t.m["bootstrap_nodes"]
	if !ok {
		return nil, nil
	}
	path := t.child("bootstrap_nodes")
	arr, ok := raw.([]any)
	if !ok {
		return nil, at(wrongType(raw, "array of multiaddr strings"), path)
	}
	nodes := make([]string, len(arr))
	for i, el := range arr {
		s, err := tomlString(el, "multiaddr string")
		if err != nil {
			return nil, at(err, fmt.Sprintf("%s[%d]", path, i))
		}
		nodes[i] = s
	}
	return nodes, nil
}

// decodeAccounts decodes [accounts]: address keys, fee amount values.
func decodeAccounts(t table) (map[types.Address]types.U256, error) {
	accounts := make(map[types.Address]types.U256, len(t.m))
	keyOf := make(map[types.Address]string, len(t.m))
	for _, k := range sortedKeys(t.m) {
		path := t.child(k)
		addr, err := types.ParseAddress(k)
		if err != nil {
			return nil, &Error{Err: ErrInvalidValue, Path: path, Value: strconv.Quote(k),
				Reason: "invalid account address (want " + wantAddress + ")", Cause: err}
		}
		if prev, dup := keyOf[addr]; dup {
			return nil, fieldErr(ErrInvalidValue, path, strconv.Quote(k),
				fmt.Sprintf("duplicate account (the same address as %s)", t.child(prev)))
		}
		amount, _, err := field(t, k, true, wantFee, tomlFeeAmount)
		if err != nil {
			return nil, err
		}
		accounts[addr], keyOf[addr] = amount, k
	}
	return accounts, nil
}

// decodeUpgrade decodes one [[upgrade]] entry: the version syntax of rule 1,
// the window mode and its grammars of rule 2 and the type table of rule 4 of
// docs/genesis.md, "Upgrades".
func decodeUpgrade(t table) (Upgrade, error) {
	var u Upgrade
	if err := t.checkKeys(upgradeKeys()); err != nil {
		return u, err
	}
	var err error
	if u.Version, _, err = field(t, "version", true, wantVersion, tomlVersion); err != nil {
		return u, err
	}

	anyView := t.has("start_proposing_view") || t.has("stop_proposing_view")
	anyTime := t.has("start_proposing_time") || t.has("stop_proposing_time")
	switch {
	case anyView && anyTime:
		return u, fieldErr(ErrInvalidUpgrade, t.path, "",
			"has both view-mode (start/stop_proposing_view) and time-mode (start/stop_proposing_time) fields (want one mode)")
	case anyView:
		u.Mode = UpgradeModeView
		const want = "integer view; view mode needs start_proposing_view and stop_proposing_view"
		if u.StartProposingView, _, err = field(t, "start_proposing_view", true, want, tomlUint); err != nil {
			return u, err
		}
		if u.StopProposingView, _, err = field(t, "stop_proposing_view", true, want, tomlUint); err != nil {
			return u, err
		}
	case anyTime:
		u.Mode = UpgradeModeTime
		const want = wantTimestamp + "; time mode needs start_proposing_time and stop_proposing_time"
		if u.StartProposingTime, _, err = field(t, "start_proposing_time", true, want, tomlTimestamp); err != nil {
			return u, err
		}
		if u.StopProposingTime, _, err = field(t, "stop_proposing_time", true, want, tomlTimestamp); err != nil {
			return u, err
		}
	default:
		return u, fieldErr(ErrInvalidUpgrade, t.path, "",
			"has no proposal window (want start_proposing_view and stop_proposing_view, or start_proposing_time and stop_proposing_time)")
	}

	var present []string
	for _, ty := range upgradeTypes() {
		if t.has(string(ty)) {
			present = append(present, string(ty))
		}
	}
	if len(present) != 1 {
		got := "none"
		if len(present) > 1 {
			got = strings.Join(present, " and ")
		}
		return u, fieldErr(ErrInvalidUpgrade, t.path, "",
			"has type tables: "+got+" (want exactly one of fee, marketplace, epoch)")
	}
	u.Type = UpgradeType(present[0])
	typeTable, _, err := t.subtable(present[0], true)
	if err != nil {
		return u, err
	}
	if err := typeTable.checkKeys([]string{"chain_config"}); err != nil {
		return u, err
	}
	cc, _, err := typeTable.subtable("chain_config", true)
	if err != nil {
		return u, err
	}
	if u.ChainConfig, err = decodeChainConfig(cc); err != nil {
		return u, err
	}
	return u, nil
}

// decodeStakeTableEntry decodes one [[public_keys]] entry (docs/genesis.md,
// "Static stake table"); the
// proof of possession is verified by validate.
func decodeStakeTableEntry(t table) (StakeTableEntry, error) {
	var e StakeTableEntry
	if err := t.checkKeys(stakeTableKeys()); err != nil {
		return e, err
	}
	var err error
	if e.StakingKey, _, err = field(t, "stake_table_key", true, `"BLS_VER_KEY~…" string`, tomlStakingKey); err != nil {
		return e, err
	}
	if e.StateKey, _, err = field(t, "state_ver_key", true, `"SCHNORR_VER_KEY~…" string`, tomlStateKey); err != nil {
		return e, err
	}
	if e.DA, _, err = field(t, "da", true, "true or false", tomlBool); err != nil {
		return e, err
	}
	if e.Stake, _, err = field(t, "stake", true, "integer > 0", tomlUint); err != nil {
		return e, err
	}
	if e.ProofOfPossession, _, err = field(t, "stake_table_key_pop", true,
		`"BLS_POP~…" string, the proof of possession keygen prints`, tomlProofOfPossession); err != nil {
		return e, err
	}
	addr := func(v any) (string, error) { return tomlString(v, "multiaddr string ending in /p2p/<peer id>") }
	if e.Libp2pAddress, _, err = field(t, "libp2p_address", false, "", addr); err != nil {
		return e, err
	}
	return e, nil
}

func tomlStakingKey(v any) (keys.StakingPubKey, error) {
	const want = `"BLS_VER_KEY~…" string`
	s, ok := v.(string)
	if !ok {
		return keys.StakingPubKey{}, wrongType(v, want)
	}
	k, err := keys.ParseStakingPubKey(s)
	if err != nil {
		return keys.StakingPubKey{}, &Error{Err: ErrInvalidValue, Value: render(v),
			Reason: "invalid staking public key (want BLS_VER_KEY~…): " + causeDetail(err), Cause: err}
	}
	return k, nil
}

func tomlStateKey(v any) (keys.StatePubKey, error) {
	const want = `"SCHNORR_VER_KEY~…" string`
	s, ok := v.(string)
	if !ok {
		return keys.StatePubKey{}, wrongType(v, want)
	}
	k, err := keys.ParseStatePubKey(s)
	if err != nil {
		return keys.StatePubKey{}, &Error{Err: ErrInvalidValue, Value: render(v),
			Reason: "invalid state public key (want SCHNORR_VER_KEY~…): " + causeDetail(err), Cause: err}
	}
	return k, nil
}

func tomlProofOfPossession(v any) (keys.ProofOfPossession, error) {
	const want = `"BLS_POP~…" string`
	s, ok := v.(string)
	if !ok {
		return keys.ProofOfPossession{}, wrongType(v, want)
	}
	p, err := keys.ParseProofOfPossession(s)
	if err != nil {
		return keys.ProofOfPossession{}, &Error{Err: ErrInvalidValue, Value: render(v),
			Reason: "invalid proof of possession (want BLS_POP~…): " + causeDetail(err), Cause: err}
	}
	return p, nil
}

// causeDetail returns the message of the error err wraps, which for the keys
// parsers says what is wrong without repeating the (already quoted) value;
// it falls back to err's own message.
func causeDetail(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		return inner.Error()
	}
	return err.Error()
}

package genesis

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// exampleP2PAddr shows the multiaddr shape bootstrap and libp2p addresses need.
const exampleP2PAddr = "/ip4/127.0.0.1/udp/2000/quic-v1/p2p/12D3KooW…"

// Validate checks the semantic rules of docs/genesis.md on g, returning the first
// broken one as an *Error that names the TOML path it concerns:
//   - stake_table.capacity > 0 and max_block_size > 0 in every chain config;
//   - L1Finalized, when set, has exactly the fields of one form
//     (docs/genesis.md, "[l1_finalized]");
//   - bootstrap nodes and libp2p addresses are multiaddrs ending in
//     /p2p/<peer id>;
//   - every upgrade's version is above BaseVersion, fits its type (fee 0.2,
//     marketplace 0.99, epoch 0.3 or 0.100) and is unique; upgrades are
//     sorted by version; the window has a known mode, only that mode's
//     fields set, and start ≤ stop;
//   - with upgrades, UpgradeVersion is the version of one of them (without
//     any, every UpgradeVersion is accepted and no upgrade is scheduled, as
//     in the reference);
//   - the stake table has at most StakeTableCapacity entries and at least
//     one DA member; every entry has a stake > 0, non-zero keys that no other
//     entry uses, a proof of possession that verifies for its staking key,
//     and a peer ID no other entry uses.
//
// Parse has already applied these rules to what it returns.
func (g *Genesis) Validate() error { return g.validate(true) }

// validate applies the rules; Parse calls it before sorting the upgrades,
// with requireSorted false, so errors name the index the file used.
func (g *Genesis) validate(requireSorted bool) error {
	if g.StakeTableCapacity == 0 {
		return fieldErr(ErrOutOfRange, "stake_table.capacity", "0", "must be > 0")
	}
	if err := validateChainConfig(g.ChainConfig, "chain_config"); err != nil {
		return err
	}
	if g.L1Finalized != nil && g.L1Finalized.Form() == FormInvalid {
		var present []string
		if g.L1Finalized.Number != nil {
			present = append(present, "number")
		}
		if g.L1Finalized.Timestamp != nil {
			present = append(present, "timestamp")
		}
		if g.L1Finalized.Hash != nil {
			present = append(present, "hash")
		}
		return fieldErr(ErrInvalidL1Finalized, "l1_finalized", "", l1FinalizedFormsReason(present))
	}
	for i, n := range g.BootstrapNodes {
		if _, err := validateP2PAddr(n); err != nil {
			return at(err, fmt.Sprintf("network.bootstrap_nodes[%d]", i))
		}
	}
	if err := g.validateUpgrades(requireSorted); err != nil {
		return err
	}
	return g.validateStakeTable()
}

func validateChainConfig(c types.ChainConfig, path string) error {
	if c.MaxBlockSize == 0 {
		return fieldErr(ErrOutOfRange, path+".max_block_size", "0", "must be > 0")
	}
	return nil
}

func quoteVersion(v types.Version) string { return strconv.Quote(v.String()) }

func (g *Genesis) validateUpgrades(requireSorted bool) error {
	seen := make(map[types.Version]int, len(g.Upgrades))
	for i, u := range g.Upgrades {
		p := fmt.Sprintf("upgrade[%d]", i)
		if !g.BaseVersion.Less(u.Version) {
			return fieldErr(ErrInvalidVersion, p+".version", quoteVersion(u.Version),
				fmt.Sprintf("not above base_version %s (want a later version)", g.BaseVersion))
		}
		if j, dup := seen[u.Version]; dup {
			return fieldErr(ErrInvalidUpgrade, p+".version", quoteVersion(u.Version),
				fmt.Sprintf("duplicate version (also upgrade[%d]; want one upgrade per version)", j))
		}
		seen[u.Version] = i
		if requireSorted && i > 0 && !g.Upgrades[i-1].Version.Less(u.Version) {
			return fieldErr(ErrInvalidUpgrade, p+".version", quoteVersion(u.Version),
				fmt.Sprintf("upgrades not sorted by version (upgrade[%d] is %s; want ascending)", i-1, g.Upgrades[i-1].Version))
		}
		switch u.Type {
		case UpgradeFee, UpgradeMarketplace, UpgradeEpoch:
			if !u.Type.fits(u.Version) {
				return fieldErr(ErrInvalidVersion, p+".version", quoteVersion(u.Version),
					fmt.Sprintf("does not fit upgrade type %s (want %s)", u.Type, u.Type.wantVersions()))
			}
		default:
			return fieldErr(ErrInvalidUpgrade, p, strconv.Quote(string(u.Type)), "unknown upgrade type (want fee, marketplace or epoch)")
		}
		if err := validateWindow(u, p); err != nil {
			return err
		}
		if err := validateChainConfig(u.ChainConfig, p+"."+string(u.Type)+".chain_config"); err != nil {
			return err
		}
	}

	// Without upgrades any upgrade_version is accepted, as the reference
	// accepts it: nothing is scheduled.
	if len(g.Upgrades) > 0 {
		if _, ok := seen[g.UpgradeVersion]; !ok {
			versions := make([]string, len(g.Upgrades))
			for i, u := range g.Upgrades {
				versions[i] = u.Version.String()
			}
			return fieldErr(ErrInvalidVersion, "upgrade_version", quoteVersion(g.UpgradeVersion),
				"matches no [[upgrade]] version (want one of "+strings.Join(versions, ", ")+")")
		}
	}
	return nil
}

// validateWindow checks rules 2 and 3 of docs/genesis.md, "Upgrades", on a decoded or built
// upgrade: a known mode, only its fields set, start ≤ stop.
func validateWindow(u Upgrade, p string) error {
	switch u.Mode {
	case UpgradeModeView:
		if u.StartProposingTime != 0 || u.StopProposingTime != 0 {
			return fieldErr(ErrInvalidUpgrade, p, "", "view mode with time-mode fields set (want one mode)")
		}
		if u.StartProposingView > u.StopProposingView {
			return fieldErr(ErrInvalidUpgrade, p+".start_proposing_view", strconv.FormatUint(u.StartProposingView, 10),
				fmt.Sprintf("after stop_proposing_view %d (want start ≤ stop)", u.StopProposingView))
		}
	case UpgradeModeTime:
		if u.StartProposingView != 0 || u.StopProposingView != 0 {
			return fieldErr(ErrInvalidUpgrade, p, "", "time mode with view-mode fields set (want one mode)")
		}
		if u.StartProposingTime > u.StopProposingTime {
			return fieldErr(ErrInvalidUpgrade, p+".start_proposing_time", strconv.FormatUint(u.StartProposingTime, 10),
				fmt.Sprintf("after stop_proposing_time %d (want start ≤ stop)", u.StopProposingTime))
		}
	default:
		return fieldErr(ErrInvalidUpgrade, p, strconv.Quote(string(u.Mode)), "unknown upgrade mode (want view or time)")
	}
	return nil
}

func (g *Genesis) validateStakeTable() error {
	if len(g.StakeTable) == 0 {
		return nil
	}
	if uint64(len(g.StakeTable)) > g.StakeTableCapacity {
		return fieldErr(ErrInvalidStakeTable, "public_keys", "",
			fmt.Sprintf("has %d entries, more than stake_table.capacity %d", len(g.StakeTable), g.StakeTableCapacity))
	}
	stakingKeys := make(map[keys.StakingPubKey]int, len(g.StakeTable))
	stateKeys := make(map[keys.StatePubKey]int, len(g.StakeTable))
	peers := make(map[peer.ID]int)
	anyDA := false
	for i, e := range g.StakeTable {
		p := fmt.Sprintf("public_keys[%d]", i)
		if e.StakingKey.IsZero() {
			return fieldErr(ErrInvalidStakeTable, p+".stake_table_key", "", "no staking key (want a BLS_VER_KEY~… key)")
		}
		if j, dup := stakingKeys[e.StakingKey]; dup {
			return fieldErr(ErrInvalidStakeTable, p+".stake_table_key", strconv.Quote(e.StakingKey.String()),
				fmt.Sprintf("duplicate staking key (also public_keys[%d])", j))
		}
		stakingKeys[e.StakingKey] = i
		if e.StateKey.IsZero() {
			return fieldErr(ErrInvalidStakeTable, p+".state_ver_key", "", "no state key (want a SCHNORR_VER_KEY~… key)")
		}
		if j, dup := stateKeys[e.StateKey]; dup {
			return fieldErr(ErrInvalidStakeTable, p+".state_ver_key", strconv.Quote(e.StateKey.String()),
				fmt.Sprintf("duplicate state key (also public_keys[%d])", j))
		}
		stateKeys[e.StateKey] = i
		if e.Stake == 0 {
			return fieldErr(ErrOutOfRange, p+".stake", "0", "must be > 0")
		}
		if err := e.StakingKey.VerifyPossession(e.ProofOfPossession); err != nil {
			return &Error{Err: ErrInvalidStakeTable, Path: p + ".stake_table_key_pop", Value: strconv.Quote(e.ProofOfPossession.String()),
				Reason: "does not prove possession of stake_table_key (want the BLS_POP~… keygen prints for this key)", Cause: err}
		}
		if e.Libp2pAddress != "" {
			id, err := validateP2PAddr(e.Libp2pAddress)
			if err != nil {
				return at(err, p+".libp2p_address")
			}
			if j, dup := peers[id]; dup {
				return fieldErr(ErrInvalidStakeTable, p+".libp2p_address", strconv.Quote(e.Libp2pAddress),
					fmt.Sprintf("duplicate peer ID %s (also public_keys[%d])", id, j))
			}
			peers[id] = i
		}
		anyDA = anyDA || e.DA
	}
	if !anyDA {
		return fieldErr(ErrInvalidStakeTable, "public_keys", "", "has no DA member (want at least one entry with da = true)")
	}
	return nil
}

// validateP2PAddr checks that s is a multiaddr with a transport part and a
// final /p2p/<peer id>, and returns the peer ID.
func validateP2PAddr(s string) (peer.ID, error) {
	q := strconv.Quote(s)
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return "", &Error{Err: ErrInvalidValue, Value: q,
			Reason: "invalid multiaddr (want e.g. " + exampleP2PAddr + "): " + err.Error(), Cause: err}
	}
	transport, id := peer.SplitAddr(m)
	if id == "" {
		return "", valueErr(ErrInvalidValue, q, "does not end in /p2p/<peer id> (want e.g. "+exampleP2PAddr+")")
	}
	if len(transport) == 0 {
		return "", valueErr(ErrInvalidValue, q, "has no transport address before /p2p (want e.g. "+exampleP2PAddr+")")
	}
	return id, nil
}

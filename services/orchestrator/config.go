package orchestrator

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
)

// ErrNotStarted is returned by NetworkConfig.GenesisStakeTable and
// NetworkConfig.Genesis for a config fetched before the start signal: its
// stake table may still grow or change, so no node may run from it.
var ErrNotStarted = errors.New("orchestrator: network config fetched before the start signal")

// ErrInvalidConfig marks a network config whose stake table a node cannot
// run from (an empty table, a duplicate key or peer ID, a stake of 0, a
// proof of possession that does not verify, a bad address).
var ErrInvalidConfig = errors.New("orchestrator: invalid network config")

// StakeTableEntry is one node of the network config's stake table.
type StakeTableEntry struct {
	// StakingKey is the node's BLS staking public key.
	StakingKey keys.StakingPubKey `json:"staking_key"`
	// StateKey is the node's Schnorr state public key.
	StateKey keys.StatePubKey `json:"state_key"`
	// Stake is the node's voting weight: 1 for every registered node.
	Stake uint64 `json:"stake"`
	// DA says whether the node is on the DA committee: true for every
	// registered node.
	DA bool `json:"da"`
	// ProofOfPossession is the proof the node registered, so that every
	// node can check it again.
	ProofOfPossession keys.ProofOfPossession `json:"proof_of_possession"`
	// Libp2pAddress is the node's libp2p multiaddr.
	Libp2pAddress string `json:"libp2p_address"`
}

// NetworkConfig is the answer of GET config: the stake table and the
// parameters every node of the network runs with. Durations are whole
// milliseconds, ratios [num, den].
type NetworkConfig struct {
	// Started is the start signal at the time of the answer. Before it the
	// stake table may still grow (and registrations change); from it on the
	// config never changes.
	Started bool `json:"started"`
	// NumNodesWithStake is N, the number of nodes the orchestrator expects
	// (the stake table may hold fewer: those registered by the start).
	NumNodesWithStake int `json:"num_nodes_with_stake"`
	// DAStakedCommitteeSize is N too: every node is on the DA committee.
	DAStakedCommitteeSize int `json:"da_staked_committee_size"`
	// StakeTable is the registered nodes in registration order, which is
	// the leader rotation order.
	StakeTable []StakeTableEntry `json:"stake_table"`
	// BootstrapNodes is every registered node's libp2p multiaddr, in the
	// same order.
	BootstrapNodes []string `json:"libp2p_bootstrap_nodes"`
	// NextViewTimeoutMS is the base view timeout.
	NextViewTimeoutMS uint64 `json:"next_view_timeout"`
	// ViewSyncTimeoutMS is the view-sync attempt timeout.
	ViewSyncTimeoutMS uint64 `json:"view_sync_timeout"`
	// BuilderTimeoutMS is the longest a leader waits for transactions.
	BuilderTimeoutMS uint64 `json:"builder_timeout"`
	// TimeoutRatio is the view timeout backoff per consecutive timeout.
	TimeoutRatio [2]uint64 `json:"timeout_ratio"`
	// StartThreshold is the fraction of N that must register before the
	// start signal.
	StartThreshold [2]uint64 `json:"start_threshold"`
	// StartThresholdNodes is ⌈StartThreshold·N⌉.
	StartThresholdNodes int `json:"start_threshold_nodes"`
	// RoundStartDelayMS is the reference's round_start_delay (served for
	// the reference's shape; gospresso's consensus does not use it).
	RoundStartDelayMS uint64 `json:"round_start_delay"`
	// Libp2pMeshN is the gossipsub mesh degree.
	Libp2pMeshN uint64 `json:"libp2p_mesh_n"`
	// BuilderURLs are the builders' URLs (empty: the node's own builder).
	BuilderURLs []string `json:"builder_urls"`
}

// ConsensusConfig returns the consensus parameters of the config: the
// next-view, view-sync and builder timeouts and the timeout ratio; the
// other fields are zero, which consensus fills with its defaults.
func (c *NetworkConfig) ConsensusConfig() consensus.Config {
	return consensus.Config{
		NextViewTimeout: time.Duration(c.NextViewTimeoutMS) * time.Millisecond,
		ViewSyncTimeout: time.Duration(c.ViewSyncTimeoutMS) * time.Millisecond,
		BuilderTimeout:  time.Duration(c.BuilderTimeoutMS) * time.Millisecond,
		TimeoutRatioNum: c.TimeoutRatio[0], TimeoutRatioDen: c.TimeoutRatio[1],
	}
}

// GenesisStakeTable returns the config's stake table as genesis entries
// (genesis.Genesis.StakeTable), checked as a genesis stake table is: at
// least one entry and one DA member, keys present and unique, stakes > 0,
// every proof of possession verifying for its staking key (so a node never
// aggregates a rogue key, whoever served the config), addresses multiaddrs
// ending in /p2p/<peer id> with unique peer IDs. A config fetched before the
// start signal is refused with ErrNotStarted; a bad one with
// ErrInvalidConfig.
func (c *NetworkConfig) GenesisStakeTable() ([]genesis.StakeTableEntry, error) {
	if !c.Started {
		return nil, fmt.Errorf("%w: the stake table may still change (wait for the start signal: Client.WaitForStart)", ErrNotStarted)
	}
	if len(c.StakeTable) == 0 {
		return nil, fmt.Errorf("%w: empty stake table", ErrInvalidConfig)
	}
	out := make([]genesis.StakeTableEntry, len(c.StakeTable))
	staking := make(map[keys.StakingPubKey]int, len(c.StakeTable))
	state := make(map[keys.StatePubKey]int, len(c.StakeTable))
	peers := make(map[peer.ID]int, len(c.StakeTable))
	anyDA := false
	for i, e := range c.StakeTable {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: stake table entry %d: %s", ErrInvalidConfig, i, fmt.Sprintf(format, args...))
		}
		switch {
		case e.StakingKey.IsZero():
			return nil, bad("no staking key")
		case e.StateKey.IsZero():
			return nil, bad("no state key")
		case e.Stake == 0:
			return nil, bad("stake 0")
		}
		if j, dup := staking[e.StakingKey]; dup {
			return nil, bad("staking key %s repeats entry %d", e.StakingKey, j)
		}
		if j, dup := state[e.StateKey]; dup {
			return nil, bad("state key %s repeats entry %d", e.StateKey, j)
		}
		if err := e.StakingKey.VerifyPossession(e.ProofOfPossession); err != nil {
			return nil, bad("%v", err)
		}
		id, err := checkAddress(e.Libp2pAddress)
		if err != nil {
			return nil, bad("%v", err)
		}
		if j, dup := peers[id]; dup {
			return nil, bad("peer ID %s repeats entry %d", id, j)
		}
		staking[e.StakingKey], state[e.StateKey], peers[id] = i, i, i
		anyDA = anyDA || e.DA
		out[i] = genesis.StakeTableEntry{
			StakingKey: e.StakingKey, StateKey: e.StateKey, DA: e.DA, Stake: e.Stake,
			ProofOfPossession: e.ProofOfPossession, Libp2pAddress: e.Libp2pAddress,
		}
	}
	if !anyDA {
		return nil, fmt.Errorf("%w: no DA member in the stake table", ErrInvalidConfig)
	}
	return out, nil
}

// Genesis returns a copy of base, a genesis without a static stake table
// (no [[public_keys]]: one that takes its stake table from the
// orchestrator), with the config's stake table (GenesisStakeTable), validated
// with genesis.Genesis.Validate. base is not modified; the copy shares its
// other slices and maps.
func (c *NetworkConfig) Genesis(base *genesis.Genesis) (*genesis.Genesis, error) {
	if base == nil {
		return nil, fmt.Errorf("%w: nil genesis", ErrInvalidConfig)
	}
	if len(base.StakeTable) > 0 {
		return nil, fmt.Errorf("%w: the genesis already lists a stake table of %d entries ([[public_keys]]); a network takes its stake table from the genesis file or from the orchestrator, not both",
			ErrInvalidConfig, len(base.StakeTable))
	}
	table, err := c.GenesisStakeTable()
	if err != nil {
		return nil, err
	}
	g := *base
	g.StakeTable = table
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: the genesis with the orchestrator's stake table: %w", ErrInvalidConfig, err)
	}
	return &g, nil
}

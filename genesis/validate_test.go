package genesis

import (
	"testing"

	"github.com/gospresso/gospresso/types"
)

// TestValidateInGo checks Validate's rules on Genesis values built in Go,
// including states the TOML decoder cannot produce.
func TestValidateInGo(t *testing.T) {
	base, err := Parse([]byte(upgradeDoc))
	if err != nil {
		t.Fatal(err)
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("parsed genesis does not validate: %v", err)
	}
	n, ts, h := uint64(1), types.NewU256(2), types.Hash{3}
	epoch := base.Upgrades[0]
	epoch.Version, epoch.Type = types.Version{Major: 0, Minor: 3}, UpgradeEpoch

	tests := []struct {
		name   string
		mutate func(g *Genesis)
		kind   error
		path   string
		value  string
	}{
		{"zero capacity", func(g *Genesis) { g.StakeTableCapacity = 0 }, ErrOutOfRange, "stake_table.capacity", "0"},
		{"zero block size", func(g *Genesis) { g.ChainConfig.MaxBlockSize = 0 }, ErrOutOfRange, "chain_config.max_block_size", "0"},
		{"l1 number and hash", func(g *Genesis) { g.L1Finalized = &L1Finalized{Number: &n, Hash: &h} }, ErrInvalidL1Finalized, "l1_finalized", ""},
		{"l1 empty", func(g *Genesis) { g.L1Finalized = &L1Finalized{} }, ErrInvalidL1Finalized, "l1_finalized", ""},
		{"l1 timestamp and hash", func(g *Genesis) { g.L1Finalized = &L1Finalized{Timestamp: &ts, Hash: &h} }, ErrInvalidL1Finalized, "l1_finalized", ""},
		{"bad bootstrap node", func(g *Genesis) { g.BootstrapNodes = []string{"localhost:2000"} }, ErrInvalidValue, "network.bootstrap_nodes[0]", `"localhost:2000"`},
		{"unknown mode", func(g *Genesis) { g.Upgrades[0].Mode = "" }, ErrInvalidUpgrade, "upgrade[0]", `""`},
		{"unknown type", func(g *Genesis) { g.Upgrades[0].Type = "auction" }, ErrInvalidUpgrade, "upgrade[0]", `"auction"`},
		{"time fields in view mode", func(g *Genesis) { g.Upgrades[0].StopProposingTime = 5 }, ErrInvalidUpgrade, "upgrade[0]", ""},
		{"view fields in time mode", func(g *Genesis) { g.Upgrades[0].Mode = UpgradeModeTime }, ErrInvalidUpgrade, "upgrade[0]", ""},
		{"view start after stop", func(g *Genesis) { g.Upgrades[0].StartProposingView = 61 }, ErrInvalidUpgrade, "upgrade[0].start_proposing_view", "61"},
		{"version not above base", func(g *Genesis) { g.BaseVersion = types.Version{Major: 0, Minor: 99} }, ErrInvalidVersion, "upgrade[0].version", `"0.99"`},
		{"type does not fit", func(g *Genesis) { g.Upgrades[0].Type = UpgradeFee }, ErrInvalidVersion, "upgrade[0].version", `"0.99"`},
		{"upgrade zero block size", func(g *Genesis) { g.Upgrades[0].ChainConfig.MaxBlockSize = 0 }, ErrOutOfRange,
			"upgrade[0].marketplace.chain_config.max_block_size", "0"},
		{"upgrade_version matches none", func(g *Genesis) { g.UpgradeVersion = types.Version{Major: 0, Minor: 2} }, ErrInvalidVersion, "upgrade_version", `"0.2"`},
		{"duplicate versions", func(g *Genesis) { g.Upgrades = append(g.Upgrades, g.Upgrades[0]) }, ErrInvalidUpgrade, "upgrade[1].version", `"0.99"`},
		{"unsorted upgrades", func(g *Genesis) { g.Upgrades = append(g.Upgrades, epoch) }, ErrInvalidUpgrade, "upgrade[1].version", `"0.3"`},
	}
	for _, tt := range tests {
		g := *base
		g.Upgrades = append([]Upgrade(nil), base.Upgrades...)
		tt.mutate(&g)
		checkRuleError(t, tt.name, g.Validate(), tt.kind, tt.path, tt.value, "")
	}

	// The same upgrades in ascending order are fine.
	g := *base
	g.Upgrades = []Upgrade{epoch, base.Upgrades[0]}
	if err := g.Validate(); err != nil {
		t.Errorf("sorted upgrades: %v", err)
	}
	// Without upgrades, an upgrade_version other than base_version is
	// accepted (nothing is scheduled).
	g = *base
	g.Upgrades = nil
	if err := g.Validate(); err != nil || g.UpgradeVersion == g.BaseVersion {
		t.Errorf("upgrade_version %s without upgrades (base %s): %v, want it accepted", g.UpgradeVersion, g.BaseVersion, err)
	}
	if err := (&Genesis{}).Validate(); err == nil {
		t.Error("zero Genesis validates")
	}
}

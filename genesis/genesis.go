package genesis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/pelletier/go-toml/v2"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// defaultBaseVersion is the base protocol version of a genesis file that
// names none (a gospresso default; the reference's files always name one).
func defaultBaseVersion() types.Version { return types.Version{Major: 0, Minor: 2} }

// Genesis is a parsed genesis file (docs/genesis.md, "Layout"). Build one with Parse or Load,
// or in Go and check it with Validate.
type Genesis struct {
	// BaseVersion is the protocol version the chain starts with
	// (base_version; default 0.2).
	BaseVersion types.Version
	// UpgradeVersion is the version this network may upgrade to
	// (upgrade_version; default BaseVersion). With upgrades it must be the
	// version of one of them; without, any version is accepted (as the
	// reference accepts it) and no upgrade is scheduled.
	UpgradeVersion types.Version
	// StakeTableCapacity is the most distinct keys the light-client stake
	// table can hold ([stake_table] capacity, required, > 0).
	StakeTableCapacity uint64
	// ChainConfig is the chain configuration at genesis ([chain_config]).
	ChainConfig types.ChainConfig
	// Timestamp is the genesis header's time in unix seconds
	// ([header] timestamp).
	Timestamp uint64
	// L1Finalized is the L1 block from which L1 events are processed; nil
	// when [l1_finalized] is absent.
	L1Finalized *L1Finalized
	// BootstrapNodes are libp2p multiaddrs, each ending in /p2p/<peer id>
	// ([network] bootstrap_nodes).
	BootstrapNodes []string
	// Accounts are prefunded fee balances in wei ([accounts]; testing only).
	Accounts map[types.Address]types.U256
	// Upgrades are the protocol upgrades ([[upgrade]]), sorted by version.
	Upgrades []Upgrade
	// StakeTable is the static stake table ([[public_keys]]) in file order,
	// which is the leader rotation order; empty when the stake table comes
	// from the orchestrator.
	StakeTable []StakeTableEntry
}

// L1FinalizedForm tells which of the forms of docs/genesis.md,
// "[l1_finalized]", an L1Finalized has.
type L1FinalizedForm int

// The forms of [l1_finalized].
const (
	// FormInvalid is any combination of fields that is not a valid form.
	FormInvalid L1FinalizedForm = iota
	// FormFull gives number, timestamp and hash: only exactly this block is
	// accepted.
	FormFull
	// FormNumber gives only the number: the block is fetched from L1 once
	// it is finalized.
	FormNumber
	// FormTimestamp gives only a timestamp: the first finalized L1 block at
	// or after it is used.
	FormTimestamp
)

// String names the form.
func (f L1FinalizedForm) String() string {
	switch f {
	case FormFull:
		return "full"
	case FormNumber:
		return "number"
	case FormTimestamp:
		return "timestamp"
	}
	return "invalid"
}

// L1Finalized is the [l1_finalized] table (docs/genesis.md, "[l1_finalized]").
// Exactly the fields of
// one form are set.
type L1Finalized struct {
	// Number is the L1 block number.
	Number *uint64
	// Timestamp is the L1 block timestamp in unix seconds (in the full form,
	// the block's own timestamp; in the timestamp form, the earliest
	// acceptable one).
	Timestamp *types.U256
	// Hash is the L1 block hash.
	Hash *types.Hash
}

// Form returns which form of docs/genesis.md, "[l1_finalized]", l has, or
// FormInvalid.
func (l *L1Finalized) Form() L1FinalizedForm {
	switch {
	case l == nil:
		return FormInvalid
	case l.Number != nil && l.Timestamp != nil && l.Hash != nil:
		return FormFull
	case l.Number != nil && l.Timestamp == nil && l.Hash == nil:
		return FormNumber
	case l.Number == nil && l.Timestamp != nil && l.Hash == nil:
		return FormTimestamp
	}
	return FormInvalid
}

// UpgradeMode says how an upgrade's proposal window is given.
type UpgradeMode string

// The upgrade window modes (docs/genesis.md, "Upgrades").
const (
	// UpgradeModeView uses start_proposing_view and stop_proposing_view.
	UpgradeModeView UpgradeMode = "view"
	// UpgradeModeTime uses start_proposing_time and stop_proposing_time.
	UpgradeModeTime UpgradeMode = "time"
)

// UpgradeType is the kind of an upgrade, named by its type table.
type UpgradeType string

// The upgrade types (docs/genesis.md, "Upgrades") and the versions they fit.
const (
	// UpgradeFee ([upgrade.fee]) moves to version 0.2.
	UpgradeFee UpgradeType = "fee"
	// UpgradeMarketplace ([upgrade.marketplace]) moves to version 0.99.
	UpgradeMarketplace UpgradeType = "marketplace"
	// UpgradeEpoch ([upgrade.epoch]) moves to version 0.3 (0.100 in older
	// numbering).
	UpgradeEpoch UpgradeType = "epoch"
)

// fits reports whether an upgrade of type t may move to version v.
func (t UpgradeType) fits(v types.Version) bool {
	switch t {
	case UpgradeFee:
		return v == types.Version{Major: 0, Minor: 2}
	case UpgradeMarketplace:
		return v == types.Version{Major: 0, Minor: 99}
	case UpgradeEpoch:
		return v == types.Version{Major: 0, Minor: 3} || v == types.Version{Major: 0, Minor: 100}
	}
	return false
}

// wantVersions names the versions a type fits, for error messages.
func (t UpgradeType) wantVersions() string {
	switch t {
	case UpgradeFee:
		return "0.2"
	case UpgradeMarketplace:
		return "0.99"
	case UpgradeEpoch:
		return "0.3 or 0.100"
	}
	return "none"
}

// Upgrade is one [[upgrade]] entry (docs/genesis.md, "Upgrades").
type Upgrade struct {
	// Version is the protocol version the upgrade moves to.
	Version types.Version
	// Mode says which window fields are used; the other pair is zero.
	Mode UpgradeMode
	// StartProposingView and StopProposingView bound the views in which
	// the upgrade is proposed (view mode).
	StartProposingView, StopProposingView uint64
	// StartProposingTime and StopProposingTime bound the time, in unix
	// seconds, in which the upgrade is proposed (time mode).
	StartProposingTime, StopProposingTime uint64
	// Type is the type table the upgrade has.
	Type UpgradeType
	// ChainConfig is the chain configuration from the upgrade on
	// ([upgrade.<type>.chain_config]).
	ChainConfig types.ChainConfig
}

// StakeTableEntry is one [[public_keys]] entry (docs/genesis.md, "Static stake
// table").
type StakeTableEntry struct {
	// StakingKey is the node's BLS staking public key (stake_table_key).
	StakingKey keys.StakingPubKey
	// StateKey is the node's Schnorr state public key (state_ver_key).
	StateKey keys.StatePubKey
	// DA says whether the node is on the DA committee (da).
	DA bool
	// Stake is the node's voting weight (stake, > 0).
	Stake uint64
	// ProofOfPossession proves the staking key's owner holds its secret
	// (stake_table_key_pop, required, verified).
	ProofOfPossession keys.ProofOfPossession
	// Libp2pAddress is the node's libp2p multiaddr ending in /p2p/<peer id>
	// (libp2p_address, optional; "" when absent).
	Libp2pAddress string
}

// Parse decodes and validates a genesis TOML document. Every error is an
// *Error naming the TOML path, the value and what was expected; see the
// package documentation for the order in which problems are found.
func Parse(data []byte) (*Genesis, error) {
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		return nil, syntaxError(err)
	}
	g, err := decode(raw)
	if err != nil {
		return nil, err
	}
	// Validate with the upgrades in file order, so errors name the TOML
	// index the user wrote; then sort them by version.
	if err := g.validate(false); err != nil {
		return nil, err
	}
	slices.SortStableFunc(g.Upgrades, func(a, b Upgrade) int { return a.Version.Compare(b.Version) })
	return g, nil
}

// syntaxError converts a go-toml error into an *Error with line and column.
func syntaxError(err error) error {
	e := &Error{Err: ErrSyntax, Reason: err.Error(), Cause: err}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		e.Line, e.Column = de.Position()
		if r := de.Error(); len(r) > len("toml: ") && r[:len("toml: ")] == "toml: " {
			e.Reason = r[len("toml: "):]
		}
	}
	return e
}

// MaxFileSize bounds how many bytes Load reads from a genesis file: 16 MiB,
// far above any real genesis file (a few kilobytes; a stake table of a
// thousand keys is under a megabyte) yet small enough that /dev/zero or an
// endless pipe given by mistake fails at once instead of exhausting memory
// (docs/genesis.md, "Loading a file"). Key files have the same kind of bound
// (keys.MaxKeyFileSize).
const MaxFileSize = 16 << 20

// Load reads the genesis file at path and parses it with Parse. It reads at
// most MaxFileSize bytes: a larger file, or an endless stream such as
// /dev/zero, is an *Error wrapping ErrTooLarge that names the file and the
// limit. Other read errors wrap the os error; parse errors are *Error values
// whose File is path. A FIFO or other non-regular file is read up to the
// limit, and opening one that has no writer blocks: LoadContext bounds that
// wait.
func Load(path string) (*Genesis, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	g, err := Parse(data)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			c := *e
			c.File = path
			return nil, &c
		}
		return nil, fmt.Errorf("genesis: %s: %w", path, err)
	}
	return g, nil
}

// readFile reads path through a reader limited to MaxFileSize+1 bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("genesis: read file: %w", err)
	}
	defer f.Close()
	tooLarge := func() error {
		return &Error{File: path, Err: ErrTooLarge, Reason: fmt.Sprintf(
			"larger than %d bytes (%d MiB), the most a genesis file may hold (want a genesis TOML file of at most %d bytes)",
			MaxFileSize, MaxFileSize>>20, MaxFileSize)}
	}
	// A regular file too large is refused without reading it.
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
		return nil, tooLarge()
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("genesis: read file: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge()
	}
	return data, nil
}

// LoadContext is Load bounded by ctx: when ctx ends before the file is read
// and parsed (opening a FIFO nobody writes to blocks, for instance), it
// returns at once an error that names path and wraps ctx's cause
// (context.Canceled, context.DeadlineExceeded), so that a signal interrupts
// a node's start-up. The abandoned read finishes, or stays blocked, in the
// background; it reads at most MaxFileSize bytes.
func LoadContext(ctx context.Context, path string) (*Genesis, error) {
	interrupted := func() error {
		return fmt.Errorf("genesis: %s: interrupted while loading the genesis file: %w", path, context.Cause(ctx))
	}
	if ctx.Err() != nil {
		return nil, interrupted()
	}
	type result struct {
		g   *Genesis
		err error
	}
	done := make(chan result, 1)
	go func() {
		g, err := Load(path)
		done <- result{g, err}
	}()
	select {
	case r := <-done:
		return r.g, r.err
	case <-ctx.Done():
		return nil, interrupted()
	}
}

// NeedsL1 reports whether a node of this network needs an L1 client: true
// when the genesis chain config or any upgrade's has a fee contract, or
// [l1_finalized] is given (docs/genesis.md, "Networks without an L1").
func (g *Genesis) NeedsL1() bool {
	if g.L1Finalized != nil || g.ChainConfig.FeeContract != nil {
		return true
	}
	for _, u := range g.Upgrades {
		if u.ChainConfig.FeeContract != nil {
			return true
		}
	}
	return false
}

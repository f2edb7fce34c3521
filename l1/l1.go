package l1

import (
	"cmp"
	"context"
	"errors"

	"github.com/gospresso/gospresso/types"
)

// Sentinel errors. Errors of this package and of the clients that implement
// Client wrap one of these where it applies; test with errors.Is.
var (
	// ErrNotFound marks a block the L1 does not have (yet).
	ErrNotFound = errors.New("l1: not found")
	// ErrNotFinalized marks a block, or a timestamp, that the L1 has not
	// finalized yet: a node waits for it (docs/l1.md, "Finality waits").
	ErrNotFinalized = errors.New("l1: not finalized yet")
	// ErrMismatch marks an [l1_finalized] table in the full form whose block
	// is not the L1's block of that number.
	ErrMismatch = errors.New("l1: block mismatch")
	// ErrMalformed marks a provider answer that is not what the JSON-RPC
	// method promises (a missing field, a log of another contract, ...).
	ErrMalformed = errors.New("l1: malformed response")
)

// Deposit is one Deposit(address indexed user, uint256 amount) event of the fee contract.
type Deposit struct {
	// Account is the fee account credited (the event's user).
	Account types.Address
	// Amount is the wei deposited.
	Amount types.U256
	// Block is the number of the L1 block that holds the event.
	Block uint64
	// LogIndex is the event's index among the logs of its block.
	LogIndex uint64
}

// Client reads the L1. All methods block on the network and are safe for concurrent use.
type Client interface {
	// ChainID returns the L1's chain ID (eth_chainId).
	ChainID(ctx context.Context) (types.U256, error)
	// Head returns the latest block number (eth_blockNumber).
	Head(ctx context.Context) (uint64, error)
	// Finalized returns the latest finalized block
	// (eth_getBlockByNumber "finalized"), nil when nothing is finalized yet.
	Finalized(ctx context.Context) (*types.L1BlockInfo, error)
	// Block returns the block of that number; an error wrapping ErrNotFound
	// when the L1 does not have it.
	Block(ctx context.Context, number uint64) (types.L1BlockInfo, error)
	// Deposits returns the Deposit events of the fee contract at contract in
	// blocks [from, to] inclusive, in (block, log) order; none when from > to.
	Deposits(ctx context.Context, contract types.Address, from, to uint64) ([]Deposit, error)
}

// CompareDeposits orders deposits by block number, then log index: the order
// Client.Deposits returns them in, and the order the chain state credits
// them in. It returns -1, 0 or +1, for slices.SortFunc.
func CompareDeposits(a, b Deposit) int {
	if c := cmp.Compare(a.Block, b.Block); c != 0 {
		return c
	}
	return cmp.Compare(a.LogIndex, b.LogIndex)
}

package state

import (
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/types"
)

// Sentinel errors. Errors returned by this package wrap one of these; test
// with errors.Is.
var (
	// ErrInsufficientFunds marks a block whose fee account cannot pay its
	// fee (docs/state.md, "The transition", step 4). The error is an
	// *InsufficientFundsError.
	ErrInsufficientFunds = errors.New("state: insufficient funds")
	// ErrBalanceOverflow marks a credit that would take a balance above
	// 2^256-1.
	ErrBalanceOverflow = errors.New("state: balance overflow")
	// ErrWrongParent marks an Apply whose headers do not follow the state:
	// the header is not the parent's child, or the state is not the one
	// after the parent.
	ErrWrongParent = errors.New("state: header does not follow the state")
	// ErrInvalidProof marks a Merkle proof that does not verify, or is
	// malformed.
	ErrInvalidProof = errors.New("state: invalid Merkle proof")
	// ErrInvalidFrontier marks a block-tree frontier that is malformed.
	ErrInvalidFrontier = errors.New("state: invalid block-tree frontier")
	// ErrInvalidSnapshot marks bytes that are not a valid state snapshot.
	ErrInvalidSnapshot = errors.New("state: invalid snapshot")
	// ErrBlockTreeFull is returned by BlockTree.Push on a tree holding
	// MaxBlockLeaves leaves.
	ErrBlockTreeFull = errors.New("state: block tree full")
	// ErrNoLeaf is returned by BlockTree.Prove for an index at or past the
	// number of leaves.
	ErrNoLeaf = errors.New("state: no such leaf")
	// ErrPruned is returned by BlockTree.Prove for a leaf the tree knows
	// only through a frontier (a tree restored by BlockTreeFromFrontier or
	// DecodeState keeps the right-most path, not the leaves left of it).
	ErrPruned = errors.New("state: leaf not kept")
)

// InsufficientFundsError is the error of a fee charge above the fee
// account's balance. It wraps ErrInsufficientFunds.
type InsufficientFundsError struct {
	// Height is the height of the header that charges the fee.
	Height  uint64
	Account types.Address
	// Balance is the account's balance when the fee is charged, after the
	// block's deposits.
	Balance types.U256
	// Amount is the fee charged (the header's fee_info amount).
	Amount types.U256
}

func (e *InsufficientFundsError) Error() string {
	return fmt.Sprintf("%v: header %d charges fee account %s %s wei, but its balance is %s wei",
		ErrInsufficientFunds, e.Height, e.Account, e.Amount, e.Balance)
}

// Unwrap returns ErrInsufficientFunds.
func (e *InsufficientFundsError) Unwrap() error { return ErrInsufficientFunds }

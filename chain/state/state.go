package state

import (
	"fmt"

	"github.com/holiman/uint256"

	"github.com/gospresso/gospresso/types"
)

// State is the chain state after a header: the fee tree and the block tree
// (docs/state.md). Header h carries the roots of the state after it, whose
// block tree holds the commitments of headers 0 to h-1.
//
// A *State is immutable: Apply returns a new one and leaves its receiver
// unchanged, the two sharing every tree node the block did not touch.
type State struct {
	fees   FeeTree
	blocks BlockTree
}

// Credit is an amount added to a fee account: an L1 deposit.
type Credit struct {
	Account types.Address
	Amount  types.U256
}

// Genesis returns the state of the genesis header: the genesis [accounts]
// prefunded (zero amounts are skipped) and an empty block tree.
func Genesis(accounts map[types.Address]types.U256) *State {
	return &State{fees: FeeTree{}.SetBalances(accounts)}
}

// New returns the state made of the two trees, for a state assembled from
// catchup answers.
func New(fees FeeTree, blocks BlockTree) *State {
	return &State{fees: fees, blocks: blocks}
}

// FeeTree returns the fee tree.
func (s *State) FeeTree() FeeTree { return s.fees }

// BlockTree returns the block tree.
func (s *State) BlockTree() BlockTree { return s.blocks }

// Roots returns the block-tree and fee-tree roots: the values of the
// header's block_merkle_tree_root and fee_merkle_tree_root.
func (s *State) Roots() (block, fee []byte) { return s.blocks.Root(), s.fees.Root() }

// Balance returns the balance of a fee account (0 when absent).
func (s *State) Balance(addr types.Address) types.U256 {
	b, _ := s.fees.Get(addr)
	return b
}

// Apply returns the state after header h, whose parent is header parent, s
// being the state after parent. credits are the L1 deposits of the L1
// blocks (parent.l1_finalized, h.l1_finalized], in L1 order, which the
// caller fetches (none without a fee contract). It follows docs/state.md,
// "The transition", in this order:
//
//  1. apply a pending chain-config upgrade: a hook, not implemented (the
//     header's chain config is used as it is);
//  2. credit each deposit to its account;
//  3. append the parent's header commitment to the block tree;
//  4. charge h's fee: debit h.FeeInfo.Account by h.FeeInfo.Amount and
//     credit h's chain config's fee_recipient with it.
//
// It fails, and s stays usable, when h is not parent's child or s is not
// the state after parent (ErrWrongParent), when a credit would take a
// balance past 2^256-1 (ErrBalanceOverflow), and when the fee account
// cannot pay (an *InsufficientFundsError, ErrInsufficientFunds). It does
// not check the header's fields against other rules, nor its roots against
// the result: the header validator does that.
func (s *State) Apply(parent, h *types.Header, credits []Credit) (*State, error) {
	if parent == nil || h == nil {
		return nil, fmt.Errorf("%w: missing header", ErrWrongParent)
	}
	if parent.Height == ^uint64(0) || h.Height != parent.Height+1 {
		return nil, fmt.Errorf("%w: header %d is not the child of header %d", ErrWrongParent, h.Height, parent.Height)
	}
	if n := s.blocks.NumLeaves(); n != parent.Height {
		return nil, fmt.Errorf("%w: the state is the one after header %d (its block tree holds %d commitments), not after the parent %d",
			ErrWrongParent, n, n, parent.Height)
	}

	// 1. Chain-config upgrade.
	if err := s.applyUpgrade(parent, h); err != nil {
		return nil, err
	}

	// The fee tree changes through an overlay of new balances, written
	// back in one batch at the end: the result is the same as updating
	// the tree at each step, and each changed node is hashed once.
	ov := overlay{fees: s.fees, bal: make(map[types.Address]types.U256, len(credits)+2)}

	// 2. L1 deposits.
	for i, c := range credits {
		if err := ov.credit(c.Account, c.Amount); err != nil {
			return nil, fmt.Errorf("header %d: deposit %d of %d: %w", h.Height, i, len(credits), err)
		}
	}

	// 3. The parent's header commitment.
	blocks, err := s.blocks.Push(parent.Commit())
	if err != nil {
		return nil, fmt.Errorf("header %d: %w", h.Height, err)
	}

	// 4. The fee.
	fee := h.FeeInfo
	if bal := ov.get(fee.Account); bal.Cmp(fee.Amount) < 0 {
		return nil, &InsufficientFundsError{Height: h.Height, Account: fee.Account, Balance: bal, Amount: fee.Amount}
	}
	ov.debit(fee.Account, fee.Amount)
	if err := ov.credit(h.ChainConfig.FeeRecipient, fee.Amount); err != nil {
		return nil, fmt.Errorf("header %d: fee to fee_recipient: %w", h.Height, err)
	}

	return &State{fees: s.fees.SetBalances(ov.bal), blocks: blocks}, nil
}

// applyUpgrade is step 1 of the transition: when h is the first header of
// an upgraded version, the upgrade's chain config becomes the one in force.
// Not implemented: gospresso does not switch chain configs at upgrades yet,
// and fee_recipient is read from h's own chain config, which the validator
// checks against the expected one. This is the place for it.
func (s *State) applyUpgrade(parent, h *types.Header) error {
	_, _ = parent, h
	return nil
}

// overlay holds the balances a block changes over a fee tree.
type overlay struct {
	fees FeeTree
	bal  map[types.Address]types.U256
}

func (o *overlay) get(a types.Address) types.U256 {
	if b, ok := o.bal[a]; ok {
		return b
	}
	b, _ := o.fees.Get(a)
	return b
}

func (o *overlay) credit(a types.Address, amount types.U256) error {
	if amount.IsZero() {
		return nil
	}
	bal := o.get(a)
	sum, overflow := new(uint256.Int).AddOverflow(bal.Uint256(), amount.Uint256())
	if overflow {
		return fmt.Errorf("%w: crediting %s wei to %s, whose balance is %s wei", ErrBalanceOverflow, amount, a, bal)
	}
	o.bal[a] = types.U256FromUint256(sum)
	return nil
}

// debit subtracts amount, which the caller checked is at most the balance.
func (o *overlay) debit(a types.Address, amount types.U256) {
	if amount.IsZero() {
		return
	}
	bal := o.get(a)
	o.bal[a] = types.U256FromUint256(new(uint256.Int).Sub(bal.Uint256(), amount.Uint256()))
}

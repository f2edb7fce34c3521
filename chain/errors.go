package chain

import "errors"

// Sentinel errors.
var (
	// ErrMempoolFull is returned when a transaction does not fit in the
	// mempool's count or byte bound. The caller may retry later.
	ErrMempoolFull = errors.New("chain: mempool full")
	// ErrTransactionTooLarge is returned for a transaction that could never
	// fit in a block.
	ErrTransactionTooLarge = errors.New("chain: transaction too large")
	// ErrInvalidBlock marks a proposed block that breaks a validation rule.
	ErrInvalidBlock = errors.New("chain: invalid block")
)

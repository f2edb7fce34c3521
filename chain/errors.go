package chain

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrMempoolFull is returned when a transaction does not fit in the
	// mempool's count or byte bound. The caller may retry later.
	ErrMempoolFull = errors.New("chain: mempool full")
	// ErrTransactionTooLarge is returned for a transaction that could never
	// fit in a block.
	ErrTransactionTooLarge = errors.New("chain: transaction too large")
	// ErrInvalidBlock marks a proposed block that breaks a validation rule.
	// The error is a *RuleError naming the rule.
	ErrInvalidBlock = errors.New("chain: invalid block")
	// ErrInvalidBuilderSignature marks a header whose builder signature is
	// missing, malformed, or not made by its fee account.
	ErrInvalidBuilderSignature = errors.New("chain: invalid builder signature")
)

// The rules of docs/data.md, "Header and leaf validation", as RuleError.Rule names them
// (and the rule label of the consensus_invalid_headers metric).
const (
	RuleHeight            = "height"
	RuleTimestamp         = "timestamp"
	RuleClock             = "clock"
	RuleVersion           = "version"
	RuleChainConfig       = "chain_config"
	RuleL1Head            = "l1_head"
	RuleL1Finalized       = "l1_finalized"
	RulePayloadSize       = "payload_size"
	RuleNsTable           = "ns_table"
	RulePayloadCommitment = "payload_commitment"
	RuleBuilderSignature  = "builder_signature"
	RuleFeeAmount         = "fee_amount"
	RuleFeeBalance        = "fee_balance"
	RuleBlockRoot         = "block_merkle_tree_root"
	RuleFeeRoot           = "fee_merkle_tree_root"
)

// RuleNames lists every rule name, in the order the ledger checks them.
func RuleNames() []string {
	return []string{RuleHeight, RuleTimestamp, RuleClock, RuleVersion, RuleChainConfig, RuleL1Head, RuleL1Finalized,
		RulePayloadSize, RuleNsTable, RulePayloadCommitment, RuleBuilderSignature, RuleFeeAmount, RuleFeeBalance,
		RuleBlockRoot, RuleFeeRoot}
}

// RuleError is the error of a block that breaks one validation rule. It
// wraps ErrInvalidBlock (and the cause, when there is one).
type RuleError struct {
	// Rule is the broken rule (one of the Rule constants).
	Rule string
	// Reason says what was wrong and what was expected.
	Reason string
	cause  error
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidBlock, e.Rule, e.Reason)
}

// Unwrap returns ErrInvalidBlock and the cause.
func (e *RuleError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrInvalidBlock, e.cause}
	}
	return []error{ErrInvalidBlock}
}

func broken(rule, format string, args ...any) *RuleError {
	return &RuleError{Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

func brokenBy(rule string, cause error) *RuleError {
	return &RuleError{Rule: rule, Reason: cause.Error(), cause: cause}
}

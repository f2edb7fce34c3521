package types

import "errors"

// Sentinel errors for the block data types (leaves, headers, payloads,
// namespace tables, transactions). Errors returned by this package wrap one of
// these with context; test with errors.Is.
var (
	// ErrInvalidTransaction marks a transaction no block may contain.
	ErrInvalidTransaction = errors.New("types: invalid transaction")
	// ErrInvalidNsTable marks namespace-table bytes that do not follow the
	// layout of docs/data.md, "Payloads and namespace tables".
	ErrInvalidNsTable = errors.New("types: invalid namespace table")
	// ErrInvalidPayload marks payload bytes inconsistent with their namespace table.
	ErrInvalidPayload = errors.New("types: invalid payload")
)

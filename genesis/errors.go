package genesis

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error from Parse, Load and Validate is an *Error
// whose Err field is one of these (Load also returns read errors wrapping the
// os error, and LoadContext an interruption wrapping the context's cause);
// test with errors.Is.
var (
	// ErrSyntax marks a document that is not valid TOML (duplicate keys and
	// tables included). The *Error carries the line and column.
	ErrSyntax = errors.New("genesis: invalid toml")
	// ErrUnknownKey marks a key the genesis format does not define
	// (docs/genesis.md, "Layout").
	ErrUnknownKey = errors.New("genesis: unknown key")
	// ErrMissingField marks a required key or table that is absent.
	ErrMissingField = errors.New("genesis: missing required field")
	// ErrInvalidValue marks a value of the wrong TOML type or outside its
	// grammar (docs/genesis.md, "Value grammars"): a bad address, a malformed amount, and so on.
	ErrInvalidValue = errors.New("genesis: invalid value")
	// ErrOutOfRange marks a well-formed number that is negative, zero where
	// it must be positive, or too large for its type.
	ErrOutOfRange = errors.New("genesis: value out of range")
	// ErrUnknownUnit marks an amount or size with a unit the grammar lacks.
	ErrUnknownUnit = errors.New("genesis: unknown unit")
	// ErrInvalidL1Finalized marks an [l1_finalized] table that matches none
	// of the three forms of docs/genesis.md, "[l1_finalized]".
	ErrInvalidL1Finalized = errors.New("genesis: invalid l1_finalized")
	// ErrInvalidVersion marks a protocol version rule broken: a base or
	// upgrade version out of order, a type table that does not fit its
	// version, or an upgrade_version that matches none of the [[upgrade]]
	// versions.
	ErrInvalidVersion = errors.New("genesis: invalid version")
	// ErrInvalidUpgrade marks an [[upgrade]] entry that breaks the rules of
	// docs/genesis.md, "Upgrades" (window mode, start after stop, type table
	// count, duplicate).
	ErrInvalidUpgrade = errors.New("genesis: invalid upgrade")
	// ErrInvalidStakeTable marks a [[public_keys]] table that breaks the
	// rules of docs/genesis.md, "Static stake table" (bad or duplicate key, bad proof of possession, no
	// DA member, more entries than the capacity).
	ErrInvalidStakeTable = errors.New("genesis: invalid stake table")
	// ErrTooLarge marks a file Load refused because it holds more than
	// MaxFileSize bytes (or is an endless stream such as /dev/zero).
	ErrTooLarge = errors.New("genesis: file too large")
)

// Error describes one problem with a genesis file. Its text names the TOML
// path, the offending value as written and what was expected, e.g.
//
//	genesis: chain_config.max_block_size: "12 parsecs": unknown unit (want b, kb, kib, mb, ...)
type Error struct {
	// File is the file the genesis was loaded from; set by Load only.
	File string
	// Path is the TOML path of the offending key, e.g.
	// "chain_config.max_block_size", "upgrade[0].stop_proposing_view" or
	// "public_keys[2].stake_table_key"; empty for a document-level problem
	// and for the value-grammar functions (ParseFeeAmount, ParseSize,
	// ParseTimestamp), whose callers know the field.
	Path string
	// Value is the offending value as written (strings quoted); empty when
	// there is none (a missing field, a table).
	Value string
	// Reason says what is wrong and what was expected.
	Reason string
	// Line and Column locate syntax errors (1-based); zero otherwise.
	Line, Column int
	// Err is the sentinel classifying the problem (ErrSyntax, ...).
	Err error
	// Cause is the underlying error from another package, if any.
	Cause error
}

// Error formats the problem as one line starting with "genesis: ".
func (e *Error) Error() string {
	msg := "genesis: "
	if e.File != "" {
		msg += e.File + ": "
	}
	switch {
	case e.Err == ErrSyntax && e.Line > 0:
		return msg + fmt.Sprintf("invalid toml at line %d, column %d: %s", e.Line, e.Column, e.Reason)
	case e.Err == ErrSyntax:
		return msg + "invalid toml: " + e.Reason
	case e.Err == ErrUnknownKey:
		// Quote the path unless it already quotes a key segment, which
		// TOML path syntax shows as is: chain_config."a b".
		if strings.Contains(e.Path, `"`) {
			return msg + "unknown key " + e.Path
		}
		return msg + "unknown key " + strconv.Quote(e.Path)
	}
	if e.Path != "" {
		msg += e.Path + ": "
	}
	if e.Value != "" {
		msg += e.Value + ": "
	}
	return msg + e.Reason
}

// Unwrap returns the sentinel and, if present, the underlying cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// at returns a copy of err located at path if it is an *Error without a
// path; other errors are returned unchanged.
func at(err error, path string) error {
	var e *Error
	if err == nil || !errors.As(err, &e) || e.Path != "" {
		return err
	}
	c := *e
	c.Path = path
	return &c
}

// valueErr builds an error about a value; the caller adds the path with at.
func valueErr(kind error, value, reason string) *Error {
	return &Error{Err: kind, Value: value, Reason: reason}
}

// fieldErr builds an error about the key at path.
func fieldErr(kind error, path, value, reason string) *Error {
	return &Error{Err: kind, Path: path, Value: value, Reason: reason}
}

// Package genesis reads, validates and encodes genesis files: the TOML file
// of settings every node of a network must share (docs/genesis.md).
//
// Parse (or Load, for a file) decodes the document, checks every key against
// the format of docs/genesis.md, "Layout", applies the value grammars of
// docs/genesis.md, "Value grammars" (fee
// amounts with units, block sizes, timestamps, addresses, hashes) and then the
// semantic rules that Validate also applies to a Genesis built in Go:
// version and upgrade rules, the forms of docs/genesis.md, "[l1_finalized]",
// and the static stake table of docs/genesis.md, "Static stake table", whose
// proofs of possession are verified.
//
// Problems are reported as one *Error naming the TOML path, the value as
// written and what was expected:
//
//	genesis: chain_config.max_block_size: "12 parsecs": unknown unit (want b, kb, kib, mb, ...)
//
// Parse stops at the first problem. It looks in a fixed order, so the same
// document always gives the same error: TOML syntax first; then, section by
// section in the order of docs/genesis.md, "Layout" (base_version, upgrade_version,
// [stake_table], [chain_config], [header], [l1_finalized], [network],
// [accounts], [[upgrade]], [[public_keys]]), unknown keys, missing fields and
// value grammars; then the semantic rules of Validate in the same order.
//
// MarshalJSON gives the canonical JSON of a genesis (deterministic, every
// field present, object keys sorted), and Commitment its SHA-256, the
// genesis commitment that network identity and signatures bind to
// (docs/genesis.md, "Canonical JSON and the genesis commitment"). ParseFeeAmount, ParseSize and ParseTimestamp expose the value
// grammars for command-line options that share them.
package genesis

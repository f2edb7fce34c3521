// Package genesistool implements `utils genesis FILE` (docs/operator.md,
// "utils"): it parses
// and validates a genesis TOML file with package genesis, prints the
// canonical JSON of the result, the chain-config commitment and the genesis
// commitment, and returns the field-naming validation error otherwise.
//
// The utils binary calls Check with the arguments after "genesis"; on error
// it prints the error as one line and exits with status 1.
package genesistool

// Package genesistool implements `utils genesis FILE` (docs/operator.md,
// "utils"): it parses
// and validates a genesis TOML file with package genesis, prints the
// canonical JSON of the result, the chain-config commitment and the genesis
// commitment, and returns the field-naming validation error otherwise.
// With --l1-provider-url it then runs the checks that need the L1
// (CheckL1): the L1 answers, the fee contracts have code (EIP-1967 proxies
// are reported), and [l1_finalized] resolves to a finalized block.
//
// The utils binary calls CheckContext with the arguments after "genesis"; on error
// it prints the error as one line and exits with status 1.
package genesistool

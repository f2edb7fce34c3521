// Command keygen generates staking (BLS) and state (Schnorr) key files for
// sequencer nodes (docs/operator.md, "keygen"; docs/keys.md):
//
//	keygen -o DIR [-n N] [-s SEED] [--scheme all|bls|schnorr]
//
// It writes DIR/.seed and DIR/<i>.env and prints the public keys and proofs of
// possession. On error it prints one line "keygen: <error>" to stderr and
// exits with status 1.
package main

import (
	"os"

	"github.com/gospresso/gospresso/examples/internal/keytool"
)

func main() {
	os.Exit(keytool.Run("keygen", keytool.Keygen, os.Args[1:], os.Stdout, os.Stderr))
}

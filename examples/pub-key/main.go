// Command pub-key prints the public key of a private key, or with -l the
// libp2p peer ID of a BLS staking key (docs/operator.md, "pub-key"):
//
//	pub-key [-l] BLS_SIGNING_KEY~...|SCHNORR_SIGNING_KEY~...
//
// On error it prints one line "pub-key: <error>" to stderr and exits with
// status 1.
package main

import (
	"os"

	"github.com/gospresso/gospresso/examples/internal/keytool"
)

func main() {
	os.Exit(keytool.Run("pub-key", keytool.PubKey, os.Args[1:], os.Stdout, os.Stderr))
}

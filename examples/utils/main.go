// Command utils bundles gospresso's operator utilities:
//
//	utils keygen -o DIR [-n N] [-s HEXSEED] [--scheme all|bls|schnorr]   same as keygen
//	utils pubkey [-l] KEY                                               same as pub-key
//	utils genesis [--l1-provider-url URL] FILE                          validate a genesis file, print its
//	                                                                    canonical JSON and commitments; with
//	                                                                    an L1, check its fee contracts and
//	                                                                    [l1_finalized] there
//	utils reset-storage [sequencer] fs [--path P]                       wipe a node's file-system storage
//	utils reset-storage [sequencer] sql [URI] [--host H ...]            wipe a node's SQLite or Postgres storage
//
// reset-storage wipes both the consensus and the query data of the backend
// the storage-fs or storage-sql module options select, without asking, and
// prints what it removed; it refuses a store that a running node holds
// (status 1) and exits with status 2 for bad options.
//
// Errors are printed as one line and exit with status 1; an unknown command
// exits with status 2.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gospresso/gospresso/examples/internal/genesistool"
	"github.com/gospresso/gospresso/examples/internal/keytool"
	"github.com/gospresso/gospresso/examples/internal/storeopen"
)

const usage = `usage: utils <command> [options]

commands:
  keygen    generate key files (see: utils keygen --help)
  pubkey    print the public key or libp2p peer ID of a private key
  genesis   validate a genesis TOML file and print its canonical JSON and commitments
            (--l1-provider-url URL: also check its fee contracts and [l1_finalized] on the L1)
  reset-storage
            wipe a node's consensus and query storage (see: utils reset-storage --help)
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	return runEnv(context.Background(), args, os.LookupEnv, stdout, stderr)
}

// runEnv is run with the context and environment lookup given (tests pass a
// map instead of the process environment).
func runEnv(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "keygen":
		return keytool.Run("utils keygen", keytool.Keygen, args[1:], stdout, stderr)
	case "pubkey":
		return keytool.Run("utils pubkey", keytool.PubKey, args[1:], stdout, stderr)
	case "genesis":
		check := func(args []string, stdout, stderr io.Writer) error {
			return genesistool.CheckContext(ctx, args, stdout, stderr)
		}
		return keytool.Run("utils genesis", check, args[1:], stdout, stderr)
	case "reset-storage":
		return storeopen.RunReset(ctx, "utils reset-storage", args[1:], env, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "utils: unknown command %q (want keygen, pubkey, genesis or reset-storage)\n", args[0])
		return 2
	}
}

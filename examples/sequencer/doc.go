// Command sequencer is the example gospresso node binary with the operator
// surface of the reference `sequencer` (docs/operator.md, "The sequencer
// command line"):
//
//	sequencer [global options] -- <module> [module options] -- <module> ...
//
// Every option is also read from its environment variable; run
// `sequencer --help`, `sequencer -- help` and `sequencer -- help <module>`
// for the lists. The command line is parsed by examples/internal/options.
//
// This build parses and validates the whole configuration, builds the HTTP
// API the module combination serves (examples/internal/apiopen; a bad
// identity option such as an unknown --country-code is a configuration
// error), loads and checks the genesis file and the keys, and prints a
// summary of the effective configuration with secrets redacted, ending
// with the API plan: its address, connection bound and modules. It then
// opens the store the storage module selects (examples/internal/storeopen:
// storage-fs, storage-sql with SQLite or Postgres, or file-system storage
// at ./storage when no storage module is given, which it says) and prints
// what it opened. It takes the stake table from the genesis file or the
// orchestrator; when the genesis needs an L1 (fee_contract or
// [l1_finalized]) it connects to the --l1-provider-url providers with the
// L1 options and waits, logging, until one answers (l1.go). It then runs
// the node over libp2p, serving the API, until SIGINT or SIGTERM, which
// also end any start-up wait (docs/operator.md, "What sequencer does when
// started").
//
// Exit status: 0 after help or a clean stop on a signal, 1 when the
// genesis file, the keys or the store cannot be loaded, start-up fails or
// is interrupted, or the node halts, 2 for a command-line or configuration
// error (pruning asked of file-system storage and bad identity options
// included).
package main

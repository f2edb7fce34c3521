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
// at ./storage when no storage module is given, which it says), prints
// what it opened and closes it again. It cannot start a consensus node
// yet, so it serves no API either: it then says so and exits with status 3.
//
// Exit status: 0 after printing help, 1 when the genesis file, the keys or
// the store cannot be loaded, 2 for a command-line or configuration error
// (pruning asked of file-system storage and bad identity options
// included), 3 when the configuration is valid but the node cannot be
// started by this build.
package main

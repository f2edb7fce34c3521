// Package options parses the command line and environment of the example
// `sequencer` binary (docs/operator.md, "The sequencer command line"):
//
//	sequencer [global options] -- <module> [module options] -- <module> [module options] ...
//
// Global options come before the first standalone "--"; after it, each
// standalone "--" starts the next module. Every option can be given as
// `--flag value`, `--flag=value` or through its environment variable; an
// explicit flag beats the environment, and the environment beats the default.
// Bool flags take no value (`--is-da`, or `--is-da=false`). Module options are
// scoped to their module: `--port` after `http` is the API port, after
// `storage-sql` the Postgres port. An environment variable that is set but
// empty counts as unset, so compose files may pass `VAR=${VAR}` through.
// Environment variables of modules that are not on the command line are not
// read at all.
//
// The options live in declarative tables, one row per option (flag,
// environment variables, default, help text and the typed field it fills),
// so the help text, the environment binding, the summary and the tests all
// come from one place.
//
// [Parse] checks the grammar, the option values, module duplicates and the
// order-sensitive module dependencies; [Config.Validate] checks the rules
// that need the whole configuration (keys, storage, conflicting options).
// A caller runs both. Every error either is a [*HelpError] (help was asked
// for; print its text and exit 0) or matches [ErrUsage] and reads as one line
// naming the flag (and the environment variable when the value came from
// there), the value and what was expected, e.g.
//
//	--l1-polling-interval (ESPRESSO_SEQUENCER_L1_POLLING_INTERVAL): "7 parsecs": invalid duration (want e.g. 500ms, 7s, 1h, 3d)
//
// The package never reads the process environment itself: [Parse] takes a
// lookup function (os.LookupEnv in the binary, a map in tests). Private keys
// and the database password are held as [Secret] values, which print as
// "<redacted>".
package options

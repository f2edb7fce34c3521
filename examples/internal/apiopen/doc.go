// Package apiopen builds the HTTP API that a parsed `sequencer` command line
// asks for (docs/operator.md, "What module combinations do"; the routes
// are in docs/api.md): the API modules the module combination serves, the
// server options, the node identity the status module reports, and the
// public environment the config module shows.
//
// Which modules a combination serves, on the `http` port:
//
//   - no `http`: no HTTP at all (a pure consensus participant).
//   - `query` (with a storage module): status, availability at v0 and v1,
//     node and catchup; submit and config when given; state-signature; and
//     with storage-sql block-state and fee-state.
//   - `status` without `query`: status (metrics only), then as below.
//   - otherwise: submit, catchup and config when given, and
//     state-signature.
//
// state-signature is served whenever the node has a state key, which a
// validated command line always gives ([WithoutStateKey] says otherwise).
// `hotshot-events` adds a second server on --events-service-port serving the
// hotshot-events module. `explorer` is accepted but not served yet; the
// [Plan] says so.
//
// The identity options are checked with the rules of api.Identity.Validate,
// and an error names the option (--country-code, --latitude, --longitude)
// and matches options.ErrUsage, like every other configuration error.
//
// The config module's list is derived from the option tables
// (options.PublicEnvNames): every non-secret ESPRESSO_* variable, each as
// NAME=value from the environment [WithEnv] gives (empty when unset), with
// URL passwords, password parameters and URL paths hidden ([RedactValue]).
// The package reads no environment itself.
package apiopen

// Package api serves a node over HTTP: the modules of the Espresso query
// service (status, availability, node, submit, catchup, config,
// state-signature, hotshot-events, block-state, fee-state) in the routes
// and JSON shapes the reference serves, so the Espresso Go client works
// against a gospresso node unchanged.
//
// A [Module] registers routes on a [Router]; a [Server] mounts modules at
// /v{major}/{module}/, redirects unversioned paths (307), answers
// /healthcheck and /version, lists every route at /, bounds connections
// (429 beyond the bound, never queued), request bodies (413) and request
// times, and shuts down gracefully, ending streams. Modules read the node
// through the [Backend] interface, which package node implements; the
// library never imports node. The catchup, block-state and fee-state
// modules serve balances and Merkle proofs from the recent chain states of
// a [StateBackend], which the node's backend is too. Embedders mount
// modules with node.WithAPI.
//
// Every bad request gets a non-2xx status and a JSON body
// {"status": N, "message": "..."} naming what was wrong: malformed
// integers or TaggedBase64 400, unknown objects 404, ranges over their
// limit 400, bodies over the limit 413. Routes and shapes are documented in
// docs/api.md in the repository.
package api

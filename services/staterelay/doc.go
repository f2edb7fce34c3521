// Package staterelay is the state relay: nodes post the light-client state
// they sign after every decide (lightclient.SignedState, see
// node.WithStateRelay), the relay checks each signature and adds up the
// signers' weight per state, and serves the latest state whose weight
// reached the threshold, with its signatures, for a prover to turn into an
// update of the L1 light-client contract.
//
//	r, err := staterelay.New(staterelay.WithStakeTable(gen.StakeTable))
//	srv, err := r.NewServer()      // an *api.Server with the relay's module
//	go srv.Serve(ln)
//	...
//	err = srv.Shutdown(ctx)
//
// # Routes
//
// The relay is the API module "api" (version 0.1.0), mounted on an
// api.Server, so the server's rules apply: /v0/api/state is the route, the
// unversioned /api/state answers 307 to it, /healthcheck answers, and every
// error is {"status": N, "message": "..."}.
//
//   - POST state: body {"key", "state", "signature"} as JSON, at most
//     MaxBodySize bytes. 200 with a [Receipt]; 400 for a malformed body, a
//     missing key or signature, or a signature that does not verify; 403 for
//     a key outside the stake table; 409 for equivocation or a state that
//     conflicts with the certified one; 410 for a state too old to matter;
//     413 for a body over the limit; 503 when the relay is full (no stake
//     table only).
//   - GET state: 200 with the latest certified state as a [Certified]
//     ({"state", "signatures": {key: signature}, "accumulated_weight",
//     "threshold"}); 404 before any state is certified.
//
// # Weights and threshold
//
// With a stake table (WithStakeTable: the genesis [[public_keys]] entries)
// only the table's state keys are accepted, each weighs its stake, and the
// threshold is ⌊total/3⌋+1 of the table's total stake: more than a third,
// so no coalition below a third of the stake certifies a state. Without
// one, as the reference relay does, any key is accepted, every distinct key
// weighs 1, and the threshold is ⌊total/3⌋+1 of the stake given with
// WithTotalStake (default DefaultTotalStake). Anyone can make keys, so
// without a stake table anyone can certify any state: use one outside
// demos.
//
// A state is the whole lightclient.State value (view, height and root):
// signatures of two different states of one height are counted apart.
//
// # Duplicates and equivocation
//
// A key's second post of the state it already signed is a duplicate: it is
// answered 200 (outcome "duplicate") and changes nothing, so a node retrying
// a post it thinks failed is harmless. A key that signs two different
// states of one height equivocates: the relay keeps the first signature and
// refuses the second with 409 and ErrEquivocation, logging a warning. The
// relay can only tell within what it keeps: the latest certified height and
// the pending heights above it.
//
// # Windows: bounded memory without wedging
//
// Let L be the height of the latest certified state. The relay keeps only
// states of height ≥ L:
//
//   - A state of height L is accepted only if it is the certified one: its
//     signature joins the certified set (outcome "added"), so late signers
//     still count. A different state of height L is refused (409,
//     ErrConflictingState).
//   - A state of height in [L−window, L) is superseded: it is checked and
//     answered 200 with outcome "stale" but not kept. Nodes post only their
//     newest state, so a node a block or two behind is not told to retry
//     (a failed post makes it retry with backoff and log a warning).
//   - A state of height below L−window is refused with 410 and ErrTooOld.
//   - States above L are pending. Each key keeps at most window pending
//     signatures: its newest. A key's post beyond that drops its oldest
//     pending signature, and a post older than all of its window pending
//     ones is refused (410, ErrTooOld). So memory is bounded by the number of
//     keys times the window, and a key running ahead (or lying about
//     heights) displaces only its own signatures, never other keys'.
//
// There is deliberately no fixed bound above L: were states far above L
// refused, a relay cut off from the nodes for more than the window would
// refuse every state they post afterwards and never certify again. Without
// a stake table keys cost nothing, so the relay also bounds the keys with
// pending signatures and the signers of one height (WithMaxSigners); beyond
// the bound it answers 503 (ErrFull).
//
// When a pending state reaches the threshold it becomes the latest
// certified state; everything below its height is forgotten.
package staterelay

// Package consensus implements gospresso's HotShot-style BFT consensus as a
// deterministic state machine.
//
// An [Engine] owns no goroutines, sockets, storage or wall clock. It is fed
// messages with [Engine.Step] and the passage of time with [Engine.Tick], and
// after each call its [Engine.Ready] method returns what the caller must do,
// in this order:
//
//  1. persist the safety state and proposals (Ready.Safety, Ready.Proposals),
//     durably, before anything else;
//  2. send the messages (Ready.Messages);
//  3. deliver the decided leaves (Ready.Decided), in height order.
//
// Because everything the engine does is a function of its inputs, a whole
// network of engines can be driven single-threaded by a simulation with a
// seeded message queue and simulated time, and one seed replays one execution
// exactly (see package nodetest). The node package runs the same engine under
// a real run loop.
//
// # Protocol
//
// Views are numbered from 1; leader(v) is stake-table entry v mod n. The
// leader of v proposes a leaf extending the highest certified leaf it knows;
// replicas vote for it under the two-chain voting rule and send
// their votes to leader(v+1), which aggregates them into a quorum certificate
// (an aggregate BLS signature plus a signer bitmap) and proposes view v+1 with
// it. A leaf G is decided once the node holds a certificate for G and one for
// a child of G proposed in the very next view (the HotStuff-2 rule). Views
// that time out produce timeout certificates that carry the signers' highest
// certificates; after two consecutive timeouts the nodes run view sync
// (pre-commit, commit and finalize certificates collected by rotating relays).
// A node that sees certificates for leaves it lacks fetches them from peers
// and checks them by hash links and certificates. A vote for a view the
// receiver has left is answered with the certificate that moved it on, and
// view-sync relays answer late voters with the certificates they formed, so
// nodes split between views after faults reach a common view again.
//
// The rules, and the liveness bound the simulation checks, are written down
// in docs/protocol.md in the repository.
//
// Every signature covers SHA-256("gospresso/v1" ‖ kind ‖ genesis commitment ‖
// u64be(view) ‖ data), so no signature can be replayed across message kinds,
// views or networks.
package consensus

// Package replica is the single-threaded core of a gospresso node: the
// consensus engine together with the mempool, the block builder, the header
// validator and the binding to the node's store.
//
// A driver feeds a [Replica] what happens to the node — a message arrives
// ([Replica.Deliver]), time passes ([Replica.Tick]), a client submits a
// transaction ([Replica.Submit]) — and the replica carries out what the
// engine asks in the fixed order that keeps the node safe: persist the safety
// state and proposals, then send messages (through the driver's [Sender]),
// then store the decided blocks. Nothing that commits the node leaves it
// before what it depends on is durable; a failed write halts the replica
// before it sends anything (docs/architecture.md, "Persist before send").
//
// Two drivers use it: package node, which adds the run-loop goroutine, a
// network transport, metrics and the embedding API, and the deterministic
// simulation in package nodetest, which drives many replicas single-threaded
// in simulated time. Both send the same bytes: the frames of this package
// ([EncodeMessage], [DecodeFrame]) over the transport's topics.
//
// Requests for missing leaves are answered by the replica's [FetchServer],
// which is safe for concurrent use: Deliver answers them itself, while a
// driver may instead serve them off its driving goroutine, as package node
// does (docs/protocol.md, "Serving fetch requests").
//
// [NewSetup] derives, once per network, what every replica of it shares from
// its genesis: the stake table, the genesis block, the chain rules and the
// genesis commitment.
package replica

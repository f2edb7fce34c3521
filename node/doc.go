// Package node composes a gospresso node: the replica core of package
// node/replica (consensus engine, mempool, block builder, header validator
// and store binding), a network transport, metrics and the embedding API,
// driven by one run loop.
//
// # Lifecycle
//
//	n, err := node.New(gen, keys, node.WithStorage(store), node.WithNetwork(transport))
//	err = n.Start(ctx)             // restores from the store, joins consensus; ctx bounds start-up only
//	hash, err := n.SubmitTransaction(ctx, tx)
//	for block, err := range n.Decided(ctx, fromHeight) { ... }
//	err = n.Stop(ctx)              // graceful and idempotent; always call it
//
// New checks its inputs, does no I/O and starts no goroutine. Once it
// succeeds the node owns the store and the transport: Stop closes both,
// whether Start was called, failed or succeeded.
//
// Start runs one goroutine, the run loop, which alone drives the replica: it
// hands it network messages, timer ticks and wake-ups after submissions, and
// the replica carries out what consensus asks in a fixed order — persist the
// safety state and proposals, then send messages, then store decided blocks
// — so nothing that commits the node is sent before it is durable. A failed
// write stops the node from participating (Err reports why); it never sends
// regardless. Stats and the metrics read a snapshot the loop publishes after
// each step.
//
// Decided reads blocks from the store, so a slow reader never holds up
// consensus and never misses a block.
//
// The library reads no environment variables or flags, never exits the
// process and installs no signal handlers: binding those is the job of the
// programs in examples/. See docs/architecture.md in the repository.
package node

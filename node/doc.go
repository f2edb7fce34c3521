// Package node composes a gospresso node: consensus engine, chain rules,
// mempool, storage and network, driven by one run loop.
//
// # Lifecycle
//
//	n, err := node.New(gen, keys, node.WithStorage(store), node.WithNetwork(transport))
//	err = n.Start(ctx)             // restores from the store, joins consensus; ctx bounds start-up only
//	hash, err := n.SubmitTransaction(ctx, tx)
//	for block, err := range n.Decided(ctx, fromHeight) { ... }
//	err = n.Stop(ctx)              // graceful and idempotent; always call it
//
// New checks its inputs, does no I/O and starts no goroutine. Start runs one
// goroutine, the run loop, which owns the consensus engine: it feeds it
// network messages and timer ticks and carries out what the engine asks in a
// fixed order — persist the safety state and proposals, then send messages,
// then store decided blocks — so nothing that commits the node is sent before
// it is durable. A failed write stops the node from participating (Err
// reports why); it never sends regardless.
//
// Decided reads blocks from the store, so a slow reader never holds up
// consensus and never misses a block.
//
// The library reads no environment variables or flags, never exits the
// process and installs no signal handlers: binding those is the job of the
// programs in examples/.
package node

// Package nodetest starts whole gospresso networks in-process, for tests,
// benchmarks and the dev node.
//
// Two modes share one genesis builder and one set of checks:
//
//   - [New] starts N real nodes (package node, with their run loops) over an
//     in-memory network (network/memnet) and in-memory stores, with helpers
//     to submit transactions, wait for heights, partition and heal, crash
//     and restart nodes from their stores, and make nodes Byzantine.
//   - [Simulate] drives N consensus engines single-threaded through
//     Step/Tick with a seeded message queue and simulated time. One seed
//     fixes message order, delays, drops, partitions, crashes and restarts,
//     so a failing seed replays exactly; the seed is printed on failure.
//
// Both check safety (every pair of honest nodes decided the same chain, one
// a prefix of the other) with [CheckSameChain].
package nodetest

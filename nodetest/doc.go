// Package nodetest starts whole gospresso networks in-process, for tests,
// benchmarks and the dev node.
//
// Two modes share one genesis builder, one replica core and one set of
// checks:
//
//   - [New] starts N real nodes (package node, with their run loops) over an
//     in-memory network (network/memnet) and in-memory stores, with helpers
//     to submit transactions, wait for heights, partition and heal, crash
//     and restart nodes from their stores, and make nodes Byzantine.
//   - [Simulate] drives N replicas (package node/replica, the same core the
//     node's run loop drives, sending the same bytes) single-threaded with a
//     seeded message queue and simulated time. One seed fixes message order,
//     delays, drops, partitions, crashes and restarts, so a failing seed
//     replays exactly; the seed is printed on failure.
//
// Both check safety (every pair of honest nodes decided the same chain, one
// a prefix of the other) with [CheckSameChain], and both can give members a
// Byzantine [Behaviour]: equivocating and colluding leaders and voters,
// forged or stale certificates, selective silence, replays and floods. The
// simulation also fails store writes ([FaultyStore]) and restarts the
// halted node. docs/testing.md lists the behaviours, what each test
// asserts, and how to run them over many seeds.
//
// # Fast, deterministic whole-network tests
//
// Run a test that uses [New] inside a testing/synctest bubble and every
// timer of every node runs on the bubble's fake clock: view timeouts,
// partitions and [Network.Elapse] cost no wall-clock time, and the bubble
// fails the test if a goroutine is left running after the network stops.
//
//	func TestPartition(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			net := nodetest.New(t, nodetest.Nodes(4))
//			net.WaitForHeight(3)
//			net.Partition([]int{0, 1}, []int{2, 3})
//			net.Elapse(time.Second)
//			net.Heal()
//			net.WaitForHeight(8)
//		})
//	}
package nodetest

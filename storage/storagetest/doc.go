// Package storagetest holds what every storage backend is tested with:
//
//   - [Run], the conformance suite over storage.Store (and storage.Pruner
//     and storage.StateStore when the store implements them): the
//     semantics of storage.go checked against a reference computed from
//     the blocks themselves.
//   - [RunStateReopen], which checks that the chain-state snapshot of a
//     storage.StateStore survives Close and a new open (in either mode),
//     and [Snapshot], deterministic snapshot bytes.
//   - [Chain], [Extend], [NextBlock], [Genesis] and [Transactions], which
//     build realistic, deterministic chains of linked blocks with
//     multi-namespace payloads.
//   - [RunConsensusOnly] and [CheckConsensusOnlyStore], the same checks
//     for a store in consensus-only mode, which keeps the last decided
//     block only and must stay small however long the chain grows.
//   - [RunCrash] and [CrashChild], the crash harness: a child process
//     writes as fast as it can and is killed with SIGKILL at random points;
//     the parent reopens the store and checks it with [CheckStore] and
//     against what the child had reported durable.
//   - [BenchInsert] and [BenchLookups], the benchmarks of the storage issue
//     (1 MB blocks inserted per second; p50/p99 lookup latency in a store of
//     100,000 small blocks).
//
// A backend's test file typically reads:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store {
//			st, err := Open(t.Context(), t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { st.Close() })
//			return st
//		})
//	}
package storagetest

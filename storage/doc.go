// Package storage defines where a node keeps its data, as two small
// interfaces that every backend implements:
//
//   - [ConsensusStore]: what consensus needs to restart safely (the safety
//     state and the proposals of undecided views). Every write is durable
//     when the call returns, because the node sends votes and proposals only
//     after the state they depend on is stored (SPEC §7.13).
//   - [BlockStore]: the decided chain (leaves, headers, payloads,
//     certificates) and the lookups the node and its APIs make.
//
// A [Store] is both. Backends live in subpackages (storage/mem today; the file
// system, SQLite and Postgres backends join them) and all pass the
// conformance suite in storage/storagetest.
//
// A store is used by one process at a time: opening a store that another
// process holds fails with [ErrLocked].
package storage

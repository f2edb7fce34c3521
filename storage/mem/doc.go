// Package mem is an in-memory storage.Store for tests and simulations. It is
// as strict as the disk backends (same conformance suite) but keeps nothing
// across processes: a node that restarts from the same *Store value (a
// simulated crash) finds its state, a new process finds nothing.
//
// It also implements storage.Pruner, with LiveSize the sum of the stored
// payload and encoded header bytes, so pruning logic can be tested without
// a disk, and storage.StateStore (the chain-state snapshot, a copy of the
// bytes kept under the same mutex).
package mem

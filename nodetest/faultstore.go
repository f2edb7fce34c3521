package nodetest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// ErrInjectedFault is the error a FaultyStore's failed write wraps.
var ErrInjectedFault = errors.New("nodetest: injected store fault")

// StoreOp names a kind of store write a replica makes.
type StoreOp int

// The writes a replica makes (docs/architecture.md, "Persist before send").
const (
	OpSaveSafety StoreOp = iota
	OpSaveProposal
	OpSaveDecided
	OpSaveState
	numStoreOps
)

// String names the operation after its method.
func (o StoreOp) String() string {
	switch o {
	case OpSaveSafety:
		return "SaveSafety"
	case OpSaveProposal:
		return "SaveProposal"
	case OpSaveDecided:
		return "SaveDecided"
	case OpSaveState:
		return "SaveState"
	}
	return fmt.Sprintf("StoreOp(%d)", int(o))
}

// FaultMode is what a failed write left behind. Every backend writes
// atomically (docs/storage.md), so a write cut short by a crash or a disk
// error either did not happen or happened without the caller learning it:
// these are the two torn writes a real backend can produce.
type FaultMode int

const (
	// LostWrite: nothing is stored and the call returns an error (the
	// transaction was rolled back, or the process died before the commit).
	// For SaveDecided, none of the batch is stored.
	LostWrite FaultMode = iota
	// UnacknowledgedWrite: the write is stored, whole, but the call returns
	// an error (the process died, or the connection broke, after the
	// commit and before the reply).
	UnacknowledgedWrite
)

// String names the mode.
func (m FaultMode) String() string {
	if m == UnacknowledgedWrite {
		return "unacknowledged"
	}
	return "lost"
}

// StoreFault is one write fault: the After+1-th call of Op from the moment
// the fault is armed fails, as Mode says.
type StoreFault struct {
	Op    StoreOp
	Mode  FaultMode
	After int
}

// String describes the fault ("lost SaveDecided after 2").
func (f StoreFault) String() string { return fmt.Sprintf("%s %s after %d", f.Mode, f.Op, f.After) }

// FaultyStore is a memory store (storage/mem, every optional interface
// included) whose writes can be made to fail once, at a chosen moment: arm
// a StoreFault and the matching write fails with an error wrapping
// ErrInjectedFault, which halts a replica (replica.ErrHalted). It is safe
// for concurrent use.
type FaultyStore struct {
	*mem.Store
	mu    sync.Mutex
	armed *StoreFault
	calls int // calls of armed.Op since it was armed
	fired []StoreFault
}

// NewFaultyStore returns an empty store with no fault armed.
func NewFaultyStore() *FaultyStore { return &FaultyStore{Store: mem.New()} }

// Arm makes the store fail as f says; it replaces any fault armed before.
func (s *FaultyStore) Arm(f StoreFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.calls = &f, 0
}

// Disarm removes the armed fault, if any.
func (s *FaultyStore) Disarm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed = nil
}

// Armed reports whether a fault is armed and has not fired yet.
func (s *FaultyStore) Armed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.armed != nil
}

// Fired returns the faults that fired, in order.
func (s *FaultyStore) Fired() []StoreFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StoreFault(nil), s.fired...)
}

// write runs a write of kind op, failing it if the armed fault says so.
func (s *FaultyStore) write(op StoreOp, do func() error) error {
	s.mu.Lock()
	f := s.armed
	fire := false
	if f != nil && f.Op == op {
		fire = s.calls >= f.After
		s.calls++
	}
	if fire {
		s.armed = nil
		s.fired = append(s.fired, *f)
	}
	s.mu.Unlock()
	if !fire {
		return do()
	}
	if f.Mode == UnacknowledgedWrite {
		if err := do(); err != nil {
			return err
		}
	}
	return fmt.Errorf("nodetest: %s: %w (%s)", op, ErrInjectedFault, f.Mode)
}

// SaveSafety implements storage.ConsensusStore.
func (s *FaultyStore) SaveSafety(ctx context.Context, st types.SafetyState) error {
	return s.write(OpSaveSafety, func() error { return s.Store.SaveSafety(ctx, st) })
}

// SaveProposal implements storage.ConsensusStore.
func (s *FaultyStore) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	return s.write(OpSaveProposal, func() error { return s.Store.SaveProposal(ctx, p) })
}

// SaveDecided implements storage.BlockStore.
func (s *FaultyStore) SaveDecided(ctx context.Context, blocks []types.Block) error {
	return s.write(OpSaveDecided, func() error { return s.Store.SaveDecided(ctx, blocks) })
}

// SaveState implements storage.StateStore.
func (s *FaultyStore) SaveState(ctx context.Context, height uint64, data []byte) error {
	return s.write(OpSaveState, func() error { return s.Store.SaveState(ctx, height, data) })
}

var (
	_ storage.Store      = (*FaultyStore)(nil)
	_ storage.StateStore = (*FaultyStore)(nil)
)

package replica

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gospresso/gospresso/consensus"
)

// Checked is a network message decoded, with its signatures checked ahead
// of the engine (Check): what DeliverChecked takes.
type Checked struct {
	from  int
	frame Frame
	err   error // the decoding error, if any
}

// checker is the replica's state for checking messages ahead of its
// engine, shared by the goroutines that call Check.
type checker struct {
	verifier *consensus.Verifier
	// view is the engine's current view, published by the driving
	// goroutine after each step; ahead is how far past it a view may be.
	view  atomic.Uint64
	ahead uint64
	// failed are the members a check of whose messages failed: theirs are
	// no longer checked ahead, so the engine checks them within its
	// per-member budget (docs/protocol.md, "Bounds").
	mu     sync.Mutex
	failed map[int]bool
	// checked and refused count messages checked ahead and those not
	// checked because their sender failed a check before.
	checked, refused atomic.Uint64
}

func newChecker(v *consensus.Verifier, ahead uint64) *checker {
	return &checker{verifier: v, ahead: ahead, failed: make(map[int]bool)}
}

// Check decodes a message from member from (-1 for a sender outside the
// stake table) and checks the signatures and certificates it carries with
// the verifier the replica's engine shares (consensus.Verifier.Precheck):
// a proposal's signature, justify QC and DA certificate in one pairing
// product, a certificate message's certificates. The engine then finds
// them checked, so a driver that calls Check on other goroutines (Node
// does, on a pool of workers) verifies in parallel while consensus
// proceeds (docs/protocol.md, "Signature checks"). Check is safe for
// concurrent use, with itself and with the driving goroutine.
//
// What one member can make Check verify is bounded: only messages from
// members, only for views from the previous one up to the engine's window
// ahead, and none at all from a member one of whose messages failed its
// check before (the engine checks those itself, within its per-member
// budget). A message that is not checked here is checked by the engine as
// it would be without Check; DeliverChecked behaves the same either way.
func (r *Replica) Check(from int, data []byte) Checked {
	f, err := DecodeFrame(data)
	c := Checked{from: from, frame: f, err: err}
	if err != nil || f.Consensus == nil || from < 0 {
		return c
	}
	lo, hi, ok := consensus.Views(f.Consensus)
	if !ok {
		return c
	}
	ck := r.check
	view := ck.view.Load()
	if uint64(lo)+1 < view || uint64(hi) > view+ck.ahead {
		return c
	}
	ck.mu.Lock()
	failed := ck.failed[from]
	ck.mu.Unlock()
	if failed {
		ck.refused.Add(1)
		return c
	}
	ck.checked.Add(1)
	if ck.verifier.Precheck(f.Consensus) != nil {
		ck.mu.Lock()
		ck.failed[from] = true
		ck.mu.Unlock()
	}
	return c
}

// Checkable reports, without decoding it, whether data is a message
// Check may verify something of (a proposal or a certificates message):
// a driver sends only those to its verification workers.
func Checkable(data []byte) bool {
	return len(data) > 1 && data[0] == frameConsensus && consensus.Checkable(data[1:])
}

// DeliverChecked is Deliver for a message Check prepared (on any
// goroutine). Deliver(ctx, from, data, now) is DeliverChecked(ctx,
// r.Check(from, data), now).
func (r *Replica) DeliverChecked(ctx context.Context, c Checked, now time.Time) ([]byte, error) {
	if r.halted != nil {
		return nil, r.halted
	}
	if c.err != nil {
		r.stats.InvalidFrames++
		r.log.Debug("undecodable message", "peer", c.from, "err", c.err)
		return nil, nil
	}
	return r.deliverFrame(ctx, c.from, c.frame, now)
}

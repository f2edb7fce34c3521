package consensus

import (
	"fmt"

	"github.com/gospresso/gospresso/types"
)

// Long catch-up (docs/protocol.md, "Catch-up"). A node that learns of a
// certified leaf far above its anchor does not fetch the whole gap with
// payloads and hold it until it links to the anchor. It walks down from the
// missing ancestor with HeaderRequests (leaves without payloads, checked by
// hash links alone), keeping only a checkpoint every MaxFetchLeaves heights
// above the anchor; then it fetches the blocks checkpoint by checkpoint,
// lowest first, and decides each batch as soon as it links to the anchor.
// Memory is bounded by one batch plus a checkpoint per MaxFetchLeaves
// blocks, and the work is linear in the gap: no signature is verified for a
// leaf that hash links bind to a leaf already trusted.

// HeaderRequest asks a peer for the leaf Leaf and its ancestors without
// their payloads, newest first, down to (not including) height StopHeight,
// at most MaxHeaderLeaves of them.
type HeaderRequest struct {
	ID         uint64
	Leaf       types.Commitment
	StopHeight uint64
}

func (*HeaderRequest) msgType() msgType { return msgHeaderRequest }

// HeaderResponse answers a HeaderRequest: the requested leaf first, then
// each one's parent.
type HeaderResponse struct {
	ID     uint64
	Leaves []types.Leaf
}

func (*HeaderResponse) msgType() msgType { return msgHeaderResponse }

// FetchUnavailable answers a FetchRequest or HeaderRequest for a leaf the
// peer does not hold because it has pruned its history: FirstHeight is the
// lowest height it keeps. A requester that needs a lower height asks the
// next peer at once instead of waiting for its fetch timeout.
type FetchUnavailable struct {
	ID          uint64
	FirstHeight uint64
}

func (*FetchUnavailable) msgType() msgType { return msgFetchUnavailable }

const (
	msgHeaderRequest    msgType = 8
	msgHeaderResponse   msgType = 9
	msgFetchUnavailable msgType = 10
)

// horizonRetries is how many fetch timeouts a node that found itself
// behind every peer's pruning horizon waits before it tries again (an
// archival peer may have joined): 30 s with the default FetchTimeout.
const horizonRetries = 30

// MaxHeaderLeaves bounds the leaves of one HeaderResponse. A leaf without
// its payload is a few hundred bytes, so an answer stays under a megabyte.
const MaxHeaderLeaves = 1024

// longGap is how far below a missing ancestor the anchor must be for the
// node to catch up by checkpoints rather than by fetching blocks down to
// the anchor.
const longGap = 2 * MaxFetchLeaves

// ServeHeaders answers a header request from lookup, which finds a leaf by
// commitment. It returns nil when the requested leaf is unknown.
func ServeHeaders(req *HeaderRequest, lookup func(types.Commitment) (types.Leaf, bool)) *HeaderResponse {
	resp := &HeaderResponse{ID: req.ID}
	c := req.Leaf
	for len(resp.Leaves) < MaxHeaderLeaves {
		l, ok := lookup(c)
		if !ok {
			break
		}
		if l.Height() <= req.StopHeight && len(resp.Leaves) > 0 {
			break
		}
		resp.Leaves = append(resp.Leaves, l)
		if l.Height() <= req.StopHeight || l.Height() == 0 {
			break
		}
		c = l.Parent
	}
	if len(resp.Leaves) == 0 {
		return nil
	}
	return resp
}

// catchup is a long catch-up under way.
type catchup struct {
	// base is the anchor height the checkpoints are counted from.
	base uint64
	// While walking: cursor is the next leaf expected going down, at
	// cursorHeight, and cursorQC the certificate of it (the justify QC of
	// the leaf above).
	walking      bool
	cursor       types.Commitment
	cursorHeight uint64
	cursorQC     types.QuorumCertificate
	// checkpoints are the leaves to decide batch by batch, highest first
	// (the order the walk finds them in), each with its certificate.
	checkpoints []checkpoint
}

type checkpoint struct {
	commit types.Commitment
	height uint64
	qc     types.QuorumCertificate
}

// fetchAncestor asks for c, a missing ancestor at height that qc (the
// justify certificate of its child) certifies. Far above the anchor it
// starts a long catch-up instead of fetching blocks (see above).
func (e *Engine) fetchAncestor(c types.Commitment, height uint64, qc *types.QuorumCertificate, from int) {
	base := e.anchor.leaf.Height()
	if height <= base+longGap {
		e.fetch(c, from)
		return
	}
	if e.catchup != nil {
		return // the session under way reaches every ancestor
	}
	if e.now.Before(e.behindUntil) {
		return // behind the peers' pruning horizon: ask again later
	}
	if _, have := e.leaves[c]; have {
		return
	}
	e.catchup = &catchup{base: base, walking: true, cursor: c, cursorHeight: height, cursorQC: *qc}
	e.stats.CatchupSessions++
	e.log.Info("far behind: catching up by checkpoints", "anchor_height", base, "missing_height", height)
	e.request(c, from, true, height)
}

// onHeaderResponse continues the walk down with the leaves of a header
// response, which only hash links need to bind to the cursor.
func (e *Engine) onHeaderResponse(from int, m *HeaderResponse) error {
	s := e.catchup
	if len(m.Leaves) == 0 || s == nil || !s.walking {
		return nil
	}
	if len(m.Leaves) > MaxHeaderLeaves {
		return fmt.Errorf("%w: header response of %d leaves, at most %d", ErrInvalidMessage, len(m.Leaves), MaxHeaderLeaves)
	}
	f, ok := e.fetches[s.cursor]
	if !ok || f.id != m.ID || !f.headers {
		return nil // unsolicited or superseded
	}
	// Check the whole answer before using any of it.
	want, height := s.cursor, s.cursorHeight
	for i := range m.Leaves {
		l := &m.Leaves[i]
		if c := l.Commit(); c != want {
			return fmt.Errorf("%w: header %d of the answer is %s, want %s", ErrInvalidMessage, i, c.Short(), want.Short())
		}
		if l.Height() != height {
			return fmt.Errorf("%w: header %d has height %d, want %d", ErrInvalidMessage, i, l.Height(), height)
		}
		if j := &l.JustifyQC; j.Leaf != l.Parent || j.View >= l.View {
			return fmt.Errorf("%w: header %d: justify qc does not certify its parent", ErrInvalidMessage, i)
		}
		if height == s.base+1 || height == 0 {
			m.Leaves = m.Leaves[:i+1]
			break
		}
		want, height = l.Parent, height-1
	}
	delete(e.fetches, s.cursor)
	for i := range m.Leaves {
		if e.walkStep(&m.Leaves[i], from) {
			return nil
		}
	}
	e.request(s.cursor, from, true, s.cursorHeight)
	return nil
}

// walkStep moves the walk below leaf l, the cursor's leaf, recording a
// checkpoint at every MaxFetchLeaves heights above the base. It reports
// whether the walk is over (it reached the anchor, or the engine halted).
func (e *Engine) walkStep(l *types.Leaf, from int) bool {
	s := e.catchup
	h := l.Height()
	if (h-s.base)%MaxFetchLeaves == 0 {
		s.checkpoints = append(s.checkpoints, checkpoint{commit: s.cursor, height: h, qc: s.cursorQC})
	}
	if h > s.base+1 {
		s.cursor, s.cursorHeight, s.cursorQC = l.Parent, h-1, l.JustifyQC
		return false
	}
	if e.anchor.leaf.Height() != s.base {
		// The anchor moved while the walk went on (it cannot, but if it
		// did the checkpoints would count from the wrong height): start
		// over from the next certificate.
		e.catchup = nil
		return true
	}
	if l.Parent != e.anchor.commit {
		e.halt(fmt.Errorf("%w: the chain of a certified leaf reaches height %d through %s, not through the last decided leaf %s",
			ErrSafetyViolation, s.base, l.Parent.Short(), e.anchor.commit.Short()))
		return true
	}
	s.walking = false
	e.log.Info("catch-up walk done", "checkpoints", len(s.checkpoints), "from_height", s.base)
	e.advanceCatchup(from)
	return true
}

// resumeWalk continues the walk through leaves the engine already holds
// (a block fetch may have brought the cursor's), and asks for headers
// when none is pending.
func (e *Engine) resumeWalk(from int) {
	for s := e.catchup; s != nil && s.walking && e.halted == nil; {
		en, ok := e.leaves[s.cursor]
		if !ok {
			if f, pending := e.fetches[s.cursor]; !pending || !f.headers {
				e.request(s.cursor, from, true, s.cursorHeight)
			}
			return
		}
		delete(e.fetches, s.cursor)
		if e.walkStep(&en.leaf, from) {
			return
		}
	}
}

// advanceCatchup decides the checkpoints whose blocks have arrived, lowest
// first, and asks for the next; once all are decided it ends the session
// and lets the ordinary decide rule take the rest.
func (e *Engine) advanceCatchup(from int) {
	s := e.catchup
	if s == nil {
		return
	}
	if s.walking {
		e.resumeWalk(from)
		return
	}
	for len(s.checkpoints) > 0 {
		cp := s.checkpoints[len(s.checkpoints)-1]
		if cp.height <= e.anchor.leaf.Height() {
			s.checkpoints = s.checkpoints[:len(s.checkpoints)-1]
			continue
		}
		en, ok := e.leaves[cp.commit]
		if !ok {
			e.requestAt(cp.commit, from, cp.height)
			return
		}
		if en.qc == nil {
			qc := cp.qc
			en.qc = &qc
		}
		before := e.anchor
		e.decide(en, from)
		if e.halted != nil || e.anchor == before {
			return // waits for blocks below the checkpoint
		}
	}
	e.catchup = nil
	e.log.Info("caught up by checkpoints", "height", e.anchor.leaf.Height())
	e.decideBest(from)
}

// decideBest re-runs the decide rule from the highest certified leaf that
// can trigger one (it decides everything below it too). Chosen by view, so
// the engine stays deterministic.
func (e *Engine) decideBest(from int) {
	var best *entry
	for _, en := range e.leaves {
		if en.qc != nil && en.leaf.View == en.leaf.JustifyQC.View+1 && (best == nil || en.leaf.View > best.leaf.View) {
			best = en
		}
	}
	if best != nil {
		e.checkDecide(best, from)
	}
}

// onFetchUnavailable moves a fetch on to the next peer at once when the
// peer it asked has pruned the height it needs.
func (e *Engine) onFetchUnavailable(from int, m *FetchUnavailable) error {
	for c, f := range e.fetches {
		if f.id != m.ID || f.peer != from {
			continue
		}
		if f.height == 0 || f.height >= m.FirstHeight {
			return nil // it should hold the leaf; let the timeout decide
		}
		f.pruned++
		if m.FirstHeight > e.horizon {
			e.horizon = m.FirstHeight
		}
		e.retryFetch(c, f)
		return nil
	}
	return nil
}

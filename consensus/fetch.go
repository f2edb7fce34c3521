package consensus

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gospresso/gospresso/types"
)

// fetch asks a peer for leaf c and its missing ancestors, unless a request
// for it is already under way. hint is the member that made us aware of the
// leaf (it must have it), or -1.
func (e *Engine) fetch(c types.Commitment, hint int) { e.request(c, hint, false, 0) }

// requestAt is fetch for a leaf whose height is known, so a peer that has
// pruned it can say so (FetchUnavailable).
func (e *Engine) requestAt(c types.Commitment, hint int, height uint64) {
	e.request(c, hint, false, height)
}

// request asks for leaf c with its ancestors: blocks (FetchRequest), or
// headers only (HeaderRequest). height is c's height when known, else 0.
func (e *Engine) request(c types.Commitment, hint int, headers bool, height uint64) {
	if f, pending := e.fetches[c]; pending && (f.headers || !headers) {
		return // a walk's header request is never replaced by a block request
	}
	if en, have := e.leaves[c]; have {
		if en.hasPayload || headers {
			return
		}
		if hint < 0 || hint == e.self || !e.table.IsDA(hint) {
			hint = e.payloadPeer(en.leaf.View) // held, but not its payload: ask the DA committee
		}
	}
	if e.abandoned[c] {
		if hint < 0 || hint == e.self {
			return // given up on; only a peer's new message revives it
		}
		delete(e.abandoned, c)
	}
	peer := hint
	if peer < 0 || peer == e.self {
		peer = e.nextPeer(e.self)
	}
	if peer < 0 {
		return
	}
	e.fetchID++
	f := &fetch{id: e.fetchID, peer: peer, headers: headers, height: height}
	e.fetches[c] = f
	e.sendFetch(c, f)
}

// sendFetch sends f's request for c to f.peer and arms its timer.
func (e *Engine) sendFetch(c types.Commitment, f *fetch) {
	f.deadline = e.now.Add(e.cfg.FetchTimeout)
	f.stopHeight = e.anchor.leaf.Height()
	e.stats.FetchRequests++
	if f.headers {
		e.send(f.peer, &HeaderRequest{ID: f.id, Leaf: c, StopHeight: f.stopHeight})
		return
	}
	e.send(f.peer, &FetchRequest{ID: f.id, Leaf: c, StopHeight: f.stopHeight})
}

// nextPeer returns the member after i (skipping self), or -1 if there is none.
func (e *Engine) nextPeer(i int) int {
	n := e.table.Len()
	for k := 1; k <= n; k++ {
		j := (i + k + n) % n
		if j != e.self {
			return j
		}
	}
	return -1
}

// retryDueFetches retries timed-out fetches in the order they were made, so
// that the engine stays a deterministic function of its inputs.
func (e *Engine) retryDueFetches() {
	var due []types.Commitment
	for c, f := range e.fetches {
		if !e.now.Before(f.deadline) {
			due = append(due, c)
		}
	}
	slices.SortFunc(due, func(a, b types.Commitment) int { return cmp.Compare(e.fetches[a].id, e.fetches[b].id) })
	for _, c := range due {
		e.retryFetch(c, e.fetches[c])
	}
}

// fetchRounds is how many times a fetch asks every peer before it gives
// up: a leaf nobody answers for is not asked for forever.
const fetchRounds = 2

// maxAbandoned bounds the leaves remembered as given up on.
const maxAbandoned = 1024

func (e *Engine) retryFetch(c types.Commitment, f *fetch) {
	if en, have := e.leaves[c]; have && en.hasPayload {
		delete(e.fetches, c)
		return
	}
	if f.tries++; f.tries >= fetchRounds*max(e.table.Len()-1, 1) {
		delete(e.fetches, c)
		if len(e.abandoned) >= maxAbandoned {
			clear(e.abandoned)
		}
		e.abandoned[c] = true
		e.stats.FetchesAbandoned++
		if e.catchup != nil && (f.headers || f.height > e.anchor.leaf.Height()) {
			e.catchup = nil // a later certificate starts a new one
		}
		if f.pruned > 0 && f.pruned*2 >= f.tries {
			// Every peer that answered has pruned the blocks this node
			// needs: retrying cannot help (docs/protocol.md, "Catch-up").
			e.stats.BehindPruningHorizon++
			e.behindUntil = e.now.Add(horizonRetries * e.cfg.FetchTimeout)
			e.log.Error("this node is behind its peers' pruning horizon: they keep blocks from a height above the ones it needs; "+
				"connect it to an archival peer (one that does not prune)",
				"retry_in", horizonRetries*e.cfg.FetchTimeout, "needed_height", f.height, "peers_first_height", e.horizon, "decided_height", e.anchor.leaf.Height())
			return
		}
		e.log.Warn("no peer answered for a missing leaf; giving up until a certificate names it again",
			"leaf", c.Short(), "requests", f.tries)
		return
	}
	f.peer = e.nextPeer(f.peer)
	if f.peer < 0 {
		delete(e.fetches, c)
		return
	}
	e.fetchID++
	f.id = e.fetchID
	e.sendFetch(c, f)
}

// onFetchResponse checks a chain of leaves by hash links and certificates and
// adds it to the known leaves.
func (e *Engine) onFetchResponse(from int, m *FetchResponse) error {
	if len(m.Leaves) == 0 {
		return nil
	}
	if len(m.Leaves) > MaxFetchLeaves {
		return fmt.Errorf("%w: fetch response of %d leaves, at most %d", ErrInvalidMessage, len(m.Leaves), MaxFetchLeaves)
	}
	want := m.Leaves[0].Leaf.Commit()
	f, ok := e.fetches[want]
	if !ok || f.id != m.ID {
		return nil // unsolicited or superseded; not necessarily malicious
	}
	// Check the chain before trusting any of it: each leaf is the parent of
	// the one before, heights descend by one, and each justify QC verifies
	// and certifies the next.
	commits := make([]types.Commitment, len(m.Leaves))
	commits[0] = want
	for i := range m.Leaves {
		l := &m.Leaves[i]
		if i > 0 {
			commits[i] = l.Leaf.Commit()
			prev := &m.Leaves[i-1].Leaf
			if commits[i] != prev.Parent {
				return fmt.Errorf("%w: fetched leaf %d is not the parent of leaf %d", ErrInvalidMessage, i, i-1)
			}
			if l.Leaf.Height()+1 != prev.Height() || l.Leaf.View >= prev.View {
				return fmt.Errorf("%w: fetched leaf %d has height %d view %d under height %d view %d", ErrInvalidMessage, i, l.Leaf.Height(), l.Leaf.View, prev.Height(), prev.View)
			}
		}
		j := &l.Leaf.JustifyQC
		if j.Leaf != l.Leaf.Parent || j.View >= l.Leaf.View {
			return fmt.Errorf("%w: fetched leaf %d: justify qc does not certify its parent", ErrInvalidMessage, i)
		}
		// The leaves are bound by hash links to the one requested, which
		// a verified certificate or a trusted leaf named: a justify QC in
		// them needs checking only where it could raise the high QC (a
		// certified leaf's justify QC was checked by the honest members
		// that voted for it).
		if j.View > e.highQC.View {
			if err := e.verify.verifyQC(j); err != nil {
				e.stats.InvalidQCs++
				return fmt.Errorf("fetched leaf %d: %w", i, err)
			}
		}
		if err := e.validator.ValidatePayload(&l.Leaf, &l.Payload); err != nil {
			return fmt.Errorf("%w: fetched leaf %d: %v", ErrInvalidMessage, i, err)
		}
	}
	delete(e.fetches, want)
	var added []*entry
	for i := range m.Leaves {
		l := &m.Leaves[i]
		if l.Leaf.View <= e.anchor.leaf.View {
			if l.Leaf.Height() <= e.anchor.leaf.Height() {
				break
			}
			continue
		}
		en, known := e.leaves[commits[i]]
		if !known {
			en = &entry{leaf: l.Leaf, payload: l.Payload, commit: commits[i], hasPayload: true}
			e.leaves[commits[i]] = en
			added = append(added, en)
		} else if !en.hasPayload {
			e.setPayload(en, l.Payload)
		}
		if q, ok := e.pendingQC[commits[i]]; ok && en.qc == nil {
			en.qc = q
			delete(e.pendingQC, commits[i])
		}
		if i > 0 && en.qc == nil {
			qc := m.Leaves[i-1].Leaf.JustifyQC
			en.qc = &qc
		}
		delete(e.fetches, commits[i])
	}
	// The justify QC of the deepest leaf certifies its parent.
	last := &m.Leaves[len(m.Leaves)-1].Leaf
	if p, ok := e.leaves[last.Parent]; ok && p.qc == nil {
		qc := last.JustifyQC
		p.qc = &qc
	}
	for i := range m.Leaves {
		e.onQC(&m.Leaves[i].Leaf.JustifyQC, from)
		if e.halted != nil {
			return nil
		}
	}
	for _, en := range added {
		if _, still := e.leaves[en.commit]; still {
			e.checkDecide(en, from)
			if e.halted != nil {
				return nil
			}
		}
	}
	// A decide that waited for these ancestors, or for these payloads.
	e.retryDecide()
	if e.halted != nil {
		return nil
	}
	e.decideBest(from)
	if e.halted != nil {
		return nil
	}
	// A proposal of the current view that waited for its parent.
	if c, ok := e.byView[e.view]; ok {
		if en, ok := e.leaves[c]; ok && en.proposed {
			e.maybeVote(&en.leaf, en.payloadOrNil(), c, from)
		}
	}
	// Keep walking back if the chain is still not linked to the anchor.
	if last.Height() > e.anchor.leaf.Height()+1 {
		if _, ok := e.leaves[last.Parent]; !ok {
			e.fetchAncestor(last.Parent, last.Height()-1, &last.JustifyQC, from)
		}
	}
	e.advanceCatchup(from)
	if e.halted != nil {
		return nil
	}
	e.tryPropose()
	return nil
}

// Leaf returns a leaf the engine holds (undecided ones and the anchor), for
// answering fetch requests.
func (e *Engine) Leaf(c types.Commitment) (FetchedLeaf, bool) {
	en, ok := e.leaves[c]
	if !ok || !en.hasPayload {
		return FetchedLeaf{}, false
	}
	return FetchedLeaf{Leaf: en.leaf, Payload: en.payload}, true
}

// ServeFetch answers a fetch request from lookup, which finds a leaf by
// commitment (the node looks in the engine, then in storage). It returns nil
// when the requested leaf is unknown.
func ServeFetch(req *FetchRequest, lookup func(types.Commitment) (FetchedLeaf, bool)) *FetchResponse {
	resp := &FetchResponse{ID: req.ID}
	c := req.Leaf
	var size uint64
	for len(resp.Leaves) < MaxFetchLeaves {
		l, ok := lookup(c)
		if !ok {
			break
		}
		if l.Leaf.Height() <= req.StopHeight && len(resp.Leaves) > 0 {
			break
		}
		if size += l.Payload.Size(); size > MaxFetchBytes && len(resp.Leaves) > 0 {
			break
		}
		resp.Leaves = append(resp.Leaves, l)
		if l.Leaf.Height() <= req.StopHeight || l.Leaf.Height() == 0 {
			break
		}
		c = l.Leaf.Parent
	}
	if len(resp.Leaves) == 0 {
		return nil
	}
	return resp
}

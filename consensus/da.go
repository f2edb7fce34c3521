package consensus

import (
	"fmt"

	"github.com/gospresso/gospresso/types"
)

// The DA path (docs/protocol.md, "Data availability"): the leader of view v
// sends the payload to the DA committee only (DAProposal) and one VID
// share to each member (VIDShare). A DA member checks the payload against
// the commitment the DA proposal names and votes for it (DAVote, to the
// leader of v). At the DA threshold the leader forms the DA certificate
// (DACert) and only then broadcasts its quorum proposal, without the
// payload and with the certificate, so that a replica checks the
// proposal's signature, its justify QC and the certificate in one pairing
// product. A replica votes for the quorum proposal only once it holds the
// DA certificate of its payload and its own verified share. A node
// without the payload of a block being decided fetches it from its peers
// before it delivers the block: every node ends up with every payload,
// but the leader uploads it to the committee only.

// VID is the dispersal scheme the DA path uses (package chain/vid through
// the node). Shares are opaque to the engine.
type VID interface {
	// Commit computes the payload commitment of p.
	Commit(p *types.Payload) (types.Commitment, error)
	// Disperse computes the payload commitment of p and one encoded share
	// per stake-table member, in table order.
	Disperse(p *types.Payload) (types.Commitment, [][]byte, error)
	// VerifyShare checks that share is member's share of the dispersal
	// with commitment c.
	VerifyShare(c types.Commitment, member int, share []byte) error
}

// ownShare is the VID share the leader of a view sent this node.
type ownShare struct {
	msg      *VIDShare
	verified bool
}

// daState is the engine's DA path state, per view, bounded by the vote
// window: at most one DA proposal, certificate and share per view, each
// from (or formed by) that view's leader.
type daState struct {
	props  map[types.ViewNumber]*DAProposal
	certs  map[types.ViewNumber]*DACert
	shares map[types.ViewNumber]*ownShare
	// votedFor is the payload each DA member's vote of a view named.
	votedFor map[memberView]types.Commitment
	// voted are the views this node DA-voted in; a restarted node takes
	// them from its stored DA proposals (it stores one before it votes for
	// it).
	voted map[types.ViewNumber]bool
	// published is the last view whose proposal this node, as its leader,
	// broadcast with its DA certificate.
	published types.ViewNumber
	// waiting is the highest decided leaf whose delivery waits for
	// payloads being fetched.
	waiting *entry
}

func newDAState() daState {
	return daState{props: make(map[types.ViewNumber]*DAProposal), certs: make(map[types.ViewNumber]*DACert),
		shares: make(map[types.ViewNumber]*ownShare), votedFor: make(map[memberView]types.Commitment),
		voted: make(map[types.ViewNumber]bool)}
}

// prune forgets what belongs to views before keep.
func (d *daState) prune(keep types.ViewNumber) {
	for v := range d.props {
		if v < keep {
			delete(d.props, v)
		}
	}
	for v := range d.certs {
		if v < keep {
			delete(d.certs, v)
		}
	}
	for v := range d.shares {
		if v < keep {
			delete(d.shares, v)
		}
	}
	for k := range d.votedFor {
		if k.view < keep {
			delete(d.votedFor, k)
		}
	}
	for v := range d.voted {
		if v < keep {
			delete(d.voted, v)
		}
	}
}

// daKeep is the lowest view whose DA state is still kept in view v: the
// previous view's, since a DA proposal, its certificate and the shares of
// a view may arrive while a node is one view behind or ahead.
func daKeep(v types.ViewNumber) types.ViewNumber {
	if v < 1 {
		return 0
	}
	return v - 1
}

// isDA reports whether this node is a DA committee member.
func (e *Engine) isDA() bool { return e.self >= 0 && e.table.IsDA(e.self) }

// dispersal sends, as leader of view v, the DA proposal of payload to the
// DA committee and each member's share to that member. c is the payload
// commitment of the header being proposed.
func (e *Engine) disperse(v types.ViewNumber, c types.Commitment, payload *types.Payload) error {
	got, shares, err := e.vid.Disperse(payload)
	if err != nil {
		return fmt.Errorf("disperse the payload: %w", err)
	}
	if got != c {
		return fmt.Errorf("the payload's commitment %s is not the header's %s", got.Short(), c.Short())
	}
	if len(shares) != e.table.Len() {
		return fmt.Errorf("dispersal made %d shares for %d members", len(shares), e.table.Len())
	}
	dp, ok := e.da.props[v]
	if !ok || dp.Commitment != c {
		dp = &DAProposal{View: v, Commitment: c, Payload: *payload}
	}
	// The leader keeps its own payload whether or not it is in the
	// committee: it re-sends it after a restart.
	e.send(e.self, dp)
	for i := range e.table.Len() {
		if i != e.self && e.table.IsDA(i) {
			e.send(i, dp)
		}
	}
	for i, sh := range shares {
		e.send(i, &VIDShare{View: v, Commitment: c, Share: sh})
	}
	return nil
}

// onDAProposal takes the payload of a view from its leader, checks it
// against the commitment it names, and DA-votes for it (tryDAVote). It
// carries no signature of its own: it is taken only from the view's leader
// (senders are authenticated by the transport), a DA vote vouches only
// that the payload with that commitment is held, whoever sent it, and only
// the payload that the leader's signed quorum proposal commits to is ever
// used (takePayload); a signature would cost a pairing per view and
// protect nothing more.
func (e *Engine) onDAProposal(from int, m *DAProposal) error {
	if e.vid == nil {
		return fmt.Errorf("%w: DA proposal, and this network runs without a DA layer", ErrInvalidMessage)
	}
	v := m.View
	if !e.inWindow(v) {
		return fmt.Errorf("%w: DA proposal for view %d beyond the window of %d views", ErrInvalidMessage, v, e.cfg.MaxViewsAhead)
	}
	en := e.proposalOf(v)
	needed := en != nil && !en.hasPayload && en.leaf.Header.PayloadCommitment == m.Commitment
	if (v < daKeep(e.view) || v > e.view+1) && !needed {
		// Stale, or further ahead than an honest leader sends one (it
		// does on entering its view, at most one view ahead of this
		// node): not invalid, and not kept, so a leader of views ahead
		// cannot make this node hold or hash their payloads.
		return nil
	}
	if from != e.leader(v) && from != e.self {
		return fmt.Errorf("%w: DA proposal for view %d from member %d, not the view's leader %d", ErrInvalidMessage, v, from, e.leader(v))
	}
	if have, ok := e.da.props[v]; ok {
		if have.Commitment != m.Commitment {
			return fmt.Errorf("%w: leader %d equivocated: DA proposals for payloads %s and %s in view %d",
				ErrInvalidMessage, e.leader(v), have.Commitment.Short(), m.Commitment.Short(), v)
		}
		return nil
	}
	if from != e.self {
		// One commitment per view and leader: the DA proposal of another
		// commitment is refused above, unchecked.
		c, err := e.vid.Commit(&m.Payload)
		if err != nil {
			return fmt.Errorf("%w: DA proposal for view %d: %v", ErrInvalidMessage, v, err)
		}
		if c != m.Commitment {
			// Only the view's leader sends one, and an honest one never
			// sends this: it is reported.
			err := fmt.Errorf("%w: DA proposal for view %d names commitment %s, its payload's is %s", ErrInvalidMessage, v, m.Commitment.Short(), c.Short())
			e.log.Warn("DA proposal does not match its commitment", "view", uint64(v), "peer", from)
			e.fault(from, err)
			return err
		}
	}
	e.da.props[v] = m
	if e.isDA() || from == e.self {
		// Stored before this node votes for it, so a restart neither
		// loses the payload nor votes for another in this view (and a
		// restarted leader can send it again).
		e.ready.DA = append(e.ready.DA, m)
	}
	e.tryDAVote(v)
	if en != nil {
		e.takePayload(en, m)
	}
	return nil
}

// proposalOf returns the first proposal seen for view v, or nil.
func (e *Engine) proposalOf(v types.ViewNumber) *entry {
	c, ok := e.byView[v]
	if !ok {
		return nil
	}
	return e.leaves[c]
}

// takePayload gives en the payload of DA proposal m when it is the one
// en's header commits to, then does what waited for it: the quorum vote, a
// decide.
func (e *Engine) takePayload(en *entry, m *DAProposal) {
	if en.hasPayload || en.leaf.Header.PayloadCommitment != m.Commitment {
		return
	}
	if err := e.validator.ValidatePayload(&en.leaf, &m.Payload); err != nil {
		e.stats.InvalidMessages++
		delete(e.da.props, m.View)
		e.fault(e.leader(m.View), fmt.Errorf("%w: DA proposal for view %d: %v", ErrInvalidMessage, m.View, err))
		e.log.Warn("DA proposal does not match its header", "view", uint64(m.View), "err", err)
		return
	}
	e.setPayload(en, m.Payload)
	e.retryVote(en)
	e.retryDecide()
}

// setPayload gives en its checked payload and reports the leaf servable
// (Ready.Payloads).
func (e *Engine) setPayload(en *entry, p types.Payload) {
	en.payload, en.hasPayload = p, true
	e.ready.Payloads = append(e.ready.Payloads, en.commit)
}

// tryDAVote votes, as a DA committee member, for the checked payload of
// view v's DA proposal, at most once per view. A member votes for the
// next view's payload too: it learns that the view began (the previous
// view's QC) only from the quorum proposal, which follows the DA
// certificate.
func (e *Engine) tryDAVote(v types.ViewNumber) {
	dp, ok := e.da.props[v]
	if !e.isDA() || !ok || e.da.voted[v] || v < daKeep(e.view) || v > e.view+1 {
		return
	}
	e.da.voted[v] = true
	c := dp.Commitment
	e.send(e.leader(v), &DAVote{View: v, Payload: c, Signer: uint32(e.self),
		Signature: e.verify.sign(e.key, kindDAVote, v, c)})
}

// onDAVote collects DA votes as leader of their view; at the DA threshold
// it forms the DA certificate and publishes the view's proposal with it.
func (e *Engine) onDAVote(from int, m *DAVote) error {
	if m.View < e.view {
		// Late (its certificate was formed, or its view given up): not a
		// sign that the sender is behind, which its quorum vote would be,
		// so it is not answered with the move certificate.
		return nil
	}
	if stale, err := e.admitVote(from, m.Signer, "DA vote", m.View, e.leader(m.View)); stale || err != nil {
		return err
	}
	if !e.table.IsDA(int(m.Signer)) {
		return fmt.Errorf("%w: DA vote from member %d, which is not in the DA committee", ErrInvalidMessage, m.Signer)
	}
	k := voteKey{kind: kindDAVote, view: m.View, leaf: m.Payload}
	set, sig, err := e.collectSame(e.da.votedFor, k, m.Signer, newVoteSig(m.Signature, m.raw), thresholdDA)
	if set == nil || err != nil {
		return err
	}
	dac := &DACert{View: m.View, Payload: m.Payload, Signers: cloneBits(set.signers), Signature: sig.Bytes()}
	e.verify.good.add(dac.commit())
	e.onDAC(dac)
	return nil
}

// publish broadcasts this node's proposal of view v, as its leader, with
// the view's DA certificate, once it holds both.
func (e *Engine) publish(v types.ViewNumber) {
	own, ok := e.ownProps[v]
	dac, have := e.da.certs[v]
	if !ok || !have || v <= e.da.published || dac.Payload != own.Leaf.Header.PayloadCommitment {
		return
	}
	e.da.published = v
	p := *own
	p.DA = dac
	e.send(Broadcast, &p)
}

// onDAC takes a verified DA certificate.
func (e *Engine) onDAC(c *DACert) {
	if c.View < daKeep(e.view) || !e.inWindow(c.View) {
		return
	}
	if _, have := e.da.certs[c.View]; have {
		return
	}
	e.da.certs[c.View] = c
	e.publish(c.View)
	if en := e.proposalOf(c.View); en != nil {
		e.retryVote(en)
	}
}

// onVIDShare keeps this node's share of a view's dispersal, from the
// view's leader only; it is checked once the view's proposal names the
// commitment.
func (e *Engine) onVIDShare(from int, m *VIDShare) error {
	if e.vid == nil || e.self < 0 {
		return fmt.Errorf("%w: VID share sent to a node that takes none", ErrInvalidMessage)
	}
	v := m.View
	switch {
	case from != e.leader(v):
		return fmt.Errorf("%w: VID share for view %d from member %d, not the view's leader %d", ErrInvalidMessage, v, from, e.leader(v))
	case v < daKeep(e.view):
		return nil // stale
	case !e.inWindow(v):
		return fmt.Errorf("%w: VID share for view %d beyond the window of %d views", ErrInvalidMessage, v, e.cfg.MaxViewsAhead)
	}
	if have, ok := e.da.shares[v]; ok {
		if have.msg.Commitment != m.Commitment {
			return fmt.Errorf("%w: leader %d sent shares of payloads %s and %s in view %d", ErrInvalidMessage, from, have.msg.Commitment.Short(), m.Commitment.Short(), v)
		}
		return nil
	}
	e.da.shares[v] = &ownShare{msg: m}
	if en := e.proposalOf(v); en != nil {
		e.retryVote(en)
	}
	return nil
}

// dataReady reports whether this node holds what it needs, beyond the
// proposal, to vote for proposal en (docs/protocol.md, "Voting and
// deciding"): the DA certificate of its payload and its own share, checked.
// A share that fails its check is dropped and its sender reported.
func (e *Engine) dataReady(en *entry) bool {
	if e.vid == nil {
		return true
	}
	v, c := en.leaf.View, en.leaf.Header.PayloadCommitment
	dac, ok := e.da.certs[v]
	if !ok || dac.Payload != c {
		return false
	}
	sh, ok := e.da.shares[v]
	if !ok {
		return false
	}
	if sh.msg.Commitment != c {
		delete(e.da.shares, v)
		e.stats.InvalidMessages++
		e.fault(e.leader(v), fmt.Errorf("%w: VID share for view %d is for payload %s, the proposal's is %s", ErrInvalidMessage, v, sh.msg.Commitment.Short(), c.Short()))
		return false
	}
	if !sh.verified {
		if err := e.vid.VerifyShare(c, e.self, sh.msg.Share); err != nil {
			delete(e.da.shares, v)
			e.stats.InvalidMessages++
			e.stats.BadShares++
			e.fault(e.leader(v), fmt.Errorf("%w: VID share for view %d: %v", ErrInvalidMessage, v, err))
			e.log.Warn("bad VID share", "view", uint64(v), "peer", e.leader(v), "err", err)
			return false
		}
		sh.verified = true
		// Stored before the vote that depends on them, so a restarted
		// node still holds what let it vote.
		e.ready.DA = append(e.ready.DA, sh.msg, &Certificates{DA: dac})
	}
	return true
}

// retryVote asks the voting rule again for proposal en, if it is the
// current view's and was waiting for data.
func (e *Engine) retryVote(en *entry) {
	if en.proposed && en.leaf.View == e.view {
		e.maybeVote(&en.leaf, en.payloadOrNil(), en.commit, -1)
	}
}

// payloadOrNil returns the entry's payload, or nil when it is not held.
func (en *entry) payloadOrNil() *types.Payload {
	if !en.hasPayload {
		return nil
	}
	return &en.payload
}

// fetchPayloads asks peers for the payloads the chain from g down to the
// anchor lacks and reports whether any was missing.
func (e *Engine) fetchPayloads(chain []*entry) bool {
	missing := false
	for _, en := range chain {
		if !en.hasPayload {
			missing = true
			e.requestAt(en.commit, e.payloadPeer(en.leaf.View), en.leaf.Height())
		}
	}
	return missing
}

// payloadPeer picks a DA member to ask for the payload of view v: one
// other than this node, spread over the committee by view.
func (e *Engine) payloadPeer(v types.ViewNumber) int {
	n := e.table.Len()
	start := int(uint64(v) % uint64(n))
	if e.self >= 0 {
		start = (start + e.self) % n
	}
	for k := range n {
		if i := (start + k) % n; i != e.self && e.table.IsDA(i) {
			return i
		}
	}
	return -1
}

// retryDecide delivers a decide that waited for payloads, once they are
// all here.
func (e *Engine) retryDecide() {
	g := e.da.waiting
	if g == nil {
		return
	}
	if g.leaf.View <= e.anchor.leaf.View {
		e.da.waiting = nil
		return
	}
	if _, ok := e.leaves[g.commit]; !ok {
		e.da.waiting = nil
		return
	}
	e.da.waiting = nil
	e.decide(g, -1)
}

// restoreDA takes the DA proposals and shares a restarted node stored.
func (e *Engine) restoreDA(msgs []Message) {
	for _, m := range msgs {
		switch m := m.(type) {
		case *DAProposal:
			if _, ok := e.da.props[m.View]; !ok {
				e.da.props[m.View] = m
			}
			e.da.voted[m.View] = true
			if en := e.proposalOf(m.View); en != nil && !en.hasPayload && en.leaf.Header.PayloadCommitment == m.Commitment {
				if e.validator.ValidatePayload(&en.leaf, &m.Payload) == nil {
					en.payload, en.hasPayload = m.Payload, true
				}
			}
		case *VIDShare:
			if _, ok := e.da.shares[m.View]; !ok {
				e.da.shares[m.View] = &ownShare{msg: m, verified: true} // checked before it was stored
			}
		case *Certificates:
			// Verified before it was stored.
			if c := m.DA; c != nil {
				e.da.certs[c.View] = c
				e.verify.good.add(c.commit())
			}
		}
	}
}

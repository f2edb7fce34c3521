package nodetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/types"
)

// Behaviour makes a node Byzantine: it rewrites the consensus messages the
// node's honest engine sends, and may add messages of its own. A behaviour
// has what a real Byzantine member has and nothing more: its own staking
// key, the public stake table and genesis, what its node sends, its own
// memory across messages, and (for Colluding members) what the other
// Byzantine members of the network tell it. Set one with
// Network.MakeByzantine or SimConfig.Byzantine; behaviours work in both
// modes.
type Behaviour interface {
	// rewrite returns the messages to send instead of m, each to a member
	// index (consensus.Broadcast for all).
	rewrite(c *byzContext, to int, m consensus.Message) []addressed
}

// byzContext is what a Byzantine node knows: its key, the network, its
// index, its memory, and the coalition it belongs to. One byzContext lives
// as long as its node's Byzantine identity: the whole run in the
// simulation, one start in a Network.
type byzContext struct {
	key     keys.StakingKey
	genesis [32]byte
	self, n int
	// coalition is shared by every Byzantine member of one network (one
	// simulated run, or one Network): what colluders tell each other out of
	// band. Never nil.
	coalition *coalition
	state     byzState
	stats     ByzantineStats
}

// byzState is a Byzantine node's memory across messages; each behaviour
// uses its own fields.
type byzState struct {
	// own are the two leaves an equivocating leader proposed, per view.
	own map[types.ViewNumber][2]types.Commitment
	// colluded is the highest view whose coalition equivocation this
	// member has voted in.
	colluded types.ViewNumber
	// qcs are the last QCs this node sent, oldest first (StaleHighQC).
	qcs []types.QuorumCertificate
	// sent and recorded count and keep this node's messages (Replay).
	sent     uint64
	recorded []consensus.Message
	// fabricated counts the certificates FabricatedHighQC made up.
	fabricated uint64
}

// ByzantineStats count what a Byzantine node did beyond what its honest
// engine asked.
type ByzantineStats struct {
	// Forged counts messages the behaviour made and signed itself (second
	// proposals, votes for other leaves, votes with a replaced high QC,
	// flooded votes).
	Forged uint64
	// Replayed counts old messages sent again (one per recipient).
	Replayed uint64
	// Withheld counts messages (one per recipient) the node did not send.
	Withheld uint64
	// SigningMismatches counts honest messages whose signature the
	// behaviour could not reproduce by re-signing them (see signTimeout):
	// non-zero means it signs differently from consensus, and it sent
	// the message unchanged.
	SigningMismatches uint64
}

func (s *ByzantineStats) add(o ByzantineStats) {
	s.Forged += o.Forged
	s.Replayed += o.Replayed
	s.Withheld += o.Withheld
	s.SigningMismatches += o.SigningMismatches
}

// coalition is what colluding members share: the leaves their leaders
// equivocated with. It is safe for concurrent use (real nodes run one
// goroutine each).
type coalition struct {
	mu    sync.Mutex
	equiv []equivocation // increasing views, the last maxCoalitionViews
}

type equivocation struct {
	view   types.ViewNumber
	leaves [2]types.Commitment
}

// maxCoalitionViews bounds the equivocations a coalition remembers.
const maxCoalitionViews = 64

func (k *coalition) publish(e equivocation) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n := len(k.equiv); n > 0 && k.equiv[n-1].view >= e.view {
		return // a restarted leader re-sending its stored proposal
	}
	k.equiv = append(k.equiv, e)
	if len(k.equiv) > maxCoalitionViews {
		k.equiv = slices.Delete(k.equiv, 0, len(k.equiv)-maxCoalitionViews)
	}
}

// since returns the equivocations of views above v.
func (k *coalition) since(v types.ViewNumber) []equivocation {
	k.mu.Lock()
	defer k.mu.Unlock()
	i, _ := slices.BinarySearchFunc(k.equiv, v+1, func(e equivocation, v types.ViewNumber) int { return int(e.view) - int(v) })
	return slices.Clone(k.equiv[i:])
}

// leader is the leader of view v: member v mod n (docs/protocol.md,
// "Participants and thresholds").
func (c *byzContext) leader(v types.ViewNumber) int { return int(uint64(v) % uint64(c.n)) }

type addressed struct {
	to int
	m  consensus.Message
}

func pass(to int, m consensus.Message) []addressed { return []addressed{{to, m}} }

// EquivocatingLeader, as leader, sends one proposal to half of its peers
// and a different, validly signed one to the other half, then votes for
// both (each vote validly signed): the strongest a lone Byzantine leader
// can do to split a view.
type EquivocatingLeader struct{}

// Colluding is one member of a coalition: the Byzantine members of a
// network whose behaviour is Colluding (at most f of them) tell each other
// out of band which leaves their leaders proposed, and each signs with its
// own key only. As leader a colluder equivocates as EquivocatingLeader
// does; as a member it votes, to the next leader, for every leaf a
// coalition leader proposed in a view, so both sides of the split get the
// coalition's votes.
type Colluding struct{}

// DoubleVoter sends, with each quorum vote, a second validly signed vote for
// another leaf in the same view.
type DoubleVoter struct{}

// BadSignatures replaces the signature of every vote and proposal with a
// valid signature over other data.
type BadSignatures struct{}

// FutureViews sends, with every vote, copies for views far ahead of the
// current one.
type FutureViews struct{}

// VoteFlood sends, with each quorum vote, Votes more votes of the same view
// for made-up leaves, all carrying the real vote's signature (the cheapest
// flood to make: the receiver must look at each one).
type VoteFlood struct{ Votes int }

// StaleHighQC sends timeout and view-sync votes carrying an old QC instead
// of its highest one: the oldest of the last staleQCs QCs it sent, with the
// vote validly re-signed for that QC's view. A member hiding how far the
// network got: every check passes, the certificate is only old.
type StaleHighQC struct{}

// staleQCs is how many of its last QCs StaleHighQC remembers.
const staleQCs = 16

// FabricatedHighQC sends timeout and view-sync votes carrying a made-up
// high QC for the view just below the vote's, the vote itself validly
// signed for that view, so only the certificate check can refuse it. It
// alternates two forgeries: a QC for a leaf nobody proposed, claiming every
// member signed but carrying only the sender's own signature, and its real
// high QC relabelled to the higher view (a bad aggregate signature).
type FabricatedHighQC struct{}

// SilentToward is selective silence: the node sends nothing to the members
// in Leaders (neither its votes, timeout and view-sync votes when they
// collect them, nor its broadcasts), and never votes for a proposal one of
// them made, whoever collects the vote. Toward everyone else it behaves
// honestly.
type SilentToward struct{ Leaders []int }

// Replay records the valid messages its node sends and, with every Every-th
// message, sends again, to every other member, the oldest recorded message
// not yet replayed that is at least replayAge messages old: votes for views
// long past, old proposals and certificates, all still validly signed.
type Replay struct{ Every int }

// replayAge is how many messages old a message is before Replay re-sends
// it; replayKeep bounds the messages it keeps.
const (
	replayAge  = 8
	replayKeep = 256
)

func (f VoteFlood) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	v, ok := m.(*consensus.Vote)
	if !ok {
		return pass(to, m)
	}
	out := make([]addressed, 0, f.Votes+1)
	out = append(out, addressed{to, v})
	for i := range f.Votes {
		fake := *v
		fake.Leaf = sha256.Sum256(append(v.Leaf[:], byte(i), byte(i>>8), byte(i>>16)))
		out = append(out, addressed{to, &fake})
	}
	c.stats.Forged += uint64(f.Votes)
	return out
}

func (EquivocatingLeader) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	switch m := m.(type) {
	case *consensus.Proposal:
		if to == consensus.Broadcast {
			return c.equivocate(m)
		}
	case *consensus.Vote:
		if both, ok := c.state.own[m.View]; ok {
			return c.voteFor(to, m, both[:])
		}
	}
	return pass(to, m)
}

func (Colluding) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	var out []addressed
	if p, ok := m.(*consensus.Proposal); ok && to == consensus.Broadcast {
		out = c.equivocate(p)
	} else {
		out = pass(to, m)
	}
	// Vote in every coalition equivocation not voted in yet, for both
	// leaves, whichever this member's engine saw.
	for _, e := range c.coalition.since(c.state.colluded) {
		c.state.colluded = e.view
		collector := c.leader(e.view + 1)
		if collector == c.self {
			continue // its own engine collects: nothing goes on the wire
		}
		leaves := e.leaves
		if (int(e.view)+c.self)%2 == 1 {
			leaves[0], leaves[1] = leaves[1], leaves[0]
		}
		for _, l := range leaves {
			out = append(out, addressed{collector, &consensus.Vote{View: e.view, Leaf: l, Signer: uint32(c.self),
				Signature: consensus.SignVote(c.key, c.genesis, e.view, l)}})
			c.stats.Forged++
		}
	}
	return out
}

// equivocate sends p to the even members and a second, validly signed
// proposal of the same view to the odd ones, and remembers (and tells the
// coalition) both leaves.
func (c *byzContext) equivocate(p *consensus.Proposal) []addressed {
	alt := *p
	alt.Leaf.Header.Timestamp++ // a different leaf for the same view
	alt.Signature = consensus.SignProposal(c.key, c.genesis, &alt.Leaf)
	c.stats.Forged++
	v := p.Leaf.View
	both := [2]types.Commitment{p.Leaf.Commit(), alt.Leaf.Commit()}
	if c.state.own == nil {
		c.state.own = make(map[types.ViewNumber][2]types.Commitment)
	}
	c.state.own[v] = both
	for w := range c.state.own {
		if w+maxCoalitionViews < v {
			delete(c.state.own, w)
		}
	}
	c.coalition.publish(equivocation{view: v, leaves: both})
	var out []addressed
	for i := range c.n {
		switch {
		case i == c.self:
		case i%2 == 0:
			out = append(out, addressed{i, p})
		default:
			out = append(out, addressed{i, &alt})
		}
	}
	return out
}

// voteFor sends, besides the honest vote v, a validly signed vote of the
// same view for each other leaf in leaves.
func (c *byzContext) voteFor(to int, v *consensus.Vote, leaves []types.Commitment) []addressed {
	out := pass(to, v)
	for _, l := range leaves {
		if l == v.Leaf {
			continue
		}
		out = append(out, addressed{to, &consensus.Vote{View: v.View, Leaf: l, Signer: v.Signer,
			Signature: consensus.SignVote(c.key, c.genesis, v.View, l)}})
		c.stats.Forged++
	}
	return out
}

func (DoubleVoter) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	v, ok := m.(*consensus.Vote)
	if !ok {
		return pass(to, m)
	}
	other := *v
	other.Leaf = sha256.Sum256(v.Leaf[:])
	other.Signature = consensus.SignVote(c.key, c.genesis, v.View, other.Leaf)
	c.stats.Forged++
	return []addressed{{to, &other}, {to, v}}
}

func (BadSignatures) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	junk := c.key.Sign([]byte("not what the message says"))
	switch m.(type) {
	case *consensus.Vote, *consensus.Proposal, *consensus.TimeoutVote:
		c.stats.Forged++
	}
	switch v := m.(type) {
	case *consensus.Vote:
		c := *v
		c.Signature = junk
		return pass(to, &c)
	case *consensus.Proposal:
		c := *v
		c.Signature = junk
		return pass(to, &c)
	case *consensus.TimeoutVote:
		c := *v
		c.Signature = junk
		return pass(to, &c)
	}
	return pass(to, m)
}

func (FutureViews) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	out := pass(to, m)
	if v, ok := m.(*consensus.Vote); ok {
		for _, ahead := range []types.ViewNumber{1_000, 1_000_000} {
			f := *v
			f.View += ahead
			f.Signature = consensus.SignVote(c.key, c.genesis, f.View, f.Leaf)
			out = append(out, addressed{to, &f})
			c.stats.Forged++
		}
	}
	return out
}

func (StaleHighQC) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	switch v := m.(type) {
	case *consensus.Proposal:
		c.rememberQC(v.Leaf.JustifyQC)
	case *consensus.Certificates:
		if v.QC != nil {
			c.rememberQC(*v.QC)
		}
	case *consensus.TimeoutVote:
		c.rememberQC(v.HighQC)
		stale := c.state.qcs[0]
		if stale.View >= v.HighQC.View || !c.signsLikeConsensus(m) {
			break
		}
		f := *v
		f.HighQC = stale
		f.Signature = signTimeout(c.key, c.genesis, f.View, stale.View)
		c.stats.Forged++
		return pass(to, &f)
	case *consensus.ViewSyncVote:
		c.rememberQC(v.HighQC)
		stale := c.state.qcs[0]
		if stale.View >= v.HighQC.View || !c.signsLikeConsensus(m) {
			break
		}
		f := *v
		f.HighQC = stale
		f.Signature = signViewSync(c.key, c.genesis, f.Phase, f.Round, f.Relay, stale.View)
		c.stats.Forged++
		return pass(to, &f)
	}
	return pass(to, m)
}

// rememberQC keeps q among the last staleQCs distinct QCs sent.
func (c *byzContext) rememberQC(q types.QuorumCertificate) {
	if n := len(c.state.qcs); n > 0 && c.state.qcs[n-1].View >= q.View {
		return
	}
	c.state.qcs = append(c.state.qcs, q)
	if len(c.state.qcs) > staleQCs {
		c.state.qcs = slices.Delete(c.state.qcs, 0, len(c.state.qcs)-staleQCs)
	}
}

func (FabricatedHighQC) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	switch v := m.(type) {
	case *consensus.TimeoutVote:
		if v.View < 2 || !c.signsLikeConsensus(m) {
			break
		}
		f := *v
		f.HighQC = c.fabricateQC(v.View-1, v.HighQC)
		f.Signature = signTimeout(c.key, c.genesis, f.View, f.HighQC.View)
		c.stats.Forged++
		return pass(to, &f)
	case *consensus.ViewSyncVote:
		if v.Round < 2 || !c.signsLikeConsensus(m) {
			break
		}
		f := *v
		f.HighQC = c.fabricateQC(v.Round-1, v.HighQC)
		f.Signature = signViewSync(c.key, c.genesis, f.Phase, f.Round, f.Relay, f.HighQC.View)
		c.stats.Forged++
		return pass(to, &f)
	}
	return pass(to, m)
}

// fabricateQC makes up a QC of view: alternately for a made-up leaf,
// "signed" by every member with only this member's signature, and the
// real QC relabelled to view.
func (c *byzContext) fabricateQC(view types.ViewNumber, real types.QuorumCertificate) types.QuorumCertificate {
	c.state.fabricated++
	if c.state.fabricated%2 == 0 && real.View < view && !real.IsGenesis() {
		q := real
		q.View = view
		return q
	}
	leaf := types.Commitment(sha256.Sum256(binary.BigEndian.AppendUint64([]byte("nodetest/fabricated"), uint64(view))))
	all := types.NewBitmap(c.n)
	for i := range c.n {
		all.Set(i)
	}
	return types.QuorumCertificate{View: view, Leaf: leaf, Signers: all,
		Signature: consensus.SignVote(c.key, c.genesis, view, leaf).Bytes()}
}

func (s SilentToward) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	if v, ok := m.(*consensus.Vote); ok && slices.Contains(s.Leaders, c.leader(v.View)) {
		c.stats.Withheld++
		return nil // no vote for a chosen leader's proposal
	}
	return withhold(c, s.Leaders, to, m)
}

func (r Replay) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	out := pass(to, m)
	switch m.(type) {
	case *consensus.FetchRequest, *consensus.FetchResponse:
		return out // answers to one peer's request: nothing to gain
	}
	st := &c.state
	st.recorded = append(st.recorded, m)
	st.sent++
	every := uint64(max(r.Every, 1))
	if st.sent%every == 0 && len(st.recorded) > replayAge {
		old := st.recorded[0]
		st.recorded = st.recorded[1:]
		for i := range c.n {
			if i != c.self {
				out = append(out, addressed{i, old})
				c.stats.Replayed++
			}
		}
	}
	if len(st.recorded) > replayKeep {
		st.recorded = slices.Delete(st.recorded, 0, len(st.recorded)-replayKeep)
	}
	return out
}

// signTimeout and signViewSync sign a timeout vote and a view-sync vote as
// consensus does (docs/protocol.md, "What is signed").
func signTimeout(k keys.StakingKey, genesis [32]byte, view, highView types.ViewNumber) keys.Signature {
	return consensus.SignTimeoutVote(k, genesis, view, highView)
}

func signViewSync(k keys.StakingKey, genesis [32]byte, phase consensus.Phase, round types.ViewNumber, relay uint64, highView types.ViewNumber) keys.Signature {
	return consensus.SignViewSyncVote(k, genesis, phase, round, relay, highView)
}

// signsLikeConsensus reports whether re-signing reproduces the signature of m, a vote the honest engine made (BLS
// signatures are deterministic): m re-signed by the copy must encode to
// the same bytes. A mismatch is counted.
func (c *byzContext) signsLikeConsensus(m consensus.Message) bool {
	var again consensus.Message
	switch v := m.(type) {
	case *consensus.TimeoutVote:
		f := *v
		f.Signature = signTimeout(c.key, c.genesis, v.View, v.HighQC.View)
		again = &f
	case *consensus.ViewSyncVote:
		f := *v
		f.Signature = signViewSync(c.key, c.genesis, v.Phase, v.Round, v.Relay, v.HighQC.View)
		again = &f
	default:
		return false
	}
	a, err1 := consensus.Encode(m)
	b, err2 := consensus.Encode(again)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		c.stats.SigningMismatches++
		return false
	}
	return true
}

// MakeByzantine gives node i a Byzantine behaviour from its next (re)start;
// call it before the node starts (crash and restart it to apply).
func (n *Network) MakeByzantine(i int, b Behaviour) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.byz[i] = b
}

// framed is a frame addressed to a member index (consensus.Broadcast for
// every other member).
type framed struct {
	to   int
	data []byte
}

// rewriteFrame applies behaviour b to a frame its node is about to send to
// to. Frames that are not consensus messages pass unchanged. Both modes use
// it: the Byzantine transport of real nodes and the simulation's Sender.
func rewriteFrame(b Behaviour, c *byzContext, to int, data []byte) ([]framed, error) {
	f, err := replica.DecodeFrame(data)
	if err != nil || f.Consensus == nil {
		return []framed{{to, data}}, nil
	}
	var out []framed
	for _, a := range b.rewrite(c, to, f.Consensus) {
		d, err := replica.EncodeMessage(a.m)
		if err != nil {
			return nil, err
		}
		out = append(out, framed{a.to, d})
	}
	return out, nil
}

// byzantine wraps a real node's transport and rewrites its consensus
// messages.
type byzantine struct {
	network.Transport
	behaviour Behaviour
	mu        sync.Mutex // guards ctx: the run loop and Submit may both send
	ctx       byzContext
	ids       []network.PeerID
}

func (b *byzantine) index(id network.PeerID) int {
	for i, x := range b.ids {
		if x == id {
			return i
		}
	}
	return consensus.Broadcast
}

func (b *byzantine) Send(ctx context.Context, to network.PeerID, msg []byte) error {
	return b.rewriteAndSend(ctx, b.index(to), replica.TopicConsensus, msg)
}

func (b *byzantine) Broadcast(ctx context.Context, topic string, msg []byte) error {
	return b.rewriteAndSend(ctx, consensus.Broadcast, topic, msg)
}

func (b *byzantine) rewriteAndSend(ctx context.Context, to int, topic string, msg []byte) error {
	b.mu.Lock()
	frames, err := rewriteFrame(b.behaviour, &b.ctx, to, msg)
	b.mu.Unlock()
	if err != nil {
		return err
	}
	for _, f := range frames {
		if f.to == consensus.Broadcast {
			err = b.Transport.Broadcast(ctx, topic, f.data)
		} else {
			err = b.Transport.Send(ctx, b.ids[f.to], f.data)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// byzSender is the simulation's counterpart of byzantine: it wraps a
// replica's Sender. The simulation is single-threaded, so ctx needs no lock.
type byzSender struct {
	replica.Sender
	behaviour Behaviour
	ctx       *byzContext
}

func (b *byzSender) Send(ctx context.Context, to int, data []byte) {
	b.rewriteAndSend(ctx, to, replica.TopicConsensus, data)
}

func (b *byzSender) Broadcast(ctx context.Context, topic string, data []byte) {
	b.rewriteAndSend(ctx, consensus.Broadcast, topic, data)
}

func (b *byzSender) rewriteAndSend(ctx context.Context, to int, topic string, data []byte) {
	frames, err := rewriteFrame(b.behaviour, b.ctx, to, data)
	if err != nil {
		return // the behaviour built a message that does not encode: nothing is sent
	}
	for _, f := range frames {
		if f.to == consensus.Broadcast {
			b.Sender.Broadcast(ctx, topic, f.data)
		} else {
			b.Sender.Send(ctx, f.to, f.data)
		}
	}
}

// Withhold sends nothing to the members listed in From, and everything else
// as an honest node would: a member that silently leaves part of the
// network out (docs/protocol.md, "Liveness after faults": liveness must hold with up to f such members).
type Withhold struct {
	From []int
}

func (w Withhold) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	return withhold(c, w.From, to, m)
}

// withhold sends m to to (or to every other member for a broadcast) except
// to the members in from.
func withhold(c *byzContext, from []int, to int, m consensus.Message) []addressed {
	if to != consensus.Broadcast {
		if slices.Contains(from, to) {
			c.stats.Withheld++
			return nil
		}
		return pass(to, m)
	}
	var out []addressed
	for i := range c.n {
		switch {
		case i == c.self:
		case slices.Contains(from, i):
			c.stats.Withheld++
		default:
			out = append(out, addressed{i, m})
		}
	}
	return out
}

package consensus

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// Validator is what the application decides about a proposal: whether the
// header is valid on top of its parent (docs/protocol.md, "Header validation") and whether a payload
// matches a header.
type Validator interface {
	// ValidateProposal checks leaf (with its payload) as a child of parent.
	// now is the engine's clock, for the proposal-time check. payload is
	// nil when the node does not hold it (the DA path, docs/protocol.md,
	// "Data availability"): the header's rules are checked, and the DA
	// certificate vouches for the payload.
	ValidateProposal(parent, leaf *types.Leaf, payload *types.Payload, now time.Time) error
	// ValidatePayload checks that payload is the one leaf's header commits
	// to. Every leaf the engine learns of (proposed or fetched) passes
	// here first, so the application may remember it: a later proposal's
	// parent may be a leaf the engine never asked it to validate.
	ValidatePayload(leaf *types.Leaf, payload *types.Payload) error
}

// BuildRequest is what a leader asks its block builder for.
type BuildRequest struct {
	Parent *types.Leaf
	View   types.ViewNumber
	Now    time.Time
	// Undecided holds the payloads of the ancestors the new block extends
	// that the caller has not yet seen decided (the undecided ones, parent
	// first, and those decided in the step now running), so the builder
	// does not include their transactions again.
	Undecided []*types.Payload
}

// BlockBuilder builds the block a leader proposes.
type BlockBuilder interface {
	// Pending reports whether transactions are waiting to be sequenced.
	Pending() bool
	// BuildBlock returns the header and payload of the next block.
	BuildBlock(req BuildRequest) (types.Header, types.Payload, error)
}

// State is what a restarted engine resumes from: its safety state, the last
// decided leaf (the anchor) with its certificate, and the proposals it had
// stored for undecided views (its own among them).
type State struct {
	Safety    types.SafetyState
	Anchor    FetchedLeaf
	AnchorQC  types.QuorumCertificate
	Proposals []*Proposal
	// DA holds the stored DA proposals, VID shares and DA certificates
	// (*DAProposal, *VIDShare, *Certificates with DA set).
	DA []Message
}

// Outbound is a message to send. To is a stake-table index, or Broadcast.
type Outbound struct {
	To  int
	Msg Message
}

// Broadcast is the Outbound.To value that addresses every other member.
const Broadcast = -1

// Ready is what the caller must do after a Step or Tick, in field order:
// persist Safety and Proposals durably, then send Messages, then deliver
// Decided. Halt, when set, means the engine stopped (see ErrSafetyViolation).
// Faulty lists the members caught in this step with a bad vote signature
// or an invalid certificate, for the caller to report (for example to a
// transport that scores peers); it needs no ordering.
//
// DA lists DA proposals, verified VID shares and the DA certificates they
// were checked with (*DAProposal, *VIDShare, *Certificates) to persist
// with the proposals. Payloads names the held leaves whose payload
// arrived in this step (so a caller serving leaves to peers can serve
// them); it needs no ordering either.
type Ready struct {
	Safety    *types.SafetyState
	Proposals []*Proposal
	DA        []Message
	Messages  []Outbound
	Decided   []types.Block
	Halt      error
	Faulty    []Fault
	Payloads  []types.Commitment
}

// Empty reports whether there is nothing to do.
func (r *Ready) Empty() bool {
	return r.Safety == nil && len(r.Proposals) == 0 && len(r.Messages) == 0 && len(r.Decided) == 0 && r.Halt == nil &&
		len(r.Faulty) == 0 && len(r.DA) == 0 && len(r.Payloads) == 0
}

// Stats are counters and gauges the engine keeps for metrics.
type Stats struct {
	View, LastDecidedView, LastVotedView types.ViewNumber
	LastDecidedHeight                    uint64
	Timeouts, TimeoutsAsLeader           uint64
	InvalidMessages, InvalidQCs          uint64
	// RejectedProposals counts proposals of the current view that failed
	// the application's checks (header validation), so got no vote.
	RejectedProposals             uint64
	EmptyBlocksProposed, Proposed uint64
	ViewSyncs                     uint64
	FetchRequests                 uint64
	// FetchesAbandoned counts leaves given up on after every peer was
	// asked fetchRounds times without an answer (docs/protocol.md,
	// "Catch-up"); a later certificate naming the leaf asks again.
	FetchesAbandoned uint64
	// CatchupSessions counts long catch-ups started (docs/protocol.md,
	// "Catch-up"); BehindPruningHorizon counts leaves given up on because
	// every peer that answered had pruned them.
	CatchupSessions, BehindPruningHorizon uint64
	// BadVoteSignatures counts votes (quorum, timeout, view sync) whose
	// signature failed its single check or did not parse (their senders
	// are ignored for the rest of the vote set); SingleVoteChecks counts
	// those single checks, which a failed aggregate needs only for the
	// votes not already known good.
	BadVoteSignatures, SingleVoteChecks uint64
	// Faults counts the entries of Ready.Faulty: members caught with a bad
	// vote signature or an invalid certificate. Each is also counted in
	// InvalidMessages.
	Faults uint64
	// FutureVotesDropped counts votes for views after the current one that
	// were refused, or evicted another of their member's, because the
	// member already had maxFutureVotes vote sets of that kind
	// (docs/protocol.md, "Bounds").
	FutureVotesDropped uint64
	// CertificateChecksRefused counts certificates (and proposal
	// signatures) dropped unchecked because their sender, caught once with
	// an invalid certificate, had used its checks for the view.
	CertificateChecksRefused uint64
	ViewsDecided             uint64
	// ConflictingDecides counts certified two-chains that decided a leaf
	// conflicting with the decided chain (each halts the node; see
	// checkConflict).
	ConflictingDecides uint64
	// SignatureChecks counts the pairing checks the engine performed:
	// single signatures (proposals), certificates (QCs, TCs, view-sync and
	// DA certificates), the aggregate check of each vote set it formed a
	// certificate from, and single vote checks after a failed aggregate.
	// docs/protocol.md, "Signature checks", gives what a fault-free view
	// needs.
	SignatureChecks uint64
	// BadShares counts VID shares that failed their check against the
	// proposal's payload commitment (their sender, the leader, is
	// reported in Ready.Faulty).
	BadShares uint64
}

// Params configures a new Engine.
type Params struct {
	Config     Config
	StakeTable *StakeTable
	// Key is this node's staking key. A key not in the stake table makes an
	// observer: it follows and decides but never signs.
	Key keys.StakingKey
	// Genesis is the genesis commitment every signature binds.
	Genesis        [32]byte
	GenesisLeaf    types.Leaf
	GenesisPayload types.Payload
	Validator      Validator
	Builder        BlockBuilder
	// VID, when set, turns on the DA path (docs/protocol.md, "Data
	// availability"): payloads go to the DA committee, each member gets a
	// VID share, and a replica votes only with the DA certificate and its
	// share. When nil, proposals carry their payload to every member and
	// there is no DA certificate (consensus tests of the voting rules use
	// this).
	VID VID
	// Verifier, when set, is the verifier the engine checks signatures
	// with and remembers them in, shared with whoever checks messages
	// before the engine takes them (Verifier.Precheck, from other
	// goroutines); it must be made with this stake table, genesis and
	// genesis leaf. When nil the engine makes its own.
	Verifier *Verifier
	// Restore resumes from persisted state; nil starts at genesis.
	Restore *State
	// Now is the engine's initial time.
	Now    time.Time
	Logger *slog.Logger
}

// entry is a known leaf.
type entry struct {
	leaf    types.Leaf
	payload types.Payload
	commit  types.Commitment
	qc      *types.QuorumCertificate // a verified certificate of this leaf, once known
	// proposed marks a leaf that arrived as a proposal which passed every
	// check but the parent's presence: it may still be voted for.
	proposed bool
	// hasPayload marks payload as held (always, without a DA layer).
	hasPayload bool
}

// accumulator collects votes of one kind for one target.
type voteSet struct {
	signers types.Bitmap
	sigs    map[uint32]*voteSig         // parsed when the set is aggregated
	high    map[uint32]types.ViewNumber // signed high views (timeout, view sync)
	highQCs map[uint32]types.QuorumCertificate
	done    bool
	// verified are the votes whose signature is known good (a successful
	// aggregate or single check): a failed aggregate re-checks only the
	// others. banned are the members that sent a bad signature to this
	// set: their further votes to it are ignored.
	verified, banned map[uint32]bool
}

// memberView keys what one member did in one view.
type memberView struct {
	view   types.ViewNumber
	member uint32
}

type voteKey struct {
	kind  kind
	view  types.ViewNumber // view, or round for view sync
	relay uint64
	leaf  types.Commitment // quorum votes only
}

type fetch struct {
	id         uint64
	peer       int
	deadline   time.Time
	stopHeight uint64
	tries      int
	// headers marks a request for leaves without payloads (a long
	// catch-up's walk); height is the leaf's height when known (else 0);
	// pruned counts the peers that answered they pruned it.
	headers bool
	height  uint64
	pruned  int
}

// Engine is the consensus state machine. It is not safe for concurrent use;
// one goroutine (the node's run loop, or a simulation) drives it.
type Engine struct {
	cfg       Config
	table     *StakeTable
	key       keys.StakingKey
	self      int // -1 for an observer
	validator Validator
	builder   BlockBuilder
	vid       VID // nil: no DA layer
	da        daState
	verify    *verifier
	log       *slog.Logger

	now time.Time

	// replica state
	view      types.ViewNumber
	lastVoted types.ViewNumber
	highQC    types.QuorumCertificate
	timeouts  int
	lastTO    types.ViewNumber
	dirty     bool

	// chain
	leaves    map[types.Commitment]*entry
	anchor    *entry
	byView    map[types.ViewNumber]types.Commitment // first proposal seen per view
	ownProps  map[types.ViewNumber]*Proposal
	pendingQC map[types.Commitment]*types.QuorumCertificate

	// view timing and evidence
	viewStart    time.Time
	viewDeadline time.Time
	proposed     types.ViewNumber
	lastTC       *TimeoutCert
	lastFinalize *ViewSyncCert
	// moveCert is the certificate that moved the node to its current view,
	// sent to nodes still behind it (answerStale).
	moveCert Certificates
	// replied rate-limits answers to each member (see reply).
	replied map[replyKey]time.Time

	votes map[voteKey]*voteSet
	// voteLeaf is the leaf each member's quorum vote of a view named: an
	// honest member votes for one leaf per view, so a member naming a
	// second one is refused before any vote set is allocated for it, and
	// one member can hold at most one vote set per view in the window.
	voteLeaf map[memberView]types.Commitment
	vs       viewSync
	// vsVoted holds the view-sync votes cast in the current attempt;
	// vsFormed, as relay, the highest certificate formed per round and relay.
	vsVoted  map[voteKey]bool
	vsFormed map[slot]*ViewSyncCert
	// held lists each member's votes of each kind for views after the
	// current one (see holdVote); suspects are the members one of whose
	// certificates failed its check, with their budget (see certAllowance).
	held     map[heldKey][]voteKey
	suspects map[int]*certBudget

	fetches map[types.Commitment]*fetch
	// abandoned are leaves no peer answered for (see retryFetch): not
	// asked for again until a peer's message names them.
	abandoned map[types.Commitment]bool
	fetchID   uint64
	// catchup is the long catch-up under way, or nil (catchup.go);
	// horizon the highest first kept height a peer reported when it could
	// not serve a leaf (FetchUnavailable).
	catchup *catchup
	horizon uint64
	// behindUntil is when a node behind the peers' pruning horizon next
	// tries a long catch-up.
	behindUntil time.Time

	// retryAt is when to ask the application again after it answered
	// ErrNotYet (for a vote: waitingVote names the proposal); zero when
	// nothing waits.
	retryAt     time.Time
	waitingVote types.Commitment

	// proposedInStep limits a node to one proposal per Step or Tick, so a
	// node that leads consecutive views (a one-node network) returns to its
	// caller between them; proposeSoon asks the caller for an immediate Tick.
	proposedInStep, proposeSoon bool

	// rs lets a restarted engine greet peers that start after it.
	rs restartState

	stats Stats
	// voteChecks counts the aggregate checks of vote sets (see
	// Stats.SignatureChecks).
	voteChecks uint64
	ready      Ready
	halted     error
	queue      []Outbound // messages to self, processed before Step returns
}

// New returns an engine at genesis, or resumed from p.Restore.
func New(p Params) (*Engine, error) {
	cfg, err := p.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.StakeTable == nil || p.Validator == nil || p.Builder == nil {
		return nil, fmt.Errorf("%w: stake table, validator and builder are required", ErrInvalidConfig)
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	self := -1
	if i, ok := p.StakeTable.Index(p.Key.PubKey()); ok {
		self = i
	}
	gen := &entry{leaf: p.GenesisLeaf, payload: p.GenesisPayload, commit: p.GenesisLeaf.Commit(), hasPayload: true}
	gqc := types.GenesisQC(&p.GenesisLeaf)
	gen.qc = &gqc
	verify := newVerifier(p.StakeTable, p.Genesis, gqc)
	if p.Verifier != nil {
		verify = p.Verifier.v
		if verify.table != p.StakeTable || verify.genesis != p.Genesis || verify.genesisQC.Leaf != gqc.Leaf {
			return nil, fmt.Errorf("%w: the verifier was made for another stake table, genesis or genesis leaf", ErrInvalidConfig)
		}
	}
	e := &Engine{
		cfg: cfg, table: p.StakeTable, key: p.Key, self: self,
		validator: p.Validator, builder: p.Builder, vid: p.VID, da: newDAState(),
		verify: verify,
		log:    log.With("member", self),
		now:    p.Now,
		leaves: make(map[types.Commitment]*entry), byView: make(map[types.ViewNumber]types.Commitment),
		ownProps: make(map[types.ViewNumber]*Proposal), pendingQC: make(map[types.Commitment]*types.QuorumCertificate),
		replied: make(map[replyKey]time.Time), votes: make(map[voteKey]*voteSet), voteLeaf: make(map[memberView]types.Commitment),
		vsVoted: make(map[voteKey]bool), vsFormed: make(map[slot]*ViewSyncCert),
		held: make(map[heldKey][]voteKey), suspects: make(map[int]*certBudget),
		fetches: make(map[types.Commitment]*fetch), abandoned: make(map[types.Commitment]bool),
		highQC: gqc,
	}
	e.anchor = gen
	e.leaves[gen.commit] = gen
	if r := p.Restore; r != nil {
		a := &entry{leaf: r.Anchor.Leaf, payload: r.Anchor.Payload, commit: r.Anchor.Leaf.Commit(), hasPayload: true}
		aqc := r.AnchorQC
		a.qc = &aqc
		if aqc.Leaf != a.commit {
			return nil, fmt.Errorf("%w: restored anchor certificate is for another leaf", ErrInvalidConfig)
		}
		delete(e.leaves, gen.commit)
		e.anchor = a
		e.leaves[a.commit] = a
		e.highQC = r.Safety.HighQC
		e.lastVoted = r.Safety.LastVotedView
		for _, prop := range r.Proposals {
			if prop.Leaf.View <= a.leaf.View {
				continue
			}
			c := prop.Leaf.Commit()
			e.leaves[c] = &entry{leaf: prop.Leaf, payload: prop.Payload, commit: c, hasPayload: e.vid == nil}
			if _, seen := e.byView[prop.Leaf.View]; !seen {
				e.byView[prop.Leaf.View] = c
			}
			if self >= 0 && p.StakeTable.Leader(prop.Leaf.View) == self {
				e.ownProps[prop.Leaf.View] = prop
			}
		}
		e.restoreDA(r.DA)
		// Certificates known from the restored chain.
		for _, en := range e.leaves {
			if parent, ok := e.leaves[en.leaf.Parent]; ok && parent.qc == nil && en.leaf.JustifyQC.Leaf == parent.commit {
				qc := en.leaf.JustifyQC
				parent.qc = &qc
			}
		}
		if hq, ok := e.leaves[e.highQC.Leaf]; ok && hq.qc == nil {
			qc := e.highQC
			hq.qc = &qc
		}
		e.stats.LastDecidedView = a.leaf.View
		e.stats.LastDecidedHeight = a.leaf.Height()
		// Resume in the view the node can prove to others: the one after its
		// highest QC. A higher persisted view was reached through a timeout
		// or view-sync certificate that is not kept; resuming there would
		// leave the node unable to bring anyone else to it (docs/protocol.md,
		// "Restarts"). Voting safety rests on LastVotedView, not on the view.
		e.enterView(max(e.highQC.View+1, 1))
		if !e.highQC.IsGenesis() {
			qc := e.highQC
			e.moveCert = Certificates{QC: &qc}
		}
	} else {
		e.enterView(1)
	}
	e.stats.LastVotedView = e.lastVoted
	e.tryPropose()
	if p.Restore != nil {
		e.startRestarted()
	}
	e.flushSelf()
	return e, nil
}

// View returns the current view.
func (e *Engine) View() types.ViewNumber { return e.view }

// Self returns this node's stake-table index, or -1 for an observer.
func (e *Engine) Self() int { return e.self }

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.SignatureChecks = e.verify.checks.Load() + e.verify.singles.Load() + e.voteChecks + s.SingleVoteChecks
	s.View, s.LastVotedView = e.view, e.lastVoted
	return s
}

// Halted returns the error that stopped the engine, if any.
func (e *Engine) Halted() error { return e.halted }

// NextDeadline returns when the engine next needs a Tick.
func (e *Engine) NextDeadline() time.Time {
	if e.proposeSoon {
		return e.now
	}
	d := e.viewDeadline
	if e.vs.active && e.vs.deadline.Before(d) {
		d = e.vs.deadline
	}
	if e.self >= 0 && e.table.Leader(e.view) == e.self && e.proposed < e.view {
		// A leader that could not propose at its deadline (it waits for a
		// certificate or a leaf) is asked again a little later, never in a
		// loop.
		pd := e.viewStart.Add(e.cfg.BuilderTimeout)
		if !pd.After(e.now) {
			pd = e.now.Add(retryInterval)
		}
		if pd.Before(d) {
			d = pd
		}
	}
	if !e.retryAt.IsZero() && e.retryAt.Before(d) {
		d = e.retryAt
	}
	for _, f := range e.fetches {
		if f.deadline.Before(d) {
			d = f.deadline
		}
	}
	return d
}

// Ready returns and clears what the caller must do (see Ready).
func (e *Engine) Ready() Ready {
	if e.dirty {
		s := types.SafetyState{View: e.view, LastVotedView: e.lastVoted, HighQC: e.highQC}
		e.ready.Safety = &s
		e.dirty = false
	}
	r := e.ready
	e.ready = Ready{}
	return r
}

// Tick advances the engine's clock to now and fires due timers. It also
// lets a waiting leader propose once transactions have arrived.
func (e *Engine) Tick(now time.Time) {
	if e.halted != nil {
		return
	}
	if now.After(e.now) {
		e.now = now
	}
	e.proposedInStep, e.proposeSoon = false, false
	if !e.now.Before(e.viewDeadline) {
		e.onViewTimeout()
	}
	if e.vs.active && !e.now.Before(e.vs.deadline) {
		e.onViewSyncTimeout()
	}
	e.retryDueFetches()
	if !e.retryAt.IsZero() && !e.now.Before(e.retryAt) {
		e.retryAt = time.Time{}
		if en, ok := e.leaves[e.waitingVote]; ok && !e.waitingVote.IsZero() && en.leaf.View == e.view {
			e.maybeVote(&en.leaf, en.payloadOrNil(), en.commit, -1)
		}
	}
	e.tryPropose()
	e.flushSelf()
}

// Step processes one message from member from (its stake-table index, or -1
// when the sender is not a member, e.g. an observer asking for leaves).
func (e *Engine) Step(from int, m Message) {
	if e.halted != nil {
		return
	}
	e.proposedInStep = false
	e.greet(from)
	e.step(from, m)
	e.timeOutIfStuck()
	e.flushSelf()
}

func (e *Engine) step(from int, m Message) {
	var err error
	switch m := m.(type) {
	case *Proposal:
		err = e.onProposal(from, m)
	case *Vote:
		err = e.onVote(from, m)
	case *TimeoutVote:
		err = e.onTimeoutVote(from, m)
	case *ViewSyncVote:
		err = e.onViewSyncVote(from, m)
	case *Certificates:
		err = e.onCertificates(from, m)
	case *DAProposal:
		err = e.onDAProposal(from, m)
	case *DAVote:
		err = e.onDAVote(from, m)
	case *VIDShare:
		err = e.onVIDShare(from, m)
	case *FetchResponse:
		err = e.onFetchResponse(from, m)
	case *HeaderResponse:
		err = e.onHeaderResponse(from, m)
	case *FetchUnavailable:
		err = e.onFetchUnavailable(from, m)
	case *FetchRequest, *HeaderRequest:
		// Served by the caller, which can read decided leaves from storage
		// (see ServeFetch); an engine has nothing to do with one.
	default:
		err = fmt.Errorf("%w: unknown message type %T", ErrInvalidMessage, m)
	}
	if err != nil {
		e.stats.InvalidMessages++
		e.log.Debug("dropped message", "peer", from, "err", err)
	}
}

// flushSelf processes messages the engine addressed to itself.
func (e *Engine) flushSelf() {
	for len(e.queue) > 0 && e.halted == nil {
		m := e.queue[0]
		e.queue = e.queue[1:]
		e.step(e.self, m.Msg)
	}
	e.queue = nil
}

// send addresses a message to member to (possibly self) or Broadcast.
func (e *Engine) send(to int, m Message) {
	if to == e.self && to >= 0 {
		e.queue = append(e.queue, Outbound{To: to, Msg: m})
		return
	}
	e.ready.Messages = append(e.ready.Messages, Outbound{To: to, Msg: m})
}

func (e *Engine) halt(err error) {
	e.halted = err
	e.ready.Halt = err
	e.log.Error("consensus halted", "err", err)
}

func (e *Engine) leader(v types.ViewNumber) int { return e.table.Leader(v) }

// enterView moves to view v (v > current view), resetting the view timer.
func (e *Engine) enterView(v types.ViewNumber) {
	if v <= e.view {
		return
	}
	e.view = v
	e.dirty = true
	e.waitingVote = types.Commitment{}
	e.viewStart = e.now
	e.viewDeadline = e.now.Add(e.cfg.viewTimeout(e.timeouts))
	if e.vs.active && v >= e.vs.round {
		e.vs.active = false
	}
	if v%100 == 0 {
		e.log.Info(fmt.Sprintf("Progress: entered view %d", v), "view", uint64(v))
	}
	// Forget vote sets that can no longer matter.
	for k := range e.votes {
		if k.view+1 < v {
			delete(e.votes, k)
		}
	}
	for k := range e.voteLeaf {
		if k.view+1 < v {
			delete(e.voteLeaf, k)
		}
	}
	e.pruneHeld()
	e.da.prune(daKeep(v))
	e.tryDAVote(v)
	e.tryDAVote(v + 1)
	for w := range e.ownProps {
		if w+e.table.pruneWindow() < v {
			delete(e.ownProps, w)
		}
	}
	for k := range e.vsVoted {
		if k.view < v {
			delete(e.vsVoted, k)
		}
	}
	for s := range e.vsFormed {
		if s.round < v {
			delete(e.vsFormed, s)
		}
	}
	for k := range e.replied {
		if k.view < v {
			delete(e.replied, k)
		}
	}
}

// retryInterval is how soon the engine asks the application again after
// ErrNotYet.
const retryInterval = 20 * time.Millisecond

// pruneWindow is how many views of own proposals are kept in memory.
func (t *StakeTable) pruneWindow() types.ViewNumber { return 2*types.ViewNumber(len(t.members)) + 10 }

// --- certificates -------------------------------------------------------

// onQC processes a verified QC from any source.
func (e *Engine) onQC(q *types.QuorumCertificate, from int) {
	if q.View > e.highQC.View {
		e.highQC = *q
		e.dirty = true
	}
	if e.timeouts > 0 && q.View >= e.lastTO {
		e.timeouts = 0
	}
	if q.View+1 > e.view {
		e.moveCert = Certificates{QC: q}
		e.enterView(q.View + 1)
	}
	en, ok := e.leaves[q.Leaf]
	if !ok {
		if q.View > e.anchor.leaf.View {
			if _, have := e.pendingQC[q.Leaf]; !have {
				qc := *q
				e.pendingQC[q.Leaf] = &qc
			}
			e.fetch(q.Leaf, from)
		}
		return
	}
	if en.qc == nil {
		qc := *q
		en.qc = &qc
	}
	e.checkDecide(en, from)
}

// onTC processes a verified timeout certificate.
func (e *Engine) onTC(tc *TimeoutCert, from int) {
	e.onQC(&tc.HighQC, from)
	if tc.View+1 >= e.view && (e.lastTC == nil || tc.View > e.lastTC.View) {
		e.lastTC = tc
	}
	if tc.View+1 > e.view {
		e.moveCert = Certificates{TC: tc}
		e.enterView(tc.View + 1)
	}
}

// checkDecide applies the decide rule to a certified leaf P: if P's parent
// G was proposed in the view just before P, G is decided.
func (e *Engine) checkDecide(p *entry, from int) {
	if p.qc == nil || p == e.anchor {
		return
	}
	j := p.leaf.JustifyQC
	if p.leaf.View != j.View+1 {
		return
	}
	if j.View <= e.anchor.leaf.View {
		e.checkConflict(&j, p.leaf.Height()-1)
		return
	}
	g, ok := e.leaves[p.leaf.Parent]
	if !ok {
		e.fetchAncestor(p.leaf.Parent, p.leaf.Height()-1, &p.leaf.JustifyQC, from)
		return
	}
	if g.qc == nil {
		qc := j
		g.qc = &qc
	}
	e.decide(g, from)
}

// checkConflict halts the node when a certified two-chain decides leaf
// j.Leaf, of view j.View ≤ the anchor's and of the given height, and that
// leaf provably is not on the decided chain: it is another leaf than the
// anchor in the anchor's view, or it is not below the anchor's height
// (a leaf of a lower view at or above the anchor's height cannot be its
// ancestor). That takes more than a third of the stake signing against the
// rules, so the node stops rather than follow either chain
// (docs/protocol.md, "Voting and deciding"). A leaf of a lower view below
// the anchor's height may be its ancestor: the engine, which keeps no
// decided leaves but the anchor, does not judge it.
func (e *Engine) checkConflict(j *types.QuorumCertificate, height uint64) {
	a := e.anchor
	if j.Leaf == a.commit || (j.View < a.leaf.View && height < a.leaf.Height()) || j.IsGenesis() {
		return
	}
	e.stats.ConflictingDecides++
	e.halt(fmt.Errorf("%w: a certified two-chain decides leaf %s (view %d, height %d), which conflicts with the decided leaf %s (view %d, height %d)",
		ErrSafetyViolation, j.Leaf.Short(), j.View, height, a.commit.Short(), a.leaf.View, a.leaf.Height()))
}

// decide commits G and its undecided ancestors, in height order.
func (e *Engine) decide(g *entry, from int) {
	chain := []*entry{g}
	cur := g
	for cur.leaf.Parent != e.anchor.commit {
		if cur.leaf.Height() <= e.anchor.leaf.Height()+1 {
			e.halt(fmt.Errorf("%w: leaf %s (height %d, view %d) does not extend the last decided leaf %s (height %d)",
				ErrSafetyViolation, cur.commit.Short(), cur.leaf.Height(), cur.leaf.View, e.anchor.commit.Short(), e.anchor.leaf.Height()))
			return
		}
		p, ok := e.leaves[cur.leaf.Parent]
		if !ok {
			e.fetchAncestor(cur.leaf.Parent, cur.leaf.Height()-1, &cur.leaf.JustifyQC, from)
			return
		}
		chain = append(chain, p)
		cur = p
	}
	if cur.leaf.Height() != e.anchor.leaf.Height()+1 {
		e.halt(fmt.Errorf("%w: leaf %s at height %d claims parent %s at height %d",
			ErrSafetyViolation, cur.commit.Short(), cur.leaf.Height(), e.anchor.commit.Short(), e.anchor.leaf.Height()))
		return
	}
	if e.fetchPayloads(chain) {
		// Decided, but delivered only with every payload (docs/protocol.md,
		// "Data availability"); retried as the payloads arrive.
		if w := e.da.waiting; w == nil || g.leaf.View > w.leaf.View {
			e.da.waiting = g
		}
		return
	}
	for i := len(chain) - 1; i >= 0; i-- {
		en := chain[i]
		var qc types.QuorumCertificate
		if i > 0 {
			qc = chain[i-1].leaf.JustifyQC
		} else {
			qc = *g.qc
		}
		e.ready.Decided = append(e.ready.Decided, types.Block{Leaf: en.leaf, Payload: en.payload, QC: qc})
	}
	e.stats.ViewsDecided += uint64(len(chain))
	e.anchor = g
	e.stats.LastDecidedView = g.leaf.View
	e.stats.LastDecidedHeight = g.leaf.Height()
	for c, en := range e.leaves {
		if en.leaf.View < g.leaf.View {
			delete(e.leaves, c)
		}
	}
	for v := range e.byView {
		if v < g.leaf.View {
			delete(e.byView, v)
		}
	}
	// Fetches that can no longer matter stop: for leaves now held, at or
	// below the decided height, or named by a certificate of a view now
	// decided.
	for c, f := range e.fetches {
		en, held := e.leaves[c]
		held = held && en.hasPayload
		q, named := e.pendingQC[c]
		if held || (f.height > 0 && f.height <= g.leaf.Height()) || (named && q.View <= g.leaf.View) {
			delete(e.fetches, c)
		}
	}
	for c, q := range e.pendingQC {
		if q.View <= g.leaf.View {
			delete(e.pendingQC, c)
		}
	}
}

// --- proposals and votes -------------------------------------------------

func (e *Engine) onProposal(from int, p *Proposal) error {
	v := p.Leaf.View
	if v < e.view {
		return nil // stale; not invalid
	}
	if uint64(v) > uint64(e.view)+e.cfg.MaxViewsAhead {
		// Too far ahead to keep, but its certificate proves the network
		// reached its view: a QC is self-authenticating, so the node moves
		// there now rather than after its own timers (docs/protocol.md,
		// "Catch-up"). The proposal itself is dropped.
		j := &p.Leaf.JustifyQC
		if j.View <= e.highQC.View {
			return fmt.Errorf("%w: proposal for view %d, %d views ahead of %d", ErrInvalidMessage, v, v-e.view, e.view)
		}
		if err := e.checkQC(from, j); err != nil {
			return err
		}
		e.onQC(j, from)
		return nil
	}
	commit := p.Leaf.Commit()
	if first, seen := e.byView[v]; seen && first != commit {
		// One proposal per view is taken; another, whether its leader
		// equivocated or someone forged it, is refused before any check,
		// so a leader cannot make this node check more than one proposal
		// of each of its views.
		return fmt.Errorf("%w: a second proposal for view %d (leaf %s; the first was %s), dropped unchecked",
			ErrInvalidMessage, v, commit.Short(), first.Short())
	}
	if p.DA != nil && (e.vid == nil || p.DA.View != v || p.DA.Payload != p.Leaf.Header.PayloadCommitment) {
		return fmt.Errorf("%w: proposal for view %d carries a DA certificate for view %d and payload %s, not its own",
			ErrInvalidMessage, v, p.DA.View, p.DA.Payload.Short())
	}
	if err := spend(e.certAllowance(from)); err != nil {
		return err
	}
	// The node's own proposal, handed to itself, needs no check. Another's
	// signature, justify QC and DA certificate are checked in one pairing
	// product when they are new (docs/protocol.md, "Signature checks").
	if from != e.self || e.self < 0 {
		if j := &p.Leaf.JustifyQC; j.View < v && p.Leaf.Parent == j.Leaf {
			e.verify.batchProposal(v, commit, uint32(e.leader(v)), p.Signature, j, p.DA)
		}
		if err := e.certChecked(from, e.verify.verifySingle(kindQuorumVote, v, commit, uint32(e.leader(v)), p.Signature)); err != nil {
			return err
		}
	}
	j := &p.Leaf.JustifyQC
	if j.View >= v || p.Leaf.Parent != j.Leaf {
		return fmt.Errorf("%w: proposal for view %d: justify qc of view %d for %s does not certify its parent %s",
			ErrInvalidMessage, v, j.View, j.Leaf.Short(), p.Leaf.Parent.Short())
	}
	if err := e.checkQC(from, j); err != nil {
		return err
	}
	if p.DA != nil {
		if err := e.certChecked(from, e.verify.verifyDAC(p.DA, e.certAllowance(from))); err != nil {
			return err
		}
	}
	if p.TC != nil {
		if err := e.checkTC(from, p.TC); err != nil {
			return err
		}
	}
	if p.Finalize != nil {
		if p.Finalize.Phase != PhaseFinalize {
			return fmt.Errorf("%w: proposal evidence is a %s certificate, want finalize", ErrInvalidMessage, p.Finalize.Phase)
		}
		if err := e.checkViewSync(from, p.Finalize); err != nil {
			return err
		}
	}
	// Justification: a QC for v-1, or a TC for v-1, or a finalize cert for v.
	var evidenceHigh types.ViewNumber
	switch {
	case j.View+1 == v:
	case p.TC != nil && p.TC.View+1 == v:
		evidenceHigh = p.TC.HighQC.View
	case p.Finalize != nil && p.Finalize.Round == v:
		evidenceHigh = p.Finalize.HighQC.View
	default:
		return fmt.Errorf("%w: proposal for view %d justified by qc of view %d without view-change evidence", ErrInvalidMessage, v, j.View)
	}
	if j.View+1 != v && j.View < evidenceHigh {
		return fmt.Errorf("%w: proposal for view %d extends qc of view %d below the evidence's high qc view %d", ErrInvalidMessage, v, j.View, evidenceHigh)
	}
	if e.vid != nil {
		if len(p.Payload.Raw) != 0 || len(p.Payload.NsTable.Bytes) != 0 {
			return fmt.Errorf("%w: proposal for view %d carries its payload; with a DA layer the payload goes to the DA committee", ErrInvalidMessage, v)
		}
	} else if err := e.validator.ValidatePayload(&p.Leaf, &p.Payload); err != nil {
		return fmt.Errorf("%w: proposal for view %d: %v", ErrInvalidMessage, v, err)
	}
	// What can be checked against a known parent is checked before the
	// proposal is stored: a leader cannot make replicas persist a block
	// that cannot extend its parent (docs/protocol.md, "Voting and deciding").
	if parent, ok := e.leaves[p.Leaf.Parent]; ok {
		ph, h := &parent.leaf.Header, &p.Leaf.Header
		if h.Height != ph.Height+1 || h.Timestamp < ph.Timestamp {
			return fmt.Errorf("%w: proposal for view %d: height %d and timestamp %d do not follow the parent's height %d and timestamp %d",
				ErrInvalidMessage, v, h.Height, h.Timestamp, ph.Height, ph.Timestamp)
		}
	}

	// Certificates first: they move the view.
	e.onQC(j, from)
	if p.TC != nil {
		e.onTC(p.TC, from)
	}
	if p.Finalize != nil {
		e.onFinalize(p.Finalize, from)
	}
	if p.DA != nil {
		e.onDAC(p.DA)
	}
	if e.halted != nil {
		return nil
	}
	if _, known := e.leaves[commit]; !known {
		en := &entry{leaf: p.Leaf, payload: p.Payload, commit: commit, hasPayload: e.vid == nil}
		if q, ok := e.pendingQC[commit]; ok {
			en.qc = q
			delete(e.pendingQC, commit)
		}
		e.leaves[commit] = en
		e.byView[v] = commit
		e.ready.Proposals = append(e.ready.Proposals, p)
		if e.vid == nil {
			delete(e.fetches, commit)
		} else if dp, ok := e.da.props[v]; ok {
			e.takePayload(en, dp)
			if e.halted != nil {
				return nil
			}
		}
		e.checkDecide(en, from)
	}
	if v != e.view {
		return nil
	}
	en := e.leaves[commit]
	en.proposed = true
	e.maybeVote(&p.Leaf, en.payloadOrNil(), commit, from)
	return nil
}

// maybeVote applies the voting rule (docs/protocol.md, "Voting and deciding") to a verified proposal for
// the current view.
func (e *Engine) maybeVote(leaf *types.Leaf, payload *types.Payload, commit types.Commitment, from int) {
	v := leaf.View
	if e.self < 0 || v != e.view || v <= e.lastVoted {
		return
	}
	parent, ok := e.leaves[leaf.Parent]
	if !ok {
		e.fetchAncestor(leaf.Parent, leaf.Height()-1, &leaf.JustifyQC, from) // the vote is retried when the parent arrives
		return
	}
	if en, ok := e.leaves[commit]; !ok || !e.dataReady(en) {
		return // retried when the DA certificate or the share arrives
	}
	if err := e.validator.ValidateProposal(&parent.leaf, leaf, payload, e.now); err != nil {
		if errors.Is(err, ErrNotYet) {
			e.waitingVote, e.retryAt = commit, e.now.Add(retryInterval)
			e.log.Debug("proposal waits for data", "view", uint64(v), "err", err)
			return
		}
		e.stats.InvalidMessages++
		e.stats.RejectedProposals++
		e.log.Warn("rejected proposal", "view", uint64(v), "err", err)
		return
	}
	e.waitingVote = types.Commitment{}
	e.lastVoted = v
	e.stats.LastVotedView = v
	e.dirty = true
	var sig keys.Signature
	if own, ok := e.ownProps[v]; ok && own.Leaf.Commit() == commit {
		sig = own.Signature // a leader's proposal signature is its vote
	} else {
		sig = e.verify.sign(e.key, kindQuorumVote, v, commit)
	}
	vote := &Vote{View: v, Leaf: commit, Signer: uint32(e.self), Signature: sig}
	e.voted(vote)
	e.send(e.leader(v+1), vote)
}

// replyKey names an answer to one member: what it was about.
type replyKey struct {
	to    int
	kind  kind
	view  types.ViewNumber
	relay uint64
}

// reply sends a member certificates it asked for by voting late. Answers to
// one member are rate-limited: the same answer at most once per
// replyInterval, so a member cannot make the node send more than it sends
// itself, while an honest member re-sending a vote (every view timeout, or
// every view-sync attempt) is answered again if an earlier answer was lost.
func (e *Engine) reply(to int, k replyKey, m *Certificates) {
	if to < 0 || to == e.self {
		return
	}
	k.to = to
	if at, ok := e.replied[k]; ok && e.now.Before(at.Add(e.cfg.replyInterval())) {
		return
	}
	e.replied[k] = e.now
	c := *m
	e.send(to, &c)
}

// answerStale answers a vote from a member that is behind this node with
// the certificate that moved this node to its current view, which brings
// the member here too (docs/protocol.md, "View transitions").
func (e *Engine) answerStale(from int) {
	if e.moveCert.QC == nil && e.moveCert.TC == nil && e.moveCert.ViewSync == nil {
		return
	}
	e.reply(from, replyKey{view: e.view}, &e.moveCert)
}

func (e *Engine) inWindow(v types.ViewNumber) bool {
	return uint64(v) <= uint64(e.view)+e.cfg.MaxViewsAhead
}

// admitVote applies the checks every vote shares: it came from its signer,
// the signer is a member, this node is its collector, and its view is
// neither far ahead nor left behind. A vote for a view below the current
// one comes from a node that is behind: it is answered with the certificate
// that moved this node on and reported as stale (not counted).
func (e *Engine) admitVote(from int, signer uint32, what string, view types.ViewNumber, collector int) (stale bool, err error) {
	switch {
	case int(signer) != from && from != e.self:
		return false, fmt.Errorf("%w: %s signed by member %d arrived from %d", ErrInvalidMessage, what, signer, from)
	case int64(signer) >= int64(e.table.Len()):
		return false, fmt.Errorf("%w: %s signer %d not in the stake table", ErrInvalidMessage, what, signer)
	case e.self < 0 || collector != e.self:
		return false, fmt.Errorf("%w: %s for view %d sent to a node that does not collect it", ErrInvalidMessage, what, view)
	case view < e.view:
		e.answerStale(from)
		return true, nil
	case !e.inWindow(view):
		return false, fmt.Errorf("%w: %s for view %d beyond the window of %d views", ErrInvalidMessage, what, view, e.cfg.MaxViewsAhead)
	}
	return false, nil
}

func (e *Engine) onVote(from int, m *Vote) error {
	if m.View+1 == e.view && e.leader(e.view) == e.self && e.moveCert.QC != nil && e.moveCert.QC.View == m.View {
		// A vote that came after this node formed the view's QC from
		// others: its proposal for the next view carries that QC to the
		// sender, so answering with the QC would only cost both a check.
		return nil
	}
	if stale, err := e.admitVote(from, m.Signer, "quorum vote", m.View, e.leader(m.View+1)); stale || err != nil {
		return err
	}
	k := voteKey{kind: kindQuorumVote, view: m.View, leaf: m.Leaf}
	set, sig, err := e.collectSame(e.voteLeaf, k, m.Signer, newVoteSig(m.Signature, m.raw), thresholdSuccess)
	if set == nil || err != nil {
		return err
	}
	qc := types.QuorumCertificate{View: m.View, Leaf: m.Leaf, Signers: cloneBits(set.signers), Signature: sig.Bytes()}
	e.verify.remember(qc.Commit())
	e.onQC(&qc, from)
	e.tryPropose()
	return nil
}

// collectSame adds a member's vote over one message (a quorum or DA vote)
// to the vote set k. named records, per member and view, the data the
// member's vote named: a vote naming other data than the member's earlier
// one in the view is refused before any set is allocated for it. It
// returns the set and the aggregate signature once the set first reaches
// thr with valid votes, else a nil set.
func (e *Engine) collectSame(named map[memberView]types.Commitment, k voteKey, signer uint32, vs voteSig, thr threshold) (*voteSet, keys.Signature, error) {
	mv := memberView{view: k.view, member: signer}
	if c, voted := named[mv]; voted {
		if c != k.leaf {
			return nil, keys.Signature{}, fmt.Errorf("%w: member %d voted for %s and for %s in view %d", ErrInvalidMessage, signer, c.Short(), k.leaf.Short(), k.view)
		}
	} else {
		if !e.holdVote(signer, k) {
			return nil, keys.Signature{}, nil // counted in FutureVotesDropped
		}
		named[mv] = k.leaf
	}
	set := e.voteSet(k)
	if set.banned[signer] {
		return nil, keys.Signature{}, fmt.Errorf("%w: member %d already sent a bad vote signature in view %d", ErrInvalidMessage, signer, k.view)
	}
	if set.done || set.signers.Has(int(signer)) {
		return nil, keys.Signature{}, nil
	}
	set.signers.Set(int(signer))
	set.sigs[signer] = &vs
	if !e.table.reaches(set.signers, thr) {
		return nil, keys.Signature{}, nil
	}
	sig, ok := e.aggregateSame(set, k.kind, k.view, k.leaf, thr)
	if !ok {
		return nil, keys.Signature{}, nil
	}
	set.done = true
	return set, sig, nil
}

func cloneBits(b types.Bitmap) types.Bitmap { return append(types.Bitmap(nil), b...) }

func (e *Engine) voteSet(k voteKey) *voteSet {
	s, ok := e.votes[k]
	if !ok {
		s = &voteSet{signers: types.NewBitmap(e.table.Len()), sigs: make(map[uint32]*voteSig),
			high: make(map[uint32]types.ViewNumber), highQCs: make(map[uint32]types.QuorumCertificate),
			verified: make(map[uint32]bool), banned: make(map[uint32]bool)}
		e.votes[k] = s
	}
	return s
}

// aggregateSame verifies a set of votes over one message lazily: aggregate
// and check once; only if that fails check each vote and drop the bad ones.
// It returns the aggregate if the valid votes still reach the threshold.
func (e *Engine) aggregateSame(set *voteSet, k kind, view types.ViewNumber, data types.Commitment, thr threshold) (keys.Signature, bool) {
	for range 2 {
		idx, sigs := e.parseVotes(set, view)
		if !e.table.reaches(set.signers, thr) {
			return keys.Signature{}, false
		}
		pubs := make([]keys.StakingPubKey, len(idx))
		for j, i := range idx {
			pubs[j] = e.table.Member(i).Key
		}
		agg, err := keys.AggregateSignatures(sigs)
		if err == nil {
			e.voteChecks++
		}
		if err == nil && e.verify.holds(pubs, k, view, data, agg) {
			for _, i := range idx {
				set.verified[uint32(i)] = true
			}
			return agg, true
		}
		// Fall back to single checks of the votes not known good, drop the
		// bad ones and ban their senders from this set.
		for j, i := range idx {
			if set.verified[uint32(i)] {
				continue
			}
			e.stats.SingleVoteChecks++
			if e.verify.holds(pubs[j:j+1], k, view, data, sigs[j]) {
				set.verified[uint32(i)] = true
				continue
			}
			e.badVote(set, i, fmt.Errorf("%w: bad vote signature from member %d in view %d", ErrInvalidMessage, i, view))
		}
		if !e.table.reaches(set.signers, thr) {
			return keys.Signature{}, false
		}
	}
	return keys.Signature{}, false
}

// parseVotes returns the signers of a vote set and their signatures,
// parsing those that arrived as bytes (see rawSig). A vote whose bytes are
// no signature is bad like one whose signature fails its check.
func (e *Engine) parseVotes(set *voteSet, view types.ViewNumber) ([]int, []keys.Signature) {
	idx := set.signers.Indexes()
	sigs := make([]keys.Signature, 0, len(idx))
	kept := idx[:0]
	for _, i := range idx {
		sig, err := set.sigs[uint32(i)].parse()
		if err != nil {
			e.badVote(set, i, fmt.Errorf("%w: vote signature from member %d in view %d: %v", ErrInvalidMessage, i, view, err))
			continue
		}
		kept = append(kept, i)
		sigs = append(sigs, sig)
	}
	return kept, sigs
}

// badVote drops member i's vote with a bad signature from a set, bans the
// member from the set and records it as a fault.
func (e *Engine) badVote(set *voteSet, i int, err error) {
	e.stats.InvalidMessages++
	e.stats.BadVoteSignatures++
	set.banned[uint32(i)] = true
	e.dropVote(set, i)
	e.fault(i, err)
}

func (e *Engine) dropVote(set *voteSet, i int) {
	nb := types.NewBitmap(e.table.Len())
	for _, j := range set.signers.Indexes() {
		if j != i {
			nb.Set(j)
		}
	}
	set.signers = nb
	delete(set.sigs, uint32(i))
	delete(set.high, uint32(i))
	delete(set.highQCs, uint32(i))
}

// aggregateHigh builds a high-view certificate (timeout or view sync) from a
// vote set, verifying lazily like aggregateSame.
func (e *Engine) aggregateHigh(set *voteSet, k kind, view types.ViewNumber, data func(types.ViewNumber) types.Commitment, thr threshold) (types.Bitmap, []types.ViewNumber, []byte, types.QuorumCertificate, bool) {
	for range 2 {
		idx, sigs := e.parseVotes(set, view)
		if !e.table.reaches(set.signers, thr) {
			break
		}
		hv := make([]types.ViewNumber, len(idx))
		var high types.QuorumCertificate
		for j, i := range idx {
			hv[j] = set.high[uint32(i)]
			if q := set.highQCs[uint32(i)]; j == 0 || q.View > high.View {
				high = q
			}
		}
		agg, err := keys.AggregateSignatures(sigs)
		if err == nil {
			signers := cloneBits(set.signers)
			if e.verify.verifyHighViewCert(k, view, signers, hv, agg.Bytes(), &high, data, thr, nil) == nil {
				for _, i := range idx {
					set.verified[uint32(i)] = true
				}
				return signers, hv, agg.Bytes(), high, true
			}
		}
		for j, i := range idx {
			if set.verified[uint32(i)] {
				continue
			}
			e.stats.SingleVoteChecks++
			key := e.table.Member(i).Key
			if key.Verify(digest(k, e.verify.genesis, view, data(hv[j])), sigs[j]) {
				set.verified[uint32(i)] = true
				continue
			}
			e.badVote(set, i, fmt.Errorf("%w: bad high-view vote signature from member %d in view %d", ErrInvalidMessage, i, view))
		}
		if !e.table.reaches(set.signers, thr) {
			break
		}
	}
	return nil, nil, nil, types.QuorumCertificate{}, false
}

// --- proposing ----------------------------------------------------------

// tryPropose proposes in the current view if this node leads it, may, and
// (docs/protocol.md, "Proposing and pacing") should now.
func (e *Engine) tryPropose() {
	v := e.view
	if e.halted != nil || e.self < 0 || e.leader(v) != e.self || e.proposed >= v {
		return
	}
	if e.proposedInStep {
		e.proposeSoon = true
		return
	}
	if own, ok := e.ownProps[v]; ok {
		// A restarted leader re-sends its stored proposal, never a new one
		// (and, with a DA layer, the stored payload and its shares).
		e.proposed = v
		if e.vid == nil {
			e.send(Broadcast, own)
			e.send(e.self, own)
			return
		}
		if dp, ok := e.da.props[v]; ok && dp.Commitment == own.Leaf.Header.PayloadCommitment {
			if err := e.disperse(v, dp.Commitment, &dp.Payload); err != nil {
				e.log.Warn("Failed to publish proposal", "view", uint64(v), "err", err)
			}
		}
		e.send(e.self, own)
		e.publish(v) // with the DA certificate, when this node holds it
		return
	}
	var tc *TimeoutCert
	var fin *ViewSyncCert
	switch {
	case e.highQC.View+1 == v:
	case e.lastTC != nil && e.lastTC.View+1 == v:
		tc = e.lastTC
	case e.lastFinalize != nil && e.lastFinalize.Round == v:
		fin = e.lastFinalize
	default:
		return // no justification for this view (yet)
	}
	parent, ok := e.leaves[e.highQC.Leaf]
	if !ok {
		e.fetch(e.highQC.Leaf, -1)
		return
	}
	undecided, missing := e.undecidedPayloads(parent)
	if !missing.IsZero() {
		// Without every undecided ancestor the builder could repeat their
		// transactions: fetch first.
		e.fetch(missing, -1)
		return
	}
	busy := e.builder.Pending()
	for _, p := range undecided {
		if p.Size() > 0 {
			busy = true
		}
	}
	if !busy && !e.proposeAtOnce() && e.now.Before(e.viewStart.Add(e.cfg.BuilderTimeout)) {
		return
	}
	for i := range e.ready.Decided {
		undecided = append(undecided, &e.ready.Decided[i].Payload)
	}
	header, payload, err := e.builder.BuildBlock(BuildRequest{Parent: &parent.leaf, View: v, Now: e.now, Undecided: undecided})
	if errors.Is(err, ErrNotYet) {
		e.retryAt = e.now.Add(retryInterval)
		e.log.Debug("block waits for data", "view", uint64(v), "err", err)
		return
	}
	if err != nil {
		e.proposed = v
		e.stats.TimeoutsAsLeader++
		e.log.Warn("Failed to publish proposal", "view", uint64(v), "err", err)
		return
	}
	leaf := types.Leaf{View: v, Parent: parent.commit, Header: header, JustifyQC: e.highQC}
	commit := leaf.Commit()
	prop := &Proposal{Leaf: leaf, Payload: payload, TC: tc, Finalize: fin,
		Signature: e.verify.sign(e.key, kindQuorumVote, v, commit)}
	if e.vid != nil {
		// The payload goes to the DA committee and as shares to every
		// member; the proposal follows with the DA certificate (publish;
		// docs/protocol.md, "Data availability").
		prop.Payload = types.Payload{}
		if err := e.disperse(v, header.PayloadCommitment, &payload); err != nil {
			e.proposed = v
			e.stats.TimeoutsAsLeader++
			e.log.Warn("Failed to publish proposal", "view", uint64(v), "err", err)
			return
		}
	}
	e.proposed = v
	e.proposedInStep = true
	e.ownProps[v] = prop
	e.stats.Proposed++
	if payload.Size() == 0 {
		e.stats.EmptyBlocksProposed++
	}
	// The proposal is persisted (Ready.Proposals, via onProposal) before it is sent.
	e.send(e.self, prop)
	if e.vid == nil {
		e.send(Broadcast, prop)
	}
}

// undecidedPayloads lists the payloads from parent back to the anchor, or
// names the first ancestor it lacks.
func (e *Engine) undecidedPayloads(parent *entry) ([]*types.Payload, types.Commitment) {
	var out []*types.Payload
	for cur := parent; cur != e.anchor; {
		if !cur.hasPayload {
			return nil, cur.commit
		}
		out = append(out, &cur.payload)
		next, ok := e.leaves[cur.leaf.Parent]
		if !ok {
			return nil, cur.leaf.Parent
		}
		cur = next
	}
	return out, types.Commitment{}
}

// --- timeouts and view sync ---------------------------------------------

func (e *Engine) onViewTimeout() {
	v := e.view
	if e.lastVoted < v {
		e.lastVoted = v
		e.stats.LastVotedView = v
	}
	e.dirty = true
	e.timeouts++
	e.lastTO = v
	e.stats.Timeouts++
	if e.self >= 0 && e.leader(v) == e.self && e.proposed < v {
		e.stats.TimeoutsAsLeader++
	}
	e.viewDeadline = e.now.Add(e.cfg.viewTimeout(e.timeouts))
	if e.self >= 0 {
		hv := e.highQC.View
		sig := e.key.Sign(digest(kindTimeoutVote, e.verify.genesis, v, highViewData(hv)))
		e.send(e.leader(v+1), &TimeoutVote{View: v, HighQC: e.highQC, Signer: uint32(e.self), Signature: sig})
	}
	if e.timeouts >= 2 && !e.vs.active {
		e.startViewSync(v + 1)
	}
}

func (e *Engine) onTimeoutVote(from int, m *TimeoutVote) error {
	if stale, err := e.admitVote(from, m.Signer, "timeout vote", m.View, e.leader(m.View+1)); stale || err != nil {
		return err
	}
	if m.HighQC.View >= m.View {
		return fmt.Errorf("%w: timeout vote for view %d carries a qc of view %d", ErrInvalidMessage, m.View, m.HighQC.View)
	}
	signers, hv, sig, high, ok, err := e.collectHighVote(from, voteKey{kind: kindTimeoutVote, view: m.View}, m.Signer, newVoteSig(m.Signature, m.raw), &m.HighQC, highViewData, thresholdSuccess)
	if !ok {
		return err
	}
	tc := &TimeoutCert{View: m.View, HighQC: high, Signers: signers, HighViews: hv, Signature: sig}
	e.onTC(tc, from)
	e.tryPropose()
	return nil
}

// collectHighVote adds a vote that carries its signer's high QC (a timeout
// or view-sync vote) to its vote set, after verifying and processing the
// QC. Once the set reaches the threshold it aggregates the set into a
// certificate (verified lazily, see aggregateHigh) and reports ok.
func (e *Engine) collectHighVote(from int, k voteKey, signer uint32, sig voteSig, highQC *types.QuorumCertificate,
	data func(types.ViewNumber) types.Commitment, thr threshold) (types.Bitmap, []types.ViewNumber, []byte, types.QuorumCertificate, bool, error) {
	if err := e.checkQC(from, highQC); err != nil {
		return nil, nil, nil, types.QuorumCertificate{}, false, err
	}
	e.onQC(highQC, from)
	set, ok := e.votes[k]
	if ok && (set.done || set.signers.Has(int(signer))) {
		return nil, nil, nil, types.QuorumCertificate{}, false, nil
	}
	if ok && set.banned[signer] {
		return nil, nil, nil, types.QuorumCertificate{}, false,
			fmt.Errorf("%w: member %d already sent a bad vote signature in view %d", ErrInvalidMessage, signer, k.view)
	}
	if !e.holdVote(signer, k) {
		return nil, nil, nil, types.QuorumCertificate{}, false, nil // counted in FutureVotesDropped
	}
	set = e.voteSet(k)
	set.signers.Set(int(signer))
	set.sigs[signer] = &sig
	set.high[signer] = highQC.View
	set.highQCs[signer] = *highQC
	if !e.table.reaches(set.signers, thr) {
		return nil, nil, nil, types.QuorumCertificate{}, false, nil
	}
	signers, hv, agg, high, ok := e.aggregateHigh(set, k.kind, k.view, data, thr)
	set.done = ok
	return signers, hv, agg, high, ok, nil
}

func (e *Engine) onCertificates(from int, m *Certificates) error {
	if from < 0 {
		// Only members send certificates; checking them costs pairings.
		return fmt.Errorf("%w: certificates from outside the stake table", ErrInvalidMessage)
	}
	if m.TC != nil && m.TC.View+1 < e.view {
		m = &Certificates{QC: m.QC, ViewSync: m.ViewSync} // a TC for a past view moves nothing: not checked
	}
	if m.QC != nil {
		if err := e.checkQC(from, m.QC); err != nil {
			return err
		}
		e.onQC(m.QC, from)
	}
	if m.TC != nil {
		if err := e.checkTC(from, m.TC); err != nil {
			return err
		}
		e.onTC(m.TC, from)
	}
	if m.ViewSync != nil {
		if err := e.checkViewSync(from, m.ViewSync); err != nil {
			return err
		}
		e.onViewSyncCert(m.ViewSync, from)
	}
	if m.DA != nil && e.vid != nil && m.DA.View >= daKeep(e.view) && e.inWindow(m.DA.View) {
		if _, have := e.da.certs[m.DA.View]; !have {
			if err := e.certChecked(from, e.verify.verifyDAC(m.DA, e.certAllowance(from))); err != nil {
				return err
			}
			e.onDAC(m.DA)
		}
	}
	e.tryPropose()
	return nil
}

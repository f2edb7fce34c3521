package nodetest

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// SimConfig describes one simulated execution. Everything random in it is
// drawn from Seed. The fault budget (docs/testing.md): at any time at most
// f = (Nodes-1)/3 nodes are Byzantine, crashed, halted by a store fault, or
// have a store fault armed; crashes and store faults take what the
// Byzantine nodes leave.
type SimConfig struct {
	Seed  uint64
	Nodes int // default 4
	// DA lists the DA committee's members; nil means every node.
	DA []int
	// FaultPeriod is the simulated time during which faults happen; after
	// it every fault heals and the network runs fault-free for Recovery.
	FaultPeriod, Recovery time.Duration // defaults 20s, 10s
	// MinDelay and MaxDelay bound message delays (defaults 1ms and 30ms;
	// during the fault period up to 5 × MaxDelay).
	MinDelay, MaxDelay time.Duration
	// DropRate is the share of messages lost during the fault period.
	DropRate float64
	// Crashes and Partitions enable those faults during the fault period.
	// Crashed nodes (within the fault budget) restart from their stores.
	Crashes, Partitions bool
	// TxInterval is the simulated time between transaction submissions
	// (default 50ms; negative disables transactions).
	TxInterval time.Duration
	Consensus  consensus.Config // default FastConsensus
	// StopAfter, when positive, ends the run early, as soon as every node
	// that is not Byzantine has decided StopAfter blocks above the height
	// decided when faults stopped (SimResult.HeightAtHeal).
	StopAfter uint64
	// Byzantine gives nodes a Byzantine behaviour for the whole run (at most
	// f of them for the safety and liveness checks to apply). Byzantine
	// nodes whose behaviour is Colluding form one coalition.
	Byzantine map[int]Behaviour
	// StoreFaults injects store write faults during the fault period: from
	// time to time the next few writes of one kind at one node fail, lost
	// or unacknowledged (StoreFault). The node halts on the failed write
	// (replica.ErrHalted) and the simulation restarts it from its store a
	// little later, as an operator would.
	StoreFaults bool
	// StoreFaultKinds are the faults StoreFaults draws from (default:
	// every StoreOp in both modes, After 0 to 3).
	StoreFaultKinds []StoreFault
}

// SimResult is what a simulation produced.
type SimResult struct {
	// Chains holds each node's decided chain, read from its store.
	Chains [][]types.Block
	// HeightAtHeal is the highest height decided when faults stopped.
	HeightAtHeal uint64
	// Submitted lists the transactions submitted (each once, however
	// often its client retried it); the first SubmittedAtHeal of them
	// were submitted before faults healed.
	Submitted       []types.Commitment
	SubmittedAtHeal int
	// Steps counts the events processed.
	Steps int
	// Recovery is, over the nodes that are not Byzantine, the longest
	// simulated time from the end of the fault period until the node decided
	// a block above HeightAtHeal. Recovered is false if some such node never
	// did before the run ended.
	Recovery  time.Duration
	Recovered bool
	// Nodes holds each node's counters over the whole run.
	Nodes []SimNodeStats
	// Frames[i][j] counts the frames node i put on the wire to node j
	// (before any were lost), after its Byzantine behaviour if it has one.
	Frames [][]uint64
	// Byzantine holds, for each Byzantine node, what its behaviour did.
	Byzantine map[int]ByzantineStats
}

// SimNodeStats are one node's counters over a simulated run, summed over
// its restarts.
type SimNodeStats struct {
	// InvalidMessages, InvalidQCs, RejectedProposals, BadVoteSignatures,
	// SingleVoteChecks, FutureVotesDropped and CertificateChecksRefused
	// sum the replica's counters (consensus.Stats) over its incarnations.
	InvalidMessages, InvalidQCs, RejectedProposals, BadVoteSignatures uint64
	SingleVoteChecks, FutureVotesDropped, CertificateChecksRefused    uint64
	// BadShares counts VID shares that failed their check (consensus.Stats).
	BadShares uint64
	// Crashes counts the crashes of the fault schedule; Halts the halts on
	// an injected store fault (StoreFaults lists those faults); Restarts
	// the restarts from the store that followed either.
	Crashes, Halts, Restarts int
	// Retries counts the submissions clients repeated at the node after
	// it restarted (every transaction first submitted to it).
	Retries     int
	StoreFaults []StoreFault
	// RestartHeight is the height the node's last restart resumed from;
	// CaughtUp reports whether it decided a block above it afterwards
	// (true for a node never restarted).
	RestartHeight uint64
	CaughtUp      bool
}

// Simulate runs a network of engines single-threaded, in simulated time,
// with a message queue ordered by (delivery time, sequence number) and all
// randomness drawn from cfg.Seed, so one seed replays one execution exactly.
// It returns an error (naming the seed) if any node halts.
func Simulate(cfg SimConfig) (*SimResult, error) {
	if cfg.Nodes == 0 {
		cfg.Nodes = 4
	}
	if cfg.FaultPeriod == 0 {
		cfg.FaultPeriod = 20 * time.Second
	}
	if cfg.Recovery == 0 {
		cfg.Recovery = 10 * time.Second
	}
	if cfg.MinDelay == 0 {
		cfg.MinDelay = time.Millisecond
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = 30 * time.Millisecond
	}
	if cfg.TxInterval == 0 {
		cfg.TxInterval = 50 * time.Millisecond
	}
	if cfg.Consensus == (consensus.Config{}) {
		cfg.Consensus = FastConsensus
	}
	s, err := newSim(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.run(); err != nil {
		return nil, fmt.Errorf("nodetest: simulation seed %d: %w", cfg.Seed, err)
	}
	res := &SimResult{HeightAtHeal: s.heightAtHeal, Submitted: s.submitted, SubmittedAtHeal: s.atHeal, Steps: s.steps, Recovered: true, Frames: s.frames}
	for i, n := range s.nodes {
		if !n.crashed() {
			s.retire(i, false)
		}
		n.stats.StoreFaults = n.store.Fired()
		res.Nodes = append(res.Nodes, n.stats)
		if n.byz != nil {
			if res.Byzantine == nil {
				res.Byzantine = make(map[int]ByzantineStats)
			}
			res.Byzantine[i] = n.byz.stats
		}
	}
	for i, n := range s.nodes {
		if _, byz := cfg.Byzantine[i]; byz {
			continue
		}
		if n.recoveredAt.IsZero() {
			res.Recovered = false
			continue
		}
		res.Recovery = max(res.Recovery, n.recoveredAt.Sub(s.healAt))
	}
	for _, n := range s.nodes {
		c, err := readChain(n.store)
		if err != nil {
			return nil, err
		}
		res.Chains = append(res.Chains, c)
	}
	return res, nil
}

func readChain(st storage.BlockStore) ([]types.Block, error) {
	ctx := context.Background()
	h, err := st.BlockHeight(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]types.Block, 0, h)
	for i := range h {
		b, err := st.BlockByHeight(ctx, i)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

type simNode struct {
	replica *replica.Replica // nil while crashed or halted
	// out is the replica's sender (through the node's behaviour, if any).
	out   replica.Sender
	store *FaultyStore
	// byz is the node's Byzantine identity (nil for an honest node), kept
	// across its restarts.
	byz *byzContext
	// armed is set while a store fault waits at the node: it counts
	// against the fault budget.
	armed  bool
	stats  SimNodeStats
	tickAt time.Time
	group  int // partition group
	// recoveredAt is when the node first decided a block above the height
	// decided when faults stopped.
	recoveredAt time.Time
	height      uint64 // last decided height
}

func (n *simNode) crashed() bool { return n.replica == nil }

type eventKind int

const (
	evDeliver eventKind = iota // a frame from node from arrives at node to
	evTick
	evSubmit
	evFault
)

type event struct {
	at    time.Time
	seq   uint64
	kind  eventKind
	to    int
	from  int
	data  []byte
	fault func()
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sim struct {
	cfg          SimConfig
	rng          *rand.Rand
	now, start   time.Time
	healAt       time.Time
	queue        queue
	seq          uint64
	nodes        []*simNode
	setup        *replica.Setup
	keys         []keys.Keys
	faulty       bool
	partitioned  bool
	heightAtHeal uint64
	healed       bool // heightAtHeal is set: decides above it count as recovery
	done         bool // StopAfter reached
	submitted    []types.Commitment
	atHeal       int
	// sentTo holds, per node, the transactions clients submitted to it:
	// after the node restarts, its clients retry every one of them, as a
	// client whose request timed out does (it cannot know what was lost).
	sentTo [][]types.Transaction
	steps  int
	frames [][]uint64
	// votes and proposals are the quorum votes and proposals honest nodes
	// sent, to catch one sending two for a view (after a restart, say).
	votes     map[memberView]types.Commitment
	proposals map[types.ViewNumber]types.Commitment
	violation error
}

type memberView struct {
	member int
	view   types.ViewNumber
}

func newSim(cfg SimConfig) (*sim, error) {
	ks, err := Keys(DefaultSeed, cfg.Nodes)
	if err != nil {
		return nil, err
	}
	start := time.Unix(1_700_000_000, 0)
	g, err := Genesis(ks, uint64(start.Unix()))
	if err != nil {
		return nil, err
	}
	if cfg.DA != nil {
		for i := range g.StakeTable {
			g.StakeTable[i].DA = slices.Contains(cfg.DA, i)
		}
	}
	setup, err := replica.NewSetup(g)
	if err != nil {
		return nil, err
	}
	s := &sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)), now: start, start: start,
		healAt: start.Add(cfg.FaultPeriod), faulty: true, setup: setup, keys: ks}
	s.sentTo = make([][]types.Transaction, cfg.Nodes)
	s.votes = make(map[memberView]types.Commitment)
	s.proposals = make(map[types.ViewNumber]types.Commitment)
	k := &coalition{}
	for i := range ks {
		n := &simNode{store: NewFaultyStore(), stats: SimNodeStats{CaughtUp: true}}
		if _, ok := cfg.Byzantine[i]; ok {
			n.byz = &byzContext{key: ks[i].Staking, genesis: setup.Commitment, self: i, n: len(ks), coalition: k}
		}
		s.nodes = append(s.nodes, n)
		s.frames = append(s.frames, make([]uint64, len(ks)))
	}
	for i := range ks {
		if err := s.boot(i); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// boot starts (or restarts) node i's replica from its store, exactly as a
// node's Start does.
func (s *sim) boot(i int) error {
	n := s.nodes[i]
	n.store.Reopen()
	var out replica.Sender = simSender{s: s, from: i}
	if n.byz != nil {
		out = &byzSender{Sender: out, behaviour: s.cfg.Byzantine[i], ctx: n.byz}
	}
	r, err := replica.Open(context.Background(), replica.Config{
		Setup: s.setup, Key: s.keys[i].Staking, Store: n.store, Sender: out,
		Consensus: s.cfg.Consensus, OnDecided: func(b []types.Block) { s.decided(i, b) },
	}, s.now)
	if err != nil {
		return fmt.Errorf("node %d: %w", i, err)
	}
	n.replica, n.out = r, out
	s.schedule(i)
	return nil
}

func (s *sim) push(e *event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

// delay draws a message delay; ok is false if the message is lost.
func (s *sim) delay(from, to int) (time.Duration, bool) {
	lo, hi := s.cfg.MinDelay, s.cfg.MaxDelay
	if s.faulty {
		if s.rng.Float64() < s.cfg.DropRate {
			return 0, false
		}
		hi *= 5
	}
	if s.nodes[from].group != s.nodes[to].group {
		return 0, false
	}
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)+1)), true
}

// sendTo puts a frame from node from on its way to node to.
func (s *sim) sendTo(from, to int, data []byte) {
	if to == from {
		return
	}
	s.frames[from][to]++
	d, ok := s.delay(from, to)
	if !ok {
		return
	}
	s.push(&event{at: s.now.Add(d), kind: evDeliver, to: to, from: from, data: data})
}

// simSender is a replica's Sender in the simulation: frames go into the
// seeded message queue.
type simSender struct {
	s    *sim
	from int
}

func (o simSender) Send(_ context.Context, to int, data []byte) {
	o.s.observe(o.from, data)
	o.s.sendTo(o.from, to, data)
}

func (o simSender) Broadcast(_ context.Context, _ string, data []byte) {
	o.s.observe(o.from, data)
	for j := range o.s.nodes {
		o.s.sendTo(o.from, j, data)
	}
}

// schedule queues node i's next tick, if its deadline moved.
func (s *sim) schedule(i int) {
	n := s.nodes[i]
	if d := n.replica.NextDeadline(); !d.Equal(n.tickAt) {
		n.tickAt = d
		s.push(&event{at: d, kind: evTick, to: i})
	}
}

// observe checks a frame honest node from sends: an honest node never sends
// quorum votes for two leaves of one view, nor two proposals for one view
// (docs/architecture.md, "Persist before send"), crashes and store faults
// notwithstanding.
func (s *sim) observe(from int, data []byte) {
	// A consensus frame is 'c', the wire version, then the message type
	// (proposal 1, vote 2): only those two are decoded.
	if s.nodes[from].byz != nil || len(data) < 3 || data[0] != 'c' || (data[2] != 1 && data[2] != 2) {
		return
	}
	f, err := replica.DecodeFrame(data)
	if err != nil {
		return
	}
	switch m := f.Consensus.(type) {
	case *consensus.Vote:
		k := memberView{member: from, view: m.View}
		if l, ok := s.votes[k]; ok && l != m.Leaf && s.violation == nil {
			s.violation = fmt.Errorf("safety: honest node %d voted for leaves %s and %s in view %d", from, l.Short(), m.Leaf.Short(), m.View)
		}
		s.votes[k] = m.Leaf
	case *consensus.Proposal:
		if s.setup.Table.Leader(m.Leaf.View) != from {
			return // a proposal relayed
		}
		c := m.Leaf.Commit()
		if p, ok := s.proposals[m.Leaf.View]; ok && p != c && s.violation == nil {
			s.violation = fmt.Errorf("safety: honest leader %d proposed leaves %s and %s in view %d", from, p.Short(), c.Short(), m.Leaf.View)
		}
		s.proposals[m.Leaf.View] = c
	}
}

// decided is node i's OnDecided.
func (s *sim) decided(i int, blocks []types.Block) {
	n := s.nodes[i]
	n.height = blocks[len(blocks)-1].Height()
	if n.height > n.stats.RestartHeight {
		n.stats.CaughtUp = true
	}
	if s.healed && n.recoveredAt.IsZero() && n.height > s.heightAtHeal {
		n.recoveredAt = s.now
	}
	if s.healed && s.cfg.StopAfter > 0 {
		s.done = s.allHonestAt(s.heightAtHeal + s.cfg.StopAfter)
	}
}

func (s *sim) f() int { return (len(s.nodes) - 1) / 3 }

// faults returns how many nodes count against the fault budget now:
// Byzantine ones, and honest ones crashed, halted or with a store fault
// armed.
func (s *sim) faults() int {
	c := 0
	for _, n := range s.nodes {
		if n.byz != nil || n.crashed() || n.armed {
			c++
		}
	}
	return c
}

// scheduleFaults draws the fault schedule of the fault period.
func (s *sim) scheduleFaults() {
	period := s.cfg.FaultPeriod
	if s.cfg.Crashes {
		for t := time.Duration(0); t < period; {
			t += time.Duration(s.rng.Int64N(int64(period/4))) + 100*time.Millisecond
			i := s.rng.IntN(len(s.nodes))
			down := time.Duration(s.rng.Int64N(int64(2*time.Second))) + 50*time.Millisecond
			at := s.start.Add(t)
			s.push(&event{at: at, kind: evFault, fault: func() { s.crash(i, down) }})
		}
	}
	if s.cfg.StoreFaults {
		for t := time.Duration(0); t < period; {
			t += time.Duration(s.rng.Int64N(int64(period/4))) + 100*time.Millisecond
			i := s.rng.IntN(len(s.nodes))
			f := StoreFault{Op: StoreOp(s.rng.IntN(int(numStoreOps))), Mode: FaultMode(s.rng.IntN(2)), After: s.rng.IntN(4)}
			if k := s.cfg.StoreFaultKinds; len(k) > 0 {
				f = k[s.rng.IntN(len(k))]
			}
			s.push(&event{at: s.start.Add(t), kind: evFault, fault: func() { s.arm(i, f) }})
		}
	}
	if s.cfg.Partitions {
		for t := time.Duration(0); t < period; {
			t += time.Duration(s.rng.Int64N(int64(period/3))) + 200*time.Millisecond
			length := time.Duration(s.rng.Int64N(int64(3*time.Second))) + 100*time.Millisecond
			groups := make([]int, len(s.nodes))
			for j := range groups {
				groups[j] = s.rng.IntN(2)
			}
			s.push(&event{at: s.start.Add(t), kind: evFault, fault: func() { s.partition(groups, length) }})
		}
	}
}

func (s *sim) crash(i int, down time.Duration) {
	n := s.nodes[i]
	if !s.faulty || n.crashed() {
		return
	}
	if n.byz == nil && !n.armed && s.faults() >= s.f() {
		return // over budget (a Byzantine or armed node crashing adds no fault)
	}
	n.stats.Crashes++
	s.retire(i, true)
	s.push(&event{at: s.now.Add(down), kind: evFault, fault: func() { s.restart(i) }})
}

// retire adds the counters of node i's replica to the node's and, if stop,
// takes the replica down with its store (a crash or a halt).
func (s *sim) retire(i int, stop bool) {
	n := s.nodes[i]
	st := n.replica.Stats()
	n.stats.InvalidMessages += st.InvalidMessages
	n.stats.InvalidQCs += st.InvalidQCs
	n.stats.RejectedProposals += st.RejectedProposals
	n.stats.BadVoteSignatures += st.BadVoteSignatures
	n.stats.SingleVoteChecks += st.SingleVoteChecks
	n.stats.FutureVotesDropped += st.FutureVotesDropped
	n.stats.CertificateChecksRefused += st.CertificateChecksRefused
	n.stats.BadShares += st.BadShares
	if stop {
		n.replica = nil
		n.store.Close()
	}
}

// arm arms store fault f at node i, within the fault budget.
func (s *sim) arm(i int, f StoreFault) {
	n := s.nodes[i]
	if !s.faulty || n.byz != nil || n.crashed() || n.armed || s.faults() >= s.f() {
		return
	}
	n.armed = true
	n.store.Arm(f)
}

// fail handles an error node i's replica returned: a halt on an injected
// store fault takes the node down until a restart; anything else ends the
// run.
func (s *sim) fail(i int, err error) error {
	if !errors.Is(err, ErrInjectedFault) {
		return fmt.Errorf("node %d: %w", i, err)
	}
	n := s.nodes[i]
	n.armed = false
	n.stats.Halts++
	if !n.crashed() {
		s.retire(i, true)
	}
	down := time.Duration(s.rng.Int64N(int64(time.Second))) + 50*time.Millisecond
	s.push(&event{at: s.now.Add(down), kind: evFault, fault: func() { s.restart(i) }})
	return nil
}

func (s *sim) restart(i int) {
	n := s.nodes[i]
	if !n.crashed() {
		return
	}
	err := s.boot(i)
	if err == nil {
		n.stats.Restarts++
		n.stats.RestartHeight = n.replica.Height()
		n.stats.CaughtUp = false
		s.retry(i)
		return
	}
	if err := s.fail(i, err); err != nil {
		// A store the simulation wrote itself fails to load: a bug,
		// reported with the seed by run.
		panic(err)
	}
}

// retry resubmits, at restarted node i, every transaction its clients
// submitted to it before. A full mempool refuses some (the client would
// back off and try again later; the simulation does not); any other
// refusal is a bug.
func (s *sim) retry(i int) {
	n := s.nodes[i]
	for _, tx := range s.sentTo[i] {
		_, err := n.replica.Submit(context.Background(), tx, s.now)
		switch {
		case err == nil:
			n.stats.Retries++
		case errors.Is(err, chain.ErrMempoolFull):
		default:
			panic(fmt.Errorf("node %d: retry of a transaction: %w", i, err))
		}
	}
}

func (s *sim) partition(groups []int, length time.Duration) {
	if !s.faulty || s.partitioned {
		return
	}
	s.partitioned = true
	for j, g := range groups {
		s.nodes[j].group = g
	}
	s.push(&event{at: s.now.Add(length), kind: evFault, fault: s.heal})
}

func (s *sim) heal() {
	s.partitioned = false
	for _, n := range s.nodes {
		n.group = 0
	}
}

func (s *sim) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	s.scheduleFaults()
	if s.cfg.TxInterval > 0 {
		s.push(&event{at: s.start.Add(s.cfg.TxInterval), kind: evSubmit})
	}
	s.push(&event{at: s.healAt, kind: evFault, fault: s.endFaults})
	end := s.healAt.Add(s.cfg.Recovery)
	for s.queue.Len() > 0 {
		e := heap.Pop(&s.queue).(*event)
		if e.at.After(end) || s.done {
			break
		}
		if e.at.After(s.now) {
			s.now = e.at
		}
		s.steps++
		if err := s.handle(e); err != nil {
			return err
		}
		if s.violation != nil {
			return s.violation
		}
	}
	return nil
}

// allHonestAt reports whether every node that is not Byzantine has decided
// height h.
func (s *sim) allHonestAt(h uint64) bool {
	for i, n := range s.nodes {
		if _, byz := s.cfg.Byzantine[i]; !byz && n.height < h {
			return false
		}
	}
	return true
}

func (s *sim) endFaults() {
	s.faulty = false
	for _, n := range s.nodes {
		n.store.Disarm()
		n.armed = false
	}
	s.heal()
	for i, n := range s.nodes {
		if n.crashed() {
			s.restart(i)
		}
	}
	for _, n := range s.nodes {
		if h, err := n.store.BlockHeight(context.Background()); err == nil && h > 0 {
			s.heightAtHeal = max(s.heightAtHeal, h-1)
		}
	}
	s.healed = true
	s.atHeal = len(s.submitted)
}

func (s *sim) handle(e *event) error {
	ctx := context.Background()
	switch e.kind {
	case evFault:
		e.fault()
		return nil
	case evSubmit:
		s.push(&event{at: s.now.Add(s.cfg.TxInterval), kind: evSubmit})
		i := s.rng.IntN(len(s.nodes))
		tx := types.Transaction{Namespace: uint64(s.rng.IntN(3)), Payload: fmt.Appendf(nil, "sim tx %d", len(s.submitted))}
		n := s.nodes[i]
		if n.crashed() {
			return nil // the client's submission fails
		}
		c, err := n.replica.Submit(ctx, tx, s.now)
		if err != nil {
			return fmt.Errorf("node %d: submit: %w", i, err)
		}
		s.submitted = append(s.submitted, c)
		s.sentTo[i] = append(s.sentTo[i], tx)
		return s.tickLive(i)
	case evTick:
		n := s.nodes[e.to]
		if n.crashed() || !e.at.Equal(n.tickAt) {
			return nil // stale tick
		}
		return s.tickLive(e.to)
	case evDeliver:
		n := s.nodes[e.to]
		if n.crashed() {
			return nil
		}
		answer, err := n.replica.Deliver(ctx, e.from, e.data, s.now)
		if err != nil {
			return s.fail(e.to, err)
		}
		if answer != nil {
			n.out.Send(ctx, e.from, answer) // through a Byzantine node's behaviour too
		}
		if bad := n.replica.Stats().InvalidFrames; bad > 0 {
			return fmt.Errorf("node %d: %d undecodable frames from the simulation's own replicas", e.to, bad)
		}
		s.schedule(e.to)
		return nil
	}
	return errors.New("unknown event")
}

func (s *sim) tickLive(i int) error {
	n := s.nodes[i]
	if n.crashed() {
		return nil
	}
	if err := n.replica.Tick(context.Background(), s.now); err != nil {
		return s.fail(i, err)
	}
	s.schedule(i)
	return nil
}

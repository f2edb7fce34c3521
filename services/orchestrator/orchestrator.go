package orchestrator

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/gospresso/gospresso/keys"
)

// Sentinel errors. The module answers each with the HTTP status given.
var (
	// ErrInvalidOption marks a bad, repeated or conflicting option.
	ErrInvalidOption = errors.New("orchestrator: invalid option")
	// ErrInvalidRegistration marks a registration with a missing field or
	// an address that is not a multiaddr ending in /p2p/<peer id> (400).
	ErrInvalidRegistration = errors.New("orchestrator: invalid registration")
	// ErrBadProofOfPossession marks a registration whose proof of
	// possession does not verify for its staking key (400).
	ErrBadProofOfPossession = errors.New("orchestrator: bad proof of possession")
	// ErrBadSignature marks a registration whose staking-key or state-key
	// signature of its digest does not verify (400).
	ErrBadSignature = errors.New("orchestrator: bad registration signature")
	// ErrConflict marks a registration whose state key or peer ID another
	// registered staking key already uses (409).
	ErrConflict = errors.New("orchestrator: conflicting registration")
	// ErrFull marks a new registration once all the expected nodes have
	// registered (409).
	ErrFull = errors.New("orchestrator: all nodes registered")
	// ErrStarted marks a new registration, or a changed one, after the start
	// signal: the stake table is fixed from then on (409).
	ErrStarted = errors.New("orchestrator: network already started")
	// ErrNoNodes marks a manual start before any node registered (409).
	ErrNoNodes = errors.New("orchestrator: no node registered")
	// ErrManualStartDisabled marks a manual start on an orchestrator without
	// a manual-start password (403).
	ErrManualStartDisabled = errors.New("orchestrator: manual start not enabled")
	// ErrWrongPassword marks a manual start with the wrong password (403).
	ErrWrongPassword = errors.New("orchestrator: wrong manual-start password")
)

// Defaults of the options: the reference orchestrator's, but for
// DefaultViewSyncTimeout, which it does not set.
const (
	DefaultStartDelay      = 10 * time.Second
	DefaultNextViewTimeout = 60 * time.Second
	DefaultViewSyncTimeout = 2 * time.Second
	DefaultBuilderTimeout  = time.Second
	DefaultRoundStartDelay = time.Millisecond
	DefaultLibp2pMeshN     = 20
	// MaxBodySize bounds a POST body: a registration is about 700 bytes of
	// JSON with an address of MaxAddressLength.
	MaxBodySize = 4 << 10
	// MaxNodes bounds the number of nodes an orchestrator expects.
	MaxNodes = 10_000
)

// DefaultTimeoutRatio and DefaultStartThreshold are N:D ratios.
var (
	DefaultTimeoutRatio   = [2]uint64{11, 10}
	DefaultStartThreshold = [2]uint64{8, 10}
)

// Option configures New.
type Option func(*settings) error

type settings struct {
	log             *slog.Logger
	startDelay      time.Duration
	nextViewTimeout time.Duration
	viewSyncTimeout time.Duration
	builderTimeout  time.Duration
	timeoutRatio    [2]uint64
	startThreshold  [2]uint64
	roundStartDelay time.Duration
	meshN           uint64
	builderURLs     []string
	password        *string
	given           map[string]bool
}

func (s *settings) once(name string) error {
	if s.given[name] {
		return fmt.Errorf("%w: %s given twice", ErrInvalidOption, name)
	}
	s.given[name] = true
	return nil
}

// WithStartDelay sets how long after the start threshold is reached the
// start signal is given (≥ 0). Default DefaultStartDelay.
func WithStartDelay(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("%w: WithStartDelay(%v): want >= 0", ErrInvalidOption, d)
		}
		s.startDelay = d
		return s.once("WithStartDelay")
	}
}

// WithNextViewTimeout sets the next_view_timeout of the network config
// (at least 1ms; served in whole milliseconds). Default
// DefaultNextViewTimeout.
func WithNextViewTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d < time.Millisecond {
			return fmt.Errorf("%w: WithNextViewTimeout(%v): want at least 1ms", ErrInvalidOption, d)
		}
		s.nextViewTimeout = d
		return s.once("WithNextViewTimeout")
	}
}

// WithViewSyncTimeout sets the view_sync_timeout of the network config
// (at least 1ms). Default DefaultViewSyncTimeout.
func WithViewSyncTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d < time.Millisecond {
			return fmt.Errorf("%w: WithViewSyncTimeout(%v): want at least 1ms", ErrInvalidOption, d)
		}
		s.viewSyncTimeout = d
		return s.once("WithViewSyncTimeout")
	}
}

// WithBuilderTimeout sets the builder_timeout of the network config (≥ 0).
// Default DefaultBuilderTimeout.
func WithBuilderTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("%w: WithBuilderTimeout(%v): want >= 0", ErrInvalidOption, d)
		}
		s.builderTimeout = d
		return s.once("WithBuilderTimeout")
	}
}

// WithTimeoutRatio sets the timeout_ratio num:den of the network config,
// the backoff per consecutive timeout (num ≥ den > 0, as consensus.Config
// wants). Default DefaultTimeoutRatio.
func WithTimeoutRatio(num, den uint64) Option {
	return func(s *settings) error {
		if den == 0 || num < den {
			return fmt.Errorf("%w: WithTimeoutRatio(%d, %d): want num >= den > 0", ErrInvalidOption, num, den)
		}
		s.timeoutRatio = [2]uint64{num, den}
		return s.once("WithTimeoutRatio")
	}
}

// WithStartThreshold sets the fraction num/den of the expected nodes that
// must have registered for the start signal (0 < num ≤ den): ⌈num·N/den⌉
// nodes. Default DefaultStartThreshold.
func WithStartThreshold(num, den uint64) Option {
	return func(s *settings) error {
		if num == 0 || den == 0 || num > den || den > 1<<32 {
			return fmt.Errorf("%w: WithStartThreshold(%d, %d): want 0 < num <= den <= 2^32", ErrInvalidOption, num, den)
		}
		s.startThreshold = [2]uint64{num, den}
		return s.once("WithStartThreshold")
	}
}

// WithRoundStartDelay sets the round_start_delay of the network config
// (≥ 0; served in whole milliseconds). Default DefaultRoundStartDelay.
func WithRoundStartDelay(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("%w: WithRoundStartDelay(%v): want >= 0", ErrInvalidOption, d)
		}
		s.roundStartDelay = d
		return s.once("WithRoundStartDelay")
	}
}

// WithLibp2pMeshN sets the libp2p_mesh_n of the network config, the
// gossipsub mesh degree (≥ 1). Default DefaultLibp2pMeshN.
func WithLibp2pMeshN(n uint64) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("%w: WithLibp2pMeshN(0): want at least 1", ErrInvalidOption)
		}
		s.meshN = n
		return s.once("WithLibp2pMeshN")
	}
}

// WithBuilderURLs sets the builder_urls of the network config: absolute
// http or https URLs. Default none.
func WithBuilderURLs(urls ...string) Option {
	return func(s *settings) error {
		for _, u := range urls {
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				return fmt.Errorf("%w: WithBuilderURLs: %q is not an absolute http or https URL", ErrInvalidOption, u)
			}
		}
		s.builderURLs = slices.Clone(urls)
		return s.once("WithBuilderURLs")
	}
}

// WithManualStartPassword enables the manual start: a POST of the password
// to manual-start gives the start signal at once. The password must not be
// empty. Default: no manual start.
func WithManualStartPassword(password string) Option {
	return func(s *settings) error {
		if password == "" {
			return fmt.Errorf("%w: WithManualStartPassword: empty password", ErrInvalidOption)
		}
		s.password = &password
		return s.once("WithManualStartPassword")
	}
}

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if l == nil {
			return fmt.Errorf("%w: WithLogger(nil)", ErrInvalidOption)
		}
		s.log = l
		return s.once("WithLogger")
	}
}

// member is one registered node.
type member struct {
	reg  Registration
	peer peer.ID
}

// Orchestrator collects the registrations of the nodes of one network,
// serves the network config built from them and gives the start signal.
// Create it with New; it is safe for concurrent use. See the package
// documentation for the rules.
type Orchestrator struct {
	log            *slog.Logger
	numNodes       int
	thresholdNodes int
	set            settings
	passwordHash   *[sha256.Size]byte

	mu        sync.Mutex
	members   []*member
	byKey     map[keys.StakingPubKey]int
	byState   map[keys.StatePubKey]int
	byPeer    map[peer.ID]int
	reachedAt time.Time // when thresholdNodes had registered; zero before
	started   bool
}

// New returns an orchestrator expecting numNodes nodes (1 to MaxNodes).
func New(numNodes int, opts ...Option) (*Orchestrator, error) {
	if numNodes < 1 || numNodes > MaxNodes {
		return nil, fmt.Errorf("%w: %d nodes, want 1 to %d", ErrInvalidOption, numNodes, MaxNodes)
	}
	s := settings{
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		startDelay: DefaultStartDelay, nextViewTimeout: DefaultNextViewTimeout, viewSyncTimeout: DefaultViewSyncTimeout,
		builderTimeout: DefaultBuilderTimeout, timeoutRatio: DefaultTimeoutRatio, startThreshold: DefaultStartThreshold,
		roundStartDelay: DefaultRoundStartDelay, meshN: DefaultLibp2pMeshN,
		given: make(map[string]bool),
	}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	o := &Orchestrator{
		log: s.log, numNodes: numNodes, set: s,
		thresholdNodes: ThresholdNodes(numNodes, s.startThreshold[0], s.startThreshold[1]),
		byKey:          make(map[keys.StakingPubKey]int),
		byState:        make(map[keys.StatePubKey]int),
		byPeer:         make(map[peer.ID]int),
	}
	if s.password != nil {
		h := sha256.Sum256([]byte(*s.password))
		o.passwordHash = &h
	}
	return o, nil
}

// ThresholdNodes is ⌈num·n/den⌉: how many of n nodes a start threshold of
// num:den needs (0 < num ≤ den ≤ 2^32, n ≤ MaxNodes).
func ThresholdNodes(n int, num, den uint64) int {
	return int((uint64(n)*num + den - 1) / den)
}

// NumNodes is the number of nodes the orchestrator expects (N).
func (o *Orchestrator) NumNodes() int { return o.numNodes }

// StartThresholdNodes is the number of registered nodes the start signal
// needs: ⌈threshold·N⌉.
func (o *Orchestrator) StartThresholdNodes() int { return o.thresholdNodes }

// Outcome says what Register did with a registration.
type Outcome string

// Outcomes of Register.
const (
	// OutcomeRegistered: a new node, appended to the stake table.
	OutcomeRegistered Outcome = "registered"
	// OutcomeUnchanged: the key was registered with the same data (a
	// restarted node); nothing changed.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeUpdated: the key was registered with other data (before the
	// start signal); the new data replaced it, at the same index.
	OutcomeUpdated Outcome = "updated"
)

// Receipt is the answer to an accepted registration.
type Receipt struct {
	// Index is the node's index in the stake table: its registration
	// order, from 0.
	Index int `json:"index"`
	// Outcome says what the registration did.
	Outcome Outcome `json:"outcome"`
	// Registered is the number of registered nodes after it.
	Registered int `json:"registered"`
	// NumNodes is the number of nodes the orchestrator expects.
	NumNodes int `json:"num_nodes"`
}

// updateLocked gives the start signal once the threshold has been reached
// for the start delay.
func (o *Orchestrator) updateLocked(now time.Time) {
	if o.started || o.reachedAt.IsZero() || now.Before(o.reachedAt.Add(o.set.startDelay)) {
		return
	}
	o.started = true
	o.log.Info("orchestrator: start signal given", "registered", len(o.members), "num_nodes", o.numNodes,
		"threshold", o.thresholdNodes, "start_delay", o.set.startDelay)
}

// same reports whether two registrations of one staking key carry the same
// data (their signatures aside: both verified).
func same(a, b *Registration) bool {
	return a.StateKey == b.StateKey && a.DA == b.DA && a.Libp2pAddress == b.Libp2pAddress &&
		a.ProofOfPossession == b.ProofOfPossession
}

// Register checks a registration (Registration.Check) and records it: see
// the package documentation for the rules. An error wraps one of the
// sentinel errors.
func (o *Orchestrator) Register(r Registration) (Receipt, error) {
	id, err := r.Check()
	if err != nil {
		return Receipt{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.updateLocked(time.Now())

	if i, ok := o.byKey[r.StakingKey]; ok {
		old := o.members[i]
		if same(&old.reg, &r) {
			return o.receiptLocked(i, OutcomeUnchanged), nil
		}
		if o.started {
			return Receipt{}, fmt.Errorf("%w: staking key %s (index %d) is registered with %s; the stake table is fixed since the start signal, so it cannot change to %s",
				ErrStarted, r.StakingKey, i, describe(&old.reg), describe(&r))
		}
		if err := o.conflictLocked(&r, id, i); err != nil {
			return Receipt{}, err
		}
		delete(o.byState, old.reg.StateKey)
		delete(o.byPeer, old.peer)
		o.members[i] = &member{reg: r, peer: id}
		o.byState[r.StateKey], o.byPeer[id] = i, i
		o.log.Info("orchestrator: registration updated", "index", i, "staking_key", r.StakingKey,
			"was", describe(&old.reg), "now", describe(&r))
		return o.receiptLocked(i, OutcomeUpdated), nil
	}
	switch {
	case o.started:
		return Receipt{}, fmt.Errorf("%w with %d of %d nodes: the stake table is fixed, staking key %s cannot join",
			ErrStarted, len(o.members), o.numNodes, r.StakingKey)
	case len(o.members) >= o.numNodes:
		return Receipt{}, fmt.Errorf("%w: %d of %d registered; staking key %s cannot join", ErrFull, len(o.members), o.numNodes, r.StakingKey)
	}
	if err := o.conflictLocked(&r, id, -1); err != nil {
		return Receipt{}, err
	}
	i := len(o.members)
	o.members = append(o.members, &member{reg: r, peer: id})
	o.byKey[r.StakingKey], o.byState[r.StateKey], o.byPeer[id] = i, i, i
	o.log.Info("orchestrator: node registered", "index", i, "registered", i+1, "num_nodes", o.numNodes,
		"staking_key", r.StakingKey, "libp2p_address", r.Libp2pAddress)
	if i+1 == o.thresholdNodes {
		o.reachedAt = time.Now()
		o.log.Info("orchestrator: start threshold reached", "registered", i+1, "threshold", o.thresholdNodes,
			"start_delay", o.set.startDelay)
		o.updateLocked(o.reachedAt)
	}
	return o.receiptLocked(i, OutcomeRegistered), nil
}

// conflictLocked refuses a registration whose state key or peer ID a
// member other than self (an index, or -1) uses.
func (o *Orchestrator) conflictLocked(r *Registration, id peer.ID, self int) error {
	if j, ok := o.byState[r.StateKey]; ok && j != self {
		return fmt.Errorf("%w: state key %s is already registered by node %d (staking key %s)",
			ErrConflict, r.StateKey, j, o.members[j].reg.StakingKey)
	}
	if j, ok := o.byPeer[id]; ok && j != self {
		return fmt.Errorf("%w: peer ID %s of %q is already registered by node %d (staking key %s)",
			ErrConflict, id, r.Libp2pAddress, j, o.members[j].reg.StakingKey)
	}
	return nil
}

func describe(r *Registration) string {
	return fmt.Sprintf("state key %s, DA %t, address %q", r.StateKey, r.DA, r.Libp2pAddress)
}

func (o *Orchestrator) receiptLocked(i int, out Outcome) Receipt {
	return Receipt{Index: i, Outcome: out, Registered: len(o.members), NumNodes: o.numNodes}
}

// StartStatus is the answer of GET start and of a manual start.
type StartStatus struct {
	// Started is the start signal: false until the threshold has been
	// reached for the start delay (or a manual start), then true for ever.
	Started bool `json:"started"`
	// Registered is the number of registered nodes.
	Registered int `json:"registered"`
	// NumNodes is the number of nodes the orchestrator expects (N).
	NumNodes int `json:"num_nodes"`
	// StartThresholdNodes is the number of registered nodes the start
	// signal needs.
	StartThresholdNodes int `json:"start_threshold_nodes"`
	// StartsInMS is, once the threshold is reached and before the start
	// signal, the milliseconds left until it; absent otherwise.
	StartsInMS *int64 `json:"starts_in_ms,omitempty"`
}

// Status returns the start signal and the registration count.
func (o *Orchestrator) Status() StartStatus {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	o.updateLocked(now)
	return o.statusLocked(now)
}

func (o *Orchestrator) statusLocked(now time.Time) StartStatus {
	st := StartStatus{Started: o.started, Registered: len(o.members), NumNodes: o.numNodes, StartThresholdNodes: o.thresholdNodes}
	if !o.started && !o.reachedAt.IsZero() {
		ms := max(o.reachedAt.Add(o.set.startDelay).Sub(now).Milliseconds(), 0)
		st.StartsInMS = &ms
	}
	return st
}

// ManualStart gives the start signal at once if password is the manual-start
// password: ErrManualStartDisabled without one, ErrWrongPassword for another
// password, ErrNoNodes before any node registered. Once started, the right
// password is answered with the status.
func (o *Orchestrator) ManualStart(password string) (StartStatus, error) {
	if o.passwordHash == nil {
		return StartStatus{}, fmt.Errorf("%w: the orchestrator was started without a manual-start password", ErrManualStartDisabled)
	}
	h := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(h[:], o.passwordHash[:]) != 1 {
		o.log.Warn("orchestrator: manual start with a wrong password")
		return StartStatus{}, ErrWrongPassword
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	o.updateLocked(now)
	if !o.started {
		if len(o.members) == 0 {
			return StartStatus{}, fmt.Errorf("%w: a network needs at least one node to start", ErrNoNodes)
		}
		o.started = true
		o.log.Info("orchestrator: start signal given manually", "registered", len(o.members), "num_nodes", o.numNodes,
			"threshold", o.thresholdNodes)
	}
	return o.statusLocked(now), nil
}

// Config returns the network config: the stake table in registration
// order, the bootstrap list and the consensus parameters. It is final once
// Started is true.
func (o *Orchestrator) Config() NetworkConfig {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.updateLocked(time.Now())
	s := &o.set
	// The DA committee: the nodes that registered with --is-da, or every
	// node when none did (as the reference, whose da_staked_committee_size
	// is N).
	anyDA := false
	for _, m := range o.members {
		anyDA = anyDA || m.reg.DA
	}
	committee := o.numNodes
	if anyDA {
		committee = 0
		for _, m := range o.members {
			if m.reg.DA {
				committee++
			}
		}
	}
	c := NetworkConfig{
		Started:               o.started,
		NumNodesWithStake:     o.numNodes,
		DAStakedCommitteeSize: committee,
		StakeTable:            make([]StakeTableEntry, len(o.members)),
		BootstrapNodes:        make([]string, len(o.members)),
		NextViewTimeoutMS:     uint64(s.nextViewTimeout.Milliseconds()),
		ViewSyncTimeoutMS:     uint64(s.viewSyncTimeout.Milliseconds()),
		BuilderTimeoutMS:      uint64(s.builderTimeout.Milliseconds()),
		TimeoutRatio:          s.timeoutRatio,
		StartThreshold:        s.startThreshold,
		StartThresholdNodes:   o.thresholdNodes,
		RoundStartDelayMS:     uint64(s.roundStartDelay.Milliseconds()),
		Libp2pMeshN:           s.meshN,
		BuilderURLs:           append([]string{}, s.builderURLs...),
	}
	for i, m := range o.members {
		c.StakeTable[i] = StakeTableEntry{
			StakingKey: m.reg.StakingKey, StateKey: m.reg.StateKey, Stake: 1, DA: m.reg.DA || !anyDA,
			ProofOfPossession: m.reg.ProofOfPossession, Libp2pAddress: m.reg.Libp2pAddress,
		}
		c.BootstrapNodes[i] = m.reg.Libp2pAddress
	}
	return c
}

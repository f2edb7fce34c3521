package staterelay

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/lightclient"
)

// Sentinel errors. The module answers each with the HTTP status given.
var (
	// ErrInvalidOption marks a bad, repeated or conflicting option at New.
	ErrInvalidOption = errors.New("staterelay: invalid option")
	// ErrMissing marks a post without a key or without a signature (400).
	ErrMissing = errors.New("staterelay: incomplete signed state")
	// ErrBadSignature marks a signature that does not verify against its
	// key and state (400). It wraps lightclient.ErrBadSignature.
	ErrBadSignature = fmt.Errorf("staterelay: %w", lightclient.ErrBadSignature)
	// ErrUnknownKey marks a key outside the stake table (403).
	ErrUnknownKey = errors.New("staterelay: key not in the stake table")
	// ErrEquivocation marks a key's signature of a second, different state
	// of a height it already signed a state of (409). The first is kept.
	ErrEquivocation = errors.New("staterelay: equivocation")
	// ErrConflictingState marks a state of the latest certified height
	// that is not the certified state (409).
	ErrConflictingState = errors.New("staterelay: conflicts with the certified state")
	// ErrTooOld marks a state too old to keep (410).
	ErrTooOld = errors.New("staterelay: state too old")
	// ErrFull marks a post refused because the relay keeps as many signers
	// as it may (503; only without a stake table, see WithMaxSigners).
	ErrFull = errors.New("staterelay: too many signers")
	// ErrNoCertifiedState is returned by Latest before any state reached
	// the threshold (404).
	ErrNoCertifiedState = errors.New("staterelay: no state certified yet")
)

// Defaults.
const (
	// DefaultTotalStake is the total stake the threshold is computed from
	// without a stake table: the reference relay's temporary default.
	DefaultTotalStake = 5
	// DefaultWindow is how many pending heights each key may hold, and how
	// far below the latest certified height a state is still answered as
	// merely stale rather than refused.
	DefaultWindow = 100
	// DefaultMaxSigners bounds, without a stake table, the keys holding
	// pending signatures and the signers of any one height.
	DefaultMaxSigners = 1000
	// MaxBodySize bounds a POST body: a signed state is about 300 bytes of
	// JSON.
	MaxBodySize = 4 << 10
)

// Option configures New.
type Option func(*settings) error

type settings struct {
	log        *slog.Logger
	table      []genesis.StakeTableEntry
	totalStake uint64
	window     uint64
	maxSigners int
	given      map[string]bool
}

func (s *settings) once(name string) error {
	if s.given[name] {
		return fmt.Errorf("%w: %s given twice", ErrInvalidOption, name)
	}
	s.given[name] = true
	return nil
}

// WithStakeTable makes the relay accept only the state keys of entries
// (the genesis [[public_keys]] table), weigh each by its stake, and use the
// threshold ⌊total/3⌋+1 of the table's total stake. It excludes
// WithTotalStake. Entries must have distinct, non-zero state keys and
// stakes > 0. Default: no stake table (any key, weight 1).
func WithStakeTable(entries []genesis.StakeTableEntry) Option {
	return func(s *settings) error {
		if len(entries) == 0 {
			return fmt.Errorf("%w: WithStakeTable: empty stake table", ErrInvalidOption)
		}
		s.table = slices.Clone(entries)
		return s.once("WithStakeTable")
	}
}

// WithTotalStake sets the total stake the threshold ⌊n/3⌋+1 is computed
// from when there is no stake table (n ≥ 1). Default DefaultTotalStake.
func WithTotalStake(n uint64) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("%w: WithTotalStake(0): want at least 1", ErrInvalidOption)
		}
		s.totalStake = n
		return s.once("WithTotalStake")
	}
}

// WithWindow sets the window (≥ 1): how many pending heights each key may
// hold, and how far below the latest certified height a state is answered
// as stale rather than refused. Default DefaultWindow.
func WithWindow(n uint64) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("%w: WithWindow(0): want at least 1", ErrInvalidOption)
		}
		s.window = n
		return s.once("WithWindow")
	}
}

// WithMaxSigners bounds, without a stake table, how many keys may hold
// pending signatures and how many keys may sign any one height (n ≥ 1).
// With a stake table the table bounds both. Default DefaultMaxSigners.
func WithMaxSigners(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("%w: WithMaxSigners(%d): want at least 1", ErrInvalidOption, n)
		}
		s.maxSigners = n
		return s.once("WithMaxSigners")
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

// keyID identifies a state key.
type keyID [keys.StatePubKeySize]byte

func idOf(k keys.StatePubKey) keyID { return keyID(k.Bytes()) }

// tally is the signatures of one state.
type tally struct {
	state  lightclient.State
	weight uint64
	sigs   map[keyID]lightclient.SignedState
}

// level is what the relay keeps of one height.
type level struct {
	tallies map[lightclient.State]*tally
	signed  map[keyID]lightclient.State // each signer's state: equivocation
}

// Relay collects signed light-client states and certifies those whose
// signers' weight reaches the threshold. Create it with New; it is safe for
// concurrent use. See the package documentation for the rules.
type Relay struct {
	log        *slog.Logger
	stake      map[keyID]uint64 // nil: no stake table, every key weighs 1
	total      uint64
	threshold  uint64
	window     uint64
	maxSigners int

	mu        sync.Mutex
	levels    map[uint64]*level
	pending   map[keyID]map[uint64]struct{} // heights above the certified one each key signed
	certified *tally                        // nil before the first
	height    uint64                        // of certified
}

// New returns a relay. Without options it accepts any key with weight 1
// and certifies a state signed by ⌊DefaultTotalStake/3⌋+1 = 2 keys.
func New(opts ...Option) (*Relay, error) {
	s := settings{
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		totalStake: DefaultTotalStake, window: DefaultWindow, maxSigners: DefaultMaxSigners,
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
	r := &Relay{log: s.log, total: s.totalStake, window: s.window, maxSigners: s.maxSigners,
		levels: make(map[uint64]*level), pending: make(map[keyID]map[uint64]struct{})}
	if s.table != nil {
		if s.given["WithTotalStake"] {
			return nil, fmt.Errorf("%w: WithTotalStake and WithStakeTable exclude each other (with a stake table the threshold comes from its stakes)", ErrInvalidOption)
		}
		r.stake = make(map[keyID]uint64, len(s.table))
		r.total = 0
		for i, e := range s.table {
			switch {
			case e.StateKey.IsZero():
				return nil, fmt.Errorf("%w: stake table entry %d has no state key", ErrInvalidOption, i)
			case e.Stake == 0:
				return nil, fmt.Errorf("%w: stake table entry %d (%s) has stake 0", ErrInvalidOption, i, e.StateKey)
			case r.stake[idOf(e.StateKey)] != 0:
				return nil, fmt.Errorf("%w: stake table entry %d repeats state key %s", ErrInvalidOption, i, e.StateKey)
			case e.Stake > math.MaxUint64-r.total:
				return nil, fmt.Errorf("%w: stake table total overflows 64 bits", ErrInvalidOption)
			}
			r.stake[idOf(e.StateKey)] = e.Stake
			r.total += e.Stake
		}
		r.maxSigners = len(s.table)
	}
	r.threshold = r.total/3 + 1
	return r, nil
}

// Threshold is the weight a state needs to be certified: ⌊total/3⌋+1.
func (r *Relay) Threshold() uint64 { return r.threshold }

// TotalStake is the total the threshold is computed from: the stake
// table's, or the WithTotalStake value.
func (r *Relay) TotalStake() uint64 { return r.total }

// Window is the window of the package documentation.
func (r *Relay) Window() uint64 { return r.window }

// Outcome says what Submit did with an accepted signed state.
type Outcome string

// Outcomes of Submit.
const (
	// OutcomePending: kept; the state's weight is below the threshold.
	OutcomePending Outcome = "pending"
	// OutcomeCertified: kept, and the state reached the threshold with it:
	// it is now the latest certified state.
	OutcomeCertified Outcome = "certified"
	// OutcomeAdded: the signature joined the latest certified state's.
	OutcomeAdded Outcome = "added"
	// OutcomeDuplicate: the key had already signed this state; nothing
	// changed.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeStale: a state a little below the latest certified one,
	// checked but not kept.
	OutcomeStale Outcome = "stale"
)

// Receipt is the answer to an accepted post.
type Receipt struct {
	Outcome Outcome `json:"outcome"`
	// BlockHeight is the height of the posted state.
	BlockHeight uint64 `json:"block_height"`
	// Weight is the state's accumulated weight after the post (0 when
	// stale).
	Weight uint64 `json:"weight"`
	// Threshold is the weight a state needs to be certified.
	Threshold uint64 `json:"threshold"`
	// CertifiedHeight is the height of the latest certified state, absent
	// before the first.
	CertifiedHeight *uint64 `json:"certified_height,omitempty"`
}

// Certified is a state whose signers' weight reached the threshold, with
// their signatures: the answer of GET state.
type Certified struct {
	State             lightclient.State                        `json:"state"`
	Signatures        map[keys.StatePubKey]keys.StateSignature `json:"signatures"`
	AccumulatedWeight uint64                                   `json:"accumulated_weight"`
	Threshold         uint64                                   `json:"threshold"`
}

// Latest returns the latest (highest) certified state with its signatures,
// or ErrNoCertifiedState.
func (r *Relay) Latest() (Certified, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.certified == nil {
		return Certified{}, fmt.Errorf("%w: no state has signatures of weight %d or more (the threshold: ⌊%d/3⌋+1)",
			ErrNoCertifiedState, r.threshold, r.total)
	}
	c := Certified{State: r.certified.state, AccumulatedWeight: r.certified.weight, Threshold: r.threshold,
		Signatures: make(map[keys.StatePubKey]keys.StateSignature, len(r.certified.sigs))}
	for _, s := range r.certified.sigs {
		c.Signatures[s.Key] = s.Signature
	}
	return c, nil
}

// weightOf returns the weight of k, or ErrUnknownKey.
func (r *Relay) weightOf(k keys.StatePubKey) (uint64, error) {
	if r.stake == nil {
		return 1, nil
	}
	w, ok := r.stake[idOf(k)]
	if !ok {
		return 0, fmt.Errorf("%w: %s is not a state key of the stake table (%d keys)", ErrUnknownKey, k, len(r.stake))
	}
	return w, nil
}

// Submit checks a signed state and counts it: see the package
// documentation for the rules. An error wraps one of the sentinel errors.
func (r *Relay) Submit(st lightclient.SignedState) (Receipt, error) {
	h := st.State.BlockHeight
	switch {
	case st.Key.IsZero():
		return Receipt{}, fmt.Errorf("%w: no key (want \"key\": \"SCHNORR_VER_KEY~…\")", ErrMissing)
	case st.Signature.IsZero():
		return Receipt{}, fmt.Errorf("%w: no signature (want \"signature\": \"SCHNORR_SIG~…\")", ErrMissing)
	}
	w, err := r.weightOf(st.Key)
	if err != nil {
		return Receipt{}, err
	}
	if st.Verify() != nil {
		return Receipt{}, fmt.Errorf("%w: key %s, state of height %d", ErrBadSignature, st.Key, h)
	}
	id := idOf(st.Key)

	r.mu.Lock()
	defer r.mu.Unlock()
	rc := Receipt{BlockHeight: h, Threshold: r.threshold}
	if r.certified != nil {
		ch := r.height
		rc.CertifiedHeight = &ch
		if h < ch {
			if ch-h <= r.window {
				rc.Outcome = OutcomeStale
				return rc, nil
			}
			return Receipt{}, fmt.Errorf("%w: height %d is more than %d below the latest certified height %d",
				ErrTooOld, h, r.window, ch)
		}
	}
	lv := r.levels[h]
	if lv != nil {
		if prev, ok := lv.signed[id]; ok {
			if prev != st.State {
				r.log.Warn("state relay: equivocation refused", "key", st.Key.String(), "height", h)
				return Receipt{}, fmt.Errorf("%w: key %s already signed a different state of height %d (view %d, root %s); this one (view %d, root %s) is refused",
					ErrEquivocation, st.Key, h, prev.ViewNumber, prev.BlockCommRoot, st.State.ViewNumber, st.State.BlockCommRoot)
			}
			rc.Outcome, rc.Weight = OutcomeDuplicate, lv.tallies[st.State].weight
			return rc, nil
		}
	}
	if r.certified != nil && h == r.height && st.State != r.certified.state {
		return Receipt{}, fmt.Errorf("%w: height %d is certified with view %d, root %s; this state has view %d, root %s",
			ErrConflictingState, h, r.certified.state.ViewNumber, r.certified.state.BlockCommRoot, st.State.ViewNumber, st.State.BlockCommRoot)
	}
	if lv != nil && len(lv.signed) >= r.maxSigners {
		return Receipt{}, fmt.Errorf("%w: height %d already has %d signers", ErrFull, h, len(lv.signed))
	}
	isPending := r.certified == nil || h > r.height
	if isPending {
		if err := r.makeRoom(id, h); err != nil {
			return Receipt{}, err
		}
	}

	if lv == nil {
		lv = &level{tallies: make(map[lightclient.State]*tally), signed: make(map[keyID]lightclient.State)}
		r.levels[h] = lv
	}
	t := lv.tallies[st.State]
	if t == nil {
		t = &tally{state: st.State, sigs: make(map[keyID]lightclient.SignedState)}
		lv.tallies[st.State] = t
	}
	lv.signed[id] = st.State
	t.sigs[id] = st
	t.weight += w
	rc.Weight = t.weight
	if !isPending {
		rc.Outcome = OutcomeAdded
		return rc, nil
	}
	ps := r.pending[id]
	if ps == nil {
		ps = make(map[uint64]struct{})
		r.pending[id] = ps
	}
	ps[h] = struct{}{}
	if t.weight < r.threshold {
		rc.Outcome = OutcomePending
		return rc, nil
	}
	r.certify(h, t)
	rc.Outcome = OutcomeCertified
	rc.CertifiedHeight = &h
	return rc, nil
}

// makeRoom makes sure key id may hold one more pending signature, at
// height h: it refuses a new key beyond maxSigners and, for a key holding
// window pending signatures, drops its oldest, or refuses h if h is older
// than all of them.
func (r *Relay) makeRoom(id keyID, h uint64) error {
	ps := r.pending[id]
	if ps == nil {
		if len(r.pending) >= r.maxSigners {
			return fmt.Errorf("%w: %d keys hold pending signatures", ErrFull, len(r.pending))
		}
		return nil
	}
	if uint64(len(ps)) < r.window {
		return nil
	}
	oldest := uint64(math.MaxUint64)
	for ph := range ps {
		oldest = min(oldest, ph)
	}
	if h < oldest {
		return fmt.Errorf("%w: height %d is below the %d newer pending states this key signed (heights %d and up)",
			ErrTooOld, h, len(ps), oldest)
	}
	r.drop(id, oldest)
	return nil
}

// drop removes key id's pending signature at height h.
func (r *Relay) drop(id keyID, h uint64) {
	delete(r.pending[id], h)
	if len(r.pending[id]) == 0 {
		delete(r.pending, id)
	}
	lv := r.levels[h]
	if lv == nil {
		return
	}
	st, ok := lv.signed[id]
	if !ok {
		return
	}
	delete(lv.signed, id)
	t := lv.tallies[st]
	w, _ := r.weightOf(t.sigs[id].Key)
	t.weight -= w
	delete(t.sigs, id)
	if len(t.sigs) == 0 {
		delete(lv.tallies, st)
	}
	if len(lv.signed) == 0 {
		delete(r.levels, h)
	}
}

// certify makes t, of height h, the latest certified state and forgets
// everything below h.
func (r *Relay) certify(h uint64, t *tally) {
	r.certified, r.height = t, h
	for lh := range r.levels {
		if lh < h {
			delete(r.levels, lh)
		}
	}
	// Heights up to h are no longer pending: h is certified (its level
	// stays, for late signers and equivocation), below it forgotten.
	for id, ps := range r.pending {
		maps.DeleteFunc(ps, func(ph uint64, _ struct{}) bool { return ph <= h })
		if len(ps) == 0 {
			delete(r.pending, id)
		}
	}
	r.log.Info("state relay: state certified", "height", h, "view", t.state.ViewNumber,
		"weight", t.weight, "threshold", r.threshold, "signers", len(t.sigs))
}

package chain

import (
	"cmp"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/holiman/uint256"

	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// L1 is what the ledger reads of the L1 (Ethereum) chain. Its methods never
// block on the network: a miss returns false, and the implementation
// fetches what was asked for in the background, so that asking again a
// little later succeeds (the node adapts *l1.Tracker to it). It must be
// safe for concurrent use.
type L1 interface {
	// Snapshot returns the latest head block number and the latest
	// finalized block seen; finalized is nil before the L1 has finalized
	// anything.
	Snapshot() (head uint64, finalized *types.L1BlockInfo)
	// BlockInfo returns the block of that number, false when it is not
	// known (yet).
	BlockInfo(number uint64) (types.L1BlockInfo, bool)
	// Credits returns the fee contract's deposits in L1 blocks [from, to]
	// as credits in L1 order (block, then log index), false when they are
	// not fetched yet.
	Credits(from, to uint64) ([]state.Credit, bool)
}

// maxUndecided bounds the undecided leaves the ledger remembers beyond the
// decided ones: a leader proposing fork after fork cannot make it hold
// more. Honest networks have a handful.
const maxUndecided = 1024

// StatesKept is how many decided states a Ledger keeps for readers (see
// Ledger.DecidedStates): the states after the last StatesKept blocks it
// applied. States share every tree node a block did not touch, so each
// one kept costs what its block changed.
const StatesKept = 128

// LedgerConfig configures NewLedger.
type LedgerConfig struct {
	// Rules are the chain rules (version and chain config). Required.
	Rules Rules
	// Anchor is the last decided leaf whose state is State: the genesis
	// leaf for a new node. Required.
	Anchor types.Leaf
	// State is the chain state after Anchor. Required.
	State *state.State
	// Mempool is where the builder takes transactions from. Required to
	// build blocks.
	Mempool *Mempool
	// L1 is the node's view of the L1; nil on a network without an L1
	// (no fee contract and no [l1_finalized]), whose headers keep
	// l1_head 0 and l1_finalized null.
	L1 L1
	// BuilderKey is the builder's secp256k1 key: its address is the fee
	// account that pays for the blocks this node builds. Required to build
	// blocks.
	BuilderKey *ecdsa.PrivateKey
	// Logger receives the ledger's logs. Default: none.
	Logger *slog.Logger
}

// Ledger is the chain state of a replica: the state after each leaf it
// knows, from the last decided one up, with the rules of docs/state.md. It
// validates proposals against the state (consensus.Validator) and builds
// blocks that pay their fees (consensus.BlockBuilder).
//
// Its consensus methods, and Decide, must be called from one goroutine
// (the replica's driver); DecidedState and Rejections may be called from
// any.
type Ledger struct {
	rules   Rules
	mempool *Mempool
	l1      L1
	key     *ecdsa.PrivateKey
	account types.Address
	log     *slog.Logger

	// vid computes (and remembers) payload commitments; the consensus
	// engine disperses and checks DA proposals with the same one.
	vid *VIDScheme

	leaves map[types.Commitment]*ledgerLeaf
	// base is the last decided leaf whose state is known; decided the last
	// decided leaf (above base while its state waits on the L1).
	base, decided types.Commitment
	undecided     int

	built struct { // the state after the block this node built last
		parent, header types.Commitment
		state          *state.State
	}
	// starved is set by a build that could pay for none of the pending
	// transactions (see Pending).
	starved bool

	// kept holds the states after the last StatesKept applied blocks, in
	// height order, the last the decided state; the slice is replaced,
	// never changed in place, and never empty.
	kept     atomic.Pointer[[]*DecidedState]
	rejectMu sync.Mutex
	rejected map[string]uint64
}

// ledgerLeaf is a leaf the ledger knows: its header, its parent, and the
// state after it once computed.
type ledgerLeaf struct {
	header  types.Header
	parent  types.Commitment
	decided bool
	state   *state.State
	// payloadOK marks a leaf whose payload matched its commitment (a VID
	// commitment costs an erasure coding: it is computed once per leaf).
	payloadOK bool
}

// DecidedState is the state after the last decided block whose state the
// ledger has computed.
type DecidedState struct {
	// Header is the block's header.
	Header types.Header
	// State is the chain state after it.
	State *state.State
}

var (
	_ consensus.Validator    = (*Ledger)(nil)
	_ consensus.BlockBuilder = (*Ledger)(nil)
)

// NewLedger returns a ledger whose last decided leaf is cfg.Anchor. The
// anchor's header roots must be those of cfg.State.
func NewLedger(cfg LedgerConfig) (*Ledger, error) {
	if cfg.State == nil {
		return nil, errors.New("chain: LedgerConfig.State is required")
	}
	block, fee := cfg.State.Roots()
	h := &cfg.Anchor.Header
	if string(block) != string(h.BlockMerkleTreeRoot) || string(fee) != string(h.FeeMerkleTreeRoot) {
		return nil, fmt.Errorf("chain: the anchor state's roots are not those of the anchor header (height %d)", h.Height)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l := &Ledger{
		rules: cfg.Rules, mempool: cfg.Mempool, l1: cfg.L1, key: cfg.BuilderKey, log: log, vid: cfg.Rules.VIDScheme(),
		leaves:   make(map[types.Commitment]*ledgerLeaf),
		rejected: make(map[string]uint64),
	}
	if cfg.BuilderKey != nil {
		l.account = BuilderAddress(cfg.BuilderKey)
	}
	c := cfg.Anchor.Commit()
	l.leaves[c] = &ledgerLeaf{header: cfg.Anchor.Header, parent: cfg.Anchor.Parent, decided: true, state: cfg.State}
	l.base, l.decided = c, c
	l.publish([]*DecidedState{{Header: cfg.Anchor.Header, State: cfg.State}})
	return l, nil
}

// publish makes applied (in height order, the last one the new decided
// state; at least one) readable, keeping the last StatesKept states.
func (l *Ledger) publish(applied []*DecidedState) {
	var kept []*DecidedState
	if old := l.kept.Load(); old != nil {
		kept = *old
	}
	kept = append(slices.Clone(kept), applied...)
	if n := len(kept) - StatesKept; n > 0 {
		kept = kept[n:]
	}
	l.kept.Store(&kept)
}

// BuilderAccount returns the fee account of the node's builder (zero
// without a builder key).
func (l *Ledger) BuilderAccount() types.Address { return l.account }

// DecidedState returns the state after the last decided block whose state
// is known. Safe for concurrent use.
func (l *Ledger) DecidedState() DecidedState {
	kept := *l.kept.Load()
	return *kept[len(kept)-1]
}

// DecidedStates returns the states after the last decided blocks whose
// states the ledger computed, oldest first, at most StatesKept of them; the
// last is DecidedState. The heights are consecutive except across a state
// the node fetched from a peer at start. The slice is the caller's; the
// states are immutable. Safe for concurrent use.
func (l *Ledger) DecidedStates() []*DecidedState { return slices.Clone(*l.kept.Load()) }

// Rejections returns how many proposals each rule rejected (keys are the
// Rule constants). Safe for concurrent use.
func (l *Ledger) Rejections() map[string]uint64 {
	l.rejectMu.Lock()
	defer l.rejectMu.Unlock()
	out := make(map[string]uint64, len(l.rejected))
	for k, v := range l.rejected {
		out[k] = v
	}
	return out
}

// Pending implements consensus.BlockBuilder: whether there are
// transactions the builder could include now. After a build that left every
// pending transaction out for lack of funds it is false until the next
// build, so a leader whose builder cannot pay proposes its empty blocks at
// the normal pace (after the builder timeout) instead of at once.
func (l *Ledger) Pending() bool { return l.mempool != nil && !l.starved && l.mempool.Pending() }

// Decide records decided blocks, in height order, and moves the decided
// state forward as far as the L1 allows (the rest follows on later calls:
// a block's deposits may not be fetched yet). It fails when a decided
// block's roots differ from the state this node computes for it: the
// node's state has diverged from the network's and it must stop. Blocks at
// or below the height of the state the ledger holds (a ledger that started
// from a certified state a peer served, ahead of the node's own chain) are
// already accounted for and skipped.
func (l *Ledger) Decide(blocks []types.Block) error {
	baseHeight := l.leaves[l.base].header.Height
	for i := range blocks {
		leaf := &blocks[i].Leaf
		if leaf.Header.Height <= baseHeight {
			continue
		}
		c := leaf.Commit()
		n, ok := l.leaves[c]
		if !ok {
			n = &ledgerLeaf{header: leaf.Header, parent: leaf.Parent}
			l.leaves[c] = n
		} else if !n.decided {
			l.undecided--
		}
		n.decided = true
		l.decided = c
	}
	return l.advance()
}

// advance computes the state of the last decided leaf if it can, makes it
// the base, and forgets every leaf at or below it.
func (l *Ledger) advance() error {
	if l.base == l.decided {
		return nil
	}
	st, err := l.stateOf(l.decided)
	if errors.Is(err, consensus.ErrNotYet) {
		l.log.Debug("decided state waits for the L1", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("chain: decided block's state: %w", err)
	}
	top := l.leaves[l.decided]
	oldHeight := l.leaves[l.base].header.Height
	l.base = l.decided
	// The decided blocks between the old base and top have their states
	// too: computing top's computed theirs, or a proposal's check had.
	applied := []*DecidedState{{Header: top.header, State: st}}
	for c, n := range l.leaves {
		if c != l.base && n.header.Height <= top.header.Height {
			if !n.decided {
				l.undecided--
			} else if n.header.Height > oldHeight && n.state != nil {
				applied = append(applied, &DecidedState{Header: n.header, State: n.state})
			}
			delete(l.leaves, c)
		}
	}
	slices.SortFunc(applied, func(a, b *DecidedState) int { return cmp.Compare(a.Header.Height, b.Header.Height) })
	l.publish(applied)
	return nil
}

// Observe remembers leaf, so that the state of its descendants can be
// computed: for leaves consensus knows without having passed them to the
// Validator (proposals restored from the store).
func (l *Ledger) Observe(leaf *types.Leaf) { l.record(leaf, leaf.Commit()) }

// record remembers leaf (its header and parent) unless it is at or below
// the base. At the bound of undecided leaves it forgets the lowest one
// first: new proposals extend recent leaves.
func (l *Ledger) record(leaf *types.Leaf, c types.Commitment) {
	if _, ok := l.leaves[c]; ok || leaf.Height() <= l.leaves[l.base].header.Height {
		return
	}
	if l.undecided >= maxUndecided {
		var low types.Commitment
		lowHeight := ^uint64(0)
		for k, n := range l.leaves {
			if !n.decided && n.header.Height < lowHeight {
				low, lowHeight = k, n.header.Height
			}
		}
		delete(l.leaves, low)
		l.undecided--
	}
	l.leaves[c] = &ledgerLeaf{header: leaf.Header, parent: leaf.Parent}
	l.undecided++
}

// stateOf returns the state after leaf c, computing it from the nearest
// ancestor whose state is known (each state computed on the way is kept).
// A missing ancestor or missing deposits give an error wrapping
// consensus.ErrNotYet; a block that breaks the state rules a *RuleError.
func (l *Ledger) stateOf(c types.Commitment) (*state.State, error) {
	var path []*ledgerLeaf
	baseHeight := l.leaves[l.base].header.Height
	for cur := c; ; {
		n, ok := l.leaves[cur]
		if !ok {
			if k := len(path); k > 0 && path[k-1].header.Height <= baseHeight+1 {
				// The missing leaf is at or below the decided height and
				// is not the decided leaf: the ledger will never know it
				// (record forgets such leaves), and waiting would not help.
				return nil, broken(RuleHeight, "the leaf does not extend the decided chain: its ancestor %s at height %d is not the decided block",
					cur.Short(), path[k-1].header.Height-1)
			}
			return nil, fmt.Errorf("%w: ancestor leaf %s is not known yet", consensus.ErrNotYet, cur.Short())
		}
		if n.state != nil {
			break
		}
		if n.header.Height <= baseHeight {
			return nil, broken(RuleHeight, "the leaf does not extend the decided chain")
		}
		path = append(path, n)
		cur = n.parent
	}
	for i := len(path) - 1; i >= 0; i-- {
		n := path[i]
		st, err := l.apply(l.leaves[n.parent], &n.header)
		if err != nil {
			return nil, err
		}
		n.state = st
	}
	return l.leaves[c].state, nil
}

// apply returns the state after header h, a child of parent (whose state
// is known), checking h's roots against it.
func (l *Ledger) apply(parent *ledgerLeaf, h *types.Header) (*state.State, error) {
	credits, err := l.credits(&parent.header, h)
	if err != nil {
		return nil, err
	}
	st, err := parent.state.Apply(&parent.header, h, credits)
	if errors.Is(err, state.ErrInsufficientFunds) {
		return nil, brokenBy(RuleFeeBalance, err)
	}
	if err != nil {
		return nil, brokenBy(RuleFeeRoot, err)
	}
	block, fee := st.Roots()
	if string(block) != string(h.BlockMerkleTreeRoot) {
		return nil, broken(RuleBlockRoot, "header %d has block_merkle_tree_root %x, the state after it has %x", h.Height, h.BlockMerkleTreeRoot, block)
	}
	if string(fee) != string(h.FeeMerkleTreeRoot) {
		return nil, broken(RuleFeeRoot, "header %d has fee_merkle_tree_root %x, the state after it has %x", h.Height, h.FeeMerkleTreeRoot, fee)
	}
	return st, nil
}

// credits returns the deposits header h credits: those of L1 blocks
// (parent.l1_finalized, h.l1_finalized], none without a fee contract.
func (l *Ledger) credits(parent, h *types.Header) ([]state.Credit, error) {
	if h.ChainConfig.FeeContract == nil || h.L1Finalized == nil {
		return nil, nil
	}
	var from uint64
	if parent.L1Finalized != nil {
		from = parent.L1Finalized.Number + 1
	}
	to := h.L1Finalized.Number
	if from > to {
		return nil, nil
	}
	if l.l1 == nil {
		return nil, fmt.Errorf("%w: header %d credits the deposits of L1 blocks %d to %d, and this node has no L1 client", consensus.ErrNotYet, h.Height, from, to)
	}
	cs, ok := l.l1.Credits(from, to)
	if !ok {
		return nil, fmt.Errorf("%w: deposits of L1 blocks %d to %d not fetched yet", consensus.ErrNotYet, from, to)
	}
	return cs, nil
}

// ValidatePayload implements consensus.Validator: the payload is the one
// the header commits to. It also remembers the leaf, so that the state of
// its descendants can be computed.
func (l *Ledger) ValidatePayload(leaf *types.Leaf, p *types.Payload) error {
	h := &leaf.Header
	if string(h.NsTable.Bytes) != string(p.NsTable.Bytes) {
		return broken(RuleNsTable, "header namespace table differs from the payload's")
	}
	c := leaf.Commit()
	if n := l.leaves[c]; n != nil && n.payloadOK {
		return nil
	}
	// The commitment is remembered for the payloads of the last few views
	// (VIDScheme): the block this ledger built, a payload a DA proposal
	// brought, cost a SHA-256 here, not a dispersal.
	pc, err := l.vid.Commit(p)
	if err != nil {
		return brokenBy(RulePayloadCommitment, err)
	}
	if pc != h.PayloadCommitment {
		return broken(RulePayloadCommitment, "payload commitment %s, header says %s", pc.Short(), h.PayloadCommitment.Short())
	}
	l.record(leaf, c)
	if n := l.leaves[c]; n != nil {
		n.payloadOK = true
	}
	return nil
}

// VIDScheme returns the dispersal scheme of the ledger's rules, sharing
// the ledger's memory of payload commitments: the one to give the
// consensus engine (consensus.Params.VID).
func (l *Ledger) VIDScheme() *VIDScheme { return l.vid }

// ValidateProposal implements consensus.Validator: every rule of
// docs/data.md, "Header and leaf validation", in its order. A rule that needs data the
// node does not have yet (an L1 block, deposits, an ancestor) answers
// consensus.ErrNotYet, and consensus asks again.
func (l *Ledger) ValidateProposal(parent, leaf *types.Leaf, p *types.Payload, now time.Time) error {
	// The decided state first: when it cannot be computed, the node has
	// diverged from the network, which is no rule the proposal broke (it
	// is not counted).
	if err := l.advance(); err != nil {
		return err
	}
	err := l.validate(parent, leaf, p, now)
	var re *RuleError
	if errors.As(err, &re) {
		l.rejectMu.Lock()
		l.rejected[re.Rule]++
		l.rejectMu.Unlock()
	}
	return err
}

func (l *Ledger) validate(parent, leaf *types.Leaf, p *types.Payload, now time.Time) error {
	h, ph := &leaf.Header, &parent.Header
	if leaf.Parent != parent.Commit() {
		return broken(RuleHeight, "the leaf's parent commitment is not its parent's")
	}
	if h.Height != ph.Height+1 {
		return broken(RuleHeight, "height %d, want parent height %d + 1", h.Height, ph.Height)
	}
	if h.Timestamp < ph.Timestamp {
		return broken(RuleTimestamp, "timestamp %d before parent's %d", h.Timestamp, ph.Timestamp)
	}
	local := now.Unix()
	if d := int64(h.Timestamp) - local; d > int64(MaxClockSkew/time.Second) || d < -int64(MaxClockSkew/time.Second) {
		return broken(RuleClock, "timestamp %d is %ds from local clock %d (at most %v)", h.Timestamp, d, local, MaxClockSkew)
	}
	if h.Version != l.rules.Version {
		return broken(RuleVersion, "version %s, want %s", h.Version, l.rules.Version)
	}
	if h.ChainConfigCommitment != nil || !h.ChainConfig.Equal(l.rules.ChainConfig) {
		return broken(RuleChainConfig, "chain config %s, want %s", types.Commitment(h.ChainConfigCommit()).Short(),
			types.Commitment(l.rules.ChainConfig.Commit()).Short())
	}
	if err := l.validateL1(ph, h); err != nil {
		return err
	}
	size, err := payloadSize(h, p)
	if err != nil {
		return brokenBy(RuleNsTable, err)
	}
	if size > l.rules.ChainConfig.MaxBlockSize {
		return broken(RulePayloadSize, "payload of %d bytes exceeds max_block_size %d", size, l.rules.ChainConfig.MaxBlockSize)
	}
	if p != nil {
		if _, err := p.Transactions(); err != nil {
			return brokenBy(RuleNsTable, err)
		}
		if err := l.ValidatePayload(leaf, p); err != nil {
			return err
		}
	}
	// The fee info is authenticated before its amount is judged.
	if h.BuilderSignature != nil || !h.FeeInfo.Amount.IsZero() || size > 0 {
		if err := VerifyFee(h); err != nil {
			return brokenBy(RuleBuilderSignature, err)
		}
	}
	fee, ok := RequiredFee(l.rules.ChainConfig.BaseFee, size)
	if !ok {
		return broken(RuleFeeAmount, "base_fee × %d bytes overflows 256 bits", size)
	}
	if h.FeeInfo.Amount.Cmp(fee) < 0 {
		return broken(RuleFeeAmount, "fee %s wei, want at least base_fee %s × %d bytes = %s wei", h.FeeInfo.Amount, l.rules.ChainConfig.BaseFee, size, fee)
	}
	c := leaf.Commit()
	l.record(parent, leaf.Parent)
	l.record(leaf, c) // a node without the payload saw no ValidatePayload
	if n := l.leaves[c]; n == nil {
		return broken(RuleHeight, "height %d does not extend the decided chain (decided height %d)", h.Height, l.leaves[l.base].header.Height)
	}
	if l.built.state != nil && l.built.parent == leaf.Parent && l.built.header == h.Commit() {
		l.leaves[c].state = l.built.state // our own block: already applied
		return nil
	}
	_, err = l.stateOf(c)
	return err
}

// validateL1 checks l1_head and l1_finalized against the parent and the
// node's own L1 client.
func (l *Ledger) validateL1(ph, h *types.Header) error {
	if h.L1Head < ph.L1Head {
		return broken(RuleL1Head, "l1_head %d below parent's %d", h.L1Head, ph.L1Head)
	}
	if l.l1 == nil {
		// A network without an L1: the genesis values carry on.
		if h.L1Head != ph.L1Head {
			return broken(RuleL1Head, "l1_head %d on a network without an L1 (want %d)", h.L1Head, ph.L1Head)
		}
		if !sameL1Block(h.L1Finalized, ph.L1Finalized) {
			return broken(RuleL1Finalized, "l1_finalized changes on a network without an L1")
		}
		return nil
	}
	if head, _ := l.l1.Snapshot(); head < h.L1Head && h.L1Head > ph.L1Head {
		if _, ok := l.l1.BlockInfo(h.L1Head); !ok {
			return fmt.Errorf("%w: l1_head %d not seen by this node's L1 client (its head is %d)", consensus.ErrNotYet, h.L1Head, head)
		}
	}
	f := h.L1Finalized
	if f == nil {
		if ph.L1Finalized != nil {
			return broken(RuleL1Finalized, "l1_finalized is null, the parent's is block %d", ph.L1Finalized.Number)
		}
		return nil
	}
	if ph.L1Finalized != nil {
		if f.Number < ph.L1Finalized.Number {
			return broken(RuleL1Finalized, "l1_finalized %d below parent's %d", f.Number, ph.L1Finalized.Number)
		}
		if f.Number == ph.L1Finalized.Number {
			if !sameL1Block(f, ph.L1Finalized) {
				return broken(RuleL1Finalized, "l1_finalized block %d differs from the parent's block of that number", f.Number)
			}
			return nil
		}
	}
	if f.Number > h.L1Head {
		return broken(RuleL1Finalized, "l1_finalized %d above l1_head %d", f.Number, h.L1Head)
	}
	got, ok := l.l1.BlockInfo(f.Number)
	if !ok {
		return fmt.Errorf("%w: L1 block %d not fetched yet", consensus.ErrNotYet, f.Number)
	}
	if !sameL1Block(&got, f) {
		return broken(RuleL1Finalized, "l1_finalized is block %d with hash %s and timestamp %s; this node's L1 has hash %s and timestamp %s",
			f.Number, f.Hash, f.Timestamp, got.Hash, got.Timestamp)
	}
	return nil
}

func sameL1Block(a, b *types.L1BlockInfo) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// BuildBlock implements consensus.BlockBuilder: a block of pending
// transactions (arrival order, grouped by namespace in the payload) that
// fits max_block_size and that the builder's fee account can pay for,
// whose header carries the L1 heights, the roots of the state after it,
// and the builder's signed fee info (docs/data.md, "The built-in block builder").
func (l *Ledger) BuildBlock(req consensus.BuildRequest) (types.Header, types.Payload, error) {
	if l.key == nil || l.mempool == nil {
		return types.Header{}, types.Payload{}, errors.New("chain: this ledger has no builder key or mempool: it cannot build blocks")
	}
	if err := l.advance(); err != nil {
		return types.Header{}, types.Payload{}, err
	}
	parent := req.Parent
	pc := parent.Commit()
	ph := &parent.Header
	l.record(parent, pc)
	ps, err := l.stateOf(pc)
	if err != nil {
		return types.Header{}, types.Payload{}, fmt.Errorf("chain: parent state: %w", err)
	}

	l1Head, l1Fin, credits := l.l1For(ph)

	// What the builder can pay for: its balance after this block's
	// deposits, divided by base_fee.
	limit := l.rules.ChainConfig.MaxBlockSize
	if baseFee := l.rules.ChainConfig.BaseFee; !baseFee.IsZero() {
		bal := ps.Balance(l.account).Uint256()
		for _, c := range credits {
			if c.Account == l.account {
				bal.Add(bal, c.Amount.Uint256())
			}
		}
		afford := new(uint256.Int).Div(bal, baseFee.Uint256())
		if afford.IsUint64() && afford.Uint64() < limit {
			limit = afford.Uint64()
		}
	}

	exclude := make(map[TxKey]struct{})
	for _, p := range req.Undecided {
		txs, err := p.Transactions()
		if err != nil {
			return types.Header{}, types.Payload{}, fmt.Errorf("chain: undecided ancestor payload: %w", err)
		}
		for i := range txs {
			exclude[KeyOf(&txs[i])] = struct{}{}
		}
	}
	var size uint64
	namespaces := make(map[uint64]struct{})
	txs := l.mempool.Select(req.Now, exclude, func(tx types.Transaction) bool {
		add := 4 + uint64(len(tx.Payload))
		if _, ok := namespaces[tx.Namespace]; !ok {
			add += 4 // the namespace's transaction count
		}
		if size+add > limit {
			return false
		}
		size += add
		namespaces[tx.Namespace] = struct{}{}
		return true
	})
	l.starved = len(txs) == 0 && limit < l.rules.ChainConfig.MaxBlockSize && l.mempool.Pending()
	payload, err := types.EncodePayload(txs)
	if err != nil {
		return types.Header{}, types.Payload{}, fmt.Errorf("chain: build payload: %w", err)
	}
	fee, ok := RequiredFee(l.rules.ChainConfig.BaseFee, payload.Size())
	if !ok {
		return types.Header{}, types.Payload{}, fmt.Errorf("chain: base_fee × %d bytes overflows 256 bits", payload.Size())
	}
	// Prepare keeps the dispersal, which the engine asks for next.
	payloadCommit, err := l.vid.Prepare(&payload)
	if err != nil {
		return types.Header{}, types.Payload{}, fmt.Errorf("chain: build payload: %w", err)
	}
	ts := uint64(max(req.Now.Unix(), 0))
	ts = max(ts, ph.Timestamp)
	h := types.Header{
		Version:              l.rules.Version,
		ChainConfig:          l.rules.ChainConfig,
		Height:               ph.Height + 1,
		Timestamp:            ts,
		L1Head:               l1Head,
		L1Finalized:          l1Fin,
		PayloadCommitment:    payloadCommit,
		PayloadCommitmentTag: types.TagAvidM,
		BuilderCommitment:    BuilderCommitment(&payload),
		NsTable:              payload.NsTable,
		FeeInfo:              types.FeeInfo{Account: l.account, Amount: fee},
	}
	st, err := ps.Apply(ph, &h, credits)
	if err != nil {
		return types.Header{}, types.Payload{}, fmt.Errorf("chain: apply the built block: %w", err)
	}
	h.BlockMerkleTreeRoot, h.FeeMerkleTreeRoot = st.Roots()
	if h.BuilderSignature, err = SignFee(l.key, &h); err != nil {
		return types.Header{}, types.Payload{}, err
	}
	l.built.parent, l.built.header, l.built.state = pc, h.Commit(), st
	return h, payload, nil
}

// l1For returns the L1 fields of a block built on parent ph and the
// deposits they credit: the latest head and finalized block this node's L1
// client has seen, never below the parent's. When the deposits up to the
// latest finalized block are not fetched yet, the block keeps the parent's
// l1_finalized (it credits nothing, and the next block catches up) rather
// than waiting.
func (l *Ledger) l1For(ph *types.Header) (head uint64, fin *types.L1BlockInfo, credits []state.Credit) {
	if l.l1 == nil {
		return ph.L1Head, ph.L1Finalized, nil
	}
	head, fin = l.l1.Snapshot()
	head = max(head, ph.L1Head)
	if fin == nil || (ph.L1Finalized != nil && fin.Number <= ph.L1Finalized.Number) {
		return head, ph.L1Finalized, nil
	}
	f := *fin
	h := types.Header{ChainConfig: l.rules.ChainConfig, L1Finalized: &f}
	cs, err := l.credits(ph, &h)
	if err != nil {
		l.log.Debug("block keeps the parent's l1_finalized", "reason", err)
		return head, ph.L1Finalized, nil
	}
	return max(head, f.Number), &f, cs
}

// payloadSize is the payload's size: p's when held, else the length the
// header's namespace table gives (its last end offset: the table covers the
// payload exactly).
func payloadSize(h *types.Header, p *types.Payload) (uint64, error) {
	if p != nil {
		return p.Size(), nil // its table is checked against the header's with the payload
	}
	return h.NsTable.PayloadLen()
}

package l1

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/types"
)

// Defaults of the tracker's options: the reference's L1 defaults
// (docs/operator.md, "L1").
const (
	DefaultPollingInterval     = 7 * time.Second
	DefaultRetryDelay          = time.Second
	DefaultBlocksCacheSize     = 100
	DefaultEventsMaxBlockRange = 10000
	// DefaultQueueSize bounds the fetches queued by misses.
	DefaultQueueSize = 64
)

const (
	// fetchAttempts is how many times the worker tries one queued fetch
	// before dropping it (a later miss queues it again).
	fetchAttempts = 3
	// rangeCacheSize is how many fetched deposit ranges that do not touch
	// the deposit window are kept.
	rangeCacheSize = 16
	// windowRanges bounds the deposit window to this many times the events
	// max block range, counted back from its top.
	windowRanges = 4
	// maxWindowDeposits bounds the deposits held in the window.
	maxWindowDeposits = 100_000
)

// TrackerOption configures a Tracker.
type TrackerOption func(*trackerConfig)

type trackerConfig struct {
	pollingInterval time.Duration
	retryDelay      time.Duration
	cacheSize       int
	feeContract     *types.Address
	logger          *slog.Logger
	maxRange        uint64
	queueSize       int
}

// WithPollingInterval sets how often the tracker asks the L1 for its head
// and finalized block (default 7s, --l1-polling-interval).
func WithPollingInterval(d time.Duration) TrackerOption {
	return func(c *trackerConfig) {
		if d > 0 {
			c.pollingInterval = d
		}
	}
}

// WithRetryDelay sets the delay before a failed poll or fetch is tried again
// (default 1s, --l1-retry-delay).
func WithRetryDelay(d time.Duration) TrackerOption {
	return func(c *trackerConfig) {
		if d > 0 {
			c.retryDelay = d
		}
	}
}

// WithBlocksCacheSize sets how many block infos the tracker keeps (default
// 100, --l1-blocks-cache-size); the least recently used goes first.
func WithBlocksCacheSize(n int) TrackerOption {
	return func(c *trackerConfig) {
		if n > 0 {
			c.cacheSize = n
		}
	}
}

// WithFeeContract sets the fee contract whose deposits the tracker fetches;
// nil (the default) means no deposits: Deposits answers at once with none.
func WithFeeContract(addr *types.Address) TrackerOption {
	return func(c *trackerConfig) {
		if addr != nil {
			a := *addr
			c.feeContract = &a
		} else {
			c.feeContract = nil
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) TrackerOption {
	return func(c *trackerConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithEventsMaxBlockRange sets the most blocks one pre-fetch of deposits
// covers (default 10000, --l1-events-max-block-range); the client splits its
// eth_getLogs calls by its own limit too.
func WithEventsMaxBlockRange(n uint64) TrackerOption {
	return func(c *trackerConfig) {
		if n > 0 {
			c.maxRange = n
		}
	}
}

// WithQueueSize bounds the fetches that misses queue (default 64); a miss
// that finds the queue full queues nothing and is queued by a later miss.
func WithQueueSize(n int) TrackerOption {
	return func(c *trackerConfig) {
		if n > 0 {
			c.queueSize = n
		}
	}
}

// jobKind tells what a queued fetch reads.
type jobKind uint8

const (
	jobBlock jobKind = iota + 1
	jobDeposits
)

// job is a queued fetch: block a, or the deposits of blocks [a, b]. Jobs are
// compared whole for deduplication.
type job struct {
	kind jobKind
	a, b uint64
}

// depositRange is a fetched range [from, to] with its deposits in order.
type depositRange struct {
	from, to uint64
	deps     []Deposit
}

func (r *depositRange) covers(from, to uint64) bool { return r.from <= from && to <= r.to }

// slice returns a copy of the deposits of blocks [from, to].
func (r *depositRange) slice(from, to uint64) []Deposit {
	i, _ := slices.BinarySearchFunc(r.deps, from, func(d Deposit, n uint64) int { return cmpU64(d.Block, n) })
	j, _ := slices.BinarySearchFunc(r.deps, to+1, func(d Deposit, n uint64) int { return cmpU64(d.Block, n) })
	if to == ^uint64(0) {
		j = len(r.deps)
	}
	if i >= j {
		return nil
	}
	return slices.Clone(r.deps[i:j])
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Tracker keeps what consensus needs from the L1 without ever blocking it: it polls head and finalized every
// interval, caches block infos (BlocksCacheSize) and pre-fetches the deposits of finalized ranges.
//
// The methods other than Run and the Wait methods never touch the network.
// See the package documentation for what is fetched and why deposits are
// credited exactly once.
type Tracker struct {
	c       Client
	cfg     trackerConfig
	log     *slog.Logger
	queue   chan job
	running atomic.Bool

	headGauge      prometheus.Gauge
	finalizedGauge prometheus.Gauge

	mu        sync.Mutex
	head      uint64
	finalized *types.L1BlockInfo
	changed   chan struct{} // closed and replaced when head or finalized moves
	blocks    *blockCache
	pending   map[job]struct{}
	// window is the contiguous range of finalized blocks whose deposits are
	// known, grown at the top by pre-fetches; nil before the first
	// finalized block or without a fee contract. Fetched ranges that do not
	// touch it go to ranges (least recently used first).
	window *depositRange
	ranges []*depositRange
}

// NewTracker returns a tracker reading c. Call Run to start polling.
func NewTracker(c Client, opts ...TrackerOption) *Tracker {
	cfg := trackerConfig{
		pollingInterval: DefaultPollingInterval,
		retryDelay:      DefaultRetryDelay,
		cacheSize:       DefaultBlocksCacheSize,
		logger:          slog.New(slog.DiscardHandler),
		maxRange:        DefaultEventsMaxBlockRange,
		queueSize:       DefaultQueueSize,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return &Tracker{
		c:       c,
		cfg:     cfg,
		log:     cfg.logger,
		queue:   make(chan job, cfg.queueSize),
		changed: make(chan struct{}),
		blocks:  newBlockCache(cfg.cacheSize),
		pending: make(map[job]struct{}),
		headGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "consensus_l1_head", Help: "Latest L1 block number the L1 tracker has seen.",
		}),
		finalizedGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "consensus_l1_finalized", Help: "Latest finalized L1 block number the L1 tracker has seen.",
		}),
	}
}

// Collectors returns the tracker's metrics, consensus_l1_head and
// consensus_l1_finalized (gauges), for the caller to register. The failover
// counters belong to the client (l1/eth).
func (t *Tracker) Collectors() []prometheus.Collector {
	return []prometheus.Collector{t.headGauge, t.finalizedGauge}
}

// Run polls the L1 every polling interval (after a failed poll, every retry
// delay) and drains the fetch queue, until ctx ends; it then returns nil. Run
// must not be called twice at once.
func (t *Tracker) Run(ctx context.Context) error {
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("l1: Tracker.Run is already running")
	}
	defer t.running.Store(false)
	var wg sync.WaitGroup
	wg.Go(func() { t.work(ctx) })
	defer wg.Wait()

	failing := false
	for {
		err := t.poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := t.cfg.pollingInterval
		switch {
		case err != nil:
			wait = t.cfg.retryDelay
			if !failing {
				t.log.Warn("l1: polling the L1 failed; retrying", "err", err, "retry_delay", wait)
			} else {
				t.log.Debug("l1: polling the L1 failed again", "err", err)
			}
			failing = true
		case failing:
			t.log.Info("l1: polling the L1 works again")
			failing = false
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// poll reads the head and the finalized block once and records them.
func (t *Tracker) poll(ctx context.Context) error {
	head, err := t.c.Head(ctx)
	if err != nil {
		return fmt.Errorf("l1 head: %w", err)
	}
	fin, err := t.c.Finalized(ctx)
	if err != nil {
		return fmt.Errorf("l1 finalized block: %w", err)
	}
	t.observe(head, fin)
	return nil
}

// observe records a polled head and finalized block: neither goes backwards.
func (t *Tracker) observe(head uint64, fin *types.L1BlockInfo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	moved := false
	if fin != nil {
		switch {
		case t.finalized == nil || fin.Number > t.finalized.Number:
			f := *fin
			t.finalized = &f
			t.blocks.put(f)
			t.finalizedGauge.Set(float64(f.Number))
			moved = true
		case fin.Number == t.finalized.Number && fin.Hash != t.finalized.Hash:
			t.log.Error("l1: the provider reports another hash for a finalized block; keeping the first",
				"number", fin.Number, "kept", t.finalized.Hash, "reported", fin.Hash)
		case fin.Number < t.finalized.Number:
			t.log.Debug("l1: the provider's finalized block is behind the one already seen; keeping it",
				"seen", t.finalized.Number, "reported", fin.Number)
		}
	}
	if t.finalized != nil && head < t.finalized.Number {
		head = t.finalized.Number
	}
	if head > t.head {
		t.head = head
		t.headGauge.Set(float64(head))
		moved = true
	}
	if moved {
		close(t.changed)
		t.changed = make(chan struct{})
	}
	t.prefetchLocked()
}

// prefetchLocked queues the next pre-fetch of deposits: the blocks above the
// window's top up to the finalized block, at most maxRange of them.
func (t *Tracker) prefetchLocked() {
	if t.cfg.feeContract == nil || t.finalized == nil {
		return
	}
	f := t.finalized.Number
	if t.window == nil {
		// Start empty just above the first finalized block seen: deposits
		// below it are fetched when asked for.
		t.window = &depositRange{from: f + 1, to: f}
		return
	}
	if t.window.to >= f {
		return
	}
	from := t.window.to + 1
	to := min(f, from+t.cfg.maxRange-1)
	t.enqueueLocked(job{kind: jobDeposits, a: from, b: to})
}

// enqueueLocked queues j unless it is queued already or the queue is full.
func (t *Tracker) enqueueLocked(j job) {
	if _, ok := t.pending[j]; ok {
		return
	}
	select {
	case t.queue <- j:
		t.pending[j] = struct{}{}
	default:
		t.log.Debug("l1: fetch queue full; not queued", "kind", j.kind, "from", j.a, "to", j.b)
	}
}

// Snapshot returns the latest head and finalized block seen; finalized is
// nil before any (the value is a copy).
func (t *Tracker) Snapshot() (head uint64, finalized *types.L1BlockInfo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.finalized != nil {
		f := *t.finalized
		finalized = &f
	}
	return t.head, finalized
}

// BlockInfo returns the cached info of the block of that number. A miss
// queues a fetch, when the block is at or below the finalized block seen,
// and returns false: ask again later.
func (t *Tracker) BlockInfo(number uint64) (types.L1BlockInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.blocks.get(number); ok {
		return b, true
	}
	if t.finalized != nil && number <= t.finalized.Number {
		t.enqueueLocked(job{kind: jobBlock, a: number})
	}
	return types.L1BlockInfo{}, false
}

// Deposits returns the fee contract's deposits of blocks [from, to] in
// (block, log) order once they are fetched; none, and true, when from > to
// or there is no fee contract. A miss queues the fetch of the whole range,
// when it ends at or below the finalized block seen, and returns false: ask
// again later. Deposits above the finalized block are never fetched.
func (t *Tracker) Deposits(from, to uint64) ([]Deposit, bool) {
	if from > to || t.cfg.feeContract == nil {
		return nil, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.holderLocked(from, to); r != nil {
		return r.slice(from, to), true
	}
	if t.finalized != nil && to <= t.finalized.Number {
		t.enqueueLocked(job{kind: jobDeposits, a: from, b: to})
	}
	return nil, false
}

// holderLocked returns the window or the fetched range that holds the
// deposits of blocks [from, to] (a range found becomes the most recently
// used), or nil.
func (t *Tracker) holderLocked(from, to uint64) *depositRange {
	if t.window != nil && t.window.covers(from, to) {
		return t.window
	}
	for i, r := range t.ranges {
		if r.covers(from, to) {
			// Most recently used last.
			t.ranges = append(slices.Delete(t.ranges, i, i+1), r)
			return r
		}
	}
	return nil
}

// unfetchedLocked returns the part of the deposits job [from, to] still to
// fetch: none (ok false) when it is held already, as a job queued behind
// another that fetched its range is; only the blocks above the window when
// the window holds the bottom of the range, as a range asked for again and
// again with a later top is. Fetched, that part joins the window, which
// then holds the whole range. Only the worker's fetches change the window
// and the ranges once the window exists, so what this answers holds until
// the worker stores its fetch.
func (t *Tracker) unfetchedLocked(from, to uint64) (uint64, uint64, bool) {
	if t.holderLocked(from, to) != nil {
		return 0, 0, false
	}
	if w := t.window; w != nil && w.from <= from && from <= w.to {
		from = w.to + 1
	}
	return from, to, true
}

// work drains the fetch queue until ctx ends.
func (t *Tracker) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-t.queue:
			t.runJob(ctx, j)
		}
	}
}

// runJob tries j up to fetchAttempts times, the retry delay apart.
func (t *Tracker) runJob(ctx context.Context, j job) {
	defer func() {
		t.mu.Lock()
		delete(t.pending, j)
		t.mu.Unlock()
	}()
	for attempt := 1; ; attempt++ {
		err := t.fetch(ctx, j)
		if err == nil || ctx.Err() != nil {
			return
		}
		if attempt >= fetchAttempts {
			t.log.Warn("l1: fetch failed; dropped until asked again", "kind", j.kind, "from", j.a, "to", j.b,
				"attempts", attempt, "err", err)
			return
		}
		t.log.Debug("l1: fetch failed; retrying", "kind", j.kind, "from", j.a, "to", j.b, "err", err)
		timer := time.NewTimer(t.cfg.retryDelay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// fetch carries out one job and stores its result.
func (t *Tracker) fetch(ctx context.Context, j job) error {
	_, fin := t.Snapshot()
	switch j.kind {
	case jobBlock:
		if fin == nil || j.a > fin.Number {
			return nil // only finalized blocks are fetched
		}
		b, err := t.c.Block(ctx, j.a)
		if err != nil {
			return err
		}
		if b.Number != j.a {
			return fmt.Errorf("%w: asked for block %d, got block %d", ErrMalformed, j.a, b.Number)
		}
		t.mu.Lock()
		t.blocks.put(b)
		t.mu.Unlock()
		return nil
	case jobDeposits:
		if fin == nil || j.b > fin.Number || t.cfg.feeContract == nil {
			return nil
		}
		t.mu.Lock()
		from, to, ok := t.unfetchedLocked(j.a, j.b)
		t.mu.Unlock()
		if !ok {
			return nil
		}
		deps, err := t.c.Deposits(ctx, *t.cfg.feeContract, from, to)
		if err != nil {
			return err
		}
		if err := checkDeposits(deps, from, to); err != nil {
			return err
		}
		t.mu.Lock()
		t.storeLocked(&depositRange{from: from, to: to, deps: deps})
		t.prefetchLocked()
		t.mu.Unlock()
		return nil
	}
	return nil
}

// checkDeposits checks that deps lie in [from, to] in strict (block, log)
// order.
func checkDeposits(deps []Deposit, from, to uint64) error {
	for i, d := range deps {
		if d.Block < from || d.Block > to {
			return fmt.Errorf("%w: deposit in block %d outside the range [%d, %d] asked for", ErrMalformed, d.Block, from, to)
		}
		if i > 0 && CompareDeposits(deps[i-1], d) >= 0 {
			return fmt.Errorf("%w: deposits out of (block, log) order at block %d log %d", ErrMalformed, d.Block, d.LogIndex)
		}
	}
	return nil
}

// storeLocked merges a fetched range into the window when it overlaps or
// touches it, and keeps it among the separate ranges otherwise, or when the
// window, pruned to its newest blocks, no longer covers all of it.
func (t *Tracker) storeLocked(r *depositRange) {
	w := t.window
	if w != nil && r.from <= w.to+1 && (w.from == 0 || r.to >= w.from-1) {
		merged := make([]Deposit, 0, len(w.deps)+len(r.deps))
		for _, d := range w.deps {
			if d.Block < r.from {
				merged = append(merged, d)
			}
		}
		merged = append(merged, r.deps...)
		for _, d := range w.deps {
			if d.Block > r.to {
				merged = append(merged, d)
			}
		}
		w.from, w.to, w.deps = min(w.from, r.from), max(w.to, r.to), merged
		t.pruneWindowLocked()
		if w.covers(r.from, r.to) {
			return
		}
		// Pruning dropped the bottom of r: keep r whole too, or asking for
		// it again would fetch it again, and prune it again, forever.
	}
	if len(t.ranges) >= rangeCacheSize {
		t.ranges = slices.Delete(t.ranges, 0, 1)
	}
	t.ranges = append(t.ranges, r)
}

// pruneWindowLocked drops the window's oldest blocks beyond
// windowRanges × maxRange blocks or maxWindowDeposits deposits.
func (t *Tracker) pruneWindowLocked() {
	w := t.window
	span := windowRanges * t.cfg.maxRange
	if w.to >= w.from && w.to-w.from+1 > span {
		w.from = w.to - span + 1
	}
	if n := len(w.deps); n > maxWindowDeposits {
		// Keep whole blocks: start at the block of the oldest kept deposit
		// and drop that block too if its deposits do not all fit.
		w.from = max(w.from, w.deps[n-maxWindowDeposits].Block+1)
	}
	i, _ := slices.BinarySearchFunc(w.deps, w.from, func(d Deposit, n uint64) int { return cmpU64(d.Block, n) })
	if i > 0 {
		w.deps = slices.Clone(w.deps[i:])
	}
}

// WaitFinalized waits until the L1 has finalized the block of that number and
// returns its info, logging progress every polling interval (a failed
// request is retried after the retry delay). It polls the L1 itself, so Run
// need not be running. For start-up: it blocks until ctx ends.
func (t *Tracker) WaitFinalized(ctx context.Context, number uint64) (types.L1BlockInfo, error) {
	for {
		head, fin := t.Snapshot()
		wait := t.cfg.pollingInterval
		if fin == nil || fin.Number < number {
			if err := t.poll(ctx); err != nil && ctx.Err() == nil {
				t.log.Warn("l1: polling the L1 failed while waiting for a finalized block", "err", err, "want", number)
				wait = t.cfg.retryDelay
			}
			head, fin = t.Snapshot()
		}
		if fin != nil && fin.Number >= number {
			t.mu.Lock()
			b, ok := t.blocks.get(number)
			t.mu.Unlock()
			if ok {
				return b, nil
			}
			b, err := t.c.Block(ctx, number)
			if err == nil && b.Number != number {
				err = fmt.Errorf("%w: asked for block %d, got block %d", ErrMalformed, number, b.Number)
			}
			if err == nil {
				t.mu.Lock()
				t.blocks.put(b)
				t.mu.Unlock()
				return b, nil
			}
			if ctx.Err() != nil {
				return types.L1BlockInfo{}, fmt.Errorf("l1: waiting for L1 block %d: %w", number, ctx.Err())
			}
			t.log.Warn("l1: fetching a finalized block failed; retrying", "number", number, "err", err)
			wait = t.cfg.retryDelay
		} else {
			var finNum any = "none"
			if fin != nil {
				finNum = fin.Number
			}
			t.log.Info(fmt.Sprintf("l1: waiting for L1 block %d to be finalized", number),
				"finalized", finNum, "head", head, "next_check", wait)
		}
		t.mu.Lock()
		changed := t.changed
		t.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return types.L1BlockInfo{}, fmt.Errorf("l1: waiting for L1 block %d to be finalized: %w", number, ctx.Err())
		case <-changed:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// blockCache is a least-recently-used cache of block infos by number.
type blockCache struct {
	size  int
	order *list.List // of types.L1BlockInfo, most recently used first
	m     map[uint64]*list.Element
}

func newBlockCache(size int) *blockCache {
	return &blockCache{size: size, order: list.New(), m: make(map[uint64]*list.Element)}
}

func (c *blockCache) get(n uint64) (types.L1BlockInfo, bool) {
	e, ok := c.m[n]
	if !ok {
		return types.L1BlockInfo{}, false
	}
	c.order.MoveToFront(e)
	return e.Value.(types.L1BlockInfo), true
}

func (c *blockCache) put(b types.L1BlockInfo) {
	if e, ok := c.m[b.Number]; ok {
		e.Value = b
		c.order.MoveToFront(e)
		return
	}
	if c.order.Len() >= c.size {
		oldest := c.order.Back()
		delete(c.m, oldest.Value.(types.L1BlockInfo).Number)
		c.order.Remove(oldest)
	}
	c.m[b.Number] = c.order.PushFront(b)
}

package pruner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"time"

	"github.com/gospresso/gospresso/clock"
	"github.com/gospresso/gospresso/storage"
)

// Sentinel errors of the package.
var (
	// ErrInvalidConfig is matched by every error New returns for a bad
	// Config field.
	ErrInvalidConfig = errors.New("pruner: invalid config")
	// ErrInvalidOption is matched by the error New returns for a bad option
	// value (a nil clock, logger or size function, a negative pause).
	ErrInvalidOption = errors.New("pruner: invalid option")
)

// Defaults of Config (the reference code's defaults; docs/storage.md,
// "Pruning").
const (
	// DefaultThreshold is 3 TB (10^12 bytes per TB).
	DefaultThreshold uint64 = 3_000_000_000_000
	// DefaultMinimumRetention is one day.
	DefaultMinimumRetention = 24 * time.Hour
	// DefaultTargetRetention is seven days.
	DefaultTargetRetention = 7 * 24 * time.Hour
	// DefaultBatchSize is the number of blocks deleted per transaction.
	DefaultBatchSize uint64 = 30000
	// DefaultMaxUsage is 80 % of the threshold, in basis points.
	DefaultMaxUsage uint16 = 8000
	// DefaultInterval is the period of Run: 5400 s = 1 h 30 min.
	DefaultInterval = 5400 * time.Second
	// DefaultPause is how long the pruner waits between two batches so that
	// the node's writes go first.
	DefaultPause = 20 * time.Millisecond
)

// Config holds the pruning options of the storage-sql module.
type Config struct {
	// Threshold is the live storage size, in bytes, above which data
	// younger than TargetRetention is pruned too (down to MinimumRetention).
	Threshold uint64
	// MinimumRetention is how long data is kept whatever the usage.
	MinimumRetention time.Duration
	// TargetRetention is how long data is kept while usage permits; it is
	// at least MinimumRetention.
	TargetRetention time.Duration
	// BatchSize is the number of blocks deleted per transaction (≥ 1).
	BatchSize uint64
	// MaxUsage is the fraction of Threshold that pruning above the
	// threshold brings usage back to, in basis points (0..10000).
	MaxUsage uint16
	// Interval is the period of Run (> 0).
	Interval time.Duration
}

// DefaultConfig returns the default configuration: threshold 3 TB, minimum
// retention 1 day, target retention 7 days, batches of 30000 blocks, max
// usage 8000 basis points (80 %), interval 5400 s.
func DefaultConfig() Config {
	return Config{
		Threshold:        DefaultThreshold,
		MinimumRetention: DefaultMinimumRetention,
		TargetRetention:  DefaultTargetRetention,
		BatchSize:        DefaultBatchSize,
		MaxUsage:         DefaultMaxUsage,
		Interval:         DefaultInterval,
	}
}

// Validate checks the fields; the error names the first bad field, its
// value and what was expected, and matches ErrInvalidConfig.
func (c Config) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%w: %s: %v: %s", ErrInvalidConfig, field, v, want)
	}
	switch {
	case c.BatchSize == 0:
		return bad("BatchSize", c.BatchSize, "want at least 1 block per batch")
	case c.MaxUsage > 10000:
		return bad("MaxUsage", c.MaxUsage, "want basis points 0..10000")
	case c.MinimumRetention < 0:
		return bad("MinimumRetention", c.MinimumRetention, "want a duration ≥ 0")
	case c.TargetRetention < c.MinimumRetention:
		return bad("TargetRetention", c.TargetRetention, fmt.Sprintf("want at least MinimumRetention (%v)", c.MinimumRetention))
	case c.Interval <= 0:
		return bad("Interval", c.Interval, "want a duration > 0")
	}
	return nil
}

// Option configures a Pruner.
type Option func(*settings) error

type settings struct {
	clock  clock.Clock
	logger *slog.Logger
	size   func(context.Context) (uint64, error)
	pause  time.Duration
}

// WithClock sets the clock that gives "now" for the retention cut-offs and
// times Run's interval (default clock.Real).
func WithClock(c clock.Clock) Option {
	return func(s *settings) error {
		if c == nil {
			return fmt.Errorf("%w: WithClock(nil)", ErrInvalidOption)
		}
		s.clock = c
		return nil
	}
}

// WithLogger sets the logger for progress lines (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if l == nil {
			return fmt.Errorf("%w: WithLogger(nil)", ErrInvalidOption)
		}
		s.logger = l
		return nil
	}
}

// WithSizeFunc replaces the store's LiveSize as the measure of storage
// usage compared with Config.Threshold (tests inject one).
func WithSizeFunc(f func(ctx context.Context) (uint64, error)) Option {
	return func(s *settings) error {
		if f == nil {
			return fmt.Errorf("%w: WithSizeFunc(nil)", ErrInvalidOption)
		}
		s.size = f
		return nil
	}
}

// WithPause sets the wall-clock pause between two batches (default
// DefaultPause; 0 only yields the processor). It is real time even with a
// manual clock, so that a test clock never stalls a run.
func WithPause(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("%w: WithPause(%v): want a duration ≥ 0", ErrInvalidOption, d)
		}
		s.pause = d
		return nil
	}
}

// store is what the pruner uses of a store.
type store interface {
	storage.Pruner
	BlockHeight(ctx context.Context) (uint64, error)
}

// Pruner runs the retention algorithm over one store. It is safe for
// concurrent use; runs never overlap.
type Pruner struct {
	store store
	// state is the store's snapshot view; nil when it keeps none.
	state storage.StateStore
	cfg   Config
	set   settings
	mu    sync.Mutex // held for a whole run
}

// New returns a pruner for a store, which it checks at run time for the
// optional storage.Pruner interface: for a store that lacks it (the
// file-system backend) the error matches
// storage.ErrNotSupported. cfg is validated (errors match
// ErrInvalidConfig); start from DefaultConfig to change a few fields. New
// does no I/O.
func New(st storage.BlockStore, cfg Config, opts ...Option) (*Pruner, error) {
	if st == nil {
		return nil, fmt.Errorf("pruner: nil store: %w", storage.ErrNotSupported)
	}
	p, ok := st.(storage.Pruner)
	if !ok {
		return nil, fmt.Errorf("pruner: %T cannot delete old blocks (it does not implement storage.Pruner): %w", st, storage.ErrNotSupported)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := settings{
		clock:  clock.Real{},
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		size:   p.LiveSize,
		pause:  DefaultPause,
	}
	for _, o := range opts {
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	state, _ := st.(storage.StateStore)
	return &Pruner{store: storeOf{p, st}, state: state, cfg: cfg, set: s}, nil
}

// storeOf joins the Pruner and BlockStore views of one store.
type storeOf struct {
	storage.Pruner
	bs storage.BlockStore
}

func (s storeOf) BlockHeight(ctx context.Context) (uint64, error) { return s.bs.BlockHeight(ctx) }

// Config returns the pruner's configuration.
func (p *Pruner) Config() Config { return p.cfg }

// Report describes one run.
type Report struct {
	// Now is the clock time the cut-offs were computed from.
	Now time.Time
	// FirstHeight is the lowest stored height when the run started (0 when
	// the chain is shorter than two blocks).
	FirstHeight uint64
	// PrunedHeight is the lowest stored height after the run: every block
	// below it is gone. It equals FirstHeight when nothing was deleted.
	PrunedHeight uint64
	// Blocks is the number of blocks deleted, Batches the number of
	// PruneBefore calls (transactions).
	Blocks  uint64
	Batches int
	// TargetBlocks and ThresholdBlocks split Blocks between step 1
	// (older than the target retention) and step 2 (size above threshold).
	TargetBlocks, ThresholdBlocks uint64
	// SizeBefore is the live size measured after step 1 (when step 2 was
	// considered), SizeAfter the last measurement; both are 0 when the
	// chain is shorter than two blocks (nothing can be pruned: the last
	// decided block stays).
	SizeBefore, SizeAfter uint64
	// OverThreshold reports that step 2 ran: the size exceeded Threshold.
	OverThreshold bool
	// AtMinimumRetention reports that step 2 stopped at the minimum
	// retention while usage was still above MaxUsage: the store holds only
	// data it must keep, so the threshold is too small for the chain.
	AtMinimumRetention bool
	// Snapshot reports that the store keeps chain-state snapshots
	// (storage.StateStore) and held one at SnapshotHeight when the run
	// started. Blocks above SnapshotHeight are never pruned, and a store
	// that implements storage.StateStore without holding a snapshot is not
	// pruned at all (a restart replays every block).
	Snapshot       bool
	SnapshotHeight uint64
	// LimitedBySnapshot reports that a step stopped short of its retention
	// target because the blocks after the chain-state snapshot (all of
	// them, when there is none) must stay.
	LimitedBySnapshot bool
}

// RunOnce runs the algorithm of the package doc once. It returns what it
// did so far along with the first error: a failed batch, or ctx ending
// (ctx.Err()). Deleted batches stay deleted.
func (p *Pruner) RunOnce(ctx context.Context) (Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.set.clock.Now()
	r := Report{Now: now}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	height, err := p.store.BlockHeight(ctx)
	if err != nil {
		return r, fmt.Errorf("pruner: block height: %w", err)
	}
	if height < 2 {
		return r, nil // nothing, or only the last decided block, which is kept
	}
	first, err := p.store.FirstHeight(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("pruner: first stored height: %w", err)
	}
	r.FirstHeight, r.PrunedHeight = first, first
	// The last decided block (height-1) is never deleted.
	keep := height - 1
	// Nor is any block after the chain-state snapshot: read once, which
	// stays safe during the run since a snapshot only moves up.
	stateLimit, err := p.stateLimit(ctx, &r)
	if err != nil {
		return r, err
	}

	// Step 1: everything older than the target retention.
	limit, err := p.cutoff(ctx, now, p.cfg.TargetRetention, keep)
	if err != nil {
		return r, err
	}
	limit = p.clamp(&r, limit, stateLimit, "target retention")
	if err := p.prune(ctx, &r, limit, "target retention", nil); err != nil {
		return r, err
	}

	// Step 2: over the threshold, down towards the minimum retention.
	size, err := p.measure(ctx)
	if err != nil {
		return r, err
	}
	r.SizeBefore, r.SizeAfter = size, size
	if size <= p.cfg.Threshold {
		return r, nil
	}
	r.OverThreshold = true
	p.set.logger.Info("pruner: storage above the pruning threshold; pruning towards the minimum retention",
		"size", size, "threshold", p.cfg.Threshold, "max_usage_bp", p.cfg.MaxUsage)
	limit, err = p.cutoff(ctx, now, p.cfg.MinimumRetention, keep)
	if err != nil {
		return r, err
	}
	clamped := p.clamp(&r, limit, stateLimit, "threshold")
	err = p.prune(ctx, &r, clamped, "threshold", func() (bool, error) {
		size, err := p.measure(ctx)
		if err != nil {
			return false, err
		}
		r.SizeAfter = size
		return overUsage(size, p.cfg.Threshold, p.cfg.MaxUsage), nil
	})
	if err != nil {
		return r, err
	}
	switch {
	case !overUsage(r.SizeAfter, p.cfg.Threshold, p.cfg.MaxUsage):
	case clamped < limit:
		p.set.logger.Warn("pruner: storage still above the target usage, but the blocks left older than the minimum retention come after the chain-state snapshot (or there is none), and a restart replays them",
			"size", r.SizeAfter, "threshold", p.cfg.Threshold, "snapshot", r.Snapshot, "snapshot_height", r.SnapshotHeight, "height", r.PrunedHeight)
	default:
		r.AtMinimumRetention = true
		p.set.logger.Warn("pruner: storage still above the target usage, but everything left is younger than the minimum retention",
			"size", r.SizeAfter, "threshold", p.cfg.Threshold, "minimum_retention", p.cfg.MinimumRetention, "height", r.PrunedHeight)
	}
	return r, nil
}

// stateLimit returns the height PruneBefore may go up to (inclusive) for
// the chain-state snapshot: its height + 1, so that the blocks after it stay
// for a restart to replay; 0 (prune nothing) when the store keeps
// snapshots but holds none yet, since a restart then replays every block;
// no limit when the store does not implement storage.StateStore.
func (p *Pruner) stateLimit(ctx context.Context, r *Report) (uint64, error) {
	if p.state == nil {
		return math.MaxUint64, nil
	}
	h, _, err := p.state.LoadState(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pruner: chain-state snapshot: %w", err)
	}
	r.Snapshot, r.SnapshotHeight = true, h
	if h == math.MaxUint64 {
		return h, nil
	}
	return h + 1, nil
}

// clamp lowers a step's limit to stateLimit, recording and logging it when
// that stops the step short of what it would delete.
func (p *Pruner) clamp(r *Report, limit, stateLimit uint64, step string) uint64 {
	if limit <= stateLimit {
		return limit
	}
	if limit > r.PrunedHeight {
		r.LimitedBySnapshot = true
		if r.Snapshot {
			p.set.logger.Warn(fmt.Sprintf("pruner: keeping the blocks after the chain-state snapshot (height %d), which a restart replays", r.SnapshotHeight),
				"step", step, "target", limit, "limit", stateLimit)
		} else {
			p.set.logger.Warn("pruner: the store holds no chain-state snapshot yet, so a restart replays every block: pruning nothing",
				"step", step, "target", limit)
		}
	}
	return stateLimit
}

// cutoff returns the height below which blocks are older than
// now − retention, capped at keep.
func (p *Pruner) cutoff(ctx context.Context, now time.Time, retention time.Duration, keep uint64) (uint64, error) {
	cut := now.Add(-retention).Unix()
	if cut <= 0 {
		return 0, nil // nothing can be older than the epoch
	}
	h, err := p.store.HeightBefore(ctx, uint64(cut))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pruner: height before %s: %w", time.Unix(cut, 0).UTC().Format(time.RFC3339), err)
	}
	if h >= keep {
		return keep, nil
	}
	return h + 1, nil
}

// prune deletes batches from r.PrunedHeight up to limit (exclusive). When
// more is non-nil it is asked after every batch whether to go on.
func (p *Pruner) prune(ctx context.Context, r *Report, limit uint64, step string, more func() (bool, error)) error {
	for r.PrunedHeight < limit {
		to := limit
		if limit-r.PrunedHeight > p.cfg.BatchSize {
			to = r.PrunedHeight + p.cfg.BatchSize
		}
		if err := p.store.PruneBefore(ctx, to); err != nil {
			return fmt.Errorf("pruner: prune below height %d: %w", to, err)
		}
		n := to - r.PrunedHeight
		r.Blocks += n
		r.Batches++
		if more == nil {
			r.TargetBlocks += n
		} else {
			r.ThresholdBlocks += n
		}
		r.PrunedHeight = to
		p.set.logger.Info(fmt.Sprintf("pruner: pruned %d blocks below height %d", n, to),
			"step", step, "height", to, "target", limit)
		if more != nil {
			ok, err := more()
			if err != nil || !ok {
				return err
			}
		}
		if err := p.yield(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pruner) measure(ctx context.Context) (uint64, error) {
	size, err := p.set.size(ctx)
	if err != nil {
		return 0, fmt.Errorf("pruner: live size: %w", err)
	}
	return size, nil
}

// yield lets other work use the store between batches.
func (p *Pruner) yield(ctx context.Context) error {
	runtime.Gosched()
	if p.set.pause > 0 {
		t := time.NewTimer(p.set.pause)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	return ctx.Err()
}

// overUsage reports size > threshold × maxUsage / 10000 without overflow.
func overUsage(size, threshold uint64, maxUsage uint16) bool {
	sh, sl := bits.Mul64(size, 10000)
	th, tl := bits.Mul64(threshold, uint64(maxUsage))
	return sh > th || (sh == th && sl > tl)
}

// Run runs the algorithm at once and then every Config.Interval (on the
// pruner's clock) until ctx ends, logging each run; a failed run is logged
// and retried at the next interval. It returns nil when ctx ends, or an
// error matching storage.ErrClosed when the store was closed under it.
func (p *Pruner) Run(ctx context.Context) error {
	log := p.set.logger
	for {
		start := time.Now()
		r, err := p.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case errors.Is(err, storage.ErrClosed):
			return err
		case err != nil:
			log.Error("pruner: run failed; retrying at the next interval", "err", err, "height", r.PrunedHeight,
				"blocks", r.Blocks, "next", p.cfg.Interval)
		default:
			log.Info(fmt.Sprintf("pruner: run done: pruned %d blocks, oldest block now %d", r.Blocks, r.PrunedHeight),
				"height", r.PrunedHeight, "blocks", r.Blocks, "batches", r.Batches, "size", r.SizeAfter,
				"over_threshold", r.OverThreshold, "limited_by_snapshot", r.LimitedBySnapshot, "took", time.Since(start).Round(time.Millisecond), "next", p.cfg.Interval)
		}
		t := p.set.clock.NewTimer(p.cfg.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}

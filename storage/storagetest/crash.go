package storagetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// Environment variables of the crash harness. The parent sets them for the
// child; GOSPRESSO_CRASH_SEED may also be set by hand to replay a run's
// kill delays.
const (
	EnvCrashChild  = "GOSPRESSO_CRASH_CHILD"
	EnvCrashTarget = "GOSPRESSO_CRASH_TARGET"
	EnvCrashSeed   = "GOSPRESSO_CRASH_SEED"
	// envCrashParams carries deadline and block shape to the child.
	envCrashParams = "GOSPRESSO_CRASH_PARAMS"
)

// Defaults of CrashConfig.
const (
	DefaultCrashKills    = 10
	DefaultCrashMaxDelay = 400 * time.Millisecond
	DefaultCrashTimeout  = 4 * time.Minute
)

// crashPrefix starts every progress line of a child.
const crashPrefix = "storagetest-crash "

// Exit codes of a child that stopped by itself.
const (
	exitChildError    = 2
	exitChildDeadline = 3
)

// OpenFunc opens the store a crash test works on. target names it (a
// directory, a schema) and is the same in the parent and in every child.
type OpenFunc func(ctx context.Context, target string) (storage.Store, error)

// CrashConfig configures RunCrash.
type CrashConfig struct {
	// Target names the store (passed to Open in the parent and, through
	// the environment, in the child). Required.
	Target string
	// Open opens the store named by target; the parent closes what it
	// opens before starting the next child. Required.
	Open OpenFunc
	// Kills is the number of child processes started and killed
	// (DefaultCrashKills when 0).
	Kills int
	// Seed seeds the kill delays; 0 picks one (logged). The environment
	// variable GOSPRESSO_CRASH_SEED overrides both.
	Seed uint64
	// MaxDelay bounds the random time a child writes before it is killed
	// (DefaultCrashMaxDelay when 0).
	MaxDelay time.Duration
	// Timeout bounds the whole run (DefaultCrashTimeout when 0, and never
	// past the test's deadline).
	Timeout time.Duration
	// TxsPerBlock and TxSize shape the blocks the child writes (20 and 200
	// when 0).
	TxsPerBlock, TxSize int
	// ChildFromTestMain selects how the child process runs: false re-runs
	// the calling test (t.Name()) in the child, where RunCrash then acts as
	// the child; true runs the test binary with -test.run=^$ and expects
	// the package's TestMain to call CrashChild(open) before m.Run.
	ChildFromTestMain bool
	// ConsensusOnly checks the store after each kill as a consensus-only
	// (lightweight) store, which keeps the last decided block only: with
	// CheckConsensusOnlyStore's checks instead of CheckStore's.
	ConsensusOnly bool
}

// crashParams is what the child needs besides the target.
type crashParams struct {
	deadline    time.Time
	txs, txSize int
	childSeed   uint64
}

func (p crashParams) encode() string {
	return fmt.Sprintf("%d,%d,%d,%d", p.deadline.UnixMilli(), p.txs, p.txSize, p.childSeed)
}

func decodeCrashParams(s string) (crashParams, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return crashParams{}, fmt.Errorf("%s: %q: want 4 comma-separated numbers (deadline ms, txs, tx size, seed)", envCrashParams, s)
	}
	var n [3]int
	for i, name := range []string{"deadline", "txs", "tx size"} {
		x, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil || x < 0 {
			return crashParams{}, fmt.Errorf("%s: %s: %q: want a non-negative integer", envCrashParams, name, f[i])
		}
		n[i] = int(x)
	}
	seed, err := strconv.ParseUint(f[3], 10, 64)
	if err != nil {
		return crashParams{}, fmt.Errorf("%s: seed: %q: want an unsigned integer", envCrashParams, f[3])
	}
	return crashParams{deadline: time.UnixMilli(int64(n[0])), txs: n[1], txSize: n[2], childSeed: seed}, nil
}

// RunCrash kills writer processes at random points and checks the store
// after each kill. It starts cfg.Kills child processes one after another;
// each opens the store, writes safety states, proposals and decided blocks
// (and prunes, when the store implements storage.Pruner) in a loop as
// fast as it can, printing a progress line after each write returns, and
// is killed with SIGKILL after a random delay. The parent then reopens the
// store and checks it with CheckStore (incrementally) and against the
// progress lines: every write the child reported done must be there. The
// child is always killed and waited for, and the whole run has a deadline.
//
// Called in a child process (GOSPRESSO_CRASH_CHILD=1), RunCrash runs the
// child's loop and exits the process.
func RunCrash(t *testing.T, cfg CrashConfig) {
	t.Helper()
	if os.Getenv(EnvCrashChild) == "1" {
		CrashChild(cfg.Open)
		return
	}
	if cfg.Target == "" || cfg.Open == nil {
		t.Fatal("storagetest: RunCrash: CrashConfig.Target and Open are required")
	}
	if cfg.Kills <= 0 {
		cfg.Kills = DefaultCrashKills
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultCrashMaxDelay
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultCrashTimeout
	}
	if cfg.TxsPerBlock <= 0 {
		cfg.TxsPerBlock = 20
	}
	if cfg.TxSize <= 0 {
		cfg.TxSize = 200
	}
	seed := cfg.Seed
	if s := os.Getenv(EnvCrashSeed); s != "" {
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("storagetest: %s: %q: want an unsigned integer", EnvCrashSeed, s)
		}
		seed = x
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash harness: seed %d (%s=%d replays the kill delays), %d kills, delays up to %v", seed, EnvCrashSeed, seed, cfg.Kills, cfg.MaxDelay)

	deadline := time.Now().Add(cfg.Timeout)
	if d, ok := t.Deadline(); ok && d.Add(-15*time.Second).Before(deadline) {
		deadline = d.Add(-15 * time.Second)
	}
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	defer cancel()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	var (
		acked     crashProgress
		checkFrom uint64
		midWrite  int
	)
	for kill := range cfg.Kills {
		early := rng.IntN(5) == 0
		delay := time.Duration(rng.Int64N(int64(cfg.MaxDelay) + 1))
		params := crashParams{deadline: deadline, txs: cfg.TxsPerBlock, txSize: cfg.TxSize, childSeed: rng.Uint64()}
		res, err := runCrashChild(ctx, t, cfg, params, early, delay)
		if err != nil {
			t.Fatalf("kill %d: %v", kill, err)
		}
		acked.merge(res.progress)
		if res.progress.writes > 0 {
			midWrite++
		}
		when := "after ready"
		if early {
			when = "from start"
		}
		t.Logf("kill %d: %v %s; the child reported %d writes, up to height %d", kill, delay.Round(time.Millisecond), when, res.progress.writes, res.progress.height)

		st, err := openRetry(ctx, cfg.Open, cfg.Target)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", kill, err)
		}
		last, err := checkStore(ctx, st, checkFrom, cfg.ConsensusOnly)
		if err == nil {
			err = checkAcked(ctx, st, &last, &acked)
		}
		if err == nil {
			err = checkCrashProposals(ctx, st)
		}
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close: %w", cerr)
		}
		if err != nil {
			t.Fatalf("kill %d: inconsistent store after the kill (seed %d): %v\nchild output (tail):\n%s", kill, seed, err, res.tail)
		}
		if last.Height() > 3 {
			checkFrom = last.Height() - 3
		}
	}
	if acked.height == 0 || midWrite == 0 {
		t.Errorf("crash harness: the children made no progress (height %d, %d kills during writes): raise MaxDelay or Timeout", acked.height, midWrite)
	}
}

// openRetry opens the store, retrying while the lock of a killed child is
// being released (a Postgres server notices a dead client a moment later).
func openRetry(ctx context.Context, open OpenFunc, target string) (storage.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		st, err := open(ctx, target)
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, storage.ErrLocked) || ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (still locked after 30 s)", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// crashProgress is what a child reported done.
type crashProgress struct {
	ready      bool
	writes     int
	height     uint64
	safetyView uint64
	pruned     uint64
}

func (p *crashProgress) merge(q crashProgress) {
	p.writes += q.writes
	p.height = max(p.height, q.height)
	p.safetyView = max(p.safetyView, q.safetyView)
	p.pruned = max(p.pruned, q.pruned)
}

// checkAcked checks that every write a child reported is stored.
func checkAcked(ctx context.Context, st storage.Store, last *types.Block, acked *crashProgress) error {
	if last.Height() < acked.height {
		return fmt.Errorf("the last decided height is %d, but a child saved up to %d: acknowledged blocks were lost", last.Height(), acked.height)
	}
	if acked.safetyView > 0 {
		s, err := st.LoadSafety(ctx)
		if err != nil {
			return fmt.Errorf("LoadSafety after a child saved view %d: %w", acked.safetyView, err)
		}
		if uint64(s.View) < acked.safetyView {
			return fmt.Errorf("safety state at view %d, but a child saved view %d: an acknowledged write was lost", s.View, acked.safetyView)
		}
		if s.LastVotedView+1 != s.View || s.HighQC.View > s.View {
			return fmt.Errorf("safety state torn: view %d, last voted %d, high QC view %d", s.View, s.LastVotedView, s.HighQC.View)
		}
	}
	if p, ok := st.(storage.Pruner); ok && acked.pruned > 0 {
		h, pruned, err := p.PrunedHeight(ctx)
		if err != nil || !pruned || h < acked.pruned {
			return fmt.Errorf("PrunedHeight = %d, %v, %v; a child pruned below %d", h, pruned, err, acked.pruned)
		}
	}
	return nil
}

// crashProposal is the data of the k-th proposal a child saves for a view:
// self-describing, so the parent can tell a torn or mixed-up one.
func crashProposal(view types.ViewNumber, k int) []byte {
	n := 64 + (int(view)*13+k*101)%700
	p := make([]byte, n)
	copy(p, "crash-proposal")
	binary.BigEndian.PutUint64(p[16:], uint64(view))
	binary.BigEndian.PutUint64(p[24:], uint64(k))
	for i := 32; i < n; i++ {
		p[i] = byte(uint64(view)*7 + uint64(k)*3 + uint64(i))
	}
	return p
}

func checkCrashProposals(ctx context.Context, st storage.Store) error {
	ps, err := st.LoadProposals(ctx)
	if err != nil {
		return fmt.Errorf("LoadProposals: %w", err)
	}
	for _, p := range ps {
		if len(p.Data) < 32 {
			return fmt.Errorf("proposal for view %d has %d bytes, a child wrote at least 64", p.View, len(p.Data))
		}
		view, k := binary.BigEndian.Uint64(p.Data[16:]), binary.BigEndian.Uint64(p.Data[24:])
		if types.ViewNumber(view) != p.View || k > 8 || !bytes.Equal(p.Data, crashProposal(p.View, int(k))) {
			return fmt.Errorf("proposal for view %d is torn or mixed up (%d bytes)", p.View, len(p.Data))
		}
	}
	return nil
}

// childResult is what the parent learned from one child.
type childResult struct {
	progress crashProgress
	tail     string
}

// runCrashChild starts a child, kills it after delay (counted from its
// ready line unless early) and waits for it.
func runCrashChild(ctx context.Context, t *testing.T, cfg CrashConfig, params crashParams, early bool, delay time.Duration) (childResult, error) {
	run := "^$"
	if !cfg.ChildFromTestMain {
		run = runPattern(t.Name())
	}
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(),
		EnvCrashChild+"=1",
		EnvCrashTarget+"="+cfg.Target,
		envCrashParams+"="+params.encode(),
	)
	out := newProgressWriter()
	var stderr tailBuffer
	cmd.Stdout = out
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return childResult{}, fmt.Errorf("start child: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	result := func() childResult {
		return childResult{progress: out.progress(), tail: out.tail() + stderr.String()}
	}
	killAndWait := func() error {
		_ = cmd.Process.Kill()
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("child did not exit 30 s after SIGKILL")
		}
	}
	if !early {
		select {
		case <-out.ready:
		case err := <-exited:
			return result(), fmt.Errorf("child exited before it was ready (%v); did it run RunCrash or CrashChild? output:\n%s", err, result().tail)
		case <-ctx.Done():
			_ = killAndWait()
			return result(), fmt.Errorf("child not ready after %v: %w\noutput:\n%s", time.Since(start).Round(time.Millisecond), ctx.Err(), result().tail)
		}
	}
	select {
	case <-time.After(delay):
	case err := <-exited:
		return result(), fmt.Errorf("child exited before it was killed (%v); output:\n%s", err, result().tail)
	case <-ctx.Done():
		_ = killAndWait()
		return result(), ctx.Err()
	}
	err := killAndWait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return result(), fmt.Errorf("wait for child: %w", err)
	}
	if exit != nil && exit.Exited() {
		// It stopped by itself just before the kill: an error or its
		// deadline, not our signal.
		return result(), fmt.Errorf("child exited with status %d before it was killed; output:\n%s", exit.ExitCode(), result().tail)
	}
	return result(), nil
}

// runPattern is the -test.run pattern that selects exactly the test (or
// subtest) named name.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i := range parts {
		parts[i] = "^" + regexp.QuoteMeta(parts[i]) + "$"
	}
	return strings.Join(parts, "/")
}

// progressWriter parses a child's progress lines as they arrive.
type progressWriter struct {
	mu      sync.Mutex
	partial []byte
	p       crashProgress
	lines   []string
	ready   chan struct{}
}

func newProgressWriter() *progressWriter { return &progressWriter{ready: make(chan struct{})} }

func (w *progressWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.line(line)
	}
	return len(b), nil
}

func (w *progressWriter) line(line string) {
	w.lines = append(w.lines, line)
	if len(w.lines) > 12 {
		w.lines = w.lines[1:]
	}
	rest, ok := strings.CutPrefix(line, crashPrefix)
	if !ok {
		return
	}
	var (
		what string
		n    uint64
	)
	if _, err := fmt.Sscanf(rest, "%s %d", &what, &n); err != nil {
		return
	}
	switch what {
	case "ready":
		w.p.height = max(w.p.height, n)
		if !w.p.ready {
			w.p.ready = true
			close(w.ready)
		}
		return
	case "decided":
		w.p.height = max(w.p.height, n)
	case "safety":
		w.p.safetyView = max(w.p.safetyView, n)
	case "pruned":
		w.p.pruned = max(w.p.pruned, n)
	case "proposal":
	default:
		return
	}
	w.p.writes++
}

func (w *progressWriter) progress() crashProgress {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.p
}

func (w *progressWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n") + "\n"
}

// tailBuffer keeps the last 4 KB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// CrashChild is the child side of RunCrash. When GOSPRESSO_CRASH_CHILD=1
// it opens the store named by GOSPRESSO_CRASH_TARGET with open, writes in
// a loop until it is killed, and exits the process (status 2 on an error,
// 3 if it reaches the run's deadline without being killed); otherwise it
// returns at once. Call it first thing in TestMain when
// CrashConfig.ChildFromTestMain is set.
func CrashChild(open OpenFunc) {
	if os.Getenv(EnvCrashChild) != "1" {
		return
	}
	os.Exit(crashChild(open))
}

func crashChild(open OpenFunc) int {
	params, err := decodeCrashParams(os.Getenv(envCrashParams))
	if err != nil {
		fmt.Fprintf(os.Stderr, "storagetest: crash child: %v\n", err)
		return exitChildError
	}
	if open == nil {
		fmt.Fprintln(os.Stderr, "storagetest: crash child: no open function")
		return exitChildError
	}
	ctx, cancel := context.WithDeadline(context.Background(), params.deadline)
	defer cancel()
	st, err := openRetry(ctx, open, os.Getenv(EnvCrashTarget))
	if err != nil {
		fmt.Fprintf(os.Stderr, "storagetest: crash child: open %q: %v\n", os.Getenv(EnvCrashTarget), err)
		return exitChildError
	}
	err = crashLoop(ctx, st, params, os.Stdout)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "storagetest: crash child: deadline reached without being killed")
		return exitChildDeadline
	}
	fmt.Fprintf(os.Stderr, "storagetest: crash child: %v\n", err)
	return exitChildError
}

// crashLoop writes until ctx ends or a write fails; it reports every write
// on out once the call has returned.
func crashLoop(ctx context.Context, st storage.Store, params crashParams, out *os.File) error {
	report := func(what string, n uint64) {
		fmt.Fprintf(out, "%s%s %d\n", crashPrefix, what, n)
	}
	last, err := st.LastDecided(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		last = Genesis(GenesisTime)
		if err := st.SaveDecided(ctx, []types.Block{last}); err != nil {
			return fmt.Errorf("save genesis: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("last decided: %w", err)
	}
	var view types.ViewNumber
	switch s, err := st.LoadSafety(ctx); {
	case err == nil:
		view = s.View
	case !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("load safety: %w", err)
	}
	pruner, _ := st.(storage.Pruner)
	rng := rand.New(rand.NewPCG(params.childSeed, uint64(os.Getpid())))
	report("ready", last.Height())
	for ctx.Err() == nil {
		next := last.Leaf.View + 1
		for k := range 1 + rng.IntN(2) {
			v := next + types.ViewNumber(k)
			if err := st.SaveProposal(ctx, storage.StoredProposal{View: v, Data: crashProposal(v, k)}); err != nil {
				return fmt.Errorf("save proposal for view %d: %w", v, err)
			}
			report("proposal", uint64(v))
		}
		view = max(view, last.Leaf.View) + 1
		if err := st.SaveSafety(ctx, types.SafetyState{View: view, LastVotedView: view - 1, HighQC: last.QC}); err != nil {
			return fmt.Errorf("save safety state for view %d: %w", view, err)
		}
		report("safety", uint64(view))
		blocks := Extend(&last, 1+rng.IntN(3), params.txs, params.txSize)
		if rng.IntN(4) == 0 {
			blocks = append([]types.Block{last}, blocks...) // re-save the last one
		}
		if err := st.SaveDecided(ctx, blocks); err != nil {
			return fmt.Errorf("save decided blocks %s: %w", heightsOf(blocks), err)
		}
		last = blocks[len(blocks)-1]
		report("decided", last.Height())
		if h := last.Height(); pruner != nil && h >= 64 && h%16 < 3 {
			if err := pruner.PruneBefore(ctx, h-32); err != nil {
				return fmt.Errorf("prune before %d: %w", h-32, err)
			}
			report("pruned", h-32)
		}
	}
	return ctx.Err()
}

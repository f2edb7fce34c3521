package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// ErrInconsistent is wrapped by every error CheckStore returns.
var ErrInconsistent = errors.New("storagetest: inconsistent store")

// CheckStore checks that a store holding a chain built by this package is
// consistent: LastDecided and BlockHeight agree; the stored blocks form a
// contiguous chain from 0 (or from FirstHeight when the store implements
// storage.Pruner, with ErrPruned below the pruned height) whose leaves link to their
// parents and whose certificates certify them; every block can be read by
// height, leaf and block hash; payloads decode and match their header's
// namespace table and payload commitment; every transaction is indexed at
// or before its position and TransactionAt returns it; namespace heights,
// transaction counts and payload sizes agree with the blocks; the safety
// state loads (or is absent) and every stored proposal is for a view above
// the last decided one, in view order.
func CheckStore(ctx context.Context, st storage.Store) error {
	if _, err := checkStore(ctx, st, 0, false); err != nil {
		return fmt.Errorf("%w: %w", ErrInconsistent, err)
	}
	return nil
}

// CheckConsensusOnlyStore is CheckStore for a store in consensus-only mode
// (a lightweight node's, docs/storage.md, "Modes"), which keeps the last decided block
// only: it checks that block as CheckStore checks every block (its
// lookups, transactions, namespace heights, counts and sizes), that the
// height below it returns storage.ErrPruned, and the consensus state.
func CheckConsensusOnlyStore(ctx context.Context, st storage.Store) error {
	if _, err := checkStore(ctx, st, 0, true); err != nil {
		return fmt.Errorf("%w: %w", ErrInconsistent, err)
	}
	return nil
}

// checkStore is CheckStore for the blocks from height from on (the links
// into from included); it returns the last decided block (zero when the
// store is empty). With consensusOnly it checks the last block only, and
// ErrPruned below it.
func checkStore(ctx context.Context, st storage.Store, from uint64, consensusOnly bool) (types.Block, error) {
	last, err := st.LastDecided(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		if n, err := st.BlockHeight(ctx); err != nil || n != 0 {
			return types.Block{}, fmt.Errorf("empty store: BlockHeight = %d, %v; want 0", n, err)
		}
		return types.Block{}, checkConsensus(ctx, st, nil)
	}
	if err != nil {
		return types.Block{}, fmt.Errorf("LastDecided: %w", err)
	}
	top := last.Height()
	if n, err := st.BlockHeight(ctx); err != nil || n != top+1 {
		return last, fmt.Errorf("BlockHeight = %d, %v; LastDecided is at %d", n, err, top)
	}
	var first uint64
	if consensusOnly {
		first = top
		if top > 0 {
			if _, err := st.BlockByHeight(ctx, top-1); !errors.Is(err, storage.ErrPruned) {
				return last, fmt.Errorf("consensus-only: BlockByHeight(%d) below the last block %d: err %v, want ErrPruned", top-1, top, err)
			}
		}
	} else if first, err = checkPruned(ctx, st, top); err != nil {
		return last, err
	}
	start := max(from, first)
	if start > top {
		start = top
	}
	var prev *types.Block
	if start > first {
		b, err := st.BlockByHeight(ctx, start-1)
		if err != nil {
			return last, fmt.Errorf("block %d: %w", start-1, err)
		}
		prev = &b
	}
	var (
		checked []types.Block
		// Sums over [start, mid) and [mid, top]: a range bound off by one
		// shows in one of them.
		mid         = start + (top+1-start)/2
		txs, nbytes [2]uint64
	)
	for h := start; h <= top; {
		blocks, err := st.BlockRange(ctx, h, top+1, 64)
		if err != nil {
			return last, fmt.Errorf("BlockRange(%d, %d): %w", h, top+1, err)
		}
		if len(blocks) == 0 {
			return last, fmt.Errorf("BlockRange(%d, %d) is empty below the last decided block: a hole at %d", h, top+1, h)
		}
		for i := range blocks {
			b := &blocks[i]
			if b.Height() != h {
				return last, fmt.Errorf("BlockRange returned block %d where %d belongs", b.Height(), h)
			}
			n, err := checkBlock(ctx, st, b, prev)
			if err != nil {
				return last, fmt.Errorf("block %d: %w", h, err)
			}
			half := 0
			if h >= mid {
				half = 1
			}
			txs[half] += n
			nbytes[half] += b.Payload.Size()
			prev = b
			h++
		}
		checked = append(checked, blocks...)
	}
	if prev.Leaf.Commit() != last.Leaf.Commit() {
		return last, fmt.Errorf("block %d read by range differs from LastDecided", top)
	}
	for i, r := range [][2]uint64{{start, mid}, {mid, top + 1}} {
		if n, err := st.TransactionCount(ctx, r[0], r[1]); err != nil || n != txs[i] {
			return last, fmt.Errorf("TransactionCount(%d, %d) = %d, %v; the blocks hold %d", r[0], r[1], n, err, txs[i])
		}
		if n, err := st.PayloadBytes(ctx, r[0], r[1]); err != nil || n != nbytes[i] {
			return last, fmt.Errorf("PayloadBytes(%d, %d) = %d, %v; the blocks hold %d", r[0], r[1], n, err, nbytes[i])
		}
	}
	if err := checkNamespaces(ctx, st, checked, start, top); err != nil {
		return last, err
	}
	return last, checkConsensus(ctx, st, &last)
}

// checkPruned returns the first stored height, checking the pruned height
// against it.
func checkPruned(ctx context.Context, st storage.Store, top uint64) (uint64, error) {
	p, ok := st.(storage.Pruner)
	if !ok {
		return 0, nil
	}
	first, err := p.FirstHeight(ctx)
	if err != nil {
		return 0, fmt.Errorf("FirstHeight: %w", err)
	}
	if first > top {
		return 0, fmt.Errorf("FirstHeight %d above the last decided height %d", first, top)
	}
	ph, pruned, err := p.PrunedHeight(ctx)
	if err != nil {
		return 0, fmt.Errorf("PrunedHeight: %w", err)
	}
	if pruned && first < ph {
		return 0, fmt.Errorf("block %d is stored below the pruned height %d", first, ph)
	}
	if pruned && ph > 0 {
		if _, err := st.BlockByHeight(ctx, ph-1); !errors.Is(err, storage.ErrPruned) {
			return 0, fmt.Errorf("BlockByHeight(%d) below the pruned height %d: err %v, want ErrPruned", ph-1, ph, err)
		}
	}
	return first, nil
}

// checkBlock checks one block and its indexes; it returns its transaction
// count.
func checkBlock(ctx context.Context, st storage.Store, b, prev *types.Block) (uint64, error) {
	h := b.Height()
	c := b.Leaf.Commit()
	if prev != nil && b.Leaf.Parent != prev.Leaf.Commit() {
		return 0, fmt.Errorf("parent %s, but block %d is %s", b.Leaf.Parent.Short(), prev.Height(), prev.Leaf.Commit().Short())
	}
	if prev == nil && h == 0 && !b.Leaf.Parent.IsZero() {
		return 0, fmt.Errorf("genesis block has parent %s", b.Leaf.Parent.Short())
	}
	if b.QC.Leaf != c || b.QC.View != b.Leaf.View {
		return 0, fmt.Errorf("certificate for leaf %s view %d, block is leaf %s view %d", b.QC.Leaf.Short(), b.QC.View, c.Short(), b.Leaf.View)
	}
	if !bytes.Equal(b.Leaf.Header.NsTable.Bytes, b.Payload.NsTable.Bytes) {
		return 0, fmt.Errorf("payload namespace table differs from the header's")
	}
	// The builder commitment hashes the payload bytes whatever the
	// network's VID parameters are: a stored payload must still match it.
	if bc := chain.BuilderCommitment(&b.Payload); bc != b.Leaf.Header.BuilderCommitment {
		return 0, fmt.Errorf("payload's builder commitment %s, header says %s", bc.Short(), b.Leaf.Header.BuilderCommitment.Short())
	}
	txs, err := b.Payload.Transactions()
	if err != nil {
		return 0, fmt.Errorf("payload: %w", err)
	}
	for _, lookup := range []struct {
		name string
		f    func(context.Context, types.Commitment) (types.Block, error)
		key  types.Commitment
	}{
		{"BlockByLeaf", st.BlockByLeaf, c},
		{"BlockByHash", st.BlockByHash, b.Leaf.Header.Commit()},
	} {
		got, err := lookup.f(ctx, lookup.key)
		if err != nil || got.Leaf.Commit() != c {
			return 0, fmt.Errorf("%s: block %d, %v", lookup.name, got.Height(), err)
		}
	}
	for i, tx := range txs {
		loc, err := st.TransactionByHash(ctx, tx.Commit())
		if err != nil {
			return 0, fmt.Errorf("transaction %d: TransactionByHash: %w", i, err)
		}
		if loc.Height > h || (loc.Height == h && loc.Index > uint64(i)) {
			return 0, fmt.Errorf("transaction %d: indexed at %d/%d, after this inclusion", i, loc.Height, loc.Index)
		}
		got, err := st.TransactionAt(ctx, loc.Height, loc.Index)
		if err != nil || got.Commit() != tx.Commit() {
			return 0, fmt.Errorf("transaction %d: TransactionAt(%d, %d) = %s, %v", i, loc.Height, loc.Index, got.Commit().Short(), err)
		}
	}
	return uint64(len(txs)), nil
}

// checkNamespaces compares NamespaceHeights over [start, top] with the
// namespace tables of the checked blocks.
func checkNamespaces(ctx context.Context, st storage.Store, blocks []types.Block, start, top uint64) error {
	want := make(map[uint64][]uint64)
	for i := range blocks {
		b := &blocks[i]
		entries, err := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw))
		if err != nil {
			return fmt.Errorf("block %d: namespace table: %w", b.Height(), err)
		}
		for _, e := range entries {
			want[uint64(e.Namespace)] = append(want[uint64(e.Namespace)], b.Height())
		}
	}
	for _, ns := range []uint64{NamespaceA, NamespaceB, NamespaceC} {
		if _, ok := want[ns]; !ok {
			want[ns] = nil
		}
	}
	for ns, hs := range want {
		got, err := st.NamespaceHeights(ctx, ns, start, len(blocks)+1)
		if err != nil {
			return fmt.Errorf("NamespaceHeights(%d, %d): %w", ns, start, err)
		}
		got = slices.DeleteFunc(got, func(h uint64) bool { return h > top })
		if !slices.Equal(got, hs) {
			return fmt.Errorf("NamespaceHeights(%d, from %d) = %v, the blocks say %v", ns, start, got, hs)
		}
	}
	return nil
}

// checkConsensus checks the safety state and the stored proposals.
func checkConsensus(ctx context.Context, st storage.Store, last *types.Block) error {
	if _, err := st.LoadSafety(ctx); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("LoadSafety: %w", err)
	}
	ps, err := st.LoadProposals(ctx)
	if err != nil {
		return fmt.Errorf("LoadProposals: %w", err)
	}
	for i, p := range ps {
		if i > 0 && p.View < ps[i-1].View {
			return fmt.Errorf("LoadProposals: view %d after %d", p.View, ps[i-1].View)
		}
		if last != nil && p.View <= last.Leaf.View {
			return fmt.Errorf("proposal for view %d is stored, but view %d is decided", p.View, last.Leaf.View)
		}
	}
	return nil
}

// ConsensusOnlyConfig configures RunConsensusOnly.
type ConsensusOnlyConfig struct {
	// Open opens the store under test in consensus-only mode; every call
	// opens the same store. Required.
	Open func(ctx context.Context) (storage.Store, error)
	// Size measures the store's size in bytes (the directory on disk, or
	// storage.Pruner.LiveSize). Required.
	Size func(ctx context.Context, st storage.Store) (uint64, error)
	// MaxSize is the bound Size must stay under after every block. Required.
	MaxSize uint64
	// Blocks is the number of blocks decided after genesis (2,000 when 0).
	Blocks int
	// TxsPerBlock and TxSize shape the blocks (20 transactions of 500
	// bytes, about 10 KB of payload, when 0).
	TxsPerBlock, TxSize int
}

// RunConsensusOnly checks a store in consensus-only mode (a lightweight
// node's, docs/storage.md, "Modes"): it starts it as a node does (the genesis block is
// stored first), decides cfg.Blocks blocks one to three per SaveDecided
// (re-saving the last one now and then) with safety states and proposals
// in between (each proposal for the view decided next, so that
// SaveDecided drops it), and checks that the size stays under cfg.MaxSize, that the
// store passes CheckConsensusOnlyStore, that heights below the last block
// return storage.ErrPruned, and that after a reopen the last block, the
// safety state and the proposals are there and decisions continue from the
// last block. When the store implements storage.StateStore it also saves a
// small chain-state snapshot every 97 blocks or so and checks that the
// latest one is kept, through the pruning of later decisions and the
// reopen. It logs the largest size measured.
func RunConsensusOnly(t *testing.T, cfg ConsensusOnlyConfig) {
	t.Helper()
	if cfg.Open == nil || cfg.Size == nil || cfg.MaxSize == 0 {
		t.Fatal("storagetest: RunConsensusOnly: Open, Size and MaxSize are required")
	}
	if cfg.Blocks <= 0 {
		cfg.Blocks = 2000
	}
	if cfg.TxsPerBlock <= 0 {
		cfg.TxsPerBlock = 20
	}
	if cfg.TxSize <= 0 {
		cfg.TxSize = 500
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	st, err := cfg.Open(ctx)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer func() { st.Close() }()
	last := Genesis(GenesisTime)
	if _, err := st.LastDecided(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("LastDecided on a new store: %v, want ErrNotFound", err)
	}
	if err := st.SaveDecided(ctx, []types.Block{last}); err != nil {
		t.Fatalf("SaveDecided of the genesis block on a new store: %v", err)
	}
	var (
		maxSize uint64
		safety  types.SafetyState
		rng     = rand.New(rand.NewPCG(7, 11))
		// The latest snapshot saved (StateStore only), and whether one was.
		stateHeight uint64
		stateSaved  bool
	)
	ss, hasState := st.(storage.StateStore)
	wantSnapshot := func(when string, ss storage.StateStore) {
		t.Helper()
		if !stateSaved {
			return
		}
		if err := checkState(ctx, ss, stateHeight, Snapshot(stateHeight, 512)); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
	}
	measure := func(when string) {
		t.Helper()
		n, err := cfg.Size(ctx, st)
		if err != nil {
			t.Fatalf("%s: size: %v", when, err)
		}
		maxSize = max(maxSize, n)
		if n >= cfg.MaxSize {
			t.Fatalf("%s: store size %d bytes, want under %d", when, n, cfg.MaxSize)
		}
	}
	for last.Height() < uint64(cfg.Blocks) {
		n := min(1+rng.IntN(3), cfg.Blocks-int(last.Height()))
		blocks := Extend(&last, n, cfg.TxsPerBlock, cfg.TxSize)
		if rng.IntN(8) == 0 {
			blocks = append([]types.Block{last}, blocks...)
		}
		next := blocks[len(blocks)-1]
		if rng.IntN(4) == 0 {
			safety = types.SafetyState{View: next.Leaf.View, LastVotedView: next.Leaf.View - 1, HighQC: last.QC}
			if err := st.SaveSafety(ctx, safety); err != nil {
				t.Fatalf("SaveSafety view %d: %v", safety.View, err)
			}
			// The proposal of the block about to be decided: SaveDecided
			// drops it.
			v := next.Leaf.View
			if err := st.SaveProposal(ctx, storage.StoredProposal{View: v, Data: crashProposal(v, 0)}); err != nil {
				t.Fatalf("SaveProposal view %d: %v", v, err)
			}
		}
		if err := st.SaveDecided(ctx, blocks); err != nil {
			t.Fatalf("SaveDecided %s: %v", heightsOf(blocks), err)
		}
		last = next
		if hasState && last.Height()/97 != (last.Height()-uint64(n))/97 {
			wantSnapshot(fmt.Sprintf("after block %d", last.Height()), ss)
			stateHeight, stateSaved = last.Height(), true
			if err := ss.SaveState(ctx, stateHeight, Snapshot(stateHeight, 512)); err != nil {
				t.Fatalf("SaveState at height %d: %v", stateHeight, err)
			}
		}
		if last.Height()%100 < 3 {
			measure(fmt.Sprintf("after block %d", last.Height()))
		}
	}
	wantSnapshot("at the end", ss)
	measure("at the end")
	top := last.Height()
	if err := CheckConsensusOnlyStore(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, h := range []uint64{0, 1, top / 2, top - 1} {
		if _, err := st.BlockByHeight(ctx, h); !errors.Is(err, storage.ErrPruned) {
			t.Errorf("BlockByHeight(%d) below the last block %d: %v, want ErrPruned", h, top, err)
		}
	}
	if _, err := st.BlockByHeight(ctx, top+1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("BlockByHeight(%d) above the last block: %v, want ErrNotFound", top+1, err)
	}
	if _, err := st.BlockRange(ctx, 0, top+1, 10); !errors.Is(err, storage.ErrPruned) {
		t.Errorf("BlockRange(0, %d) from below the last block: %v, want ErrPruned", top+1, err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	// A node restarting on the store.
	if st, err = cfg.Open(ctx); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	got, err := st.LastDecided(ctx)
	if err != nil || got.Leaf.Commit() != last.Leaf.Commit() {
		t.Fatalf("after reopen: LastDecided = block %d, %v; want block %d", got.Height(), err, top)
	}
	if n, err := st.BlockHeight(ctx); err != nil || n != top+1 {
		t.Errorf("after reopen: BlockHeight = %d, %v; want %d", n, err, top+1)
	}
	gs, err := st.LoadSafety(ctx)
	if err != nil || gs.View != safety.View || gs.LastVotedView != safety.LastVotedView || gs.HighQC.Leaf != safety.HighQC.Leaf {
		t.Errorf("after reopen: LoadSafety = view %d, last voted %d, %v; want view %d, last voted %d",
			gs.View, gs.LastVotedView, err, safety.View, safety.LastVotedView)
	}
	if ps, err := st.LoadProposals(ctx); err != nil || len(ps) != 0 {
		t.Errorf("after reopen: LoadProposals = %d proposals, %v; want none (every one was decided)", len(ps), err)
	}
	if hasState {
		ss = st.(storage.StateStore)
		wantSnapshot("after reopen", ss)
	}
	more := Extend(&last, 2, cfg.TxsPerBlock, cfg.TxSize)
	if err := st.SaveDecided(ctx, more); err != nil {
		t.Fatalf("after reopen: SaveDecided %s: %v", heightsOf(more), err)
	}
	if _, err := st.BlockByHeight(ctx, top); !errors.Is(err, storage.ErrPruned) {
		t.Errorf("after reopen and two more blocks: BlockByHeight(%d): %v, want ErrPruned", top, err)
	}
	measure("after the restart")
	if err := CheckConsensusOnlyStore(ctx, st); err != nil {
		t.Fatal(err)
	}
	if hasState {
		wantSnapshot("after reopen and two more blocks", ss)
	}
	t.Logf("consensus-only store: %d blocks of %d×%d-byte transactions decided; largest size measured %d bytes (bound %d)",
		top+2, cfg.TxsPerBlock, cfg.TxSize, maxSize, cfg.MaxSize)
}

package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// Run is the conformance suite every storage.Store passes. open must return
// a fresh, empty store for each subtest and register whatever cleanup the
// backend needs with t.Cleanup; the suite closes the store itself before
// that cleanup runs, so closing twice must be harmless. When the store
// implements storage.Pruner the pruning subtests run too, and when it
// implements storage.StateStore the StateSnapshots subtest (and its
// methods in Closed and Canceled); RunStateReopen checks that the snapshot
// survives a reopen.
//
// Semantics checked beyond the doc comments of storage.go:
//   - The first block of an empty store must have height 0; any other is a
//     gap (ErrConflict).
//   - An empty SaveDecided is a no-op.
//   - Proposals come back in view order; the order within a view is free.
//   - HeaderWindow: when more than limit headers fall in [start, end), the
//     first limit are returned and Next is nil; Prev and Next are otherwise
//     the stored neighbours of the window (nil when there is none).
//   - limit <= 0 returns nothing (BlockRange, NamespaceHeights,
//     HeaderWindow).
//   - Every method called with a cancelled context returns an error
//     wrapping the context's error and changes nothing; after Close every
//     method returns an error wrapping storage.ErrClosed.
//   - Pruning: PruneBefore past the last block prunes up to it (the pruned
//     height becomes its height); a lower height than the pruned one, or
//     pruning an empty store, changes nothing. Reads by height below the
//     pruned height (BlockByHeight, TransactionAt, BlockRange starting
//     there) return ErrPruned; lookups by hash of pruned data return
//     ErrPruned or ErrNotFound; scans and sums (NamespaceHeights,
//     TransactionCount, PayloadBytes, HeaderWindow) either return ErrPruned
//     or cover the stored blocks only. TransactionByHash finds the earliest
//     inclusion still stored. After ResetPrunedHeight the deleted heights
//     are missing (ErrNotFound), not pruned.
//   - GenesisBinder: the first BindGenesis records the identity, the same
//     one binds again, another is refused (*storage.GenesisMismatchError,
//     naming both) and changes nothing, pruned blocks or not;
//     RunGenesisReopen checks that the identity survives a reopen.
//   - StateStore: LoadState returns exactly the bytes of the SaveState
//     with the greatest height (the latest of equal ones), 8 MiB and empty
//     data included; a lower height is ignored without an error; neither
//     side aliases the other's bytes; pruning keeps the snapshot.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Helper()
	fresh := func(t *testing.T) storage.Store {
		t.Helper()
		st := open(t)
		if st == nil {
			t.Fatal("storagetest: open returned a nil store")
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	tests := []struct {
		name string
		f    func(t *testing.T, st storage.Store)
	}{
		{"EmptyStore", testEmptyStore},
		{"SafetyState", testSafetyState},
		{"Proposals", testProposals},
		{"ProposalsDroppedByDecide", testProposalsDroppedByDecide},
		{"SaveDecidedSequence", testSaveDecidedSequence},
		{"SaveDecidedIdempotent", testSaveDecidedIdempotent},
		{"SaveDecidedConflict", testSaveDecidedConflict},
		{"SaveDecidedGap", testSaveDecidedGap},
		{"SaveDecidedAtomic", testSaveDecidedAtomic},
		{"Lookups", testLookups},
		{"Transactions", testTransactions},
		{"NamespaceHeights", testNamespaceHeights},
		{"Sums", testSums},
		{"HeaderWindow", testHeaderWindow},
		{"BlockRange", testBlockRange},
		{"NotFound", testNotFound},
		{"LargeBlock", testLargeBlock},
		{"Closed", testClosed},
		{"Canceled", testCanceled},
		{"ConcurrentReaders", testConcurrentReaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, fresh(t)) })
	}
	t.Run("StateSnapshots", func(t *testing.T) {
		st := fresh(t)
		ss, ok := st.(storage.StateStore)
		if !ok {
			t.Skip("store does not implement storage.StateStore")
		}
		testStateSnapshots(t, st, ss)
	})
	t.Run("GenesisBinding", func(t *testing.T) {
		st := fresh(t)
		g, ok := st.(storage.GenesisBinder)
		if !ok {
			t.Skip("store does not implement storage.GenesisBinder")
		}
		testGenesisBinding(t, st, g)
	})
	t.Run("Pruner", func(t *testing.T) {
		if _, ok := fresh(t).(storage.Pruner); !ok {
			t.Skip("store does not implement storage.Pruner")
		}
		pruneTests := []struct {
			name string
			f    func(t *testing.T, st storage.Store, p storage.Pruner)
		}{
			{"Empty", testPrunerEmpty},
			{"PruneBefore", testPruneBefore},
			{"HeightBefore", testHeightBefore},
			{"ResetPrunedHeight", testResetPrunedHeight},
			{"NeverLastBlock", testPruneNeverLast},
		}
		for _, tt := range pruneTests {
			t.Run(tt.name, func(t *testing.T) {
				st := fresh(t)
				tt.f(t, st, st.(storage.Pruner))
			})
		}
	})
}

// ---- helpers ----

func save(t *testing.T, st storage.Store, blocks ...types.Block) {
	t.Helper()
	if err := st.SaveDecided(t.Context(), blocks); err != nil {
		t.Fatalf("save decided blocks %s: %v", heightsOf(blocks), err)
	}
}

func heightsOf(blocks []types.Block) string {
	if len(blocks) == 0 {
		return "[]"
	}
	return fmt.Sprintf("[%d..%d]", blocks[0].Height(), blocks[len(blocks)-1].Height())
}

// encoding gives the canonical bytes of a block, which equal exactly when
// the blocks do.
func encoding(t *testing.T, b *types.Block) []byte {
	t.Helper()
	p, err := storagecodec.EncodeBlock(b)
	if err != nil {
		t.Fatalf("encode block %d: %v", b.Height(), err)
	}
	return p
}

func sameBlock(t *testing.T, what string, got, want types.Block) {
	t.Helper()
	if got.Height() != want.Height() {
		t.Errorf("%s: got block %d, want block %d", what, got.Height(), want.Height())
		return
	}
	if !bytes.Equal(encoding(t, &got), encoding(t, &want)) {
		t.Errorf("%s: block %d differs from the one saved (leaf %s, want %s)", what, want.Height(), got.Leaf.Commit().Short(), want.Leaf.Commit().Short())
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

func wantErrOneOf(t *testing.T, what string, err error, targets ...error) {
	t.Helper()
	for _, target := range targets {
		if errors.Is(err, target) {
			return
		}
	}
	t.Errorf("%s: err = %v, want one of %v", what, err, targets)
}

func wantHeight(t *testing.T, st storage.Store, want uint64) {
	t.Helper()
	h, err := st.BlockHeight(t.Context())
	if err != nil || h != want {
		t.Fatalf("BlockHeight = %d, %v; want %d", h, err, want)
	}
}

// queryChain is the chain the query subtests store (12 blocks):
//
//	0      genesis, empty payload, timestamp G
//	1..5   6 transactions of 48 bytes, timestamps G+1..G+5
//	6      empty payload (same payload hash as genesis), G+6
//	7      a repeated transaction x twice, a transaction of block 2 and one
//	       in namespace 77, G+7
//	8      the same payload as 7, the same timestamp G+7
//	9..11  4 transactions of 32 bytes, G+17..G+19 (a 10-second gap)
func queryChain() []types.Block {
	blocks := Chain(6, 6, 48)
	add := func(ts uint64, txs []types.Transaction) {
		b, err := NextBlock(&blocks[len(blocks)-1], ts, txs)
		if err != nil {
			panic(err) // the transactions below are valid
		}
		blocks = append(blocks, b)
	}
	ts := func() uint64 { return blocks[len(blocks)-1].Leaf.Header.Timestamp }
	add(ts()+1, nil)
	x := types.Transaction{Namespace: NamespaceB, Payload: []byte("a repeated transaction")}
	dup := []types.Transaction{x, Transactions(2, 6, 48)[1], x, {Namespace: 77, Payload: []byte("namespace 77")}}
	add(ts()+1, dup)
	add(ts(), dup)
	add(ts()+10, Transactions(9, 4, 32))
	return append(blocks, Extend(&blocks[len(blocks)-1], 2, 4, 32)...)
}

func storeQueryChain(t *testing.T, st storage.Store) []types.Block {
	t.Helper()
	blocks := queryChain()
	save(t, st, blocks[0])
	save(t, st, blocks[1:6]...)
	save(t, st, blocks[6:9]...)
	save(t, st, blocks[9:]...)
	return blocks
}

func txsOf(t *testing.T, b *types.Block) []types.Transaction {
	t.Helper()
	txs, err := b.Payload.Transactions()
	if err != nil {
		t.Fatalf("block %d: transactions: %v", b.Height(), err)
	}
	return txs
}

// ---- reference semantics, computed from the blocks ----

func refTxLocations(t *testing.T, blocks []types.Block) map[types.Commitment]storage.TxLocation {
	locs := make(map[types.Commitment]storage.TxLocation)
	for i := range blocks {
		for j, tx := range txsOf(t, &blocks[i]) {
			if _, ok := locs[tx.Commit()]; !ok {
				locs[tx.Commit()] = storage.TxLocation{Height: blocks[i].Height(), Index: uint64(j)}
			}
		}
	}
	return locs
}

func refNamespaceHeights(t *testing.T, blocks []types.Block, ns, from uint64, limit int) []uint64 {
	var out []uint64
	for i := range blocks {
		b := &blocks[i]
		if b.Height() < from || len(out) >= limit {
			continue
		}
		entries, err := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw))
		if err != nil {
			t.Fatalf("block %d: namespace table: %v", b.Height(), err)
		}
		if slices.ContainsFunc(entries, func(e types.NsEntry) bool { return uint64(e.Namespace) == ns }) {
			out = append(out, b.Height())
		}
	}
	return out
}

func refSums(t *testing.T, blocks []types.Block, from, until uint64) (txs, size uint64) {
	for i := range blocks {
		if h := blocks[i].Height(); h >= from && h < until {
			txs += uint64(len(txsOf(t, &blocks[i])))
			size += blocks[i].Payload.Size()
		}
	}
	return txs, size
}

func refWindow(blocks []types.Block, start, end uint64, limit int) (window []uint64, prev, next *uint64) {
	i := 0
	for i < len(blocks) && blocks[i].Leaf.Header.Timestamp < start {
		i++
	}
	if i > 0 {
		h := blocks[i-1].Height()
		prev = &h
	}
	for ; i < len(blocks) && blocks[i].Leaf.Header.Timestamp < end; i++ {
		if len(window) >= limit {
			return window, prev, nil
		}
		window = append(window, blocks[i].Height())
	}
	if i < len(blocks) {
		h := blocks[i].Height()
		next = &h
	}
	return window, prev, next
}

// ---- subtests ----

func testEmptyStore(t *testing.T, st storage.Store) {
	ctx := t.Context()
	_, err := st.LastDecided(ctx)
	wantErr(t, "LastDecided", err, storage.ErrNotFound)
	_, err = st.LoadSafety(ctx)
	wantErr(t, "LoadSafety", err, storage.ErrNotFound)
	_, err = st.BlockByHeight(ctx, 0)
	wantErr(t, "BlockByHeight(0)", err, storage.ErrNotFound)
	_, err = st.TransactionAt(ctx, 0, 0)
	wantErr(t, "TransactionAt(0, 0)", err, storage.ErrNotFound)
	wantHeight(t, st, 0)
	if ps, err := st.LoadProposals(ctx); err != nil || len(ps) != 0 {
		t.Errorf("LoadProposals = %d proposals, %v; want none", len(ps), err)
	}
	if bs, err := st.BlockRange(ctx, 0, 10, 10); err != nil || len(bs) != 0 {
		t.Errorf("BlockRange(0, 10, 10) = %d blocks, %v; want none", len(bs), err)
	}
	if hs, err := st.NamespaceHeights(ctx, NamespaceA, 0, 10); err != nil || len(hs) != 0 {
		t.Errorf("NamespaceHeights = %v, %v; want none", hs, err)
	}
	if n, err := st.TransactionCount(ctx, 0, 10); err != nil || n != 0 {
		t.Errorf("TransactionCount = %d, %v; want 0", n, err)
	}
	if n, err := st.PayloadBytes(ctx, 0, 10); err != nil || n != 0 {
		t.Errorf("PayloadBytes = %d, %v; want 0", n, err)
	}
	w, err := st.HeaderWindow(ctx, 0, 1<<62, 10)
	if err != nil || len(w.Window) != 0 || w.Prev != nil || w.Next != nil {
		t.Errorf("HeaderWindow = %+v, %v; want an empty window", w, err)
	}
	if err := st.SaveDecided(ctx, nil); err != nil {
		t.Errorf("SaveDecided(nil) = %v, want a no-op", err)
	}
	wantHeight(t, st, 0)
	// The first block must be the genesis block: anything else is a gap.
	blocks := Chain(3, 1, 16)
	wantErr(t, "SaveDecided(block 1) into an empty store", st.SaveDecided(ctx, blocks[1:2]), storage.ErrConflict)
	wantHeight(t, st, 0)
	save(t, st, blocks[0])
	wantHeight(t, st, 1)
}

func testSafetyState(t *testing.T, st storage.Store) {
	ctx := t.Context()
	_, err := st.LoadSafety(ctx)
	wantErr(t, "LoadSafety before any save", err, storage.ErrNotFound)
	blocks := Chain(4, 1, 16)
	states := []types.SafetyState{
		{View: 1, LastVotedView: 0, HighQC: blocks[0].QC},
		{View: 4, LastVotedView: 3, HighQC: blocks[3].QC},
		{View: 4, LastVotedView: 4, HighQC: blocks[3].QC},
		{View: 1 << 40, LastVotedView: 1<<40 - 1, HighQC: blocks[2].QC},
	}
	for i, s := range states {
		if err := st.SaveSafety(ctx, s); err != nil {
			t.Fatalf("SaveSafety #%d: %v", i, err)
		}
		got, err := st.LoadSafety(ctx)
		if err != nil {
			t.Fatalf("LoadSafety after save #%d: %v", i, err)
		}
		a, _ := storagecodec.EncodeSafety(&got)
		b, _ := storagecodec.EncodeSafety(&s)
		if !bytes.Equal(a, b) {
			t.Errorf("LoadSafety after save #%d = view %d, voted %d, qc %s; want view %d, voted %d, qc %s",
				i, got.View, got.LastVotedView, got.HighQC.Commit().Short(), s.View, s.LastVotedView, s.HighQC.Commit().Short())
		}
	}
	// The stored state does not alias the caller's.
	s := types.SafetyState{View: 9, LastVotedView: 8, HighQC: blocks[1].QC}
	s.HighQC.Signature = bytes.Clone(s.HighQC.Signature)
	if err := st.SaveSafety(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.HighQC.Signature[0] ^= 0xff
	if got, err := st.LoadSafety(ctx); err != nil || got.HighQC.Commit() != blocks[1].QC.Commit() {
		t.Errorf("stored safety state changed with the caller's copy (err %v)", err)
	}
}

func proposal(view types.ViewNumber, tag string, size int) storage.StoredProposal {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(uint64(view)*31 + uint64(i)*7)
	}
	copy(data, tag)
	return storage.StoredProposal{View: view, Data: data}
}

// checkProposals compares stored proposals with want: view order, and the
// same set of data per view.
func checkProposals(t *testing.T, st storage.Store, want []storage.StoredProposal) {
	t.Helper()
	got, err := st.LoadProposals(t.Context())
	if err != nil {
		t.Fatalf("LoadProposals: %v", err)
	}
	for i := 1; i < len(got); i++ {
		if got[i].View < got[i-1].View {
			t.Errorf("LoadProposals: view %d after view %d, want view order", got[i].View, got[i-1].View)
		}
	}
	key := func(p storage.StoredProposal) string { return fmt.Sprintf("%020d/%x", p.View, p.Data) }
	var g, w []string
	for _, p := range got {
		g = append(g, key(p))
	}
	for _, p := range want {
		w = append(w, key(p))
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		views := func(ps []storage.StoredProposal) []types.ViewNumber {
			var vs []types.ViewNumber
			for _, p := range ps {
				vs = append(vs, p.View)
			}
			return vs
		}
		t.Errorf("LoadProposals = views %v, want views %v (or data differs)", views(got), views(want))
	}
}

func testProposals(t *testing.T, st storage.Store) {
	ctx := t.Context()
	checkProposals(t, st, nil)
	ps := []storage.StoredProposal{
		proposal(5, "five", 100),
		proposal(3, "three", 2000),
		proposal(3, "three, equivocated", 50),
		proposal(8, "eight", 1<<16),
		proposal(4, "four", 1),
		{View: 6, Data: []byte{}},
		proposal(3, "three, a third one", 10),
	}
	for i, p := range ps {
		if err := st.SaveProposal(ctx, p); err != nil {
			t.Fatalf("SaveProposal #%d (view %d): %v", i, p.View, err)
		}
	}
	// The stored data does not alias the caller's.
	alias := proposal(9, "nine", 20)
	if err := st.SaveProposal(ctx, alias); err != nil {
		t.Fatal(err)
	}
	alias.Data[0] = 'X'
	checkProposals(t, st, append(ps, proposal(9, "nine", 20)))
}

func testProposalsDroppedByDecide(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := Chain(7, 2, 32) // views 0,1,2,3,5,6,7 (a skipped view before height 4)
	var ps []storage.StoredProposal
	for _, v := range []types.ViewNumber{2, 4, 5, 5, 6, 7, 9, 12} {
		p := proposal(v, fmt.Sprintf("view %d #%d", v, len(ps)), 64)
		ps = append(ps, p)
		if err := st.SaveProposal(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	above := func(v types.ViewNumber) []storage.StoredProposal {
		return slices.DeleteFunc(slices.Clone(ps), func(p storage.StoredProposal) bool { return p.View <= v })
	}
	save(t, st, blocks[0])
	checkProposals(t, st, above(0))
	save(t, st, blocks[1:5]...) // last view 5
	if v := blocks[4].Leaf.View; v != 5 {
		t.Fatalf("test chain: block 4 has view %d, want 5", v)
	}
	checkProposals(t, st, above(5))
	save(t, st, blocks[5])
	checkProposals(t, st, above(blocks[5].Leaf.View))
	// A proposal saved after a decide is kept until a later decide.
	late := proposal(10, "late", 8)
	if err := st.SaveProposal(ctx, late); err != nil {
		t.Fatal(err)
	}
	ps = append(ps, late)
	checkProposals(t, st, above(blocks[5].Leaf.View))
	save(t, st, blocks[6])
	checkProposals(t, st, above(blocks[6].Leaf.View))
}

func testSaveDecidedSequence(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := Chain(20, 5, 100)
	save(t, st, blocks[0])
	last, err := st.LastDecided(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameBlock(t, "LastDecided after genesis", last, blocks[0])
	wantHeight(t, st, 1)
	for _, batch := range [][2]int{{1, 2}, {2, 5}, {5, 6}, {6, 20}} {
		save(t, st, blocks[batch[0]:batch[1]]...)
		last, err := st.LastDecided(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sameBlock(t, "LastDecided", last, blocks[batch[1]-1])
		wantHeight(t, st, uint64(batch[1]))
	}
	for i := range blocks {
		b, err := st.BlockByHeight(ctx, uint64(i))
		if err != nil {
			t.Fatalf("BlockByHeight(%d): %v", i, err)
		}
		sameBlock(t, "BlockByHeight", b, blocks[i])
	}
}

func testSaveDecidedIdempotent(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := Chain(10, 3, 40)
	save(t, st, blocks[:6]...)
	save(t, st, blocks[3:6]...) // all stored
	save(t, st, blocks[5])
	save(t, st, blocks[:6]...)
	wantHeight(t, st, 6)
	save(t, st, blocks[4:8]...) // overlap, then new blocks
	wantHeight(t, st, 8)
	save(t, st, blocks[7:]...)
	wantHeight(t, st, 10)
	got, err := st.BlockRange(ctx, 0, 10, 100)
	if err != nil || len(got) != 10 {
		t.Fatalf("BlockRange(0, 10) = %d blocks, %v; want 10", len(got), err)
	}
	for i := range got {
		sameBlock(t, "after re-saves", got[i], blocks[i])
	}
	// Transactions stay indexed once, at their first inclusion.
	for h := 1; h < 10; h++ {
		for i, tx := range txsOf(t, &blocks[h]) {
			loc, err := st.TransactionByHash(ctx, tx.Commit())
			if err != nil || loc != (storage.TxLocation{Height: uint64(h), Index: uint64(i)}) {
				t.Errorf("TransactionByHash(tx %d of block %d) = %+v, %v", i, h, loc, err)
			}
		}
	}
	if n, err := st.TransactionCount(ctx, 0, 10); err != nil || n != 27 {
		t.Errorf("TransactionCount after re-saves = %d, %v; want 27", n, err)
	}
}

// otherBlock returns a block at the same height as b with different
// content, linked to the same parent.
func otherBlock(t *testing.T, parent *types.Block, b *types.Block) types.Block {
	t.Helper()
	o, err := NextBlock(parent, b.Leaf.Header.Timestamp, []types.Transaction{{Namespace: 5, Payload: []byte("a fork")}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Leaf.Commit() == b.Leaf.Commit() {
		t.Fatal("test chain: fork equals the original")
	}
	return o
}

func testSaveDecidedConflict(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := Chain(8, 2, 32)
	save(t, st, blocks[:6]...)
	fork3 := otherBlock(t, &blocks[2], &blocks[3])
	wantErr(t, "a different block at stored height 3", st.SaveDecided(ctx, []types.Block{fork3}), storage.ErrConflict)
	fork5 := otherBlock(t, &blocks[4], &blocks[5])
	wantErr(t, "a different last block", st.SaveDecided(ctx, []types.Block{fork5}), storage.ErrConflict)
	fork0 := Genesis(GenesisTime + 1)
	wantErr(t, "a different genesis", st.SaveDecided(ctx, []types.Block{fork0}), storage.ErrConflict)
	wantHeight(t, st, 6)
	for i := range 6 {
		b, err := st.BlockByHeight(ctx, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		sameBlock(t, "after conflicts", b, blocks[i])
	}
	if _, err := st.BlockByLeaf(ctx, fork3.Leaf.Commit()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("BlockByLeaf(rejected fork) err = %v, want ErrNotFound", err)
	}
	save(t, st, blocks[6:]...)
	wantHeight(t, st, 8)
}

func testSaveDecidedGap(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := Chain(12, 2, 32)
	save(t, st, blocks[:5]...)
	wantErr(t, "block 6 after 4", st.SaveDecided(ctx, blocks[6:7]), storage.ErrConflict)
	wantErr(t, "blocks 7..11 after 4", st.SaveDecided(ctx, blocks[7:]), storage.ErrConflict)
	wantErr(t, "a batch out of order", st.SaveDecided(ctx, []types.Block{blocks[6], blocks[5]}), storage.ErrConflict)
	wantErr(t, "a batch with a hole", st.SaveDecided(ctx, []types.Block{blocks[5], blocks[7]}), storage.ErrConflict)
	wantErr(t, "a batch repeating a height", st.SaveDecided(ctx, []types.Block{blocks[5], blocks[5]}), storage.ErrConflict)
	wantHeight(t, st, 5)
	save(t, st, blocks[5:]...)
	wantHeight(t, st, 12)
}

func testSaveDecidedAtomic(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := Chain(12, 4, 64)
	save(t, st, blocks[:5]...)
	p := proposal(blocks[6].Leaf.View, "kept", 32)
	if err := st.SaveProposal(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveSafety(ctx, types.SafetyState{View: 3, LastVotedView: 2, HighQC: blocks[2].QC}); err != nil {
		t.Fatal(err)
	}
	fork4 := otherBlock(t, &blocks[3], &blocks[4])
	bad := [][]types.Block{
		{blocks[5], blocks[6], blocks[8]},                   // new blocks, then a gap
		{blocks[5], blocks[6], blocks[7], blocks[7]},        // new blocks, then a repeat
		append([]types.Block{fork4}, blocks[5:9]...),        // a conflict, then new blocks
		{blocks[3], fork4, blocks[5], blocks[6], blocks[7]}, // stored, conflict, new
	}
	for i, batch := range bad {
		wantErr(t, fmt.Sprintf("bad batch %d", i), st.SaveDecided(ctx, batch), storage.ErrConflict)
		wantHeight(t, st, 5)
		for h := uint64(5); h < 12; h++ {
			if _, err := st.BlockByHeight(ctx, h); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("after bad batch %d: BlockByHeight(%d) err = %v, want ErrNotFound", i, h, err)
			}
		}
		for _, tx := range txsOf(t, &blocks[6]) {
			if _, err := st.TransactionByHash(ctx, tx.Commit()); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("after bad batch %d: a transaction of block 6 is indexed (err %v)", i, err)
			}
		}
		if _, err := st.BlockByLeaf(ctx, blocks[5].Leaf.Commit()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("after bad batch %d: block 5 is indexed by leaf (err %v)", i, err)
		}
		if hs, err := st.NamespaceHeights(ctx, NamespaceA, 5, 10); err != nil || len(hs) != 0 {
			t.Fatalf("after bad batch %d: NamespaceHeights from 5 = %v, %v; want none", i, hs, err)
		}
		if n, err := st.TransactionCount(ctx, 0, 100); err != nil || n != 16 {
			t.Fatalf("after bad batch %d: TransactionCount = %d, %v; want 16", i, n, err)
		}
		last, err := st.LastDecided(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sameBlock(t, "LastDecided after a bad batch", last, blocks[4])
		checkProposals(t, st, []storage.StoredProposal{p})
	}
	save(t, st, blocks[5:]...)
	wantHeight(t, st, 12)
	checkProposals(t, st, nil)
}

func testLookups(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := storeQueryChain(t, st)
	for i := range blocks {
		want := blocks[i]
		b, err := st.BlockByHeight(ctx, want.Height())
		if err != nil {
			t.Fatalf("BlockByHeight(%d): %v", i, err)
		}
		sameBlock(t, "BlockByHeight", b, want)
		b, err = st.BlockByLeaf(ctx, want.Leaf.Commit())
		if err != nil {
			t.Fatalf("BlockByLeaf(block %d): %v", i, err)
		}
		sameBlock(t, "BlockByLeaf", b, want)
		b, err = st.BlockByHash(ctx, want.Leaf.Header.Commit())
		if err != nil {
			t.Fatalf("BlockByHash(block %d): %v", i, err)
		}
		sameBlock(t, "BlockByHash", b, want)
		// The lowest block with this payload: 0 for 6 (both empty), 7 for 8.
		lowest := want
		for j := range blocks[:i] {
			if blocks[j].Leaf.Header.PayloadCommitment == want.Leaf.Header.PayloadCommitment {
				lowest = blocks[j]
				break
			}
		}
		b, err = st.BlockByPayloadHash(ctx, want.Leaf.Header.PayloadCommitment)
		if err != nil {
			t.Fatalf("BlockByPayloadHash(block %d): %v", i, err)
		}
		sameBlock(t, fmt.Sprintf("BlockByPayloadHash(payload of block %d)", i), b, lowest)
	}
	last, err := st.LastDecided(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameBlock(t, "LastDecided", last, blocks[len(blocks)-1])
	wantHeight(t, st, uint64(len(blocks)))
}

func testTransactions(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := storeQueryChain(t, st)
	ref := refTxLocations(t, blocks)
	for i := range blocks {
		for j, tx := range txsOf(t, &blocks[i]) {
			loc, err := st.TransactionByHash(ctx, tx.Commit())
			if err != nil {
				t.Fatalf("TransactionByHash(tx %d of block %d): %v", j, i, err)
			}
			if want := ref[tx.Commit()]; loc != want {
				t.Errorf("TransactionByHash(tx %d of block %d) = %+v, want the earliest inclusion %+v", j, i, loc, want)
			}
			got, err := st.TransactionAt(ctx, uint64(i), uint64(j))
			if err != nil {
				t.Fatalf("TransactionAt(%d, %d): %v", i, j, err)
			}
			if got.Namespace != tx.Namespace || !bytes.Equal(got.Payload, tx.Payload) {
				t.Errorf("TransactionAt(%d, %d) = namespace %d, %d bytes; want namespace %d, %d bytes", i, j, got.Namespace, len(got.Payload), tx.Namespace, len(tx.Payload))
			}
		}
	}
	// The repeated transaction: first at block 7, and its first index there.
	x := types.Transaction{Namespace: NamespaceB, Payload: []byte("a repeated transaction")}
	if loc, err := st.TransactionByHash(ctx, x.Commit()); err != nil || loc.Height != 7 {
		t.Errorf("TransactionByHash(repeated tx) = %+v, %v; want height 7", loc, err)
	}
	// Block 7 repeats a transaction of block 2.
	tx2 := Transactions(2, 6, 48)[1]
	if loc, err := st.TransactionByHash(ctx, tx2.Commit()); err != nil || loc.Height != 2 {
		t.Errorf("TransactionByHash(tx of block 2 repeated in 7) = %+v, %v; want height 2", loc, err)
	}
}

func testNamespaceHeights(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := storeQueryChain(t, st)
	for _, ns := range []uint64{NamespaceA, NamespaceB, NamespaceC, 77, 78} {
		for _, from := range []uint64{0, 1, 3, 7, 8, 9, 11, 12, 100} {
			for _, limit := range []int{0, 1, 2, 3, 100} {
				got, err := st.NamespaceHeights(ctx, ns, from, limit)
				if err != nil {
					t.Fatalf("NamespaceHeights(%d, %d, %d): %v", ns, from, limit, err)
				}
				if want := refNamespaceHeights(t, blocks, ns, from, limit); !slices.Equal(got, want) {
					t.Errorf("NamespaceHeights(%d, from %d, limit %d) = %v, want %v", ns, from, limit, got, want)
				}
			}
		}
	}
}

func testSums(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := storeQueryChain(t, st)
	ranges := [][2]uint64{{0, 12}, {0, 1}, {0, 2}, {1, 6}, {6, 7}, {7, 9}, {3, 3}, {5, 2}, {10, 100}, {12, 20}, {0, 1 << 63}}
	for _, r := range ranges {
		wantTxs, wantBytes := refSums(t, blocks, r[0], r[1])
		if n, err := st.TransactionCount(ctx, r[0], r[1]); err != nil || n != wantTxs {
			t.Errorf("TransactionCount(%d, %d) = %d, %v; want %d", r[0], r[1], n, err, wantTxs)
		}
		if n, err := st.PayloadBytes(ctx, r[0], r[1]); err != nil || n != wantBytes {
			t.Errorf("PayloadBytes(%d, %d) = %d, %v; want %d", r[0], r[1], n, err, wantBytes)
		}
	}
}

func heightPtr(h *types.Header) *uint64 {
	if h == nil {
		return nil
	}
	x := h.Height
	return &x
}

func fmtHeight(h *uint64) string {
	if h == nil {
		return "nil"
	}
	return fmt.Sprint(*h)
}

func testHeaderWindow(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := storeQueryChain(t, st)
	g := GenesisTime
	cases := []struct {
		start, end uint64
		limit      int
	}{
		{g, g + 3, 100},
		{g + 2, g + 8, 100}, // 7 and 8 share a timestamp
		{g + 2, g + 8, 7},   // exactly the limit: Next is set
		{g + 2, g + 8, 6},   // cut by the limit: Next is nil
		{g + 7, g + 8, 100},
		{g + 8, g + 17, 100}, // in the gap: empty, both neighbours
		{g - 10, g, 100},     // before genesis
		{g + 19, g + 100, 100},
		{g + 20, g + 30, 10}, // after the last block
		{g, g + 100, 5},
		{g, g + 100, 0},
		{g + 5, g + 5, 10}, // empty interval
		{0, 1 << 63, 100},
	}
	for _, c := range cases {
		w, err := st.HeaderWindow(ctx, c.start, c.end, c.limit)
		if err != nil {
			t.Fatalf("HeaderWindow(G%+d, G%+d, %d): %v", int64(c.start-g), int64(c.end-g), c.limit, err)
		}
		window, prev, next := refWindow(blocks, c.start, c.end, c.limit)
		var got []uint64
		for i := range w.Window {
			h := &w.Window[i]
			got = append(got, h.Height)
			if h.Height < uint64(len(blocks)) && !sameHeader(h, &blocks[h.Height].Leaf.Header) {
				t.Errorf("HeaderWindow: header %d differs from the stored block's", h.Height)
			}
		}
		gp, gn := heightPtr(w.Prev), heightPtr(w.Next)
		if !slices.Equal(got, window) || fmtHeight(gp) != fmtHeight(prev) || fmtHeight(gn) != fmtHeight(next) {
			t.Errorf("HeaderWindow(G%+d, G%+d, limit %d) = window %v prev %s next %s; want window %v prev %s next %s",
				int64(c.start-g), int64(c.end-g), c.limit, got, fmtHeight(gp), fmtHeight(gn), window, fmtHeight(prev), fmtHeight(next))
		}
		for _, nb := range []*types.Header{w.Prev, w.Next} {
			if nb != nil && !sameHeader(nb, &blocks[nb.Height].Leaf.Header) {
				t.Errorf("HeaderWindow: neighbour %d differs from the stored block's header", nb.Height)
			}
		}
	}
}

// sameHeader reports whether two headers are equal in every field,
// uncommitted ones (builder signature, payload tag) included.
func sameHeader(a, b *types.Header) bool {
	pa, errA := storagecodec.EncodeHeader(a)
	pb, errB := storagecodec.EncodeHeader(b)
	return errA == nil && errB == nil && bytes.Equal(pa, pb)
}

func testBlockRange(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := storeQueryChain(t, st)
	cases := []struct {
		from, until uint64
		limit       int
		want        []int
	}{
		{0, 12, 100, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{3, 7, 100, []int{3, 4, 5, 6}},
		{3, 7, 2, []int{3, 4}},
		{3, 7, 4, []int{3, 4, 5, 6}},
		{10, 20, 100, []int{10, 11}}, // stops at the first height not stored
		{11, 1 << 63, 5, []int{11}},
		{12, 20, 5, nil},
		{5, 5, 10, nil},
		{7, 3, 10, nil},
		{0, 12, 0, nil},
	}
	for _, c := range cases {
		got, err := st.BlockRange(ctx, c.from, c.until, c.limit)
		if err != nil {
			t.Fatalf("BlockRange(%d, %d, %d): %v", c.from, c.until, c.limit, err)
		}
		var hs []int
		for _, b := range got {
			hs = append(hs, int(b.Height()))
		}
		if !slices.Equal(hs, c.want) {
			t.Errorf("BlockRange(%d, %d, %d) = heights %v, want %v", c.from, c.until, c.limit, hs, c.want)
			continue
		}
		for i := range got {
			sameBlock(t, "BlockRange", got[i], blocks[c.want[i]])
		}
	}
}

func testNotFound(t *testing.T, st storage.Store) {
	ctx := t.Context()
	storeQueryChain(t, st)
	unknown := types.Commitment{0xde, 0xad}
	checks := []struct {
		name string
		err  error
	}{
		{"BlockByHeight(12)", second(st.BlockByHeight(ctx, 12))},
		{"BlockByHeight(2^63)", second(st.BlockByHeight(ctx, 1<<63))},
		{"BlockByLeaf(unknown)", second(st.BlockByLeaf(ctx, unknown))},
		{"BlockByHash(unknown)", second(st.BlockByHash(ctx, unknown))},
		{"BlockByPayloadHash(unknown)", second(st.BlockByPayloadHash(ctx, unknown))},
		{"TransactionByHash(unknown)", second(st.TransactionByHash(ctx, unknown))},
		{"TransactionAt(12, 0)", second(st.TransactionAt(ctx, 12, 0))},
		{"TransactionAt(3, 6), past the last", second(st.TransactionAt(ctx, 3, 6))},
		{"TransactionAt(3, 2^63)", second(st.TransactionAt(ctx, 3, 1<<63))},
		{"TransactionAt(0, 0), genesis has none", second(st.TransactionAt(ctx, 0, 0))},
		{"TransactionAt(6, 0), empty block", second(st.TransactionAt(ctx, 6, 0))},
	}
	for _, c := range checks {
		wantErr(t, c.name, c.err, storage.ErrNotFound)
	}
}

func second[T any](_ T, err error) error { return err }

// testLargeBlock stores a 4 MB block of 4,000 transactions.
func testLargeBlock(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := Chain(2, 4000, 1000)
	save(t, st, blocks...)
	b, err := st.BlockByHeight(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	sameBlock(t, "BlockByHeight(large block)", b, blocks[1])
	txs := txsOf(t, &blocks[1])
	for _, i := range []int{0, 1, 1999, 3999} {
		loc, err := st.TransactionByHash(ctx, txs[i].Commit())
		if err != nil || loc != (storage.TxLocation{Height: 1, Index: uint64(i)}) {
			t.Errorf("TransactionByHash(tx %d) = %+v, %v", i, loc, err)
		}
	}
	if n, err := st.TransactionCount(ctx, 0, 2); err != nil || n != 4000 {
		t.Errorf("TransactionCount = %d, %v; want 4000", n, err)
	}
	if n, err := st.PayloadBytes(ctx, 0, 2); err != nil || n != blocks[1].Payload.Size() {
		t.Errorf("PayloadBytes = %d, %v; want %d", n, err, blocks[1].Payload.Size())
	}
}

// allCalls invokes every method of the store (and of storage.Pruner when it
// implements it) with ctx, writes included, and returns the errors by
// method name.
func allCalls(ctx context.Context, st storage.Store, blocks []types.Block) map[string]error {
	c := blocks[1].Leaf.Commit()
	errs := map[string]error{
		"LoadSafety":         second(st.LoadSafety(ctx)),
		"SaveSafety":         st.SaveSafety(ctx, types.SafetyState{View: 7, LastVotedView: 6, HighQC: blocks[1].QC}),
		"SaveProposal":       st.SaveProposal(ctx, proposal(9, "nine", 10)),
		"LoadProposals":      second(st.LoadProposals(ctx)),
		"SaveDecided":        st.SaveDecided(ctx, blocks[len(blocks)-1:]),
		"LastDecided":        second(st.LastDecided(ctx)),
		"BlockByHeight":      second(st.BlockByHeight(ctx, 1)),
		"BlockByLeaf":        second(st.BlockByLeaf(ctx, c)),
		"BlockByHash":        second(st.BlockByHash(ctx, blocks[1].Leaf.Header.Commit())),
		"TransactionByHash":  second(st.TransactionByHash(ctx, c)),
		"BlockHeight":        second(st.BlockHeight(ctx)),
		"BlockRange":         second(st.BlockRange(ctx, 0, 2, 2)),
		"BlockByPayloadHash": second(st.BlockByPayloadHash(ctx, blocks[1].Leaf.Header.PayloadCommitment)),
		"TransactionAt":      second(st.TransactionAt(ctx, 1, 0)),
		"NamespaceHeights":   second(st.NamespaceHeights(ctx, NamespaceA, 0, 10)),
		"TransactionCount":   second(st.TransactionCount(ctx, 0, 2)),
		"PayloadBytes":       second(st.PayloadBytes(ctx, 0, 2)),
		"HeaderWindow":       second(st.HeaderWindow(ctx, 0, 1<<62, 10)),
	}
	if p, ok := st.(storage.Pruner); ok {
		errs["PruneBefore"] = p.PruneBefore(ctx, 1)
		_, _, errs["PrunedHeight"] = p.PrunedHeight(ctx)
		errs["ResetPrunedHeight"] = p.ResetPrunedHeight(ctx)
		errs["LiveSize"] = second(p.LiveSize(ctx))
		errs["HeightBefore"] = second(p.HeightBefore(ctx, GenesisTime+1))
		errs["FirstHeight"] = second(p.FirstHeight(ctx))
	}
	if g, ok := st.(storage.GenesisBinder); ok {
		errs["BindGenesis"] = g.BindGenesis(ctx, GenesisB)
	}
	if ss, ok := st.(storage.StateStore); ok {
		errs["SaveState"] = ss.SaveState(ctx, 2, []byte("state"))
		_, _, errs["LoadState"] = ss.LoadState(ctx)
	}
	return errs
}

func testClosed(t *testing.T, st storage.Store) {
	blocks := Chain(4, 2, 32)
	save(t, st, blocks[:3]...)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, err := range allCalls(t.Context(), st, blocks) {
		wantErr(t, name+" after Close", err, storage.ErrClosed)
	}
	if err := st.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
		t.Errorf("second Close = %v, want nil or ErrClosed", err)
	}
}

func testCanceled(t *testing.T, st storage.Store) {
	blocks := Chain(4, 2, 32)
	save(t, st, blocks[:3]...)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, err := range allCalls(ctx, st, blocks) {
		wantErr(t, name+" with a cancelled context", err, context.Canceled)
	}
	// Nothing was written.
	wantHeight(t, st, 3)
	_, err := st.LoadSafety(t.Context())
	wantErr(t, "LoadSafety after a cancelled save", err, storage.ErrNotFound)
	checkProposals(t, st, nil)
	if ss, ok := st.(storage.StateStore); ok {
		_, _, err := ss.LoadState(t.Context())
		wantErr(t, "LoadState after a cancelled save", err, storage.ErrNotFound)
	}
	if g, ok := st.(storage.GenesisBinder); ok {
		// The cancelled bind of GenesisB bound nothing.
		bindGenesis(t, g, GenesisA, "BindGenesis after a cancelled bind")
	}
	if p, ok := st.(storage.Pruner); ok {
		if first, err := p.FirstHeight(t.Context()); err != nil || first != 0 {
			t.Errorf("FirstHeight after a cancelled prune = %d, %v; want 0", first, err)
		}
	}
}

// testConcurrentReaders runs readers against a store while one writer
// appends blocks: a reader must always see a consistent prefix of the
// chain. Run it with -race.
func testConcurrentReaders(t *testing.T, st storage.Store) {
	ctx := t.Context()
	blocks := Chain(60, 3, 64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if err := readConsistent(ctx, st, blocks, r*7919+i); err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
			}
		}()
	}
	for i := range blocks {
		if err := st.SaveDecided(ctx, blocks[i:i+1]); err != nil {
			t.Errorf("writer: save block %d: %v", i, err)
			break
		}
		if err := st.SaveSafety(ctx, types.SafetyState{View: blocks[i].Leaf.View + 1, LastVotedView: blocks[i].Leaf.View, HighQC: blocks[i].QC}); err != nil {
			t.Errorf("writer: save safety: %v", err)
			break
		}
		if err := st.SaveProposal(ctx, proposal(blocks[i].Leaf.View+1, "next", 128)); err != nil {
			t.Errorf("writer: save proposal: %v", err)
			break
		}
	}
	close(done)
	wg.Wait()
}

// readConsistent reads the chain as stored now and checks that what it sees
// is a consistent prefix of blocks.
func readConsistent(ctx context.Context, st storage.Store, blocks []types.Block, seed int) error {
	last, err := st.LastDecided(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("LastDecided: %w", err)
	}
	h := last.Height()
	if h >= uint64(len(blocks)) || last.Leaf.Commit() != blocks[h].Leaf.Commit() {
		return fmt.Errorf("LastDecided returned an unknown block at height %d", h)
	}
	if n, err := st.BlockHeight(ctx); err != nil || n < h+1 {
		return fmt.Errorf("BlockHeight = %d, %v after LastDecided returned %d", n, err, h)
	}
	r := uint64(seed) % (h + 1)
	b, err := st.BlockByHeight(ctx, r)
	if err != nil || b.Leaf.Commit() != blocks[r].Leaf.Commit() {
		return fmt.Errorf("BlockByHeight(%d) below the last decided %d: %v", r, h, err)
	}
	if txs, _ := blocks[r].Payload.Transactions(); len(txs) > 0 {
		tx := txs[seed%len(txs)]
		loc, err := st.TransactionByHash(ctx, tx.Commit())
		if err != nil || loc.Height != r {
			return fmt.Errorf("TransactionByHash(tx of block %d) = %+v, %v", r, loc, err)
		}
		got, err := st.TransactionAt(ctx, loc.Height, loc.Index)
		if err != nil || got.Commit() != tx.Commit() {
			return fmt.Errorf("TransactionAt(%d, %d): %v", loc.Height, loc.Index, err)
		}
	}
	rng, err := st.BlockRange(ctx, r, h+1, 8)
	if err != nil || len(rng) != int(min(8, h+1-r)) {
		return fmt.Errorf("BlockRange(%d, %d, 8) = %d blocks, %v", r, h+1, len(rng), err)
	}
	if n, err := st.TransactionCount(ctx, 0, h+1); err != nil || n != 3*h {
		return fmt.Errorf("TransactionCount(0, %d) = %d, %v; want %d", h+1, n, err, 3*h)
	}
	if _, err := st.HeaderWindow(ctx, blocks[r].Leaf.Header.Timestamp, last.Leaf.Header.Timestamp+1, 5); err != nil {
		return fmt.Errorf("HeaderWindow: %w", err)
	}
	if _, err := st.LoadSafety(ctx); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("LoadSafety: %w", err)
	}
	if _, err := st.LoadProposals(ctx); err != nil {
		return fmt.Errorf("LoadProposals: %w", err)
	}
	return nil
}

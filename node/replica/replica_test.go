package replica_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

var start = time.Unix(1_700_000_000, 0)

// testSetup is a network of n members with keys derived from seed.
func testSetup(t testing.TB, seed byte, n int) (*replica.Setup, []keys.Keys) {
	t.Helper()
	g := &genesis.Genesis{
		BaseVersion: types.Version{Major: 0, Minor: 2}, UpgradeVersion: types.Version{Major: 0, Minor: 2},
		StakeTableCapacity: 10,
		ChainConfig:        types.ChainConfig{ChainID: types.NewU256(70 + uint64(seed)), MaxBlockSize: 1 << 20},
		Timestamp:          uint64(start.Unix()),
	}
	var ks []keys.Keys
	for i := range n {
		k, err := keys.DeriveKeys([32]byte{31: seed}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
		g.StakeTable = append(g.StakeTable, genesis.StakeTableEntry{StakingKey: k.Staking.PubKey(), StateKey: k.State.PubKey(),
			DA: true, Stake: 1, ProofOfPossession: k.Staking.ProvePossession()})
	}
	s, err := replica.NewSetup(g)
	if err != nil {
		t.Fatal(err)
	}
	return s, ks
}

// recorder is a Sender that keeps what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []sent
}

type sent struct {
	to    int // -1 for a broadcast
	topic string
	data  []byte
}

func (r *recorder) Send(_ context.Context, to int, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sent{to: to, data: data})
}

func (r *recorder) Broadcast(_ context.Context, topic string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sent{to: -1, topic: topic, data: data})
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

var fast = consensus.Config{NextViewTimeout: time.Second, BuilderTimeout: 5 * time.Millisecond}

// solo runs a one-member network, which decides on its own.
type solo struct {
	t       *testing.T
	setup   *replica.Setup
	key     keys.Keys
	store   *mem.Store
	out     *recorder
	r       *replica.Replica
	now     time.Time
	decided []types.Block
}

func newSolo(t *testing.T) *solo {
	t.Helper()
	setup, ks := testSetup(t, 3, 1)
	s := &solo{t: t, setup: setup, key: ks[0], store: mem.New(), now: start}
	s.open()
	return s
}

func (s *solo) open() {
	s.t.Helper()
	s.out = &recorder{}
	s.store.Reopen()
	r, err := replica.Open(s.t.Context(), replica.Config{
		Setup: s.setup, Key: s.key.Staking, Store: s.store, Sender: s.out, Consensus: fast,
		OnDecided: func(b []types.Block) { s.decided = append(s.decided, b...) },
	}, s.now)
	if err != nil {
		s.t.Fatal(err)
	}
	s.r = r
}

// runTo ticks every 10ms until the replica decided height h.
func (s *solo) runTo(h uint64) {
	s.t.Helper()
	for range 1000 {
		if s.r.Height() >= h {
			return
		}
		s.now = s.now.Add(10 * time.Millisecond)
		if err := s.r.Tick(s.t.Context(), s.now); err != nil {
			s.t.Fatal(err)
		}
	}
	s.t.Fatalf("height %d not reached; at %d", h, s.r.Height())
}

func TestSoloDecidesAndSequencesTransactions(t *testing.T) {
	s := newSolo(t)
	s.runTo(3)
	tx := types.Transaction{Namespace: 7, Payload: []byte("hello")}
	c, err := s.r.Submit(t.Context(), tx, s.now)
	if err != nil || c != tx.Commit() {
		t.Fatalf("Submit = %s, %v; want the transaction's commitment", c.Short(), err)
	}
	var gossiped bool
	for _, m := range s.out.sent {
		if f, err := replica.DecodeFrame(m.data); err == nil && f.Transaction != nil && m.topic == replica.TopicTransactions {
			gossiped = f.Transaction.Commit() == c
		}
	}
	if !gossiped {
		t.Fatal("submitted transaction not gossiped on the transactions topic")
	}
	s.runTo(s.r.Height() + 3)
	var found bool
	for _, b := range s.decided {
		txs, err := b.Payload.Transactions()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range txs {
			found = found || x.Commit() == c
		}
		if stored, err := s.store.BlockByHeight(t.Context(), b.Height()); err != nil || stored.Leaf.Commit() != b.Leaf.Commit() {
			t.Fatalf("decided block %d not stored before OnDecided: %v", b.Height(), err)
		}
	}
	if !found {
		t.Fatal("transaction not decided")
	}
	if n, _ := s.r.Pending(); n != 0 {
		t.Fatalf("%d transactions still pending after their block was decided", n)
	}
}

// A replica reopened on its store resumes from its last decided block and
// safety state, and goes on deciding.
func TestReopenResumes(t *testing.T) {
	s := newSolo(t)
	s.runTo(4)
	voted := s.r.Stats().LastVotedView
	h := s.r.Height()
	s.open() // a crash: the old replica is dropped, the store kept
	if s.r.Height() != h {
		t.Fatalf("reopened at height %d, want %d", s.r.Height(), h)
	}
	if got := s.r.Stats().LastVotedView; got < voted {
		t.Fatalf("reopened with last voted view %d, below %d", got, voted)
	}
	s.runTo(h + 2)
}

// A failed write halts the replica before it sends anything that depends
// on the write, and it stays halted.
func TestFailedWriteHaltsBeforeSending(t *testing.T) {
	s := newSolo(t)
	s.runTo(2)
	s.store.FailWrites(errors.New("disk on fire"))
	before := s.out.count()
	var err error
	for range 100 {
		s.now = s.now.Add(10 * time.Millisecond)
		if err = s.r.Tick(t.Context(), s.now); err != nil {
			break
		}
	}
	if !errors.Is(err, replica.ErrHalted) {
		t.Fatalf("Tick on a failing store: %v, want ErrHalted", err)
	}
	if got := s.out.count(); got != before {
		t.Fatalf("%d messages sent after the write failed", got-before)
	}
	if _, err := s.r.Deliver(t.Context(), 0, []byte{'c'}, s.now); !errors.Is(err, replica.ErrHalted) {
		t.Fatalf("Deliver after the halt: %v, want ErrHalted", err)
	}
}

func TestOpenRefusesAnotherNetworksStore(t *testing.T) {
	s := newSolo(t)
	s.runTo(2)
	other, ks := testSetup(t, 4, 1)
	s.store.Reopen()
	_, err := replica.Open(t.Context(), replica.Config{Setup: other, Key: ks[0].Staking, Store: s.store, Sender: &recorder{}}, s.now)
	if !errors.Is(err, replica.ErrForeignStore) {
		t.Fatalf("Open on another network's store: %v, want ErrForeignStore", err)
	}
}

// A request for missing leaves is answered from the decided chain.
func TestDeliverAnswersFetchRequests(t *testing.T) {
	s := newSolo(t)
	s.runTo(5)
	top, err := s.store.BlockByHeight(t.Context(), 4)
	if err != nil {
		t.Fatal(err)
	}
	req, err := replica.EncodeMessage(&consensus.FetchRequest{ID: 9, Leaf: top.Leaf.Commit(), StopHeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	answer, err := s.r.Deliver(t.Context(), -1, req, s.now)
	if err != nil || answer == nil {
		t.Fatalf("fetch request: answer %v, %v", answer, err)
	}
	f, err := replica.DecodeFrame(answer)
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := f.Consensus.(*consensus.FetchResponse)
	if !ok || resp.ID != 9 || len(resp.Leaves) != 3 || resp.Leaves[0].Leaf.Commit() != top.Leaf.Commit() {
		t.Fatalf("fetch answer %+v, want leaves 4, 3, 2 for request 9", f.Consensus)
	}
}

// Frames that do not decode are counted and dropped; they never halt the
// replica.
func TestBadFramesAreCounted(t *testing.T) {
	s := newSolo(t)
	for _, b := range [][]byte{nil, {'x'}, {'t', 1, 2}, {'c', 0xff, 0xff}, append([]byte{'t'}, make([]byte, 8)...)} {
		if _, err := s.r.Deliver(t.Context(), 0, b, s.now); err != nil {
			t.Fatalf("Deliver(%x): %v", b, err)
		}
	}
	// The last frame is a valid empty transaction of namespace 0.
	if got := s.r.Stats().InvalidFrames; got != 4 {
		t.Fatalf("%d invalid frames counted, want 4", got)
	}
}

func TestTransactionFrameRoundTrip(t *testing.T) {
	for _, tx := range []types.Transaction{{Namespace: 0}, {Namespace: 1<<32 - 1, Payload: []byte("x")}} {
		f, err := replica.DecodeFrame(replica.EncodeTransaction(tx))
		if err != nil || f.Transaction == nil || f.Transaction.Commit() != tx.Commit() {
			t.Fatalf("round trip of %+v: %+v, %v", tx, f, err)
		}
	}
	if _, err := replica.DecodeFrame(replica.EncodeTransaction(types.Transaction{Namespace: 1 << 32})); !errors.Is(err, replica.ErrBadFrame) {
		t.Fatalf("transaction frame with a namespace beyond 32 bits: %v, want ErrBadFrame", err)
	}
}

// FuzzDecodeFrame checks that no input makes DecodeFrame panic, and that
// what decodes re-encodes to a frame that decodes to the same message.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte{})
	f.Add(replica.EncodeTransaction(types.Transaction{Namespace: 3, Payload: []byte("abc")}))
	if b, err := replica.EncodeMessage(&consensus.FetchRequest{ID: 1, StopHeight: 2}); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := replica.DecodeFrame(b)
		if err != nil {
			return
		}
		var again []byte
		if fr.Transaction != nil {
			again = replica.EncodeTransaction(*fr.Transaction)
		} else if again, err = replica.EncodeMessage(fr.Consensus); err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if _, err := replica.DecodeFrame(again); err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
	})
}

// ctxStore refuses writes whose context is done (as a store honouring
// cancellation does) and records the order of consensus writes.
type ctxStore struct {
	*mem.Store
	mu     sync.Mutex
	writes []string
}

func (s *ctxStore) SaveSafety(ctx context.Context, st types.SafetyState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.writes = append(s.writes, "safety")
	s.mu.Unlock()
	return s.Store.SaveSafety(ctx, st)
}

func (s *ctxStore) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.writes = append(s.writes, "proposal")
	s.mu.Unlock()
	return s.Store.SaveProposal(ctx, p)
}

// The writes of one Ready are not cut short by the driver's context
// ending (a node being stopped), and proposals are stored before the
// safety state, whose high QC may name the leaf just proposed: a restarted
// node must hold the leaf its high QC certifies (a one-node network, which
// has no peer to fetch it from, stalled for good without this).
func TestWritesOfAReadyCompleteAndInOrder(t *testing.T) {
	setup, ks := testSetup(t, 3, 1)
	st := &ctxStore{Store: mem.New()}
	r, err := replica.Open(t.Context(), replica.Config{Setup: setup, Key: ks[0].Staking, Store: st, Sender: &recorder{}, Consensus: fast}, start)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	now := start
	for range 50 {
		now = now.Add(10 * time.Millisecond)
		st.mu.Lock()
		st.writes = nil
		st.mu.Unlock()
		if err := r.Tick(canceled, now); err != nil {
			t.Fatalf("Tick with a done context: %v (its writes must complete)", err)
		}
		st.mu.Lock()
		w := strings.Join(st.writes, " ")
		st.mu.Unlock()
		if strings.Contains(w, "safety proposal") {
			t.Fatalf("one Ready stored a proposal after the safety state: %s", w)
		}
	}
	if r.Height() < 3 {
		t.Fatalf("decided only %d blocks", r.Height())
	}
	s, err := st.LoadSafety(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	props, err := st.LoadProposals(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	last, err := st.LastDecided(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.HighQC.Leaf != last.Leaf.Commit() {
		found := false
		for _, p := range props {
			f, err := replica.DecodeFrame(append([]byte{'c'}, p.Data...))
			if err == nil {
				if pr, ok := f.Consensus.(*consensus.Proposal); ok && pr.Leaf.Commit() == s.HighQC.Leaf {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("the stored high QC (view %d) certifies a leaf that is neither the last decided one nor a stored proposal", s.HighQC.View)
		}
	}
}

// Requests for missing leaves are answered within FetchRate and FetchBurst
// per member, and for all observers together: a member asking as fast as
// it can gets FetchBurst answers at one instant, the rest are refused and
// counted, and observers share one such allowance.
func TestFetchServedToMembersWithinRate(t *testing.T) {
	s := newSolo(t)
	s.runTo(3)
	last, err := s.store.LastDecided(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	req, err := replica.EncodeMessage(&consensus.FetchRequest{ID: 1, Leaf: last.Leaf.Commit()})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(from int) bool {
		answer, err := s.r.Deliver(t.Context(), from, req, s.now)
		if err != nil {
			t.Fatal(err)
		}
		return answer != nil
	}
	for _, from := range []int{0, -1} {
		answered := 0
		for range 1000 {
			if ask(from) {
				answered++
			}
		}
		if answered != replica.FetchBurst {
			t.Fatalf("from %d: %d of 1,000 requests at one instant answered, want FetchBurst (%d)", from, answered, replica.FetchBurst)
		}
	}
	if got := s.r.Stats().FetchRequestsRefused; got != 2*(1000-replica.FetchBurst) {
		t.Fatalf("%d requests counted refused, want %d", got, 2*(1000-replica.FetchBurst))
	}
	s.now = s.now.Add(time.Second)
	if !ask(0) {
		t.Fatal("a request a second later was refused")
	}
}

package replica_test

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// Only members and configured observers are answered, each within its own
// FetchRate and FetchBurst; everyone else is refused and counted.
func TestFetchServerAnswersMembersAndObserversOnly(t *testing.T) {
	obs1, obs2, stranger := network.PeerID("obs-1"), network.PeerID("obs-2"), network.PeerID("stranger")
	s := replica.NewFetchServer(mem.New(), []network.PeerID{obs1, obs2}, nil)
	admitted := func(p replica.FetchPeer, n int) (ok int, err error) {
		for range n {
			if err = s.Admit(p, start); err == nil {
				ok++
			}
		}
		return ok, err
	}
	for _, p := range []replica.FetchPeer{{Member: 0}, {Member: 1, ID: "whatever"}, {Member: -1, ID: obs1}, {Member: -1, ID: obs2}} {
		ok, err := admitted(p, 100)
		if ok != replica.FetchBurst || !errors.Is(err, replica.ErrFetchRate) {
			t.Fatalf("%+v: %d of 100 admitted at one instant (last error %v), want FetchBurst (%d), then ErrFetchRate", p, ok, err, replica.FetchBurst)
		}
	}
	if ok, err := admitted(replica.FetchPeer{Member: -1, ID: stranger}, 10); ok != 0 || !errors.Is(err, replica.ErrFetchNotAllowed) {
		t.Fatalf("a non-member that is no observer: %d admitted, %v", ok, err)
	}
	if ok, _ := admitted(replica.FetchPeer{Member: -1}, 10); ok != 0 {
		t.Fatalf("a non-member without identity: %d admitted", ok)
	}
	st := s.Stats()
	if want := uint64(4*(100-replica.FetchBurst) + 20); st.Refused != want || st.NotAllowed != 20 {
		t.Fatalf("refused %d (not allowed %d), want %d (20)", st.Refused, st.NotAllowed, want)
	}
	if err := s.Admit(replica.FetchPeer{Member: -1, ID: obs1}, start.Add(time.Second/replica.FetchRate)); err != nil {
		t.Fatalf("an observer one request's time later: %v", err)
	}
}

// The replica's undecided leaves are served off the driving goroutine,
// concurrently with it (run with -race): an answer for the newest proposal
// starts at that undecided leaf and continues down the stored chain, and
// the leaves kept for serving stay bounded as the replica decides.
func TestFetchServerServesUndecidedLeavesConcurrently(t *testing.T) {
	s := newSolo(t)
	s.runTo(3)
	fs := s.r.FetchServer()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		want    types.Commitment
		stop    = make(chan struct{})
		answers int
	)
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			c := want
			mu.Unlock()
			if fs.Answer(t.Context(), &consensus.FetchRequest{ID: 1, Leaf: c}) != nil {
				mu.Lock()
				answers++
				mu.Unlock()
			}
			time.Sleep(100 * time.Microsecond)
		}
	})
	maxHeld := 0
	for range 60 {
		s.now = s.now.Add(10 * time.Millisecond)
		if err := s.r.Tick(t.Context(), s.now); err != nil {
			t.Fatal(err)
		}
		if p := s.lastProposal(); p != nil {
			mu.Lock()
			want = p.Leaf.Commit()
			mu.Unlock()
		}
		maxHeld = max(maxHeld, replica.HeldLeaves(fs))
	}
	close(stop)
	wg.Wait()
	if answers == 0 {
		t.Fatal("no request answered off the driving goroutine")
	}
	if maxHeld > 4 {
		t.Fatalf("%d undecided leaves kept at once in a one-member network, want a handful", maxHeld)
	}
	// The newest proposal is undecided: it is answered from the leaves the
	// replica holds, then the chain below from the store.
	p := s.lastProposal()
	if p.Leaf.Height() <= s.r.Height() {
		t.Fatalf("the newest proposal (height %d) is decided (height %d)", p.Leaf.Height(), s.r.Height())
	}
	data := fs.Answer(t.Context(), &consensus.FetchRequest{ID: 7, Leaf: p.Leaf.Commit(), StopHeight: s.r.Height() - 2})
	if data == nil {
		t.Fatal("the newest, undecided, proposal is not served")
	}
	f, err := replica.DecodeFrame(data)
	if err != nil {
		t.Fatal(err)
	}
	resp := f.Consensus.(*consensus.FetchResponse)
	if resp.ID != 7 || resp.Leaves[0].Leaf.Commit() != p.Leaf.Commit() {
		t.Fatalf("answer %d starts at the wrong leaf", resp.ID)
	}
	if got, want := len(resp.Leaves), int(p.Leaf.Height()-(s.r.Height()-2)); got != want {
		t.Fatalf("%d leaves from height %d down to stop height %d, want %d", got, p.Leaf.Height(), s.r.Height()-2, want)
	}
	for i := 1; i < len(resp.Leaves); i++ {
		if resp.Leaves[i].Leaf.Commit() != resp.Leaves[i-1].Leaf.Parent {
			t.Fatalf("leaf %d is not the parent of leaf %d", i, i-1)
		}
	}
}

// lastProposal returns the newest proposal the replica broadcast.
func (s *solo) lastProposal() *consensus.Proposal {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	for i := len(s.out.sent) - 1; i >= 0; i-- {
		if s.out.sent[i].to != -1 || s.out.sent[i].topic != replica.TopicConsensus {
			continue
		}
		f, err := replica.DecodeFrame(s.out.sent[i].data)
		if err != nil {
			continue
		}
		if p, ok := f.Consensus.(*consensus.Proposal); ok {
			return p
		}
	}
	return nil
}

// FetchRequestFrame finds fetch requests, the largest included, and
// nothing else.
func TestFetchRequestFrame(t *testing.T) {
	req := &consensus.FetchRequest{ID: math.MaxUint64, Leaf: types.Commitment{0: 0xff, 31: 0xff}, StopHeight: math.MaxUint64}
	data, err := replica.EncodeMessage(req)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := replica.FetchRequestFrame(data)
	if fr, isFetch := got.(*consensus.FetchRequest); !ok || !isFetch || *fr != *req {
		t.Fatalf("a fetch request of %d bytes not found: %v %+v", len(data), ok, got)
	}
	headers := &consensus.HeaderRequest{ID: math.MaxUint64, Leaf: types.Commitment{0: 0xff, 31: 0xff}, StopHeight: math.MaxUint64}
	hdata, err := replica.EncodeMessage(headers)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := replica.FetchRequestFrame(hdata); !ok || *got.(*consensus.HeaderRequest) != *headers {
		t.Fatalf("a header request of %d bytes not found: %v %+v", len(hdata), ok, got)
	}
	other, err := replica.EncodeMessage(&consensus.FetchResponse{ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string][]byte{
		"fetch response": other, "transaction": replica.EncodeTransaction(types.Transaction{Namespace: 1, Payload: []byte("x")}),
		"empty": nil, "truncated": data[:len(data)-1], "oversized": append(data, make([]byte, 200)...),
	} {
		if _, ok := replica.FetchRequestFrame(d); ok {
			t.Errorf("%s taken for a fetch request", name)
		}
	}
}

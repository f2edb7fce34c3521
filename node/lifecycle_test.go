package node_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// stuckStore blocks every SaveSafety until release is closed, and records
// Close.
type stuckStore struct {
	*mem.Store
	stuck   atomic.Bool
	entered chan struct{}
	release chan struct{}
	closed  atomic.Bool
}

func newStuckStore() *stuckStore {
	return &stuckStore{Store: mem.New(), entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (s *stuckStore) SaveSafety(ctx context.Context, st types.SafetyState) error {
	if s.stuck.Load() {
		select {
		case s.entered <- struct{}{}:
		default:
		}
		<-s.release
	}
	return s.Store.SaveSafety(ctx, st)
}

func (s *stuckStore) Close() error {
	s.closed.Store(true)
	return s.Store.Close()
}

// Stop closes the transport and the store even when the run loop does not
// finish in time, reports the timeout, and a second Stop reports the same.
func TestStopReleasesEverythingWhenTheWaitTimesOut(t *testing.T) {
	synctest.Test(t, testStopReleasesEverythingWhenTheWaitTimesOut)
}

func testStopReleasesEverythingWhenTheWaitTimesOut(t *testing.T) {
	g, ks := testGenesis(t, 1)
	tr, err := memnet.NewHub().Join(node.PeerID(ks[0].Staking.PubKey()))
	if err != nil {
		t.Fatal(err)
	}
	st := newStuckStore()
	n, err := node.New(g, ks[0], node.WithStorage(st), node.WithNetwork(tr))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.stuck.Store(true) // the run loop's next write never returns
	select {
	case <-st.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the run loop never wrote its safety state")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err = n.Stop(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with a stuck run loop: %v, want a deadline error", err)
	}
	if !st.closed.Load() {
		t.Error("store not closed after Stop timed out")
	}
	if err := tr.Send(t.Context(), tr.Self(), []byte("x")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("transport still open after Stop timed out: Send = %v", err)
	}
	if again := n.Stop(t.Context()); again == nil || again.Error() != err.Error() {
		t.Errorf("second Stop = %v, want the first's result %v", again, err)
	}
	close(st.release) // let the run loop end: it halts on the closed store
	synctest.Wait()
}

// After a successful New the node owns the store and the transport: a
// failed Start leaves them to Stop, which closes them.
func TestStopClosesWhatAFailedStartLeft(t *testing.T) {
	synctest.Test(t, testStopClosesWhatAFailedStartLeft)
}

func testStopClosesWhatAFailedStartLeft(t *testing.T) {
	g, ks := testGenesis(t, 1)
	tr, err := memnet.NewHub().Join(node.PeerID(ks[0].Staking.PubKey()))
	if err != nil {
		t.Fatal(err)
	}
	st := newStuckStore()
	st.FailWrites(errors.New("read-only disk")) // Start cannot store the genesis block
	n, err := node.New(g, ks[0], node.WithStorage(st), node.WithNetwork(tr))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(t.Context()); err == nil {
		t.Fatal("Start succeeded on a store that fails every write")
	}
	if st.closed.Load() {
		t.Fatal("a failed Start closed the store; Stop owns that")
	}
	if err := n.Stop(t.Context()); err != nil {
		t.Fatalf("Stop after a failed Start: %v", err)
	}
	if !st.closed.Load() {
		t.Error("store not closed by Stop after a failed Start")
	}
	if err := tr.Send(t.Context(), tr.Self(), []byte("x")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("transport still open after Stop: Send = %v", err)
	}
	if err := n.Stop(t.Context()); err != nil {
		t.Errorf("second Stop = %v, want the first's nil", err)
	}
}

package memnet_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
)

const (
	a = network.PeerID("BLS_VER_KEY~a")
	b = network.PeerID("BLS_VER_KEY~b")
	c = network.PeerID("BLS_VER_KEY~c")
	d = network.PeerID("BLS_VER_KEY~d")
)

func TestJoinErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		hubOpts  []memnet.Option
		joinOpts []memnet.Option
		id       network.PeerID
		wantErr  error
		wantText string
	}{
		{name: "ok", id: c},
		{name: "empty id", id: "", wantErr: memnet.ErrInvalidPeerID, wantText: `id "" is empty`},
		{name: "already joined", id: a, wantErr: memnet.ErrAlreadyJoined, wantText: string(a)},
		{name: "hub queue size zero", hubOpts: []memnet.Option{memnet.WithQueueSize(0)}, id: c,
			wantErr: memnet.ErrInvalidOption, wantText: "queue size 0 (want at least 1)"},
		{name: "join queue size negative", joinOpts: []memnet.Option{memnet.WithQueueSize(-3)}, id: c,
			wantErr: memnet.ErrInvalidOption, wantText: "queue size -3 (want at least 1)"},
		{name: "join overrides bad hub default", hubOpts: []memnet.Option{memnet.WithQueueSize(0)},
			joinOpts: []memnet.Option{memnet.WithQueueSize(1)}, id: c},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hub := memnet.NewHub(tc.hubOpts...)
			if _, err := hub.Join(a, memnet.WithQueueSize(8)); err != nil {
				t.Fatalf("Join(%s): %v", a, err)
			}
			tr, err := hub.Join(tc.id, tc.joinOpts...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Join(%q) = %v, want %v", tc.id, err, tc.wantErr)
			}
			if err != nil {
				if tr != nil {
					t.Errorf("Join(%q) returned a transport with error %v", tc.id, err)
				}
				if !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("error %q does not mention %q", err, tc.wantText)
				}
				return
			}
			if tr.Self() != tc.id {
				t.Errorf("Self() = %q, want %q", tr.Self(), tc.id)
			}
		})
	}
}

func TestPeers(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	if got := hub.Peers(); len(got) != 0 {
		t.Fatalf("Peers() of an empty hub = %v", got)
	}
	trs := join(t, hub, c, a, b)
	if got, want := hub.Peers(), []network.PeerID{a, b, c}; !slices.Equal(got, want) {
		t.Fatalf("Peers() = %v, want %v", got, want)
	}
	_ = trs[1].Close()
	if got, want := hub.Peers(), []network.PeerID{b, c}; !slices.Equal(got, want) {
		t.Fatalf("Peers() after Close = %v, want %v", got, want)
	}
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a)
	small, err := hub.Join(b, memnet.WithQueueSize(2))
	if err != nil {
		t.Fatal(err)
	}
	for k := range 5 {
		send(t, trs[0], b, fmt.Sprint(k)) // never blocks, never fails
	}
	if got := small.Dropped(); got != 3 {
		t.Errorf("Dropped() = %d, want 3", got)
	}
	if got := trs[0].Dropped(); got != 0 {
		t.Errorf("sender's Dropped() = %d, want 0", got)
	}
	expectData(t, small, a, "", "0")
	expectData(t, small, a, "", "1")
	expectNone(t, small)
	// Room again: delivery resumes.
	send(t, trs[0], b, "5")
	expectData(t, small, a, "", "5")
	st := checkBalance(t, hub)
	if st.Sent != 6 || st.Delivered != 3 || st.Dropped != 3 {
		t.Errorf("stats = %+v, want Sent 6, Delivered 3, Dropped 3", st)
	}
}

func TestPartitionHeal(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a, b, c, d)
	ta, tb, tc, td := trs[0], trs[1], trs[2], trs[3]

	hub.Partition([]network.PeerID{a, b}, []network.PeerID{c}) // d in no group: isolated
	tests := []struct {
		from *memnet.Transport
		to   *memnet.Transport
		ok   bool
	}{
		{ta, tb, true}, {tb, ta, true},
		{ta, tc, false}, {tc, ta, false},
		{tc, td, false}, {td, ta, false},
		{td, td, true}, {tc, tc, true}, // a peer always reaches itself
	}
	for _, tt := range tests {
		send(t, tt.from, tt.to.Self(), "partitioned")
		if tt.ok {
			expectData(t, tt.to, tt.from.Self(), "", "partitioned")
		}
	}
	expectNone(t, trs...)

	broadcast(t, ta, "p", "from a")
	expectData(t, tb, a, "p", "from a")
	expectNone(t, trs...)

	for i, want := range []int{1, 1, 0, 0} {
		if got := trs[i].ConnectedPeers(); got != want {
			t.Errorf("%s: ConnectedPeers() = %d under the partition, want %d", trs[i].Self(), got, want)
		}
	}

	hub.Heal()
	for _, tr := range trs {
		if got := tr.ConnectedPeers(); got != 3 {
			t.Errorf("%s: ConnectedPeers() = %d after Heal, want 3", tr.Self(), got)
		}
	}
	broadcast(t, td, "p", "healed")
	for _, tr := range trs[:3] {
		expectData(t, tr, d, "p", "healed")
	}
	st := checkBalance(t, hub)
	// Lost: a→c, c→a, c→d, d→a direct, plus a's broadcast to c and d.
	if st.Dropped != 6 {
		t.Errorf("Dropped = %d, want 6", st.Dropped)
	}
}

func TestPartitionBridgeAndIsolateAll(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a, b, c)
	ta, tb, tc := trs[0], trs[1], trs[2]

	// b sits in both groups and bridges them; a and c stay apart. Listing a
	// peer twice in one group changes nothing.
	hub.Partition([]network.PeerID{a, b, a}, []network.PeerID{b, c})
	broadcast(t, tb, "bridge", "from b")
	expectData(t, ta, b, "bridge", "from b")
	expectData(t, tc, b, "bridge", "from b")
	broadcast(t, ta, "bridge", "from a")
	expectData(t, tb, a, "bridge", "from a")
	expectNone(t, trs...)
	if got := tb.ConnectedPeers(); got != 2 {
		t.Errorf("bridge ConnectedPeers() = %d, want 2", got)
	}

	// No groups: everyone is isolated, but self-sends still work.
	hub.Partition()
	broadcast(t, tb, "bridge", "alone")
	send(t, tb, b, "self")
	expectData(t, tb, b, "", "self")
	expectNone(t, trs...)

	// A partition covers ids that join later.
	hub.Partition([]network.PeerID{a, d})
	td := join(t, hub, d)[0]
	send(t, td, a, "late joiner")
	expectData(t, ta, d, "", "late joiner")
	send(t, td, c, "late joiner")
	expectNone(t, tc)
}

func TestDisconnectRejoin(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a, b, c)
	ta, tb := trs[0], trs[1]

	send(t, ta, b, "queued before disconnect")
	if err := hub.Disconnect(b); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	// What was queued can still be read; then Incoming is closed.
	expectData(t, tb, a, "", "queued before disconnect")
	if _, ok := <-tb.Incoming(); ok {
		t.Fatal("Incoming still open after Disconnect")
	}
	if err := tb.Send(t.Context(), a, []byte("x")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("Send from a disconnected peer = %v, want %v", err, network.ErrClosed)
	}
	if err := tb.Broadcast(t.Context(), "t", []byte("x")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("Broadcast from a disconnected peer = %v, want %v", err, network.ErrClosed)
	}
	if err := ta.Send(t.Context(), b, []byte("x")); !errors.Is(err, network.ErrUnknownPeer) {
		t.Errorf("Send to a disconnected peer = %v, want %v", err, network.ErrUnknownPeer)
	}
	if got := ta.ConnectedPeers(); got != 1 {
		t.Errorf("ConnectedPeers() = %d after a disconnect, want 1", got)
	}
	if got := tb.ConnectedPeers(); got != 0 {
		t.Errorf("disconnected peer's ConnectedPeers() = %d, want 0", got)
	}
	if err := hub.Disconnect(b); !errors.Is(err, network.ErrUnknownPeer) {
		t.Errorf("second Disconnect = %v, want %v", err, network.ErrUnknownPeer)
	}
	if err := tb.Close(); err != nil {
		t.Errorf("Close after Disconnect = %v, want nil", err)
	}

	// Rejoin: a fresh transport that receives new traffic; the old one stays
	// closed, and closing it does not unseat the new one.
	nb, err := hub.Join(b)
	if err != nil {
		t.Fatalf("rejoin: %v", err)
	}
	t.Cleanup(func() { _ = nb.Close() })
	if nb == tb {
		t.Fatal("rejoin returned the old transport")
	}
	_ = tb.Close()
	broadcast(t, ta, "t", "welcome back")
	expectData(t, nb, a, "t", "welcome back")
	expectData(t, trs[2], a, "t", "welcome back")
	send(t, nb, a, "hello again")
	expectData(t, ta, b, "", "hello again")
	if err := tb.Send(t.Context(), a, []byte("x")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("old transport Send after rejoin = %v, want %v", err, network.ErrClosed)
	}

	// Close leaves the hub too, so the id may join again.
	_ = nb.Close()
	if _, err := hub.Join(b); err != nil {
		t.Fatalf("join after Close: %v", err)
	}
	checkBalance(t, hub)
}

// Joins, disconnects and sends racing each other (run with -race): no panic,
// only documented errors.
func TestMembershipChurn(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub(memnet.WithQueueSize(16))
	stable := join(t, hub, a)[0]
	var reader sync.WaitGroup
	reader.Go(func() {
		for range stable.Incoming() {
		}
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 200 {
			if tr, err := hub.Join(b); err == nil {
				_ = tr.Broadcast(t.Context(), "churn", []byte("hi"))
				_ = hub.Disconnect(b)
			}
		}
	})
	wg.Go(func() {
		for range 400 {
			err := stable.Send(t.Context(), b, []byte("x"))
			if err != nil && !errors.Is(err, network.ErrUnknownPeer) {
				t.Errorf("Send during churn: %v", err)
				return
			}
			if err := stable.Broadcast(t.Context(), "churn", []byte("y")); err != nil {
				t.Errorf("Broadcast during churn: %v", err)
				return
			}
		}
	})
	wg.Wait()
	_ = stable.Close()
	reader.Wait()
	checkBalance(t, hub)
}

package memnet_test

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
)

// fixed returns a filter that gives every envelope the same fate.
func fixed(f memnet.Fate) memnet.Filter {
	return func(_, _ network.PeerID, _ string, _ []byte) memnet.Fate { return f }
}

func TestFilterSeesEnvelope(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a, b, c)
	type call struct {
		from, to network.PeerID
		topic    string
		data     string
	}
	var mu sync.Mutex
	var calls []call
	hub.SetFilter(func(from, to network.PeerID, topic string, data []byte) memnet.Fate {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call{from, to, topic, string(data)})
		return memnet.Fate{}
	})
	send(t, trs[0], b, "direct")
	broadcast(t, trs[1], "news", "wide")
	want := []call{{a, b, "", "direct"}, {b, a, "news", "wide"}, {b, c, "news", "wide"}}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(calls, want) {
		t.Fatalf("filter calls = %v, want %v", calls, want)
	}
}

func TestFilterDrop(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a, b, c)
	// Drop only what goes to c.
	hub.SetFilter(func(_, to network.PeerID, _ string, _ []byte) memnet.Fate {
		return memnet.Fate{Drop: to == c, Duplicate: true, Delay: time.Hour}
	})
	send(t, trs[0], c, "lost") // Drop wins over Duplicate and Delay
	expectNone(t, trs...)
	hub.SetFilter(func(_, to network.PeerID, _ string, _ []byte) memnet.Fate {
		return memnet.Fate{Drop: to == c}
	})
	broadcast(t, trs[0], "t", "half")
	expectData(t, trs[1], a, "t", "half")
	expectNone(t, trs...)
	st := checkBalance(t, hub)
	if st.Dropped != 2 || st.Delivered != 1 || st.Duplicated != 0 {
		t.Errorf("stats = %+v, want Dropped 2, Delivered 1, Duplicated 0", st)
	}
}

func TestFilterDuplicate(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a, b)
	hub.SetFilter(fixed(memnet.Fate{Duplicate: true}))
	send(t, trs[0], b, "twice")
	first, second := recv(t, trs[1]), recv(t, trs[1])
	for _, env := range []network.Envelope{first, second} {
		if env.From != a || string(env.Data) != "twice" {
			t.Fatalf("duplicate = {%s %q}, want {%s %q}", env.From, env.Data, a, "twice")
		}
	}
	first.Data[0] = 'T'
	if string(second.Data) != "twice" {
		t.Error("the two copies of a duplicated message share memory")
	}
	expectNone(t, trs...)
	st := checkBalance(t, hub)
	if st.Sent != 1 || st.Duplicated != 1 || st.Delivered != 2 {
		t.Errorf("stats = %+v, want Sent 1, Duplicated 1, Delivered 2", st)
	}
}

func TestFilterDelay(t *testing.T) {
	t.Parallel()
	const delay = 150 * time.Millisecond
	hub := memnet.NewHub()
	trs := join(t, hub, a, b)
	hub.SetFilter(fixed(memnet.Fate{Delay: delay, Duplicate: true}))
	start := time.Now()
	send(t, trs[0], b, "slow")
	st := hub.Stats()
	if time.Since(start) < delay && (st.InFlight != 2 || len(trs[1].Incoming()) != 0) {
		t.Errorf("before the delay ended: InFlight = %d, queued = %d, want 2 and 0", st.InFlight, len(trs[1].Incoming()))
	}
	expectData(t, trs[1], a, "", "slow")
	expectData(t, trs[1], a, "", "slow")
	// A delay is a lower bound (only ever assert that direction on time).
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("delayed message arrived after %v, want at least %v", elapsed, delay)
	}
	st = checkBalance(t, hub)
	if st.Delivered != 2 {
		t.Errorf("Delivered = %d, want 2", st.Delivered)
	}
}

// A delayed message to a peer that disconnects meanwhile is dropped, also if
// the peer has joined again by the time the delay ends.
func TestDelayedToDisconnectedPeer(t *testing.T) {
	t.Parallel()
	const delay = 200 * time.Millisecond
	hub := memnet.NewHub()
	trs := join(t, hub, a, b, c)
	hub.SetFilter(fixed(memnet.Fate{Delay: delay}))
	start := time.Now()
	send(t, trs[0], b, "to the old b")
	send(t, trs[0], c, "to c")
	if err := hub.Disconnect(b); err != nil {
		t.Fatal(err)
	}
	nb := join(t, hub, b)[0]
	hub.SetFilter(nil)
	if time.Since(start) >= delay {
		t.Skipf("the machine took over %v to disconnect and rejoin; the delay ended first", delay)
	}
	expectData(t, trs[2], a, "", "to c")
	waitIdle(t, hub)
	expectNone(t, nb)
	for range trs[1].Incoming() {
		t.Error("the disconnected transport received a delayed message")
	}
	st := checkBalance(t, hub)
	if st.Dropped != 1 || st.Delivered != 1 {
		t.Errorf("stats = %+v, want Dropped 1, Delivered 1", st)
	}
}

// A delayed message is dropped if a partition separates the peers when its
// delay ends, and delivered if it was healed by then.
func TestDelayedAcrossPartition(t *testing.T) {
	t.Parallel()
	const delay = 200 * time.Millisecond
	hub := memnet.NewHub()
	trs := join(t, hub, a, b)
	hub.SetFilter(fixed(memnet.Fate{Delay: delay}))
	start := time.Now()
	send(t, trs[0], b, "cut off")
	hub.Partition([]network.PeerID{a}, []network.PeerID{b})
	if time.Since(start) >= delay {
		t.Skipf("the machine took over %v to partition; the delay ended first", delay)
	}
	waitIdle(t, hub)
	hub.Heal()
	expectNone(t, trs...)

	hub.Partition([]network.PeerID{a}, []network.PeerID{b})
	send(t, trs[0], b, "dropped at once")
	hub.Heal()
	send(t, trs[0], b, "healed in time")
	expectData(t, trs[1], a, "", "healed in time")
	st := checkBalance(t, hub)
	if st.Dropped != 2 || st.Delivered != 1 {
		t.Errorf("stats = %+v, want Dropped 2, Delivered 1", st)
	}
}

// Random delays reorder a stream, and nothing is lost.
func TestRandomDelayReorders(t *testing.T) {
	t.Parallel()
	const n = 200
	hub := memnet.NewHub()
	trs := join(t, hub, a, b)
	hub.SetFilter(memnet.RandomDelay(42, 0, 20*time.Millisecond))
	for k := range n {
		send(t, trs[0], b, strconv.Itoa(k))
	}
	got := make([]int, 0, n)
	for range n {
		k, err := strconv.Atoi(string(recv(t, trs[1]).Data))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	if slices.IsSorted(got) {
		t.Error("200 messages with random delays arrived in order")
	}
	slices.Sort(got)
	for k := range n {
		if got[k] != k {
			t.Fatalf("message %d missing or duplicated", k)
		}
	}
	checkBalance(t, hub)
}

func TestFilterChangesAtRuntime(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a, b)
	send(t, trs[0], b, "1")
	expectData(t, trs[1], a, "", "1")
	hub.SetFilter(fixed(memnet.Fate{Drop: true}))
	send(t, trs[0], b, "2")
	expectNone(t, trs[1])
	hub.SetFilter(fixed(memnet.Fate{Duplicate: true}))
	send(t, trs[0], b, "3")
	expectData(t, trs[1], a, "", "3")
	expectData(t, trs[1], a, "", "3")
	hub.SetFilter(nil)
	send(t, trs[0], b, "4")
	expectData(t, trs[1], a, "", "4")
	expectNone(t, trs...)

	// Swapping filters while messages flow is safe (run with -race).
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := 0; ; k++ {
			select {
			case <-stop:
				hub.SetFilter(nil)
				return
			default:
			}
			switch k % 3 {
			case 0:
				hub.SetFilter(memnet.DropRate(int64(k), 0.5))
			case 1:
				hub.SetFilter(memnet.Chain(memnet.DuplicateRate(int64(k), 0.5), memnet.RandomDelay(int64(k), 0, time.Millisecond)))
			default:
				hub.SetFilter(nil)
			}
		}
	})
	var readers sync.WaitGroup
	for _, tr := range trs {
		readers.Go(func() {
			for range tr.Incoming() {
			}
		})
	}
	for k := range 500 {
		send(t, trs[0], b, strconv.Itoa(k))
		broadcast(t, trs[1], "t", strconv.Itoa(k))
	}
	close(stop)
	wg.Wait()
	checkBalance(t, hub)
	for _, tr := range trs {
		_ = tr.Close()
	}
	readers.Wait()
}

// A filter runs without hub locks held, so it may use the hub: here it
// partitions the network on the third message.
func TestFilterMayCallHub(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub()
	trs := join(t, hub, a, b)
	var mu sync.Mutex
	count := 0
	hub.SetFilter(func(from, to network.PeerID, _ string, _ []byte) memnet.Fate {
		mu.Lock()
		defer mu.Unlock()
		count++
		if count == 3 {
			hub.Partition([]network.PeerID{from}, []network.PeerID{to})
		}
		_ = hub.Stats()
		_ = hub.Peers()
		return memnet.Fate{}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := range 4 {
			_ = trs[0].Send(t.Context(), b, []byte(strconv.Itoa(k)))
		}
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatal("a filter calling the hub deadlocked")
	}
	expectData(t, trs[1], a, "", "0")
	expectData(t, trs[1], a, "", "1")
	// The third message had passed the partition check before its filter call
	// partitioned the network; the fourth is cut off.
	expectData(t, trs[1], a, "", "2")
	expectNone(t, trs...)
}

func TestChain(t *testing.T) {
	t.Parallel()
	var calls []string
	rec := func(name string, f memnet.Fate) memnet.Filter {
		return func(_, _ network.PeerID, _ string, _ []byte) memnet.Fate {
			calls = append(calls, name)
			return f
		}
	}
	tests := []struct {
		name      string
		filters   []memnet.Filter
		want      memnet.Fate
		wantCalls []string
	}{
		{name: "empty", want: memnet.Fate{}},
		{name: "nil filters skipped", filters: []memnet.Filter{nil, rec("x", memnet.Fate{Duplicate: true}), nil},
			want: memnet.Fate{Duplicate: true}, wantCalls: []string{"x"}},
		{name: "delays add up", filters: []memnet.Filter{
			rec("x", memnet.Fate{Delay: time.Second}), rec("y", memnet.Fate{Delay: -time.Hour}), rec("z", memnet.Fate{Delay: 2 * time.Second})},
			want: memnet.Fate{Delay: 3 * time.Second}, wantCalls: []string{"x", "y", "z"}},
		{name: "duplicate from any", filters: []memnet.Filter{
			rec("x", memnet.Fate{}), rec("y", memnet.Fate{Duplicate: true}), rec("z", memnet.Fate{})},
			want: memnet.Fate{Duplicate: true}, wantCalls: []string{"x", "y", "z"}},
		{name: "drop wins and stops", filters: []memnet.Filter{
			rec("x", memnet.Fate{Delay: time.Second, Duplicate: true}), rec("y", memnet.Fate{Drop: true}), rec("z", memnet.Fate{})},
			want: memnet.Fate{Drop: true}, wantCalls: []string{"x", "y"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			got := memnet.Chain(tc.filters...)(a, b, "", nil)
			if got != tc.want {
				t.Errorf("fate = %+v, want %+v", got, tc.want)
			}
			if !slices.Equal(calls, tc.wantCalls) {
				t.Errorf("calls = %v, want %v", calls, tc.wantCalls)
			}
		})
	}
}

// fates draws n fates for each of the pairs, interleaving the pairs in the
// given order of pair indexes, and returns them grouped by pair.
func fates(f memnet.Filter, pairs [][2]network.PeerID, order []int) map[[2]network.PeerID][]memnet.Fate {
	out := make(map[[2]network.PeerID][]memnet.Fate)
	for _, i := range order {
		p := pairs[i]
		out[p] = append(out[p], f(p[0], p[1], "t", nil))
	}
	return out
}

func TestSeededFiltersDeterministic(t *testing.T) {
	t.Parallel()
	pairs := [][2]network.PeerID{{a, b}, {b, a}, {a, c}}
	const perPair = 300
	var inOrder, interleaved []int
	for i := range pairs {
		for range perPair {
			inOrder = append(inOrder, i)
		}
	}
	for range perPair {
		interleaved = append(interleaved, 2, 0, 1)
	}
	builders := []struct {
		name string
		make func(seed int64) memnet.Filter
	}{
		{"DropRate", func(seed int64) memnet.Filter { return memnet.DropRate(seed, 0.3) }},
		{"DuplicateRate", func(seed int64) memnet.Filter { return memnet.DuplicateRate(seed, 0.3) }},
		{"RandomDelay", func(seed int64) memnet.Filter { return memnet.RandomDelay(seed, time.Millisecond, 9*time.Millisecond) }},
	}
	for _, bl := range builders {
		t.Run(bl.name, func(t *testing.T) {
			one := fates(bl.make(1), pairs, inOrder)
			again := fates(bl.make(1), pairs, interleaved)
			other := fates(bl.make(2), pairs, inOrder)
			for _, p := range pairs {
				if !slices.Equal(one[p], again[p]) {
					t.Errorf("%v: same seed, other interleaving: different fates", p)
				}
				if slices.Equal(one[p], other[p]) {
					t.Errorf("%v: seeds 1 and 2 gave the same %d fates", p, perPair)
				}
			}
			if slices.Equal(one[pairs[0]], one[pairs[1]]) {
				t.Error("pairs a→b and b→a got the same fates")
			}
		})
	}
}

func TestDropRate(t *testing.T) {
	t.Parallel()
	const n = 2000
	tests := []struct {
		p        float64
		min, max int
	}{
		{p: -1, min: 0, max: 0},
		{p: 0, min: 0, max: 0},
		{p: 0.25, min: 400, max: 600},
		{p: 0.5, min: 900, max: 1100},
		{p: 1, min: n, max: n},
		{p: 7, min: n, max: n},
	}
	for _, tc := range tests {
		f := memnet.DropRate(99, tc.p)
		dropped := 0
		for range n {
			if f(a, b, "", nil).Drop {
				dropped++
			}
		}
		if dropped < tc.min || dropped > tc.max {
			t.Errorf("DropRate(p=%v) dropped %d of %d, want %d..%d", tc.p, dropped, n, tc.min, tc.max)
		}
	}
}

func TestDuplicateRate(t *testing.T) {
	t.Parallel()
	const n = 2000
	f := memnet.DuplicateRate(5, 0.5)
	dup := 0
	for range n {
		fate := f(a, b, "", nil)
		if fate.Drop || fate.Delay != 0 {
			t.Fatalf("DuplicateRate returned %+v", fate)
		}
		if fate.Duplicate {
			dup++
		}
	}
	if dup < 900 || dup > 1100 {
		t.Errorf("DuplicateRate(0.5) duplicated %d of %d", dup, n)
	}
}

func TestRandomDelayRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lo, hi time.Duration
	}{
		{lo: 0, hi: time.Millisecond},
		{lo: 5 * time.Millisecond, hi: 6 * time.Millisecond},
		{lo: 3 * time.Millisecond, hi: 3 * time.Millisecond},
		{lo: 4 * time.Millisecond, hi: time.Millisecond},
		{lo: -time.Second, hi: -time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v..%v", tc.lo, tc.hi), func(t *testing.T) {
			f := memnet.RandomDelay(3, tc.lo, tc.hi)
			seen := map[time.Duration]bool{}
			for range 500 {
				fate := f(a, b, "", nil)
				if fate.Drop || fate.Duplicate {
					t.Fatalf("RandomDelay returned %+v", fate)
				}
				seen[fate.Delay] = true
				if tc.hi > tc.lo && (fate.Delay < tc.lo || fate.Delay >= tc.hi) {
					t.Fatalf("delay %v outside [%v, %v)", fate.Delay, tc.lo, tc.hi)
				}
				if tc.hi <= tc.lo && fate.Delay != tc.lo {
					t.Fatalf("delay %v, want %v when hi <= lo", fate.Delay, tc.lo)
				}
			}
			if tc.hi > tc.lo && len(seen) < 100 {
				t.Errorf("only %d distinct delays in 500 draws", len(seen))
			}
		})
	}
}

// Mixed faults with concurrent senders: the stats balance and match what the
// receivers saw.
func TestStatsBalanceUnderFaults(t *testing.T) {
	t.Parallel()
	hub := memnet.NewHub(memnet.WithQueueSize(64))
	trs := join(t, hub, a, b, c, d)
	hub.SetFilter(memnet.Chain(
		memnet.DropRate(1, 0.2),
		memnet.DuplicateRate(2, 0.2),
		memnet.RandomDelay(3, 0, 3*time.Millisecond),
	))
	var mu sync.Mutex
	received := 0
	var readers sync.WaitGroup
	for _, tr := range trs {
		readers.Go(func() {
			n := 0
			for range tr.Incoming() {
				n++
			}
			mu.Lock()
			received += n
			mu.Unlock()
		})
	}
	var senders sync.WaitGroup
	for _, tr := range trs {
		senders.Go(func() {
			for k := range 200 {
				if err := tr.Broadcast(t.Context(), "mix", []byte(strconv.Itoa(k))); err != nil {
					t.Error(err)
					return
				}
				if err := tr.Send(t.Context(), a, []byte(strconv.Itoa(k))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	senders.Wait()
	hub.Partition([]network.PeerID{a, b}, []network.PeerID{c, d})
	st := checkBalance(t, hub)
	for _, tr := range trs {
		_ = tr.Close()
	}
	readers.Wait()
	if want := uint64(4 * 200 * 4); st.Sent != want {
		t.Errorf("Sent = %d, want %d", st.Sent, want)
	}
	if st.Duplicated == 0 || st.Dropped == 0 {
		t.Errorf("stats = %+v: faults had no effect", st)
	}
	if uint64(received) != st.Delivered {
		t.Errorf("receivers saw %d messages, Delivered = %d", received, st.Delivered)
	}
	var overflow uint64
	for _, tr := range trs {
		overflow += tr.Dropped()
	}
	if overflow > st.Dropped {
		t.Errorf("queue drops %d exceed total drops %d", overflow, st.Dropped)
	}
}

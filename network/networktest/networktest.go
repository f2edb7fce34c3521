package networktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/network"
)

// Peers is the number of transports the suite asks newNet for in each
// subtest.
const Peers = 4

// DefaultTimeout bounds every wait of the suite unless WithTimeout changes it.
const DefaultTimeout = 5 * time.Second

// DefaultQuiet is how long the suite watches a channel to conclude that a
// message was not delivered, unless WithQuiet changes it.
const DefaultQuiet = 100 * time.Millisecond

// NewNet builds a network of connected transports, one per id and in the
// order of ids, with transport i reporting ids[i] from Self. When it returns,
// every transport must already reach every other (Send and Broadcast deliver).
// It should register any clean-up with t.Cleanup; the suite closes every
// transport it is given when the subtest ends. It reports setup failures with
// t.Fatal.
type NewNet = func(t *testing.T, ids []network.PeerID) []network.Transport

// Option adjusts what Run checks and how long it waits.
type Option func(*config)

type config struct {
	ordered bool
	timeout time.Duration
	quiet   time.Duration
}

// Ordered declares that the transport delivers the direct messages of one
// sender to one receiver in the order they were sent (Send calls that do not
// overlap in time). With it, Run checks that order; without it, Run checks only
// that every message arrives. memnet promises order while no filter delays
// messages.
func Ordered() Option {
	return func(c *config) { c.ordered = true }
}

// WithTimeout sets the deadline of every wait in the suite (default
// DefaultTimeout). Values of zero or less keep the default.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithQuiet sets how long the suite watches for a message that must not
// arrive (default DefaultQuiet). Values of zero or less keep the default.
func WithQuiet(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.quiet = d
		}
	}
}

// Run runs the conformance suite against the transport built by newNet. Each
// check is a subtest with its own network of Peers transports.
func Run(t *testing.T, newNet func(t *testing.T, ids []network.PeerID) []network.Transport, opts ...Option) {
	t.Helper()
	c := &config{timeout: DefaultTimeout, quiet: DefaultQuiet}
	for _, opt := range opts {
		opt(c)
	}
	s := &suite{config: c, newNet: newNet}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Self", s.testSelf},
		{"SendDirect", s.testSendDirect},
		{"SendToSelf", s.testSendToSelf},
		{"EmptyMessage", s.testEmptyMessage},
		{"LargeMessage", s.testLargeMessage},
		{"Broadcast", s.testBroadcast},
		{"BroadcastEmptyTopic", s.testBroadcastEmptyTopic},
		{"CopyOnSend", s.testCopyOnSend},
		{"ManyMessages", s.testManyMessages},
		{"UnknownPeer", s.testUnknownPeer},
		{"MessageTooLarge", s.testMessageTooLarge},
		{"ContextDone", s.testContextDone},
		{"Close", s.testClose},
		{"ConcurrentSenders", s.testConcurrentSenders},
		{"CloseWhileSending", s.testCloseWhileSending},
		{"PeerCounter", s.testPeerCounter},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}

type suite struct {
	*config
	newNet NewNet
}

// ids returns the PeerIDs of a test network: TaggedBase64-like names so that
// transports which log or parse them see the usual shape.
func ids(n int) []network.PeerID {
	out := make([]network.PeerID, n)
	for i := range out {
		out[i] = network.PeerID(fmt.Sprintf("BLS_VER_KEY~networktest-peer-%d", i))
	}
	return out
}

// net builds a fresh network and checks what newNet returned.
func (s *suite) net(t *testing.T) []network.Transport {
	t.Helper()
	want := ids(Peers)
	trs := s.newNet(t, want)
	if len(trs) != len(want) {
		t.Fatalf("newNet returned %d transports for %d ids", len(trs), len(want))
	}
	for i, tr := range trs {
		if tr == nil {
			t.Fatalf("newNet returned a nil transport for %s", want[i])
		}
	}
	t.Cleanup(func() {
		for _, tr := range trs {
			if err := tr.Close(); err != nil {
				t.Errorf("%s: Close at clean-up: %v", tr.Self(), err)
			}
		}
	})
	return trs
}

// recv waits for the next message on tr, failing the test at the deadline.
func (s *suite) recv(t *testing.T, tr network.Transport, what string) network.Envelope {
	t.Helper()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case env, ok := <-tr.Incoming():
		if !ok {
			t.Fatalf("%s: Incoming closed while waiting for %s", tr.Self(), what)
		}
		return env
	case <-timer.C:
		t.Fatalf("%s: nothing received within %v while waiting for %s", tr.Self(), s.timeout, what)
	}
	return network.Envelope{}
}

// expectNothing fails the test if any of trs receives anything within one
// quiet period.
func (s *suite) expectNothing(t *testing.T, why string, trs ...network.Transport) {
	t.Helper()
	time.Sleep(s.quiet)
	for _, tr := range trs {
		select {
		case env, ok := <-tr.Incoming():
			if ok {
				t.Errorf("%s: unexpected message from %s (topic %q, %q): %s", tr.Self(), env.From, env.Topic, abbrev(env.Data), why)
			}
		default:
		}
	}
}

// drainUntilClosed reads tr's Incoming until it is closed, failing the test at
// the deadline. It returns how many messages were still queued.
func (s *suite) drainUntilClosed(t *testing.T, tr network.Transport) int {
	t.Helper()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	n := 0
	for {
		select {
		case _, ok := <-tr.Incoming():
			if !ok {
				return n
			}
			n++
		case <-timer.C:
			t.Fatalf("%s: Incoming not closed within %v after Close (%d messages drained)", tr.Self(), s.timeout, n)
		}
	}
}

// within runs f and fails the test if it does not return before the deadline.
func (s *suite) within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s did not return within %v", what, s.timeout)
	}
}

func checkEnvelope(t *testing.T, got network.Envelope, from network.PeerID, topic string, data []byte) {
	t.Helper()
	if got.From != from || got.Topic != topic || !bytes.Equal(got.Data, data) {
		t.Errorf("received {From: %s, Topic: %q, Data: %q}, want {From: %s, Topic: %q, Data: %q}",
			got.From, got.Topic, abbrev(got.Data), from, topic, abbrev(data))
	}
}

func abbrev(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("%s... (%d bytes)", b[:64], len(b))
	}
	return string(b)
}

func (s *suite) testSelf(t *testing.T) {
	trs := s.net(t)
	want := ids(Peers)
	for i, tr := range trs {
		if got := tr.Self(); got != want[i] {
			t.Errorf("transport %d: Self() = %q, want %q", i, got, want[i])
		}
		if tr.Incoming() != tr.Incoming() {
			t.Errorf("%s: Incoming returns a different channel on each call", tr.Self())
		}
	}
}

func (s *suite) testSendDirect(t *testing.T) {
	trs := s.net(t)
	ctx := t.Context()
	for i, from := range trs {
		for j, to := range trs {
			if i == j {
				continue
			}
			msg := fmt.Appendf(nil, "direct %d->%d", i, j)
			if err := from.Send(ctx, to.Self(), msg); err != nil {
				t.Fatalf("%s: Send to %s: %v", from.Self(), to.Self(), err)
			}
			env := s.recv(t, to, string(msg))
			checkEnvelope(t, env, from.Self(), "", msg)
		}
	}
	s.expectNothing(t, "every direct message was already received", trs...)
}

func (s *suite) testSendToSelf(t *testing.T) {
	trs := s.net(t)
	tr := trs[0]
	msg := []byte("note to self")
	if err := tr.Send(t.Context(), tr.Self(), msg); err != nil {
		t.Fatalf("%s: Send to self: %v", tr.Self(), err)
	}
	checkEnvelope(t, s.recv(t, tr, "a message sent to self"), tr.Self(), "", msg)
	s.expectNothing(t, "a message sent to self reached another peer", trs...)
}

func (s *suite) testEmptyMessage(t *testing.T) {
	trs := s.net(t)
	ctx := t.Context()
	for _, msg := range [][]byte{nil, {}} {
		if err := trs[0].Send(ctx, trs[1].Self(), msg); err != nil {
			t.Fatalf("Send of an empty message: %v", err)
		}
		env := s.recv(t, trs[1], "an empty direct message")
		checkEnvelope(t, env, trs[0].Self(), "", nil)
	}
	if err := trs[0].Broadcast(ctx, "empty", nil); err != nil {
		t.Fatalf("Broadcast of an empty message: %v", err)
	}
	for _, tr := range trs[1:] {
		checkEnvelope(t, s.recv(t, tr, "an empty broadcast"), trs[0].Self(), "empty", nil)
	}
}

func (s *suite) testLargeMessage(t *testing.T) {
	trs := s.net(t)
	ctx := t.Context()
	msg := make([]byte, 1<<20)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	if err := trs[0].Send(ctx, trs[1].Self(), msg); err != nil {
		t.Fatalf("Send of 1 MiB: %v", err)
	}
	checkEnvelope(t, s.recv(t, trs[1], "a 1 MiB direct message"), trs[0].Self(), "", msg)
	if err := trs[0].Broadcast(ctx, "large", msg); err != nil {
		t.Fatalf("Broadcast of 1 MiB: %v", err)
	}
	for _, tr := range trs[1:] {
		checkEnvelope(t, s.recv(t, tr, "a 1 MiB broadcast"), trs[0].Self(), "large", msg)
	}
}

func (s *suite) testBroadcast(t *testing.T) {
	trs := s.net(t)
	ctx := t.Context()
	for i, from := range trs {
		topic := fmt.Sprintf("topic-%d", i)
		msg := fmt.Appendf(nil, "broadcast from %d", i)
		if err := from.Broadcast(ctx, topic, msg); err != nil {
			t.Fatalf("%s: Broadcast: %v", from.Self(), err)
		}
		for j, to := range trs {
			if i == j {
				continue
			}
			checkEnvelope(t, s.recv(t, to, string(msg)), from.Self(), topic, msg)
		}
	}
	// A broadcast never comes back to its sender, and reaches each peer once.
	s.expectNothing(t, "a broadcast was delivered twice or to its own sender", trs...)
}

func (s *suite) testBroadcastEmptyTopic(t *testing.T) {
	trs := s.net(t)
	err := trs[0].Broadcast(t.Context(), "", []byte("no topic"))
	if !errors.Is(err, network.ErrInvalidTopic) {
		t.Fatalf("Broadcast with an empty topic = %v, want %v", err, network.ErrInvalidTopic)
	}
	s.expectNothing(t, "a rejected broadcast was delivered", trs...)
}

func (s *suite) testCopyOnSend(t *testing.T) {
	trs := s.net(t)
	ctx := t.Context()
	buf := []byte("original")
	if err := trs[0].Send(ctx, trs[1].Self(), buf); err != nil {
		t.Fatalf("Send: %v", err)
	}
	copy(buf, "CLOBBERD")
	checkEnvelope(t, s.recv(t, trs[1], "a direct message whose buffer was reused"), trs[0].Self(), "", []byte("original"))

	buf = []byte("original")
	if err := trs[0].Broadcast(ctx, "copy", buf); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	copy(buf, "CLOBBERD")
	// Each receiver owns its copy: modifying one never changes another's.
	for _, tr := range trs[1:] {
		env := s.recv(t, tr, "a broadcast whose buffer was reused")
		checkEnvelope(t, env, trs[0].Self(), "copy", []byte("original"))
		for i := range env.Data {
			env.Data[i] = 'x'
		}
	}
}

// testManyMessages sends a stream of numbered direct messages from every other
// peer to peer 0, each sender in its own goroutine. All must arrive; with
// Ordered, each sender's in order.
func (s *suite) testManyMessages(t *testing.T) {
	const perSender = 200
	trs := s.net(t)
	ctx := t.Context()
	recv := trs[0]
	errs := make(chan error, Peers)
	var wg sync.WaitGroup
	for _, from := range trs[1:] {
		wg.Go(func() {
			for k := range perSender {
				if err := from.Send(ctx, recv.Self(), fmt.Appendf(nil, "%d", k)); err != nil {
					errs <- fmt.Errorf("%s: Send %d: %w", from.Self(), k, err)
					return
				}
			}
		})
	}
	next := make(map[network.PeerID]int)
	seen := make(map[network.PeerID]map[int]bool)
	for range (Peers - 1) * perSender {
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		env := s.recv(t, recv, "the stream of numbered messages")
		var k int
		if _, err := fmt.Sscanf(string(env.Data), "%d", &k); err != nil || env.Topic != "" {
			t.Fatalf("unexpected message from %s: topic %q, %q", env.From, env.Topic, abbrev(env.Data))
		}
		if seen[env.From] == nil {
			seen[env.From] = make(map[int]bool)
		}
		if seen[env.From][k] {
			t.Fatalf("message %d from %s delivered twice", k, env.From)
		}
		seen[env.From][k] = true
		if s.ordered && k != next[env.From] {
			t.Fatalf("out of order: message %d from %s arrived when %d was expected", k, env.From, next[env.From])
		}
		next[env.From] = k + 1
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, from := range trs[1:] {
		if got := len(seen[from.Self()]); got != perSender {
			t.Errorf("received %d messages from %s, want %d", got, from.Self(), perSender)
		}
	}
}

func (s *suite) testUnknownPeer(t *testing.T) {
	trs := s.net(t)
	stranger := network.PeerID("BLS_VER_KEY~networktest-stranger")
	err := trs[0].Send(t.Context(), stranger, []byte("hello?"))
	if !errors.Is(err, network.ErrUnknownPeer) {
		t.Fatalf("Send to an unknown peer = %v, want %v", err, network.ErrUnknownPeer)
	}
	// The transport still works afterwards.
	if err := trs[0].Send(t.Context(), trs[1].Self(), []byte("still here")); err != nil {
		t.Fatalf("Send after an unknown-peer error: %v", err)
	}
	checkEnvelope(t, s.recv(t, trs[1], "a message after an unknown-peer error"), trs[0].Self(), "", []byte("still here"))
}

func (s *suite) testMessageTooLarge(t *testing.T) {
	trs := s.net(t)
	ctx := t.Context()
	huge := make([]byte, network.MaxMessageSize+1)
	if err := trs[0].Send(ctx, trs[1].Self(), huge); !errors.Is(err, network.ErrMessageTooLarge) {
		t.Errorf("Send of %d bytes = %v, want %v", len(huge), err, network.ErrMessageTooLarge)
	}
	if err := trs[0].Broadcast(ctx, "huge", huge); !errors.Is(err, network.ErrMessageTooLarge) {
		t.Errorf("Broadcast of %d bytes = %v, want %v", len(huge), err, network.ErrMessageTooLarge)
	}
	s.expectNothing(t, "an oversize message was delivered", trs...)
}

func (s *suite) testContextDone(t *testing.T) {
	trs := s.net(t)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"canceled", canceled, context.Canceled},
		{"deadline exceeded", expired, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		if err := trs[0].Send(tc.ctx, trs[1].Self(), []byte("late")); !errors.Is(err, tc.want) {
			t.Errorf("Send with a %s context = %v, want %v", tc.name, err, tc.want)
		}
		if err := trs[0].Broadcast(tc.ctx, "late", []byte("late")); !errors.Is(err, tc.want) {
			t.Errorf("Broadcast with a %s context = %v, want %v", tc.name, err, tc.want)
		}
	}
	s.expectNothing(t, "a message sent with a done context was delivered", trs...)
	// A done context affects only its own call.
	if err := trs[0].Send(t.Context(), trs[1].Self(), []byte("on time")); err != nil {
		t.Fatalf("Send after a done context: %v", err)
	}
	checkEnvelope(t, s.recv(t, trs[1], "a message after a done context"), trs[0].Self(), "", []byte("on time"))
}

func (s *suite) testClose(t *testing.T) {
	trs := s.net(t)
	ctx := t.Context()
	victim := trs[0]
	// Fill part of the victim's queue without reading it: Close must not wait
	// for a reader.
	for k := range 100 {
		if err := trs[1].Send(ctx, victim.Self(), fmt.Appendf(nil, "unread %d", k)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	var err error
	s.within(t, "Close with unread messages", func() { err = victim.Close() })
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	s.drainUntilClosed(t, victim)
	if err := victim.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := victim.Send(ctx, trs[1].Self(), []byte("from the grave")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("Send after Close = %v, want %v", err, network.ErrClosed)
	}
	if err := victim.Send(ctx, victim.Self(), []byte("from the grave")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("Send to self after Close = %v, want %v", err, network.ErrClosed)
	}
	if err := victim.Broadcast(ctx, "grave", []byte("from the grave")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("Broadcast after Close = %v, want %v", err, network.ErrClosed)
	}
	// Others may send to the closed peer (it is lost, or reported unknown)
	// without blocking, and keep talking among themselves.
	s.within(t, "Send to a closed peer", func() { err = trs[1].Send(ctx, victim.Self(), []byte("anyone there?")) })
	if err != nil && !errors.Is(err, network.ErrUnknownPeer) {
		t.Errorf("Send to a closed peer = %v, want nil or %v", err, network.ErrUnknownPeer)
	}
	if err := trs[1].Broadcast(ctx, "after", []byte("survivors")); err != nil {
		t.Fatalf("Broadcast after another peer closed: %v", err)
	}
	for _, tr := range trs[2:] {
		checkEnvelope(t, s.recv(t, tr, "a broadcast after another peer closed"), trs[1].Self(), "after", []byte("survivors"))
	}
	s.expectNothing(t, "a broadcast came back to its sender or arrived twice", trs[1:]...)
}

// testConcurrentSenders has every peer send direct messages to every other and
// broadcast, from several goroutines at once, while every peer reads. Every
// message must arrive exactly once with the right sender and topic.
func (s *suite) testConcurrentSenders(t *testing.T) {
	const (
		goroutines = 4
		perG       = 25
	)
	trs := s.net(t)
	ctx := t.Context()
	type key struct {
		from  network.PeerID
		topic string
		data  string
	}
	// Every receiver expects (Peers-1)*goroutines*perG direct messages and as
	// many broadcasts.
	want := (Peers - 1) * goroutines * perG * 2
	got := make([]map[key]int, len(trs))
	var readers sync.WaitGroup
	readErrs := make(chan error, len(trs))
	for i, tr := range trs {
		got[i] = make(map[key]int)
		readers.Go(func() {
			timer := time.NewTimer(s.timeout)
			defer timer.Stop()
			for n := 0; n < want; n++ {
				select {
				case env, ok := <-tr.Incoming():
					if !ok {
						readErrs <- fmt.Errorf("%s: Incoming closed after %d of %d messages", tr.Self(), n, want)
						return
					}
					got[i][key{env.From, env.Topic, string(env.Data)}]++
				case <-timer.C:
					readErrs <- fmt.Errorf("%s: received %d of %d messages within %v", tr.Self(), n, want, s.timeout)
					return
				}
			}
		})
	}
	var senders sync.WaitGroup
	sendErrs := make(chan error, len(trs)*goroutines)
	for i, from := range trs {
		for g := range goroutines {
			senders.Go(func() {
				for k := range perG {
					for j, to := range trs {
						if j == i {
							continue
						}
						if err := from.Send(ctx, to.Self(), fmt.Appendf(nil, "d %d %d %d", g, k, j)); err != nil {
							sendErrs <- fmt.Errorf("%s: Send: %w", from.Self(), err)
							return
						}
					}
					if err := from.Broadcast(ctx, "concurrent", fmt.Appendf(nil, "b %d %d", g, k)); err != nil {
						sendErrs <- fmt.Errorf("%s: Broadcast: %w", from.Self(), err)
						return
					}
				}
			})
		}
	}
	senders.Wait()
	close(sendErrs)
	for err := range sendErrs {
		t.Error(err)
	}
	readers.Wait()
	close(readErrs)
	for err := range readErrs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for j, to := range trs {
		for i, from := range trs {
			if i == j {
				continue
			}
			for g := range goroutines {
				for k := range perG {
					d := key{from.Self(), "", fmt.Sprintf("d %d %d %d", g, k, j)}
					b := key{from.Self(), "concurrent", fmt.Sprintf("b %d %d", g, k)}
					if got[j][d] != 1 || got[j][b] != 1 {
						t.Fatalf("%s: from %s: direct %q received %d times, broadcast %q received %d times, want once each",
							to.Self(), from.Self(), d.data, got[j][d], b.data, got[j][b])
					}
				}
			}
		}
	}
	s.expectNothing(t, "more messages than were sent", trs...)
}

// testCloseWhileSending closes a receiver and a sender while several peers
// send to them: nothing panics or blocks, errors are only the documented ones,
// and the remaining peers keep working.
func (s *suite) testCloseWhileSending(t *testing.T) {
	trs := s.net(t)
	ctx := t.Context()
	stop := make(chan struct{})
	errs := make(chan error, len(trs))
	var senders sync.WaitGroup
	for _, from := range trs[1:] {
		senders.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				err := from.Send(ctx, trs[0].Self(), fmt.Appendf(nil, "spam %d", k))
				if err == nil {
					err = from.Broadcast(ctx, "spam", fmt.Appendf(nil, "spam %d", k))
				}
				if err != nil && !errors.Is(err, network.ErrClosed) && !errors.Is(err, network.ErrUnknownPeer) {
					errs <- fmt.Errorf("%s: %w (want nil, %v or %v)", from.Self(), err, network.ErrClosed, network.ErrUnknownPeer)
					return
				}
				if k%64 == 63 {
					time.Sleep(time.Millisecond) // let the readers and Close in
				}
			}
		})
	}
	// Readers keep the survivors' queues from filling.
	var readers sync.WaitGroup
	for _, tr := range trs {
		readers.Go(func() {
			for range tr.Incoming() {
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	s.within(t, "Close of a receiver under load", func() { _ = trs[0].Close() })
	time.Sleep(10 * time.Millisecond)
	s.within(t, "Close of a sender under load", func() { _ = trs[1].Close() })
	time.Sleep(10 * time.Millisecond)
	close(stop)
	s.within(t, "senders stopping", senders.Wait)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := trs[1].Send(ctx, trs[2].Self(), []byte("x")); !errors.Is(err, network.ErrClosed) {
		t.Errorf("Send from a closed sender = %v, want %v", err, network.ErrClosed)
	}
	// Closing the survivors ends their readers; the closed ones already ended.
	for _, tr := range trs[2:] {
		if err := tr.Close(); err != nil {
			t.Errorf("%s: Close: %v", tr.Self(), err)
		}
	}
	s.within(t, "readers seeing Incoming closed", readers.Wait)
}

func (s *suite) testPeerCounter(t *testing.T) {
	trs := s.net(t)
	if _, ok := trs[0].(network.PeerCounter); !ok {
		t.Skip("transport does not implement network.PeerCounter")
	}
	waitPeers := func(tr network.Transport, want int) {
		t.Helper()
		pc := tr.(network.PeerCounter)
		deadline := time.Now().Add(s.timeout)
		for {
			got := pc.ConnectedPeers()
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: ConnectedPeers() = %d after %v, want %d", tr.Self(), got, s.timeout, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, tr := range trs {
		waitPeers(tr, Peers-1)
	}
	if err := trs[0].Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, tr := range trs[1:] {
		waitPeers(tr, Peers-2)
	}
}

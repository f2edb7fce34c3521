package memnet_test

import (
	"testing"
	"time"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
)

// timeout bounds every wait in these tests.
const timeout = 5 * time.Second

// quiet is how long a test watches for a message that must not arrive.
const quiet = 50 * time.Millisecond

// join joins every id to hub and fails the test on error.
func join(t *testing.T, hub *memnet.Hub, ids ...network.PeerID) []*memnet.Transport {
	t.Helper()
	trs := make([]*memnet.Transport, len(ids))
	for i, id := range ids {
		tr, err := hub.Join(id)
		if err != nil {
			t.Fatalf("Join(%s): %v", id, err)
		}
		t.Cleanup(func() { _ = tr.Close() })
		trs[i] = tr
	}
	return trs
}

// recv returns the next message of tr, failing the test at the deadline.
func recv(t *testing.T, tr *memnet.Transport) network.Envelope {
	t.Helper()
	select {
	case env, ok := <-tr.Incoming():
		if !ok {
			t.Fatalf("%s: Incoming closed", tr.Self())
		}
		return env
	case <-time.After(timeout):
		t.Fatalf("%s: nothing received within %v", tr.Self(), timeout)
	}
	return network.Envelope{}
}

// expectData receives one message on tr and checks its sender, topic and data.
func expectData(t *testing.T, tr *memnet.Transport, from network.PeerID, topic, data string) {
	t.Helper()
	env := recv(t, tr)
	if env.From != from || env.Topic != topic || string(env.Data) != data {
		t.Fatalf("%s received {%s %q %q}, want {%s %q %q}", tr.Self(), env.From, env.Topic, env.Data, from, topic, data)
	}
}

// expectNone fails the test if any of trs has or gets a message within the
// quiet period.
func expectNone(t *testing.T, trs ...*memnet.Transport) {
	t.Helper()
	time.Sleep(quiet)
	for _, tr := range trs {
		select {
		case env, ok := <-tr.Incoming():
			if ok {
				t.Errorf("%s: unexpected message {%s %q %q}", tr.Self(), env.From, env.Topic, env.Data)
			}
		default:
		}
	}
}

// waitIdle waits until the hub has no delayed message pending.
func waitIdle(t *testing.T, hub *memnet.Hub) memnet.Stats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := hub.Stats()
		if st.InFlight == 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d delayed messages still pending after %v", st.InFlight, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// checkBalance checks the Stats identity once nothing is in flight.
func checkBalance(t *testing.T, hub *memnet.Hub) memnet.Stats {
	t.Helper()
	st := waitIdle(t, hub)
	if st.Sent+st.Duplicated != st.Delivered+st.Dropped {
		t.Errorf("stats %+v: Sent+Duplicated = %d, Delivered+Dropped = %d", st, st.Sent+st.Duplicated, st.Delivered+st.Dropped)
	}
	return st
}

func send(t *testing.T, from *memnet.Transport, to network.PeerID, data string) {
	t.Helper()
	if err := from.Send(t.Context(), to, []byte(data)); err != nil {
		t.Fatalf("%s: Send to %s: %v", from.Self(), to, err)
	}
}

func broadcast(t *testing.T, from *memnet.Transport, topic, data string) {
	t.Helper()
	if err := from.Broadcast(t.Context(), topic, []byte(data)); err != nil {
		t.Fatalf("%s: Broadcast: %v", from.Self(), err)
	}
}

// Package networktest is the conformance suite for network.Transport
// implementations. A transport's own tests call Run with a function that
// builds a connected network of that transport:
//
//	func TestConformance(t *testing.T) {
//		networktest.Run(t, func(t *testing.T, ids []network.PeerID) []network.Transport {
//			hub := memnet.NewHub()
//			trs := make([]network.Transport, len(ids))
//			for i, id := range ids {
//				tr, err := hub.Join(id)
//				if err != nil {
//					t.Fatal(err)
//				}
//				trs[i] = tr
//			}
//			return trs
//		}, networktest.Ordered())
//	}
//
// Run checks, each in its own subtest on a fresh network: Self, direct
// delivery with the right From and Topic, sending to oneself, empty and large
// messages, broadcast reaching every other peer and never the sender, copies
// on send (a sender reusing its buffer, or one receiver modifying its copy,
// never changes what another sees), per-sender FIFO order of direct messages
// (only when the transport promises it: pass Ordered), rejection of oversize
// messages and of broadcasts without a topic, context cancellation, the
// unknown-peer error, Close (Incoming closed, ErrClosed afterwards,
// idempotent, never blocked by a full queue), many concurrent senders (run the
// suite with -race), Close racing with senders, and PeerCounter when the
// transport implements it.
//
// Every wait has a deadline (5 s by default, see WithTimeout), so a broken
// transport fails the suite instead of hanging it. The suite sends at most a
// few hundred messages to any one peer while that peer is reading, so a
// transport with a receive queue of 1024 envelopes or more passes it without
// drops.
package networktest

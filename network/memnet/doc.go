// Package memnet is an in-process network.Transport for tests: peers that
// join the same Hub exchange messages through Go channels, and the hub injects
// faults on demand.
//
//	hub := memnet.NewHub()
//	a, err := hub.Join("BLS_VER_KEY~a")
//	...
//	b, err := hub.Join("BLS_VER_KEY~b")
//	...
//	err = a.Send(ctx, b.Self(), []byte("hello"))
//	env := <-b.Incoming() // {From: "BLS_VER_KEY~a", Topic: "", Data: "hello"}
//
// # Delivery
//
// Sending is a channel push done by the sender's goroutine: Send and
// Broadcast copy the message once per recipient and put it straight into the
// recipient's bounded queue, with no goroutine per message unless a filter
// delays it. A queue holds DefaultQueueSize (4096) envelopes unless
// WithQueueSize says otherwise; when it is full the message is dropped and
// counted (Transport.Dropped, Hub.Stats) and the sender carries on. Nothing in
// memnet ever blocks a sender.
//
// Without faults (no filter that delays messages), memnet delivers the direct
// messages of one sender to one receiver in the order they were sent: a Send
// that returns before another starts is delivered first. The same holds for a
// sender's broadcasts, and between its broadcasts and direct messages to the
// same receiver. Drops and partitions preserve the order of what is still
// delivered; delays reorder. Send to an id that has not joined (or has left)
// returns network.ErrUnknownPeer; messages lost to a partition or a filter
// are silent, as on a real network.
//
// # Faults
//
// All fault hooks are safe for concurrent use and take effect at once, also
// while messages are flowing:
//
//   - Hub.SetFilter installs a Filter that decides the Fate of every
//     (sender, recipient) envelope: deliver, drop, duplicate, or delay by a
//     duration (delays use time.AfterFunc in real time). RandomDelay, DropRate
//     and DuplicateRate build seeded filters whose decisions depend only on the
//     seed and on each sender-recipient pair's message count, not on goroutine
//     scheduling; Chain combines filters. Random delays reorder messages.
//   - Hub.Partition splits peers into groups that cannot talk across; a peer in
//     no group is isolated, a peer named in several groups talks to all of
//     them. Hub.Heal removes the partition.
//   - Hub.Disconnect closes a peer's transport as if it crashed: it receives
//     nothing more and its sends fail with network.ErrClosed. Hub.Join brings
//     it back with a fresh transport.
//
// The partition is checked when a message is sent, before the filter is
// asked: a message sent across it is lost, even if the partition heals before
// a delay would have ended. A delayed message is checked again when its delay
// ends: it is dropped if the receiver has left in the meantime (even if it has
// joined again: the new transport is another connection) or if a partition now
// separates the two peers.
//
// Hub.Stats counts what the hub carried, for assertions in tests.
package memnet

package nodetest

import (
	"context"
	"crypto/sha256"
	"slices"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/types"
)

// Behaviour makes a node Byzantine: it rewrites the consensus messages the
// node's honest engine sends. Set one with Network.MakeByzantine.
// Behaviours work in both modes: on real nodes (Network.MakeByzantine) and
// in the simulation (SimConfig.Byzantine).
type Behaviour interface {
	// rewrite returns the messages to send instead of m, each to a member
	// index (consensus.Broadcast for all).
	rewrite(c *byzContext, to int, m consensus.Message) []addressed
}

// byzContext is what a Byzantine node knows: its key, the network, its index.
type byzContext struct {
	key     keys.StakingKey
	genesis [32]byte
	self, n int
}

type addressed struct {
	to int
	m  consensus.Message
}

// EquivocatingLeader sends one proposal to half of its peers and a
// different, validly signed one to the other half.
type EquivocatingLeader struct{}

// DoubleVoter sends, with each quorum vote, a second validly signed vote for
// another leaf in the same view.
type DoubleVoter struct{}

// BadSignatures replaces the signature of every vote and proposal with a
// valid signature over other data.
type BadSignatures struct{}

// FutureViews sends, with every vote, copies for views far ahead of the
// current one.
type FutureViews struct{}

// VoteFlood sends, with each quorum vote, Votes more votes of the same view
// for made-up leaves, all carrying the real vote's signature (the cheapest
// flood to make: the receiver must look at each one).
type VoteFlood struct{ Votes int }

func (f VoteFlood) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	v, ok := m.(*consensus.Vote)
	if !ok {
		return []addressed{{to, m}}
	}
	out := make([]addressed, 0, f.Votes+1)
	out = append(out, addressed{to, v})
	for i := range f.Votes {
		fake := *v
		fake.Leaf = sha256.Sum256(append(v.Leaf[:], byte(i), byte(i>>8), byte(i>>16)))
		out = append(out, addressed{to, &fake})
	}
	return out
}

func (EquivocatingLeader) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	p, ok := m.(*consensus.Proposal)
	if !ok || to != consensus.Broadcast {
		return []addressed{{to, m}}
	}
	alt := *p
	alt.Leaf.Header.Timestamp++ // a different leaf for the same view
	alt.Signature = consensus.SignProposal(c.key, c.genesis, &alt.Leaf)
	var out []addressed
	for i := range c.n {
		switch {
		case i == c.self:
		case i%2 == 0:
			out = append(out, addressed{i, p})
		default:
			out = append(out, addressed{i, &alt})
		}
	}
	return out
}

func (DoubleVoter) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	v, ok := m.(*consensus.Vote)
	if !ok {
		return []addressed{{to, m}}
	}
	other := *v
	other.Leaf = sha256.Sum256(v.Leaf[:])
	other.Signature = consensus.SignVote(c.key, c.genesis, v.View, other.Leaf)
	return []addressed{{to, &other}, {to, v}}
}

func (BadSignatures) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	junk := c.key.Sign([]byte("not what the message says"))
	switch v := m.(type) {
	case *consensus.Vote:
		c := *v
		c.Signature = junk
		return []addressed{{to, &c}}
	case *consensus.Proposal:
		c := *v
		c.Signature = junk
		return []addressed{{to, &c}}
	case *consensus.TimeoutVote:
		c := *v
		c.Signature = junk
		return []addressed{{to, &c}}
	}
	return []addressed{{to, m}}
}

func (FutureViews) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	out := []addressed{{to, m}}
	if v, ok := m.(*consensus.Vote); ok {
		for _, ahead := range []types.ViewNumber{1_000, 1_000_000} {
			f := *v
			f.View += ahead
			f.Signature = consensus.SignVote(c.key, c.genesis, f.View, f.Leaf)
			out = append(out, addressed{to, &f})
		}
	}
	return out
}

// MakeByzantine gives node i a Byzantine behaviour from its next (re)start;
// call it before the node starts (crash and restart it to apply).
func (n *Network) MakeByzantine(i int, b Behaviour) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.byz[i] = b
}

// framed is a frame addressed to a member index (consensus.Broadcast for
// every other member).
type framed struct {
	to   int
	data []byte
}

// rewriteFrame applies behaviour b to a frame its node is about to send to
// to. Frames that are not consensus messages pass unchanged. Both modes use
// it: the Byzantine transport of real nodes and the simulation's Sender.
func rewriteFrame(b Behaviour, c *byzContext, to int, data []byte) ([]framed, error) {
	f, err := replica.DecodeFrame(data)
	if err != nil || f.Consensus == nil {
		return []framed{{to, data}}, nil
	}
	var out []framed
	for _, a := range b.rewrite(c, to, f.Consensus) {
		d, err := replica.EncodeMessage(a.m)
		if err != nil {
			return nil, err
		}
		out = append(out, framed{a.to, d})
	}
	return out, nil
}

// byzantine wraps a real node's transport and rewrites its consensus
// messages.
type byzantine struct {
	network.Transport
	behaviour Behaviour
	ctx       byzContext
	ids       []network.PeerID
}

func (b *byzantine) index(id network.PeerID) int {
	for i, x := range b.ids {
		if x == id {
			return i
		}
	}
	return consensus.Broadcast
}

func (b *byzantine) Send(ctx context.Context, to network.PeerID, msg []byte) error {
	return b.rewriteAndSend(ctx, b.index(to), replica.TopicConsensus, msg)
}

func (b *byzantine) Broadcast(ctx context.Context, topic string, msg []byte) error {
	return b.rewriteAndSend(ctx, consensus.Broadcast, topic, msg)
}

func (b *byzantine) rewriteAndSend(ctx context.Context, to int, topic string, msg []byte) error {
	frames, err := rewriteFrame(b.behaviour, &b.ctx, to, msg)
	if err != nil {
		return err
	}
	for _, f := range frames {
		if f.to == consensus.Broadcast {
			err = b.Transport.Broadcast(ctx, topic, f.data)
		} else {
			err = b.Transport.Send(ctx, b.ids[f.to], f.data)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// byzSender is the simulation's counterpart of byzantine: it wraps a
// replica's Sender.
type byzSender struct {
	replica.Sender
	behaviour Behaviour
	ctx       byzContext
}

func (b *byzSender) Send(ctx context.Context, to int, data []byte) {
	b.rewriteAndSend(ctx, to, replica.TopicConsensus, data)
}

func (b *byzSender) Broadcast(ctx context.Context, topic string, data []byte) {
	b.rewriteAndSend(ctx, consensus.Broadcast, topic, data)
}

func (b *byzSender) rewriteAndSend(ctx context.Context, to int, topic string, data []byte) {
	frames, err := rewriteFrame(b.behaviour, &b.ctx, to, data)
	if err != nil {
		return // the behaviour built a message that does not encode: nothing is sent
	}
	for _, f := range frames {
		if f.to == consensus.Broadcast {
			b.Sender.Broadcast(ctx, topic, f.data)
		} else {
			b.Sender.Send(ctx, f.to, f.data)
		}
	}
}

// Withhold sends nothing to the members listed in From, and everything else
// as an honest node would: a member that silently leaves part of the
// network out (docs/protocol.md, "Liveness after faults": liveness must hold with up to f such members).
type Withhold struct {
	From []int
}

func (w Withhold) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	if to != consensus.Broadcast {
		if slices.Contains(w.From, to) {
			return nil
		}
		return []addressed{{to, m}}
	}
	var out []addressed
	for i := range c.n {
		if i != c.self && !slices.Contains(w.From, i) {
			out = append(out, addressed{i, m})
		}
	}
	return out
}

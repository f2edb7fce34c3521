package p2p

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/gospresso/gospresso/network"
)

// Gossip bounds (docs/network.md, "Broadcasts").
const (
	// gossipOverhead is what a gossipsub RPC adds to a message's data
	// (signature, key, sequence number, topic), allowed on top of
	// MaxGossipSize.
	gossipOverhead = 4096 + maxTopicLen
	// maxAutoTopics bounds the topics joined because a peer subscribed to
	// them.
	maxAutoTopics = 64
	// maxSubsPerRPC bounds the subscriptions one RPC may carry.
	maxSubsPerRPC = 128
	// gossipQueue sizes gossipsub's per-peer outbound queue, validation
	// queue and subscription buffers, in messages.
	gossipQueue = 4096
)

// topicState is a joined topic.
type topicState struct {
	name      string
	topic     *pubsub.Topic
	sub       *pubsub.Subscription
	published atomic.Bool // the first broadcast has waited for readiness
}

func (t *Transport) newPubSub() (*pubsub.PubSub, error) {
	g := t.cfg.Gossip
	opts := []pubsub.Option{
		pubsub.WithGossipSubParams(g.params()),
		pubsub.WithFloodPublish(g.FloodPublish),
		pubsub.WithSeenMessagesTTL(g.DuplicateCacheTime),
		pubsub.WithMaxMessageSize(t.cfg.MaxGossipSize + gossipOverhead),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithPeerOutboundQueueSize(gossipQueue),
		pubsub.WithValidateQueueSize(gossipQueue),
		pubsub.WithDefaultValidator(pubsub.ValidatorEx(t.validate), pubsub.WithValidatorTimeout(handshakeTimeout)),
		pubsub.WithSubscriptionFilter((*subFilter)(t)),
		pubsub.WithLogger(t.log.With("component", "gossipsub")),
	}
	if n := g.MaxMessagesPerRPC; n > 0 {
		opts = append(opts, pubsub.WithAppSpecificRpcInspector(func(p peer.ID, rpc *pubsub.RPC) error {
			if len(rpc.GetPublish()) > n {
				return fmt.Errorf("p2p: %d messages in one RPC from %s (at most %d)", len(rpc.GetPublish()), p, n)
			}
			return nil
		}))
	}
	return pubsub.NewGossipSub(t.ctx, t.host, opts...)
}

// join returns the joined topic name, joining and subscribing to it first if
// needed.
func (t *Transport) join(name string) (*topicState, error) {
	t.topicMu.Lock()
	defer t.topicMu.Unlock()
	if ts := t.topics[name]; ts != nil {
		return ts, nil
	}
	if t.isClosed.Load() {
		return nil, network.ErrClosed
	}
	tp, err := t.ps.Join(name)
	if err != nil {
		return nil, err
	}
	sub, err := tp.Subscribe(pubsub.WithBufferSize(gossipQueue))
	if err != nil {
		_ = tp.Close()
		return nil, err
	}
	ts := &topicState{name: name, topic: tp, sub: sub}
	t.topics[name] = ts
	t.joined.Store(name, true)
	t.goTracked(func() { t.readTopic(ts) })
	return ts, nil
}

// readTopic delivers the gossip of one topic. The validator has mapped each
// message's publisher to its staking key; this node's own messages are
// skipped.
func (t *Transport) readTopic(ts *topicState) {
	for {
		m, err := ts.sub.Next(t.ctx)
		if err != nil {
			return
		}
		if m.ReceivedFrom == t.id || m.GetFrom() == t.id {
			continue
		}
		from, ok := m.ValidatorData.(network.PeerID)
		if !ok {
			continue
		}
		t.deliver(network.Envelope{From: from, Topic: ts.name, Data: bytes.Clone(nonEmpty(m.Data))})
	}
}

// waitTopicReady makes the first broadcast on a topic wait until every
// verified peer has joined it (gossipsub silently drops what is published
// before peers join), at most readyTimeout and never past ctx. Later
// broadcasts do not wait.
func (t *Transport) waitTopicReady(ctx context.Context, ts *topicState) error {
	if ts.published.Load() {
		return nil
	}
	defer ts.published.Store(true)
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if t.topicReady(ts.name) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.ctx.Done():
			return network.ErrClosed
		case <-deadline.C:
			return nil
		case <-tick.C:
		}
	}
}

// topicReady reports whether at least one peer is verified and every
// verified peer has joined topic.
func (t *Transport) topicReady(topic string) bool {
	verified := t.verifiedPeers()
	if len(verified) == 0 {
		return false
	}
	in := 0
	for _, p := range t.ps.ListPeers(topic) {
		if verified[p] {
			in++
		}
	}
	return in == len(verified)
}

// validate is gossipsub's validator for every topic: a message is accepted
// only when the peer it came from is verified and its (signed) publisher is
// a verified member; the publisher's staking key is passed to readTopic.
// Anything else is ignored: neither delivered nor relayed.
func (t *Transport) validate(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
	if from == t.id {
		return pubsub.ValidationAccept // this node's own publication
	}
	pub := m.GetFrom()
	if pub == t.id || t.waitVerified(ctx, from) == nil {
		return pubsub.ValidationIgnore
	}
	info := t.waitVerified(ctx, pub)
	if info == nil || !info.member {
		return pubsub.ValidationIgnore
	}
	m.ValidatorData = info.key
	return pubsub.ValidationAccept
}

// subFilter is the transport as gossipsub's subscription filter: it lets
// every subscription through and joins the topics that verified peers
// subscribe to, so broadcasts on any topic reach every peer.
type subFilter Transport

func (f *subFilter) CanSubscribe(string) bool { return true }

func (f *subFilter) FilterIncomingSubscriptions(p peer.ID, subs []*pb.RPC_SubOpts) ([]*pb.RPC_SubOpts, error) {
	if len(subs) > maxSubsPerRPC {
		return nil, fmt.Errorf("p2p: %d subscriptions in one RPC from %s (at most %d)", len(subs), p, maxSubsPerRPC)
	}
	t := (*Transport)(f)
	for _, s := range subs {
		name := s.GetTopicid()
		if !s.GetSubscribe() || name == "" || len(name) > maxTopicLen {
			continue
		}
		if _, ok := t.joined.Load(name); ok {
			continue
		}
		// Runs on gossipsub's event loop: only t.mu, never a call into
		// pubsub.
		t.mu.Lock()
		st := t.peers[p]
		verified := st != nil && st.info != nil
		if st != nil && !verified && len(st.pending) < maxAutoTopics {
			st.pending = append(st.pending, name)
		}
		t.mu.Unlock()
		if verified {
			t.requestJoin(name)
		}
	}
	return subs, nil
}

// requestJoin asks autoJoinLoop to join topic, without blocking.
func (t *Transport) requestJoin(topic string) {
	select {
	case t.autoJoin <- topic:
	default:
	}
}

// autoJoinLoop joins the topics peers subscribe to, up to maxAutoTopics.
func (t *Transport) autoJoinLoop() {
	for {
		select {
		case <-t.ctx.Done():
			return
		case name := <-t.autoJoin:
			if _, ok := t.joined.Load(name); ok {
				continue
			}
			t.topicMu.Lock()
			full := t.autoJoined >= maxAutoTopics
			if !full {
				t.autoJoined++
			}
			t.topicMu.Unlock()
			if full {
				t.log.Debug("p2p: not joining a topic peers subscribed to: too many topics", "topic", name)
				continue
			}
			if _, err := t.join(name); err != nil && t.ctx.Err() == nil {
				t.log.Debug("p2p: join topic", "topic", name, "err", err)
			}
		}
	}
}

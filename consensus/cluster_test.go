package consensus_test

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// cluster drives a few engines by hand: a FIFO of messages, a drop filter
// and a manual clock, so a test can script exactly which messages are lost.
type cluster struct {
	t       testing.TB
	h       *harness
	engines []*consensus.Engine
	now     time.Time
	queue   []envelope
	// drop, when set, decides which messages are lost.
	drop func(env envelope) bool
	// decided holds each node's decided leaves by commitment, for fetches.
	decided []map[types.Commitment]consensus.FetchedLeaf
	height  []uint64
	sent    []envelope // every message sent, dropped or not
	// persisted is what each node has asked to persist, as a restarted
	// engine would load it.
	persisted []consensus.State
	// firstHeight, when set for a node, is the lowest height it still
	// holds: it has pruned the decided leaves below and answers requests
	// for them with FetchUnavailable.
	firstHeight map[int]uint64
	// maxLeaves and maxDecided are, per node, the most leaves held at once
	// and the most blocks decided in one step.
	maxLeaves, maxDecided []int
}

type envelope struct {
	from, to int
	m        consensus.Message
}

// clusterConfig has short timers, so scripted scenarios cover many views.
var clusterConfig = consensus.Config{
	NextViewTimeout: 100 * time.Millisecond,
	ViewSyncTimeout: 100 * time.Millisecond,
	BuilderTimeout:  10 * time.Millisecond,
	FetchTimeout:    100 * time.Millisecond,
}

func newCluster(t testing.TB, n int) *cluster {
	t.Helper()
	return newClusterWith(t, n, clusterConfig)
}

// newClusterWith is newCluster with other consensus parameters.
func newClusterWith(t testing.TB, n int, cfg consensus.Config) *cluster {
	t.Helper()
	h := newHarness(t, n)
	c := &cluster{t: t, h: h, now: h.now}
	for i := range n {
		e, err := consensus.New(consensus.Params{
			Config:     cfg,
			StakeTable: h.table, Key: h.keys[i].Staking, Genesis: h.genesis, GenesisLeaf: h.leaf,
			Validator: emptyApp{h.rules}, Builder: emptyApp{h.rules},
			Now: h.now, Logger: clusterLogger(i),
		})
		if err != nil {
			t.Fatal(err)
		}
		c.engines = append(c.engines, e)
		c.decided = append(c.decided, map[types.Commitment]consensus.FetchedLeaf{h.leaf.Commit(): {Leaf: h.leaf}})
		c.height = append(c.height, 0)
		c.persisted = append(c.persisted, consensus.State{Anchor: consensus.FetchedLeaf{Leaf: h.leaf}, AnchorQC: types.GenesisQC(&h.leaf)})
	}
	for i := range n {
		c.collect(i)
	}
	return c
}

// collect takes node i's Ready and queues its messages.
func (c *cluster) collect(i int) {
	r := c.engines[i].Ready()
	if r.Halt != nil {
		c.t.Fatalf("node %d halted: %v", i, r.Halt)
	}
	p := &c.persisted[i]
	if r.Safety != nil {
		p.Safety = *r.Safety
	}
	p.Proposals = append(p.Proposals, r.Proposals...)
	if len(c.maxLeaves) == 0 {
		c.maxLeaves, c.maxDecided = make([]int, len(c.engines)), make([]int, len(c.engines))
	}
	c.maxLeaves[i] = max(c.maxLeaves[i], c.engines[i].LeafCount())
	c.maxDecided[i] = max(c.maxDecided[i], len(r.Decided))
	for _, d := range r.Decided {
		c.decided[i][d.Leaf.Commit()] = consensus.FetchedLeaf{Leaf: d.Leaf, Payload: d.Payload}
		c.height[i] = d.Leaf.Height()
		p.Anchor, p.AnchorQC = consensus.FetchedLeaf{Leaf: d.Leaf, Payload: d.Payload}, d.QC
	}
	for _, o := range r.Messages {
		if o.To == consensus.Broadcast {
			for j := range c.engines {
				if j != i {
					c.queue = append(c.queue, envelope{i, j, o.Msg})
				}
			}
			continue
		}
		c.queue = append(c.queue, envelope{i, o.To, o.Msg})
	}
}

// deliver hands every queued message to its receiver, and the messages
// those cause, until none are left.
func (c *cluster) deliver() {
	for steps := 0; len(c.queue) > 0; steps++ {
		if steps > 100_000 {
			c.t.Fatal("cluster: messages keep causing messages")
		}
		env := c.queue[0]
		c.queue = c.queue[1:]
		c.sent = append(c.sent, env)
		if c.drop != nil && c.drop(env) {
			continue
		}
		if resp := c.serve(env); resp != nil {
			c.queue = append(c.queue, envelope{env.to, env.from, resp})
			continue
		} else if _, req := env.m.(*consensus.FetchRequest); req {
			continue
		} else if _, req := env.m.(*consensus.HeaderRequest); req {
			continue
		}
		c.engines[env.to].Step(env.from, env.m)
		c.collect(env.to)
	}
}

// run advances the clock by d in steps of 5ms, ticking every node and
// delivering what they send.
func (c *cluster) run(d time.Duration) {
	end := c.now.Add(d)
	for c.now.Before(end) {
		c.now = c.now.Add(5 * time.Millisecond)
		for i, e := range c.engines {
			e.Tick(c.now)
			c.collect(i)
		}
		c.deliver()
	}
}

// runUntil runs until cond holds, for at most d; it reports how long it took.
func (c *cluster) runUntil(d time.Duration, cond func() bool) (time.Duration, bool) {
	start := c.now
	for !cond() {
		if c.now.Sub(start) >= d {
			return c.now.Sub(start), false
		}
		c.run(5 * time.Millisecond)
	}
	return c.now.Sub(start), true
}

func (c *cluster) views() []types.ViewNumber {
	out := make([]types.ViewNumber, len(c.engines))
	for i, e := range c.engines {
		out[i] = e.View()
	}
	return out
}

// sentTo returns the messages sent to node to since index from of c.sent.
func (c *cluster) sentTo(to, from int) []envelope {
	var out []envelope
	for _, env := range c.sent[from:] {
		if env.to == to {
			out = append(out, env)
		}
	}
	return out
}

// serve answers a request for leaves as a node would from its store: from
// the engine's leaves and the node's decided ones above its firstHeight.
// It returns nil for a message that is not such a request, or when there
// is no answer.
func (c *cluster) serve(env envelope) consensus.Message {
	to := env.to
	lookup := func(x types.Commitment) (consensus.FetchedLeaf, bool) {
		if l, ok := c.engines[to].Leaf(x); ok {
			return l, true
		}
		l, ok := c.decided[to][x]
		if ok && l.Leaf.Height() < c.firstHeight[to] {
			return consensus.FetchedLeaf{}, false
		}
		return l, ok
	}
	var id uint64
	switch req := env.m.(type) {
	case *consensus.FetchRequest:
		if resp := consensus.ServeFetch(req, lookup); resp != nil {
			return resp
		}
		id = req.ID
	case *consensus.HeaderRequest:
		resp := consensus.ServeHeaders(req, func(x types.Commitment) (types.Leaf, bool) {
			l, ok := lookup(x)
			return l.Leaf, ok
		})
		if resp != nil {
			return resp
		}
		id = req.ID
	default:
		return nil
	}
	if first := c.firstHeight[to]; first > 0 {
		return &consensus.FetchUnavailable{ID: id, FirstHeight: first}
	}
	return nil
}

// clusterLogger is where node i logs: nowhere, unless a debugging session
// sets debugNode.
func clusterLogger(i int) *slog.Logger {
	if i != debugNode {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// debugNode is the node whose logs a debugging session wants (-1: none).
var debugNode = -1

package node

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/node/replica"
)

// FetchQueueLen is how many admitted requests for missing leaves wait for
// the node's fetch server; a request that finds the queue full is dropped
// and counted (consensus_fetch_requests_dropped), so a burst of requests
// never holds up the run loop (docs/protocol.md, "Serving fetch requests").
const FetchQueueLen = 128

// WithFetchObservers names the peers outside the stake table whose requests
// for missing leaves the node answers, each within replica.FetchRate and
// replica.FetchBurst, as a member's: the observers that follow the chain
// through this node (docs/protocol.md, "Serving fetch requests"). Requests
// from other non-members are refused and counted
// (consensus_fetch_requests_not_allowed). Default: none; members are
// always answered.
func WithFetchObservers(ids ...network.PeerID) Option {
	return func(st *settings) error {
		for _, id := range ids {
			if id == "" {
				return fmt.Errorf("%w: WithFetchObservers: empty peer ID", ErrInvalidOption)
			}
		}
		st.fetchObservers = append([]network.PeerID(nil), ids...)
		return once("WithFetchObservers", st)
	}
}

// fetchJob is an admitted request waiting for the fetch server.
type fetchJob struct {
	to  network.PeerID
	req consensus.Message // *consensus.FetchRequest or *consensus.HeaderRequest
}

// fetcher answers requests for missing leaves on its own goroutine, off the
// run loop: the run loop admits a request (sender and rate) and queues it
// without waiting; the fetcher builds the answer from the replica's
// FetchServer (the replica's undecided leaves and the store) and sends it.
type fetcher struct {
	server    *replica.FetchServer
	transport network.Transport
	queue     chan fetchJob
	dropped   atomic.Uint64
	done      chan struct{}
	// onSendFailed counts an answer the transport failed to send.
	onSendFailed func(to network.PeerID, err error)
}

func newFetcher(server *replica.FetchServer, t network.Transport, queueLen int, onSendFailed func(network.PeerID, error)) *fetcher {
	return &fetcher{server: server, transport: t, queue: make(chan fetchJob, queueLen),
		done: make(chan struct{}), onSendFailed: onSendFailed}
}

// run answers queued requests until ctx ends.
func (f *fetcher) run(ctx context.Context) {
	defer close(f.done)
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-f.queue:
			answer := f.server.Answer(ctx, job.req)
			if answer == nil {
				continue
			}
			if err := f.transport.Send(ctx, job.to, answer); err != nil && f.onSendFailed != nil {
				f.onSendFailed(job.to, err)
			}
		}
	}
}

// enqueue queues a request without blocking; it reports false when the
// queue is full and the request was dropped (and counted).
func (f *fetcher) enqueue(job fetchJob) bool {
	select {
	case f.queue <- job:
		return true
	default:
		f.dropped.Add(1)
		return false
	}
}

// routeFetch handles a request for missing leaves on the run loop without
// touching the engine: it is refused unless its sender is a member or an
// observer within its rate, and queued for the fetcher otherwise.
func (n *Node) routeFetch(from int, env network.Envelope, req consensus.Message) {
	peer := replica.FetchPeer{Member: from, ID: env.From}
	if err := n.fetcher.server.Admit(peer, n.s.clock.Now()); err != nil {
		if errors.Is(err, replica.ErrFetchNotAllowed) {
			n.log.Debug("fetch request refused", "peer", string(env.From), "err", err)
		}
		return
	}
	if !n.fetcher.enqueue(fetchJob{to: env.From, req: req}) {
		n.log.Debug("fetch request dropped: the queue is full", "peer", string(env.From))
	}
}

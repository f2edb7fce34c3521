package node

import (
	"context"
	"runtime"
	"sync"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/node/replica"
)

// checkQueue bounds the messages between the transport and the run loop
// that are being, or wait to be, checked.
const checkQueue = 64

// maxCheckWorkers caps the default number of verification workers.
const maxCheckWorkers = 4

// defaultCheckWorkers is the number of verification workers a node runs
// unless WithVerifyWorkers says otherwise: one per core, at most
// maxCheckWorkers.
func defaultCheckWorkers() int { return min(runtime.GOMAXPROCS(0), maxCheckWorkers) }

// checkJob is one incoming message on its way to the run loop. A message
// with something to check (replica.Checkable) goes to a worker, which
// decodes and checks it (replica.Check) and then closes done; any other is
// decoded by the run loop itself (done is nil, checked unset).
type checkJob struct {
	env     network.Envelope
	from    int
	checked replica.Checked
	done    chan struct{}
}

// ahead reports whether a worker checks j.
func (j *checkJob) ahead() bool { return j.done != nil }

// checks decodes incoming messages and checks their signatures on a pool
// of workers ahead of the run loop (docs/protocol.md, "Signature checks"),
// and hands them to it in the order they arrived, so the engine sees the
// same sequence of messages as without it.
type checks struct {
	out  chan *checkJob
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// startChecks starts workers verification workers reading in.
func (n *Node) startChecks(ctx context.Context, in <-chan network.Envelope, workers int) *checks {
	ctx, stop := context.WithCancel(ctx)
	c := &checks{out: make(chan *checkJob, checkQueue), stop: stop}
	work := make(chan *checkJob, checkQueue)
	var workersDone sync.WaitGroup
	for range workers {
		workersDone.Go(func() {
			for j := range work {
				n.check(j)
			}
		})
	}
	c.wg.Go(func() {
		defer close(c.out)
		defer workersDone.Wait()
		defer close(work)
		for {
			var env network.Envelope
			var ok bool
			select {
			case <-ctx.Done():
				return
			case env, ok = <-in:
			}
			if !ok {
				return
			}
			j := n.newCheckJob(env)
			if replica.Checkable(env.Data) {
				j.done = make(chan struct{})
				select {
				case work <- j:
				case <-ctx.Done():
					return
				}
			}
			select {
			case c.out <- j:
			case <-ctx.Done():
				return
			}
		}
	})
	return c
}

// close stops the pool and waits for its goroutines.
func (c *checks) close() {
	c.stop()
	c.wg.Wait()
}

func (n *Node) newCheckJob(env network.Envelope) *checkJob {
	from, member := n.index[env.From]
	if !member {
		from = -1
	}
	return &checkJob{env: env, from: from}
}

// check decodes and checks j's message on a worker.
func (n *Node) check(j *checkJob) {
	defer close(j.done)
	j.checked = n.replica.Check(j.from, j.env.Data)
}

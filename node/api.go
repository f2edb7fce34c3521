package node

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// WithAPI serves the given API modules over HTTP on addr ("host:port";
// port 0 picks a free port, see Node.APIAddr) from Start until Stop. opts
// configure the server (connection bound, body limit, timeouts).
func WithAPI(addr string, modules []api.Module, opts ...api.Option) Option {
	return func(st *settings) error {
		if addr == "" {
			return fmt.Errorf("%w: WithAPI needs an address (host:port)", ErrInvalidOption)
		}
		if len(modules) == 0 {
			return fmt.Errorf("%w: WithAPI needs at least one module", ErrInvalidOption)
		}
		st.apiAddr, st.apiModules, st.apiOpts = addr, modules, opts
		return once("WithAPI", st)
	}
}

// APIAddr returns the address the HTTP API listens on, or nil when the node
// serves none (or has not started).
func (n *Node) APIAddr() net.Addr {
	n.lifecycle.Lock()
	defer n.lifecycle.Unlock()
	if n.apiListener == nil {
		return nil
	}
	return n.apiListener.Addr()
}

// startAPI listens on the API address and serves in a goroutine.
func (n *Node) startAPI() error {
	if n.s.apiAddr == "" {
		return nil
	}
	opts := append([]api.Option{api.WithLogger(n.log), api.WithAppVersion("gospresso " + Version)}, n.s.apiOpts...)
	srv, err := api.New(backend{n}, n.s.apiModules, opts...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", n.s.apiAddr)
	if err != nil {
		return fmt.Errorf("node: API: %w", err)
	}
	n.api, n.apiListener = srv, ln
	n.apiDone = make(chan struct{})
	go func() {
		defer close(n.apiDone)
		if err := srv.Serve(ln); err != nil {
			n.log.Error("API server stopped", "err", err)
		}
	}()
	n.log.Info("serving the HTTP API", "addr", ln.Addr().String())
	return nil
}

// stopAPI shuts the API down within ctx.
func (n *Node) stopAPI(ctx context.Context) error {
	if n.api == nil {
		return nil
	}
	err := n.api.Shutdown(ctx)
	select {
	case <-n.apiDone:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("node: stop API: %w", err)
	}
	return nil
}

// backend is the node as the API sees it.
type backend struct{ n *Node }

var _ api.StateBackend = backend{}

func (b backend) Store() storage.BlockStore { return b.n.s.store }
func (b backend) BlockHeight() uint64       { return b.n.BlockHeight() }

func (b backend) Decided(ctx context.Context, from uint64) iter.Seq2[types.Block, error] {
	return b.n.Decided(ctx, from)
}

func (b backend) SubmitTransaction(ctx context.Context, tx types.Transaction) (types.Commitment, error) {
	c, err := b.n.SubmitTransaction(ctx, tx)
	if errors.Is(err, ErrStopped) || errors.Is(err, ErrNotStarted) || errors.Is(err, ErrHalted) {
		return c, fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	return c, err
}

func (b backend) Info() api.Info {
	idx, ok := b.n.setup.Table.Index(b.n.keys.Staking.PubKey())
	if !ok {
		idx = -1
	}
	return api.Info{
		Genesis: b.n.setup.Genesis, Consensus: b.n.s.consensus, NodeIndex: idx,
		StakingKey: b.n.keys.Staking.PubKey(), StateKey: b.n.keys.State.PubKey(), Version: Version,
	}
}

func (b backend) Status() api.NodeStatus {
	st := api.NodeStatus{Halted: b.n.Err() != nil}
	if m := b.n.metrics.Load(); m != nil {
		s := m.snapshot()
		st.View, st.LastDecidedView = s.View, s.LastDecidedView
		m.mu.Lock()
		st.LastDecidedTime = m.lastTime
		m.mu.Unlock()
	}
	return st
}

func (b backend) Metrics() prometheus.Gatherer { return b.n.s.gatherer }

func (b backend) StateSignature(height uint64) (lightclient.SignedState, bool) {
	return b.n.states.get(height)
}

// APIBackend returns the node as the api package reads it, for a program
// that serves modules on a server of its own (a second port, such as the
// hotshot-events service, or a dev API). WithAPI uses the same backend.
func (n *Node) APIBackend() api.Backend { return backend{n} }

func (b backend) VerifyQC(q *types.QuorumCertificate) error { return b.n.setup.Verifier.VerifyQC(q) }

func (b backend) ChainState(ctx context.Context) (types.Block, []byte, error) {
	blk, data, err := b.n.ChainState(ctx)
	if err != nil {
		// Not started, or the decided block not readable: a peer should
		// ask again later, or another node.
		err = fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	return blk, data, err
}

func (b backend) DecidedStates() []*chain.DecidedState {
	l := b.n.ledger.Load()
	if l == nil {
		return nil
	}
	return l.DecidedStates()
}

package node

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/clock"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/types"
)

// Option configures a Node. Options are checked by New: a repeated or
// conflicting option is an error there.
type Option func(*settings) error

type settings struct {
	store     Store
	transport network.Transport
	logger    *slog.Logger
	clock     clock.Clock
	registry  prometheus.Registerer
	gatherer  prometheus.Gatherer
	consensus consensus.Config
	mempool   chain.MempoolConfig
	seen      map[string]bool

	stateRelay string
	// workers is the number of verification workers; nil for the default.
	workers *int

	l1         l1.Client
	l1Opts     []l1.TrackerOption
	builderKey *ecdsa.PrivateKey
	catchup    func(ctx context.Context) (types.Block, []byte, error)

	fetchObservers []network.PeerID

	apiAddr    string
	apiModules []api.Module
	apiOpts    []api.Option
}

func once(name string, s *settings) error {
	if s.seen[name] {
		return fmt.Errorf("%w: %s given twice", ErrInvalidOption, name)
	}
	s.seen[name] = true
	return nil
}

// WithStorage sets the store (required): any backend of package storage
// (storage/fs, storage/sqlite, storage/postgres, storage/mem) or your own
// implementation of Store. The node owns it once New succeeds and closes it
// on Stop. There is deliberately no in-memory default: a node that forgets
// its votes on restart could vote twice.
func WithStorage(s Store) Option {
	return func(st *settings) error {
		if s == nil {
			return fmt.Errorf("%w: WithStorage(nil)", ErrInvalidOption)
		}
		st.store = s
		return once("WithStorage", st)
	}
}

// WithNetwork sets the transport (required). The node owns it once New
// succeeds and closes it on Stop.
func WithNetwork(t network.Transport) Option {
	return func(st *settings) error {
		if t == nil {
			return fmt.Errorf("%w: WithNetwork(nil)", ErrInvalidOption)
		}
		st.transport = t
		return once("WithNetwork", st)
	}
}

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(st *settings) error {
		if l == nil {
			return fmt.Errorf("%w: WithLogger(nil)", ErrInvalidOption)
		}
		st.logger = l
		return once("WithLogger", st)
	}
}

// WithClock sets the clock. Default: the wall clock.
func WithClock(c clock.Clock) Option {
	return func(st *settings) error {
		if c == nil {
			return fmt.Errorf("%w: WithClock(nil)", ErrInvalidOption)
		}
		st.clock = c
		return once("WithClock", st)
	}
}

// WithMetrics registers the node's Prometheus metrics (docs/operator.md,
// "Metrics") on reg.
// Default: a private registry, readable through Node.Metrics.
func WithMetrics(reg *prometheus.Registry) Option {
	return func(st *settings) error {
		if reg == nil {
			return fmt.Errorf("%w: WithMetrics(nil)", ErrInvalidOption)
		}
		st.registry, st.gatherer = reg, reg
		return once("WithMetrics", st)
	}
}

// WithVerifyWorkers sets how many goroutines decode incoming messages and
// check their signatures ahead of the goroutine that runs consensus, so
// that a multi-core machine verifies in parallel while consensus proceeds
// (docs/protocol.md, "Signature checks"). Messages still reach consensus
// one at a time, in the order they arrived. Default: one per core
// (GOMAXPROCS), at most 4. 0 checks every message on the consensus
// goroutine itself.
func WithVerifyWorkers(n int) Option {
	return func(st *settings) error {
		if n < 0 {
			return fmt.Errorf("%w: WithVerifyWorkers(%d): want 0 or more workers", ErrInvalidOption, n)
		}
		st.workers = &n
		return once("WithVerifyWorkers", st)
	}
}

// verifyWorkers is the number of verification workers to run.
func (st *settings) verifyWorkers() int {
	if st.workers == nil {
		return defaultCheckWorkers()
	}
	return *st.workers
}

// WithConsensusConfig sets the consensus parameters. Zero fields take the
// defaults of consensus.DefaultConfig (view timeout 12s, view-sync timeout
// 2s, builder timeout 1s).
func WithConsensusConfig(c consensus.Config) Option {
	return func(st *settings) error {
		st.consensus = c
		return once("WithConsensusConfig", st)
	}
}

// WithMempool sets the mempool bounds. Zero fields take the defaults:
// 100000 transactions, replica.MempoolBlocks (4) × max_block_size bytes,
// 10 minute expiry. A full mempool refuses submissions with
// chain.ErrMempoolFull (the API answers 503 "mempool full") instead of
// letting every transaction wait longer.
func WithMempool(c chain.MempoolConfig) Option {
	return func(st *settings) error {
		if c.MaxCount < 0 || c.MaxBytes < 0 || c.TTL < 0 {
			return fmt.Errorf("%w: WithMempool: negative bound", ErrInvalidOption)
		}
		st.mempool = c
		return once("WithMempool", st)
	}
}

// WithStateRelay makes the node post the light-client state it signs after
// every decide to the state relay server at url (its base URL, such as
// http://relay:8083): the newest state only, retried with backoff, never
// holding up consensus. Default: no relay (the signatures are still kept
// for the state-signature API).
func WithStateRelay(url string) Option {
	return func(st *settings) error {
		if url == "" {
			return fmt.Errorf("%w: WithStateRelay needs a URL", ErrInvalidOption)
		}
		st.stateRelay = strings.TrimRight(url, "/")
		return once("WithStateRelay", st)
	}
}

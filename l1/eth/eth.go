// Package eth implements l1.Client over go-ethereum's JSON-RPC client and
// ethclient (docs/l1.md, "The client").
//
// A Client holds a list of providers in failover order and sends every
// request to the current one. It fails over to the next provider (wrapping
// around) when the current one fails ConsecutiveFailureTolerance times in a
// row, or fails again less than FrequentFailureTolerance after its previous
// failure. A failed request is retried, with a delay that starts at the retry
// delay and doubles up to eight times it (none right after a failover; plus
// the rate-limit delay after a rate-limit answer), up to a bounded number of
// attempts. eth_getLogs ranges are split into calls of at most the events max
// block range, in order. The finalized block is read with
// eth_getBlockByNumber("finalized").
//
// The client counts consensus_l1_failovers and
// consensus_l1_failed_requests{provider}; Collectors returns them. The
// provider label is the URL's scheme and host only (paths and queries often
// hold API keys).
package eth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/feecontract"
	"github.com/gospresso/gospresso/types"
)

// Defaults of the options: the reference's L1 defaults (docs/operator.md,
// "L1"), plus the attempts and request timeout of this client.
const (
	DefaultRetryDelay                  = time.Second
	DefaultEventsMaxBlockRange         = 10000
	DefaultConsecutiveFailureTolerance = 10
	DefaultFrequentFailureTolerance    = time.Minute
	DefaultMaxAttempts                 = 5
	DefaultRequestTimeout              = 30 * time.Second
)

// maxBackoff is how many retry delays the backoff grows to at most.
const maxBackoff = 8

// Option configures a Client.
type Option func(*config)

type config struct {
	retryDelay     time.Duration
	rateLimitDelay time.Duration
	maxRange       uint64
	consecutive    int
	frequent       time.Duration
	maxAttempts    int
	requestTimeout time.Duration
	httpClient     *http.Client
	logger         *slog.Logger
}

// WithRetryDelay sets the first delay before a failed request is retried
// (default 1s, --l1-retry-delay); later retries double it, up to 8 times it.
func WithRetryDelay(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.retryDelay = d
		}
	}
}

// WithRateLimitDelay sets the extra delay after a rate-limit answer (HTTP 429,
// JSON-RPC error -32005, or an error message about a rate limit) (default
// none, --l1-rate-limit-delay).
func WithRateLimitDelay(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.rateLimitDelay = d
		}
	}
}

// WithEventsMaxBlockRange sets the most blocks one eth_getLogs call covers
// (default 10000, --l1-events-max-block-range).
func WithEventsMaxBlockRange(n uint64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxRange = n
		}
	}
}

// WithConsecutiveFailureTolerance sets how many failures in a row make the
// client fail over to the next provider (default 10,
// --l1-consecutive-failure-tolerance).
func WithConsecutiveFailureTolerance(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.consecutive = n
		}
	}
}

// WithFrequentFailureTolerance sets the window within which a second failure
// of the current provider makes the client fail over (default 1m,
// --l1-frequent-failure-tolerance); 0 turns the rule off.
func WithFrequentFailureTolerance(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.frequent = d
		}
	}
}

// WithMaxAttempts sets how many times one request is tried, across providers,
// before the method returns the last error (default 5).
func WithMaxAttempts(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxAttempts = n
		}
	}
}

// WithRequestTimeout bounds one attempt of one request (default 30s); an
// attempt that times out counts as a failure of the provider.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.requestTimeout = d
		}
	}
}

// WithHTTPClient sets the HTTP client for http(s) providers.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.httpClient = hc }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// provider is one JSON-RPC endpoint and its failure state (guarded by
// Client.mu).
type provider struct {
	label string
	rpc   *rpc.Client
	eth   *ethclient.Client

	consecutive int
	lastFailure time.Time
}

// Client is an l1.Client over JSON-RPC providers in failover order. It is
// safe for concurrent use.
type Client struct {
	cfg       config
	log       *slog.Logger
	providers []*provider
	now       func() time.Time

	failovers prometheus.Counter
	failed    *prometheus.CounterVec

	mu      sync.Mutex
	current int
}

var _ l1.Client = (*Client)(nil)

// Dial returns a client for the JSON-RPC providers at urls, in failover
// order. http(s) URLs are not contacted until the first request; ws(s) URLs
// and IPC paths connect here, within ctx.
func Dial(ctx context.Context, urls []string, opts ...Option) (*Client, error) {
	if len(urls) == 0 {
		return nil, errors.New("l1/eth: no L1 provider URL")
	}
	cfg := newConfig(opts)
	var rpcOpts []rpc.ClientOption
	if cfg.httpClient != nil {
		rpcOpts = append(rpcOpts, rpc.WithHTTPClient(cfg.httpClient))
	}
	names := make([]string, len(urls))
	clients := make([]*rpc.Client, len(urls))
	for i, u := range urls {
		rc, err := rpc.DialOptions(ctx, u, rpcOpts...)
		if err != nil {
			for _, c := range clients[:i] {
				c.Close()
			}
			return nil, fmt.Errorf("l1/eth: provider %s: %w", redact(u), err)
		}
		names[i], clients[i] = redact(u), rc
	}
	return newClient(cfg, names, clients), nil
}

// NewFromRPC returns a client over JSON-RPC clients that already exist (an
// in-process L1, for example), in failover order; names label them in
// metrics and errors. Close closes them.
func NewFromRPC(names []string, clients []*rpc.Client, opts ...Option) (*Client, error) {
	if len(clients) == 0 || len(names) != len(clients) {
		return nil, fmt.Errorf("l1/eth: %d names for %d RPC clients", len(names), len(clients))
	}
	return newClient(newConfig(opts), names, clients), nil
}

func newConfig(opts []Option) config {
	cfg := config{
		retryDelay:     DefaultRetryDelay,
		maxRange:       DefaultEventsMaxBlockRange,
		consecutive:    DefaultConsecutiveFailureTolerance,
		frequent:       DefaultFrequentFailureTolerance,
		maxAttempts:    DefaultMaxAttempts,
		requestTimeout: DefaultRequestTimeout,
		logger:         slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

func newClient(cfg config, names []string, clients []*rpc.Client) *Client {
	c := &Client{
		cfg: cfg,
		log: cfg.logger,
		now: time.Now,
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "consensus_l1_failovers",
			Help: "Times the L1 client switched to the next provider.",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "consensus_l1_failed_requests",
			Help: "Failed L1 requests, by provider (scheme and host of its URL).",
		}, []string{"provider"}),
	}
	seen := make(map[string]int)
	for i, rc := range clients {
		label := names[i]
		if seen[label]++; seen[label] > 1 {
			label = fmt.Sprintf("%s#%d", label, seen[label])
		}
		c.providers = append(c.providers, &provider{label: label, rpc: rc, eth: ethclient.NewClient(rc)})
		c.failed.WithLabelValues(label)
	}
	return c
}

// redact returns what of a provider URL may be shown: scheme and host, with
// "/..." when it has a path or query (often an API key).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if err == nil && u.Scheme == "" && u.Path != "" {
			return "ipc"
		}
		return "provider"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/..."
	}
	return s
}

// Collectors returns the client's metrics, consensus_l1_failovers and
// consensus_l1_failed_requests{provider}, for the caller to register.
func (c *Client) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.failovers, c.failed}
}

// Providers returns the provider labels in failover order.
func (c *Client) Providers() []string {
	out := make([]string, len(c.providers))
	for i, p := range c.providers {
		out[i] = p.label
	}
	return out
}

// Current returns the label of the provider requests go to now.
func (c *Client) Current() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.providers[c.current].label
}

// Close closes the connections to every provider.
func (c *Client) Close() {
	for _, p := range c.providers {
		p.rpc.Close()
	}
}

// do runs fn against the current provider, retrying failures with backoff
// and failing over as the failure rules say.
func (c *Client) do(ctx context.Context, what string, fn func(ctx context.Context, p *provider) error) error {
	delay := c.cfg.retryDelay
	for attempt := 1; ; attempt++ {
		idx, p := c.pick()
		actx, cancel := context.WithTimeout(ctx, c.cfg.requestTimeout)
		err := fn(actx, p)
		cancel()
		if err == nil || errors.Is(err, l1.ErrNotFound) {
			c.succeeded(idx)
			return err
		}
		if ctx.Err() != nil {
			// The caller gave up: not the provider's fault.
			return fmt.Errorf("l1/eth: %s: %w", what, ctx.Err())
		}
		limited := rateLimited(err)
		switched := c.failure(idx, err)
		if attempt >= c.cfg.maxAttempts {
			return fmt.Errorf("l1/eth: %s via %s (attempt %d of %d): %w", what, p.label, attempt, c.cfg.maxAttempts, err)
		}
		wait := delay
		delay = min(2*delay, maxBackoff*c.cfg.retryDelay)
		switch {
		case switched:
			wait, delay = 0, c.cfg.retryDelay
		case limited:
			wait += c.cfg.rateLimitDelay
		}
		c.log.Debug("l1/eth: request failed; retrying", "request", what, "provider", p.label, "attempt", attempt,
			"err", err, "wait", wait, "rate_limited", limited)
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return fmt.Errorf("l1/eth: %s: %w (last error: %v)", what, ctx.Err(), err)
			case <-timer.C:
			}
		}
	}
}

// pick returns the current provider.
func (c *Client) pick() (int, *provider) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current, c.providers[c.current]
}

// succeeded records an answer from provider idx.
func (c *Client) succeeded(idx int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.providers[idx].consecutive = 0
}

// failure records a failed request to provider idx and fails over when the
// rules say so. It reports whether the current provider is now another one
// (the next attempt then goes there at once).
func (c *Client) failure(idx int, err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.providers[idx]
	c.failed.WithLabelValues(p.label).Inc()
	if idx != c.current {
		return true // another request already failed over
	}
	now := c.now()
	frequent := c.cfg.frequent > 0 && !p.lastFailure.IsZero() && now.Sub(p.lastFailure) < c.cfg.frequent
	p.lastFailure = now
	p.consecutive++
	if p.consecutive < c.cfg.consecutive && !frequent {
		return false
	}
	reason := fmt.Sprintf("%d consecutive failures", p.consecutive)
	if frequent {
		reason = fmt.Sprintf("a second failure within %s", c.cfg.frequent)
	}
	p.consecutive, p.lastFailure = 0, time.Time{}
	if len(c.providers) == 1 {
		c.log.Warn("l1/eth: the only L1 provider keeps failing", "provider", p.label, "reason", reason, "err", err)
		return false
	}
	c.current = (idx + 1) % len(c.providers)
	next := c.providers[c.current]
	next.consecutive, next.lastFailure = 0, time.Time{}
	c.failovers.Inc()
	c.log.Warn("l1/eth: failing over to the next L1 provider", "from", p.label, "to", next.label, "reason", reason, "err", err)
	return true
}

// rateLimited reports whether err is a rate-limit answer.
func rateLimited(err error) bool {
	var he rpc.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusTooManyRequests {
		return true
	}
	var re rpc.Error
	if errors.As(err, &re) && re.ErrorCode() == -32005 {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "rate limit") || strings.Contains(msg, "too many requests")
}

// ChainID returns the L1's chain ID (eth_chainId).
func (c *Client) ChainID(ctx context.Context) (types.U256, error) {
	var id *big.Int
	err := c.do(ctx, "eth_chainId", func(ctx context.Context, p *provider) error {
		var err error
		id, err = p.eth.ChainID(ctx)
		return err
	})
	if err != nil {
		return types.U256{}, err
	}
	v, err := types.U256FromBig(id)
	if err != nil {
		return types.U256{}, fmt.Errorf("l1/eth: eth_chainId: %w: %v", l1.ErrMalformed, err)
	}
	return v, nil
}

// Head returns the latest block number (eth_blockNumber).
func (c *Client) Head(ctx context.Context) (uint64, error) {
	var n uint64
	err := c.do(ctx, "eth_blockNumber", func(ctx context.Context, p *provider) error {
		var err error
		n, err = p.eth.BlockNumber(ctx)
		return err
	})
	return n, err
}

// Finalized returns the latest finalized block (eth_getBlockByNumber
// "finalized"), nil when the L1 has none yet (a null answer, or a node's
// "finalized block not found" error).
func (c *Client) Finalized(ctx context.Context) (*types.L1BlockInfo, error) {
	var (
		b     types.L1BlockInfo
		found bool
	)
	err := c.do(ctx, `eth_getBlockByNumber("finalized")`, func(ctx context.Context, p *provider) error {
		var raw json.RawMessage
		if err := p.rpc.CallContext(ctx, &raw, "eth_getBlockByNumber", "finalized", false); err != nil {
			var re rpc.Error
			if errors.As(err, &re) && strings.Contains(re.Error(), "finalized block not found") {
				found = false
				return nil
			}
			return err
		}
		var err error
		b, found, err = decodeBlock(raw)
		return err
	})
	if err != nil || !found {
		return nil, err
	}
	return &b, nil
}

// Block returns the block of that number (eth_getBlockByNumber); the error
// wraps l1.ErrNotFound when the L1 does not have it.
func (c *Client) Block(ctx context.Context, number uint64) (types.L1BlockInfo, error) {
	var b types.L1BlockInfo
	what := fmt.Sprintf("eth_getBlockByNumber(%d)", number)
	err := c.do(ctx, what, func(ctx context.Context, p *provider) error {
		var raw json.RawMessage
		if err := p.rpc.CallContext(ctx, &raw, "eth_getBlockByNumber", hexutil.Uint64(number), false); err != nil {
			return err
		}
		got, found, err := decodeBlock(raw)
		switch {
		case err != nil:
			return err
		case !found:
			return fmt.Errorf("l1/eth: %s: %w", what, l1.ErrNotFound)
		case got.Number != number:
			return fmt.Errorf("%w: asked for block %d, got block %d", l1.ErrMalformed, number, got.Number)
		}
		b = got
		return nil
	})
	return b, err
}

// Deposits returns the Deposit events of the fee contract at contract in
// blocks [from, to], in (block, log) order, with one eth_getLogs call per
// events max block range, in order.
func (c *Client) Deposits(ctx context.Context, contract types.Address, from, to uint64) ([]l1.Deposit, error) {
	var all []l1.Deposit
	for lo := from; lo <= to; {
		hi := to
		if to-lo >= c.cfg.maxRange {
			hi = lo + c.cfg.maxRange - 1
		}
		filter := map[string]any{
			"address":   common.Address(contract),
			"topics":    [][]common.Hash{{feecontract.DepositEventID}},
			"fromBlock": hexutil.Uint64(lo),
			"toBlock":   hexutil.Uint64(hi),
		}
		var deps []l1.Deposit
		err := c.do(ctx, fmt.Sprintf("eth_getLogs[%d, %d]", lo, hi), func(ctx context.Context, p *provider) error {
			var raw json.RawMessage
			if err := p.rpc.CallContext(ctx, &raw, "eth_getLogs", filter); err != nil {
				return err
			}
			var err error
			deps, err = decodeDeposits(raw, contract, lo, hi)
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, deps...)
		if hi == to {
			break
		}
		lo = hi + 1
	}
	return all, nil
}

// Code returns the code at addr in the latest block (eth_getCode); empty
// for an account without code.
func (c *Client) Code(ctx context.Context, addr types.Address) ([]byte, error) {
	var code []byte
	err := c.do(ctx, "eth_getCode", func(ctx context.Context, p *provider) error {
		var err error
		code, err = p.eth.CodeAt(ctx, common.Address(addr), nil)
		return err
	})
	return code, err
}

// StorageAt returns the storage slot key of addr in the latest block
// (eth_getStorageAt).
func (c *Client) StorageAt(ctx context.Context, addr types.Address, key types.Hash) (types.Hash, error) {
	var v []byte
	err := c.do(ctx, "eth_getStorageAt", func(ctx context.Context, p *provider) error {
		var err error
		v, err = p.eth.StorageAt(ctx, common.Address(addr), common.Hash(key), nil)
		return err
	})
	if err != nil {
		return types.Hash{}, err
	}
	if len(v) != 32 {
		return types.Hash{}, fmt.Errorf("l1/eth: eth_getStorageAt: %w: %d bytes, want 32", l1.ErrMalformed, len(v))
	}
	return types.Hash(v), nil
}

package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client defaults.
const (
	// DefaultRequestTimeout bounds one attempt of a call: sending the
	// request and reading the answer.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait between two
	// attempts of a call while the orchestrator is unreachable: it starts at
	// the minimum and doubles up to the maximum (±10% jitter).
	DefaultMinBackoff = 250 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
	// DefaultPollInterval is WaitForStart's poll interval when given none.
	DefaultPollInterval = time.Second
	// maxResponseSize bounds an answer body: a config of MaxNodes entries
	// is about 5 MB.
	maxResponseSize = 16 << 20
	// maxErrorBody bounds what is read of an error answer.
	maxErrorBody = 64 << 10
)

// ErrInvalidResponse marks a 2xx answer that does not decode into what
// the route serves (a proxy's page, another service at the URL).
var ErrInvalidResponse = errors.New("orchestrator: invalid response")

// APIError is an answer the client does not retry: a 4xx status other
// than 429, with the message the orchestrator gave (400 for a refused
// registration, 403 for a wrong password, 409 for a full or started
// network or a conflict, see the package documentation).
type APIError struct {
	// Method and Path are the request's.
	Method, Path string
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the orchestrator's message (or the body's text).
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("orchestrator: %s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// ClientOption configures NewClient.
type ClientOption func(*Client) error

// WithHTTPClient makes the client send its requests with hc (its Timeout,
// if any, applies on top of the request timeout). Default: a client of its
// own, with a clone of http.DefaultTransport.
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(c *Client) error {
		if hc == nil {
			return fmt.Errorf("%w: WithHTTPClient(nil)", ErrInvalidOption)
		}
		c.http = hc
		return nil
	}
}

// WithClientLogger sets the client's logger: each failed attempt and the
// progress of WaitForStart are logged at info level. Default: discard.
func WithClientLogger(l *slog.Logger) ClientOption {
	return func(c *Client) error {
		if l == nil {
			return fmt.Errorf("%w: WithClientLogger(nil)", ErrInvalidOption)
		}
		c.log = l
		return nil
	}
}

// WithBackoff sets the least and the most time between two attempts of a
// call (0 < lo ≤ hi). Default DefaultMinBackoff and DefaultMaxBackoff.
func WithBackoff(lo, hi time.Duration) ClientOption {
	return func(c *Client) error {
		if lo <= 0 || hi < lo {
			return fmt.Errorf("%w: WithBackoff(%v, %v): want 0 < min <= max", ErrInvalidOption, lo, hi)
		}
		c.minBackoff, c.maxBackoff = lo, hi
		return nil
	}
}

// WithRequestTimeout bounds each attempt of a call (> 0). Default
// DefaultRequestTimeout.
func WithRequestTimeout(d time.Duration) ClientOption {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("%w: WithRequestTimeout(%v): want > 0", ErrInvalidOption, d)
		}
		c.timeout = d
		return nil
	}
}

// Client calls an orchestrator. Every call retries, with exponential
// backoff, while the orchestrator cannot be reached (connection refused,
// reset, timed out) or answers 5xx or 429, until it answers or the call's
// context ends; any other answer ends the call. Register is idempotent on
// the orchestrator, so retrying it is safe. A Client is safe for
// concurrent use.
type Client struct {
	base       string // scheme://host[:port][/prefix], no trailing slash
	http       *http.Client
	log        *slog.Logger
	minBackoff time.Duration
	maxBackoff time.Duration
	timeout    time.Duration
}

// NewClient returns a client of the orchestrator at baseURL, its root
// ("http://localhost:8080", the sequencer's --orchestrator-url).
func NewClient(baseURL string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: orchestrator URL %q: %v", ErrInvalidOption, baseURL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: orchestrator URL %q: scheme %q, want http or https", ErrInvalidOption, baseURL, u.Scheme)
	case u.Host == "":
		return nil, fmt.Errorf("%w: orchestrator URL %q has no host", ErrInvalidOption, baseURL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%w: orchestrator URL %q: want scheme://host:port[/prefix], without user, query or fragment", ErrInvalidOption, baseURL)
	}
	c := &Client{
		base:       u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"),
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		minBackoff: DefaultMinBackoff, maxBackoff: DefaultMaxBackoff, timeout: DefaultRequestTimeout,
	}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.http == nil {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return c, nil
}

// BaseURL returns the orchestrator's root URL the client calls.
func (c *Client) BaseURL() string { return c.base }

// CloseIdleConnections closes the idle keep-alive connections of the
// client's HTTP client.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Register registers r (build it with NewRegistration) and returns the
// node's index in the stake table. A node restarted with the same keys and
// address gets its index again.
func (c *Client) Register(ctx context.Context, r Registration) (int, error) {
	var rc Receipt
	if err := c.call(ctx, http.MethodPost, RouteRegister, r, &rc); err != nil {
		return 0, err
	}
	return rc.Index, nil
}

// NetworkConfig returns the network config. It is final only once its
// Started is true (WaitForStart returns that one).
func (c *Client) NetworkConfig(ctx context.Context) (NetworkConfig, error) {
	var cfg NetworkConfig
	err := c.call(ctx, http.MethodGet, RouteConfig, nil, &cfg)
	return cfg, err
}

// StartStatus returns the start signal and the registration count.
func (c *Client) StartStatus(ctx context.Context) (StartStatus, error) {
	var st StartStatus
	err := c.call(ctx, http.MethodGet, RouteStart, nil, &st)
	return st, err
}

// ManualStart gives the start signal with the manual-start password.
func (c *Client) ManualStart(ctx context.Context, password string) (StartStatus, error) {
	var st StartStatus
	err := c.call(ctx, http.MethodPost, RouteManualStart, ManualStartRequest{Password: password}, &st)
	return st, err
}

// WaitForStart polls the start signal every poll (DefaultPollInterval when
// poll ≤ 0) until it is given, then returns the network config, which is
// final from then on. It logs the registration count whenever it changes,
// and ends with ctx: once the orchestrator has answered, the error then
// says how many nodes had registered, whether ctx ended between polls or
// during one.
func (c *Client) WaitForStart(ctx context.Context, poll time.Duration) (NetworkConfig, error) {
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	last := -1
	answered := false
	var st StartStatus
	// waiting is the error once ctx ends, whether it ends between polls or
	// during one: it says what the node was waiting for when it gave up.
	waiting := func() error {
		return fmt.Errorf("orchestrator: waiting for the start signal (%d of %d registered, %d needed): %w",
			st.Registered, st.NumNodes, st.StartThresholdNodes, ctx.Err())
	}
	for {
		next, err := c.StartStatus(ctx)
		if err != nil {
			if answered && ctx.Err() != nil {
				return NetworkConfig{}, waiting()
			}
			return NetworkConfig{}, err
		}
		st, answered = next, true
		if st.Started {
			cfg, err := c.NetworkConfig(ctx)
			if err != nil {
				return NetworkConfig{}, err
			}
			if cfg.Started {
				c.log.Info("orchestrator: start signal received", "nodes", len(cfg.StakeTable), "num_nodes", cfg.NumNodesWithStake)
				return cfg, nil
			}
			// Not started any more: the orchestrator restarted in between
			// (it keeps registrations in memory). Keep waiting.
		} else if st.Registered != last {
			last = st.Registered
			args := []any{"registered", st.Registered, "num_nodes", st.NumNodes, "start_threshold", st.StartThresholdNodes}
			if st.StartsInMS != nil {
				args = append(args, "starts_in", time.Duration(*st.StartsInMS)*time.Millisecond)
			}
			c.log.Info("orchestrator: waiting for the start signal", args...)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return NetworkConfig{}, waiting()
		case <-t.C:
		}
	}
}

// retryable marks a failed attempt worth repeating.
type retryable struct{ err error }

func (e *retryable) Error() string { return e.err.Error() }
func (e *retryable) Unwrap() error { return e.err }

// call sends a request (with in as its JSON body when non-nil) to route
// and decodes the answer into out, retrying as the Client documentation
// says.
func (c *Client) call(ctx context.Context, method, route string, in, out any) error {
	path := "/v0/" + ModuleName + "/" + route
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("orchestrator: %s %s: encode request: %w", method, path, err)
		}
		body = b
	}
	backoff := c.minBackoff
	// cause is the last failure that was not the context ending: an
	// attempt cut short by the deadline says nothing about the server.
	var cause error
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, method, path, body, out)
		var r *retryable
		if !errors.As(err, &r) {
			if err == nil && attempt > 1 {
				c.log.Info("orchestrator: reachable", "url", c.base, "attempts", attempt)
			}
			return err
		}
		if cause == nil || ctx.Err() == nil || !errors.Is(r.err, ctx.Err()) {
			cause = r.err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("orchestrator: %s %s: %w (after %d attempts; the last: %v)", method, c.base+path, ctx.Err(), attempt, cause)
		}
		wait := time.Duration(float64(backoff) * (0.9 + 0.2*rand.Float64()))
		c.log.Info("orchestrator: not reachable; retrying", "method", method, "url", c.base+path,
			"attempt", attempt, "err", r.err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("orchestrator: %s %s: %w (after %d attempts; the last: %v)", method, c.base+path, ctx.Err(), attempt, cause)
		case <-t.C:
		}
		backoff = min(2*backoff, c.maxBackoff)
	}
}

// attempt makes one request. A failure worth retrying is a *retryable.
func (c *Client) attempt(ctx context.Context, method, path string, body []byte, out any) error {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("orchestrator: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &retryable{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		e := &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Message: errorMessage(b)}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return &retryable{err: e}
		}
		return e
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return &retryable{err: fmt.Errorf("read answer: %w", err)}
	}
	if len(b) > maxResponseSize {
		return fmt.Errorf("%w: %s %s: answer over %d bytes", ErrInvalidResponse, method, path, maxResponseSize)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrInvalidResponse, method, path, err)
	}
	return nil
}

// errorMessage is the message of an error body {"status", "message"}, or
// the body's text.
func errorMessage(b []byte) string {
	var e struct {
		Message *string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && e.Message != nil {
		return *e.Message
	}
	return strings.TrimSpace(string(b))
}

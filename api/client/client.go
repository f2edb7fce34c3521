package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gospresso/gospresso/types"
)

// Defaults of the client options.
const (
	// DefaultTimeout bounds one plain call, from sending the request to
	// reading the whole answer, and the handshake of a stream.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResponseSize bounds a response body: room for a range of
	// large objects (the server's large-object range limit, 100 by default,
	// of blocks of a few hundred kilobytes in base64). Raise it with
	// WithMaxResponseSize to read long ranges of full blocks.
	DefaultMaxResponseSize = 64 << 20
	// DefaultMaxMessageSize bounds one stream message: a single block of up
	// to several megabytes of payload in base64, with its header.
	DefaultMaxMessageSize = 16 << 20
	// maxErrorBody bounds what is read of an error answer's body.
	maxErrorBody = 64 << 10
)

// Option configures New.
type Option func(*Client) error

// WithHTTPClient makes the client send its requests, and open its streams,
// with hc. Default: a client of its own, with a clone of
// http.DefaultTransport (see Client.CloseIdleConnections).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return fmt.Errorf("%w: nil HTTP client", ErrInvalidOption)
		}
		c.http = hc
		return nil
	}
}

// WithTimeout bounds every plain call (request and whole answer) and every
// stream handshake by d, on top of the call's context; 0 means no bound
// but the context's. It does not bound how long a stream stays open.
// Default DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("%w: timeout %v, want >= 0", ErrInvalidOption, d)
		}
		c.timeout = d
		return nil
	}
}

// WithMaxResponseSize bounds the body of an answer to n bytes; a larger one
// fails the call with ErrResponseTooLarge. Default DefaultMaxResponseSize.
func WithMaxResponseSize(n int64) Option {
	return func(c *Client) error {
		if n < 1 {
			return fmt.Errorf("%w: max response size %d, want at least 1", ErrInvalidOption, n)
		}
		c.maxResponse = n
		return nil
	}
}

// WithMaxMessageSize bounds one stream message to n bytes; a larger one
// ends the stream with ErrResponseTooLarge. Default DefaultMaxMessageSize.
func WithMaxMessageSize(n int64) Option {
	return func(c *Client) error {
		if n < 1 {
			return fmt.Errorf("%w: max message size %d, want at least 1", ErrInvalidOption, n)
		}
		c.maxMessage = n
		return nil
	}
}

// Client calls the HTTP API of one node. It is safe for concurrent use.
type Client struct {
	base        string // scheme://host[:port][/prefix], no trailing slash
	http        *http.Client
	timeout     time.Duration
	maxResponse int64
	maxMessage  int64
}

// versioned matches a base URL that already names an API version, which
// New refuses: the client adds /v{major}/{module}/ itself.
var versioned = regexp.MustCompile(`/v[0-9]+$`)

// New returns a client of the node whose API is served at baseURL, its root
// ("http://host:port", or under a path prefix a proxy adds:
// "https://host/espresso"), not a versioned path such as ".../v0".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("%w: base URL %q: %v", ErrInvalidOption, baseURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: base URL %q: scheme %q, want http or https", ErrInvalidOption, baseURL, u.Scheme)
	case u.Host == "":
		return nil, fmt.Errorf("%w: base URL %q has no host", ErrInvalidOption, baseURL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%w: base URL %q: want scheme://host:port[/prefix], without user, query or fragment", ErrInvalidOption, baseURL)
	}
	prefix := strings.TrimRight(u.EscapedPath(), "/")
	if versioned.MatchString(prefix) {
		return nil, fmt.Errorf("%w: base URL %q names an API version: give the node's root, the client adds /v{major}/{module}/", ErrInvalidOption, baseURL)
	}
	c := &Client{
		base:        u.Scheme + "://" + u.Host + prefix,
		timeout:     DefaultTimeout,
		maxResponse: DefaultMaxResponseSize,
		maxMessage:  DefaultMaxMessageSize,
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

// BaseURL returns the node's root URL the client calls.
func (c *Client) BaseURL() string { return c.base }

// CloseIdleConnections closes the idle keep-alive connections of the
// client's HTTP client. Open streams are not affected.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// path returns /v{major}/{module}/{segs...}, each segment escaped.
func path(major int, module string, segs ...string) string {
	var b strings.Builder
	b.WriteString("/v")
	b.WriteString(strconv.Itoa(major))
	b.WriteByte('/')
	b.WriteString(url.PathEscape(module))
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// dec is a height, index or namespace as a path segment.
func dec(n uint64) string { return strconv.FormatUint(n, 10) }

// tagged is a commitment as a path segment: TaggedBase64 with tag.
func tagged(c types.Commitment, tag string) string { return c.Tagged(tag).String() }

// response is an answer read in full (up to the size bound).
type response struct {
	status int
	body   []byte
}

// send sends a request with in (when non-nil) as its JSON body, asking for
// the media type accept, and reads the answer: a 2xx body up to the size
// bound, an error body up to maxErrorBody. ctx and the client's timeout
// bound the whole exchange.
func (c *Client) send(ctx context.Context, method, p string, in any, accept string) (*response, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("client: %s %s: encode request: %w", method, p, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+p, body)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, p, err)
	}
	req.Header.Set("Accept", accept)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, p, unwrapURLError(err))
	}
	defer resp.Body.Close()
	limit := c.maxResponse
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBody
	} else if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %s %s: a body of %d bytes, over the limit of %d (see WithMaxResponseSize)", ErrResponseTooLarge, method, p, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: read answer: %w", method, p, unwrapURLError(err))
	}
	if int64(len(b)) > limit {
		if limit == maxErrorBody {
			b = b[:limit] // an error's text: keep its start
		} else {
			return nil, fmt.Errorf("%w: %s %s: a body over the limit of %d bytes (see WithMaxResponseSize)", ErrResponseTooLarge, method, p, limit)
		}
	}
	return &response{status: resp.StatusCode, body: b}, nil
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the
// method and URL the client's own message names.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// call sends a request and decodes a 2xx answer's JSON into out (when
// non-nil), and an answer of one of the statuses also the same way; any
// other answer is an *APIError.
func (c *Client) call(ctx context.Context, method, p string, in, out any, also ...int) error {
	r, err := c.send(ctx, method, p, in, "application/json")
	if err != nil {
		return err
	}
	if (r.status < 200 || r.status > 299) && !slices.Contains(also, r.status) {
		return newAPIError(method, p, r.status, r.body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrInvalidResponse, method, p, err)
	}
	return nil
}

// get is call with GET and no body.
func (c *Client) get(ctx context.Context, p string, out any) error {
	return c.call(ctx, http.MethodGet, p, nil, out)
}

// getValue is get for a value of type T.
func getValue[T any](ctx context.Context, c *Client, p string) (T, error) {
	var v T
	err := c.get(ctx, p, &v)
	return v, err
}

// getList is get for a JSON array: never nil on success, so an empty
// range is an empty slice.
func getList[T any](ctx context.Context, c *Client, p string) ([]T, error) {
	var v []T
	if err := c.get(ctx, p, &v); err != nil {
		return nil, err
	}
	if v == nil {
		v = []T{}
	}
	return v, nil
}

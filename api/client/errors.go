package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. An *APIError matches the one of its HTTP status with
// errors.Is; the others mark what went wrong on the client's side.
var (
	// ErrBadRequest matches a 400 answer: a malformed parameter (an
	// integer, a TaggedBase64 value or a tag the route does not take), a
	// range over the server's limit, a body that does not decode.
	ErrBadRequest = errors.New("client: bad request")
	// ErrNotFound matches a 404 answer: no such object (a height not yet
	// decided, an unknown hash, an index past a block's transactions), a
	// pruned one, a route the server does not serve, or data this node
	// version does not keep.
	ErrNotFound = errors.New("client: not found")
	// ErrRequestTooLarge matches a 413 answer: a request body over the
	// server's limit.
	ErrRequestTooLarge = errors.New("client: request too large")
	// ErrTooManyRequests matches a 429 answer: the server is at its
	// connection bound; try again later.
	ErrTooManyRequests = errors.New("client: too many requests")
	// ErrUnavailable matches a 503 answer: the node cannot serve right now
	// (stopping, halted, its mempool full).
	ErrUnavailable = errors.New("client: service unavailable")
	// ErrServerError matches any other 5xx answer.
	ErrServerError = errors.New("client: server error")

	// ErrInvalidOption marks a bad argument to New.
	ErrInvalidOption = errors.New("client: invalid option")
	// ErrInvalidResponse marks a 2xx answer or a stream item that does not
	// decode into the object the route serves.
	ErrInvalidResponse = errors.New("client: invalid response")
	// ErrResponseTooLarge marks an answer body or a stream message over the
	// client's size bound (WithMaxResponseSize, WithMaxMessageSize).
	ErrResponseTooLarge = errors.New("client: response too large")
	// ErrClosed is returned by Next on a stream that was closed with Close.
	ErrClosed = errors.New("client: stream closed")
	// ErrStreamEnded matches a *StreamEndError: the server ended a stream.
	ErrStreamEnded = errors.New("client: stream ended by the server")
)

// APIError is a non-2xx answer: its HTTP status and the message the
// server gave. Its body is {"status": N, "message": "..."} (docs/api.md);
// from a server that answers otherwise (a proxy), Message is the body's
// text. It matches the sentinel of its status with errors.Is.
type APIError struct {
	// Method and Path are the request's (Path from /v{major}/ on).
	Method, Path string
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the server's message.
	Message string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "(no message)"
	}
	return fmt.Sprintf("client: %s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode), msg)
}

// Is reports whether target is the sentinel of e's status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRequestTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	case ErrTooManyRequests:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.StatusCode == http.StatusServiceUnavailable
	case ErrServerError:
		return e.StatusCode >= 500 && e.StatusCode != http.StatusServiceUnavailable
	}
	return false
}

// maxMessage bounds the message an APIError keeps of a body that is not
// the server's JSON error.
const maxMessage = 1024

func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status}
	var j struct {
		Status  *int    `json:"status"`
		Message *string `json:"message"`
	}
	if json.Unmarshal(body, &j) == nil && j.Message != nil {
		e.Message = *j.Message
		return e
	}
	e.Message = clip(strings.TrimSpace(string(body)), maxMessage)
	return e
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// StreamEndError reports that the server ended a stream: the WebSocket
// close code (RFC 6455, section 7.4: 1000 a normal end, 1001 the server
// going away, 1011 an error on the server's side; 1006 when the
// connection ended without a close frame) and the reason it gave.
// It matches ErrStreamEnded with errors.Is, and io.EOF as well when the
// code is 1000.
type StreamEndError struct {
	// Path is the stream's path, from /v{major}/ on.
	Path string
	// Code is the WebSocket close code: 1005 when the server's close frame
	// held none, 1006 when there was no close frame.
	Code int
	// Reason is the server's reason, possibly empty.
	Reason string
}

func (e *StreamEndError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("client: stream %s ended by the server (close code %d)", e.Path, e.Code)
	}
	return fmt.Sprintf("client: stream %s ended by the server (close code %d): %s", e.Path, e.Code, e.Reason)
}

// Is reports whether target is ErrStreamEnded, or io.EOF for a normal end.
func (e *StreamEndError) Is(target error) bool {
	return target == ErrStreamEnded || (target == io.EOF && e.Code == 1000)
}

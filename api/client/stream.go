package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/types"
)

// Stream reads the items of one WebSocket stream of the API in the order
// the server sends them. Next is for one goroutine at a time; Close may be
// called from any goroutine, any number of times.
//
// A goroutine reads the connection one message ahead of Next, so a Next
// whose context ends leaves the stream intact: call Next again to go on.
// The stream ends, and its goroutine exits, when the server ends it, when
// the context the stream was opened with ends, or on Close.
type Stream[T any] struct {
	path   string
	conn   *websocket.Conn
	items  chan item[T]
	done   chan struct{} // closed when the reader has exited
	life   context.Context
	cancel context.CancelFunc

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	closing bool  // Close was called
	err     error // why the stream ended, once Next has seen it
}

type item[T any] struct {
	v   T
	err error
}

// openStream dials the stream at p and starts its reader. ctx bounds the
// stream's life; the client's timeout bounds the handshake.
func openStream[T any](ctx context.Context, c *Client, p string) (*Stream[T], error) {
	dctx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	conn, resp, err := websocket.Dial(dctx, c.base+p, &websocket.DialOptions{HTTPClient: c.http})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			// Dial keeps the first 1024 bytes of the body: enough for the
			// server's {"status", "message"}.
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			return nil, newAPIError(http.MethodGet, p, resp.StatusCode, body)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("client: stream %s: %w", p, ctx.Err())
		}
		return nil, fmt.Errorf("client: stream %s: %w", p, err)
	}
	conn.SetReadLimit(c.maxMessage)
	life, cancel := context.WithCancel(ctx)
	s := &Stream[T]{path: p, conn: conn, items: make(chan item[T]), done: make(chan struct{}), life: life, cancel: cancel}
	go s.read(c.maxMessage)
	return s, nil
}

// read reads and decodes messages and hands them to Next, until the stream
// ends; the error that ends it is the last thing handed over.
func (s *Stream[T]) read(limit int64) {
	defer close(s.done)
	for {
		var it item[T]
		_, data, err := s.conn.Read(s.life)
		if err != nil {
			it.err = s.readError(err, limit)
		} else if err := json.Unmarshal(data, &it.v); err != nil {
			it.err = fmt.Errorf("%w: stream %s: an item does not decode: %v", ErrInvalidResponse, s.path, err)
			_ = s.conn.Close(websocket.StatusUnsupportedData, "client: an item does not decode")
		}
		select {
		case s.items <- it:
		case <-s.life.Done():
			return
		}
		if it.err != nil {
			return
		}
	}
}

// readError words the error a read failed with.
func (s *Stream[T]) readError(err error, limit int64) error {
	if e := s.ended(); e != nil {
		return e
	}
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return &StreamEndError{Path: s.path, Code: int(ce.Code), Reason: ce.Reason}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		// The connection ended without a close frame: what RFC 6455
		// reports as 1006, an abnormal closure.
		return &StreamEndError{Path: s.path, Code: int(websocket.StatusAbnormalClosure), Reason: "the connection ended without a close frame"}
	case errors.Is(err, websocket.ErrMessageTooBig):
		return fmt.Errorf("%w: stream %s: a message over the limit of %d bytes (see WithMaxMessageSize)", ErrResponseTooLarge, s.path, limit)
	}
	return fmt.Errorf("client: stream %s: %w", s.path, err)
}

// ended returns why the stream ended on the client's side, if it did:
// Close, or the end of the context it was opened with.
func (s *Stream[T]) ended() error {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return ErrClosed
	}
	if err := s.life.Err(); err != nil {
		return fmt.Errorf("client: stream %s: %w", s.path, err)
	}
	return nil
}

// fail records err as why the stream ended, unless it already had a
// reason, and returns the reason.
func (s *Stream[T]) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrClosed
	}
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// Next returns the next item. Once the stream has ended it returns why,
// every time: ErrClosed after Close; the opening context's error (wrapped)
// when that ended; a *StreamEndError when the server ended the stream;
// ErrInvalidResponse for an item that does not decode; ErrResponseTooLarge
// for a message over the size bound. When ctx ends first, Next returns
// ctx's error and the stream goes on.
func (s *Stream[T]) Next(ctx context.Context) (T, error) {
	var zero T
	s.mu.Lock()
	err, closing := s.err, s.closing
	s.mu.Unlock()
	if closing {
		return zero, ErrClosed
	}
	if err != nil {
		return zero, err
	}
	select {
	case it := <-s.items:
		if it.err != nil {
			return zero, s.fail(it.err)
		}
		return it.v, nil
	case <-s.done:
		// The reader exited without handing over an error: the stream's
		// context ended or Close was called.
		if err := s.ended(); err != nil {
			return zero, s.fail(err)
		}
		return zero, s.fail(fmt.Errorf("client: stream %s ended", s.path))
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// All returns the items as a sequence: each item with a nil error, then,
// unless the loop stops first, the zero item with the error that ended
// the stream (see Next). It does not close the stream.
func (s *Stream[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err := s.Next(ctx)
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// Close ends the stream with a WebSocket close handshake (bounded by the
// WebSocket library's timeouts, 5 seconds each way) and returns once the
// stream's reading goroutine has exited. Next then returns ErrClosed.
func (s *Stream[T]) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		err := s.conn.Close(websocket.StatusNormalClosure, "")
		s.cancel()
		<-s.done
		// A stream the server or the context already ended has nothing
		// left to close.
		if err != nil && !errors.Is(err, net.ErrClosed) && websocket.CloseStatus(err) == -1 && s.life.Err() == nil {
			s.closeErr = fmt.Errorf("client: close stream %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// Streams of the availability module. Each starts at block from (an item
// per block, or per transaction, in height order, each exactly once) and
// follows the chain as blocks are decided. ctx bounds the stream's life.

// StreamLeaves streams the leaves from height from (availability/stream/leaves/{from}).
func (c *Client) StreamLeaves(ctx context.Context, from uint64) (*Stream[api.LeafQueryData], error) {
	return openStream[api.LeafQueryData](ctx, c, av("stream", "leaves", dec(from)))
}

// StreamLeavesV1 is StreamLeaves in the Leaf2 shape of the v1 routes.
func (c *Client) StreamLeavesV1(ctx context.Context, from uint64) (*Stream[api.LeafQueryDataV1], error) {
	return openStream[api.LeafQueryDataV1](ctx, c, av1("stream", "leaves", dec(from)))
}

// StreamHeaders streams the headers from height from (availability/stream/headers/{from}).
func (c *Client) StreamHeaders(ctx context.Context, from uint64) (*Stream[types.Header], error) {
	return openStream[types.Header](ctx, c, av("stream", "headers", dec(from)))
}

// StreamBlocks streams the blocks from height from (availability/stream/blocks/{from}).
func (c *Client) StreamBlocks(ctx context.Context, from uint64) (*Stream[api.BlockQueryData], error) {
	return openStream[api.BlockQueryData](ctx, c, av("stream", "blocks", dec(from)))
}

// StreamPayloads streams the payloads from height from (availability/stream/payloads/{from}).
func (c *Client) StreamPayloads(ctx context.Context, from uint64) (*Stream[api.PayloadQueryData], error) {
	return openStream[api.PayloadQueryData](ctx, c, av("stream", "payloads", dec(from)))
}

// StreamVidCommon streams the VID common data from height from
// (availability/stream/vid/common/{from}).
func (c *Client) StreamVidCommon(ctx context.Context, from uint64) (*Stream[api.VidCommonQueryData], error) {
	return openStream[api.VidCommonQueryData](ctx, c, av("stream", "vid", "common", dec(from)))
}

// StreamTransactions streams every transaction of the blocks from height
// from, in block order and in order within a block
// (availability/stream/transactions/{from}).
func (c *Client) StreamTransactions(ctx context.Context, from uint64) (*Stream[api.TransactionQueryData], error) {
	return openStream[api.TransactionQueryData](ctx, c, av("stream", "transactions", dec(from)))
}

// StreamNamespaceTransactions is StreamTransactions for the transactions
// of namespace ns only (availability/stream/transactions/{from}/namespace/{ns}).
func (c *Client) StreamNamespaceTransactions(ctx context.Context, from, ns uint64) (*Stream[api.TransactionQueryData], error) {
	return openStream[api.TransactionQueryData](ctx, c, av("stream", "transactions", dec(from), "namespace", dec(ns)))
}

// StreamNamespaceBlocks streams, for each block from height from, the
// transactions of namespace ns in it, as Namespace answers them
// (availability/stream/blocks/{from}/namespace/{ns}). Items carry no
// height: item i is block from+i, and a block without the namespace gives
// an item with a nil Proof and no transactions.
func (c *Client) StreamNamespaceBlocks(ctx context.Context, from, ns uint64) (*Stream[api.NamespaceProofQueryData], error) {
	return openStream[api.NamespaceProofQueryData](ctx, c, av("stream", "blocks", dec(from), "namespace", dec(ns)))
}

// StreamEvents streams the node's consensus events from now on
// (hotshot-events/events): a decide event per decided block.
func (c *Client) StreamEvents(ctx context.Context) (*Stream[Event], error) {
	return openStream[Event](ctx, c, path(0, "hotshot-events", "events"))
}

package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	libp2pnet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/gospresso/gospresso/network"
)

// Bounds of a peer's outgoing queue: a message is refused (ErrQueueFull)
// when the queue already holds maxQueueMessages messages, or when adding it
// would pass maxQueueBytes (a message always fits an empty queue).
const (
	maxQueueMessages = 4096
	maxQueueBytes    = network.MaxMessageSize
	// writeTimeout bounds one batch of writes: a peer that does not read
	// for that long has its stream reset (and the batch is lost).
	writeTimeout = 30 * time.Second
	// streamBuffer is the write buffer of a direct stream.
	streamBuffer = 64 << 10
)

type outMsg struct {
	topic string
	data  []byte
}

// writer owns the outgoing direct stream to one peer: Send and Broadcast
// queue messages, and its goroutine writes them in order.
type writer struct {
	t     *Transport
	p     peer.ID
	chunk int // largest frame data: min of both sides' MaxDirectSize

	mu      sync.Mutex
	queue   []outMsg
	bytes   int
	stopped bool

	wake chan struct{} // capacity 1
	done chan struct{} // closed by stop
}

func newWriter(t *Transport, p peer.ID, chunk int) *writer {
	return &writer{t: t, p: p, chunk: chunk, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// enqueue adds m to the queue without blocking.
func (w *writer) enqueue(m outMsg) error {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return network.ErrUnknownPeer
	}
	if len(w.queue) > 0 && (len(w.queue) >= maxQueueMessages || w.bytes+len(m.data) > maxQueueBytes) {
		n, b := len(w.queue), w.bytes
		w.mu.Unlock()
		w.t.sendDropped.Add(1)
		return fmt.Errorf("%w: %d messages, %d bytes queued for %s", ErrQueueFull, n, b, w.p)
	}
	w.queue = append(w.queue, m)
	w.bytes += len(m.data)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// take empties the queue and returns what it held.
func (w *writer) take() []outMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue, w.bytes = nil, 0
	return q
}

// stop ends the writer; what is queued is dropped. It is idempotent.
func (w *writer) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.stopped = true
	w.queue, w.bytes = nil, 0
	close(w.done)
}

// run writes queued messages, batching whatever accumulated while the
// previous batch was written. A stream that fails is reset and reopened for
// the next batch.
func (w *writer) run() {
	var s libp2pnet.Stream
	var bw *bufio.Writer
	defer func() {
		if s != nil {
			_ = s.Close()
		}
	}()
	for {
		select {
		case <-w.wake:
		case <-w.done:
			return
		case <-w.t.ctx.Done():
			return
		}
		for {
			batch := w.take()
			if len(batch) == 0 {
				break
			}
			if s == nil {
				var err error
				if s, err = w.open(); err != nil {
					w.t.sendDropped.Add(uint64(len(batch)))
					w.t.log.Debug("p2p: open direct stream", "peer", w.p.String(), "err", err, "dropped", len(batch))
					break
				}
				bw = bufio.NewWriterSize(s, streamBuffer)
			}
			_ = s.SetWriteDeadline(time.Now().Add(writeTimeout))
			var err error
			for _, m := range batch {
				if err = writeMessage(bw, m.topic, m.data, w.chunk); err != nil {
					break
				}
			}
			if err == nil {
				err = bw.Flush()
			}
			if err != nil {
				s.Reset()
				s = nil
				w.t.sendDropped.Add(uint64(len(batch)))
				w.t.log.Debug("p2p: write direct stream", "peer", w.p.String(), "err", err, "batch", len(batch))
			}
		}
	}
}

func (w *writer) open() (libp2pnet.Stream, error) {
	ctx, cancel := context.WithTimeout(w.t.ctx, handshakeTimeout)
	defer cancel()
	go func() {
		select {
		case <-w.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return w.t.host.NewStream(libp2pnet.WithNoDial(ctx, "direct"), w.p, directProtocol)
}

// handleDirect reads the direct stream of a verified peer and delivers its
// messages in order. A peer has one inbound direct stream: a newer one
// replaces (resets) an older. A frame that breaks the rules resets the
// stream and costs the peer score; other peers are not affected.
func (t *Transport) handleDirect(s libp2pnet.Stream) {
	if !t.track() {
		s.Reset()
		return
	}
	defer t.wg.Done()
	p := s.Conn().RemotePeer()
	info := t.waitVerified(t.ctx, p)
	if info == nil {
		s.Reset()
		return
	}
	t.mu.Lock()
	st := t.peers[p]
	if st == nil {
		t.mu.Unlock()
		s.Reset()
		return
	}
	old := st.inDirect
	st.inDirect = s
	t.mu.Unlock()
	if old != nil {
		old.Reset()
	}
	defer func() {
		t.mu.Lock()
		if st.inDirect == s {
			st.inDirect = nil
		}
		t.mu.Unlock()
	}()
	fr := newFrameReader(bufio.NewReaderSize(s, streamBuffer), t.cfg.MaxDirectSize, network.MaxMessageSize)
	for {
		topic, data, err := fr.next()
		if err != nil {
			switch {
			case errors.Is(err, ErrBadFrame):
				t.log.Warn("p2p: bad direct frame, stream reset", "peer", p.String(), "key", string(info.key), "err", err)
				t.penalize(p, penaltyProtocol, err)
				s.Reset()
			case errors.Is(err, io.EOF):
				_ = s.Close()
			default:
				s.Reset()
			}
			return
		}
		t.deliver(network.Envelope{From: info.key, Topic: topic, Data: data})
	}
}

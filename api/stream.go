package api

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// streamWriteTimeout bounds writing one stream message: a client that does
// not read for this long is cut off, so a stalled reader holds no
// goroutine and no buffer for longer.
const streamWriteTimeout = 30 * time.Second

// Opener checks a stream request and returns the items to send, in order.
// An error before the stream starts is answered as an HTTP error; an error
// the sequence yields ends the stream with a WebSocket close status and its
// message.
type Opener func(r *Request) (iter.Seq2[any, error], error)

// Stream adds a WebSocket route (ws://host/v{major}/{module}/pattern): one
// JSON message per item, until the items end, the client goes away or the
// server shuts down.
func (r *Router) Stream(pattern string, open Opener) {
	r.add(http.MethodGet, pattern, func(w http.ResponseWriter, req *Request) {
		// The items follow this context: it ends when the client goes away
		// (see below) or the server shuts down, so a stream on a stalled
		// chain does not outlive its client.
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		req.Request = req.Request.WithContext(ctx)
		items, err := open(req)
		if err != nil {
			writeError(w, req.Request, err, r.log)
			return
		}
		if !isWebSocket(req.Request) {
			writeJSON(w, http.StatusUpgradeRequired, Errorf(http.StatusUpgradeRequired, "%s is a WebSocket stream: connect with ws://", req.URL.Path))
			return
		}
		// The server's read and write deadlines are for plain requests;
		// a stream lives as long as its client reads.
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		conn, err := websocket.Accept(w, req.Request, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
		if err != nil {
			return // Accept answered the client
		}
		r.streams.Add(1)
		defer r.streams.Done()
		// gone is done when the client closes or sends anything. It must
		// not follow ctx: CloseRead drops the connection when its context
		// ends, and on shutdown the client is owed the close frame below.
		gone := conn.CloseRead(context.WithoutCancel(ctx))
		defer context.AfterFunc(gone, cancel)()
		status, reason := websocket.StatusNormalClosure, ""
		for item, err := range items {
			if err != nil {
				status, reason = websocket.StatusInternalError, truncate(err.Error(), 120)
				if errors.Is(err, context.Canceled) || ctx.Err() != nil {
					status, reason = websocket.StatusGoingAway, "stream ended"
				}
				break
			}
			wctx, cancel := context.WithTimeout(ctx, streamWriteTimeout)
			err := wsjson.Write(wctx, conn, item)
			cancel()
			if err != nil {
				status, reason = websocket.StatusGoingAway, "write failed"
				break
			}
		}
		_ = conn.Close(status, reason)
	})
}

func isWebSocket(r *http.Request) bool {
	return headerHas(r.Header, "Connection", "upgrade") && headerHas(r.Header, "Upgrade", "websocket")
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

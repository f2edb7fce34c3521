// Package client is a typed Go client for a gospresso node's HTTP API: the
// routes package api serves (docs/api.md), decoded into the api package's
// query objects (api.BlockQueryData, api.LeafQueryData, ...) and the types
// package's headers, transactions and commitments.
//
// Create a client with the node's root URL, then call a method per route;
// every call takes a context first:
//
//	c, err := client.New("http://127.0.0.1:8080", client.WithTimeout(10*time.Second))
//	if err != nil { ... }
//	h, err := c.BlockHeight(ctx)
//	blk, err := c.Block(ctx, h-1)
//	tx, err := c.TransactionByHash(ctx, commitment)
//
// Paths are built from the method's arguments: heights, indexes and
// namespaces in decimal, commitments in TaggedBase64 with the tag the route
// takes (types.TagBlock for block hashes, types.TagPayload for payload
// hashes, types.TagLeaf for leaf hashes, types.TagTransaction for
// transactions), each segment escaped with url.PathEscape. Availability
// calls use the module's v0 routes; the ...V1 methods read leaves in the
// Leaf2 shape of the v1 routes.
//
// # Errors
//
// A non-2xx answer is an *APIError carrying the HTTP status and the
// server's message. It matches the sentinel of its status with errors.Is:
// ErrNotFound (404: a height not decided yet, an unknown hash, a pruned
// object), ErrBadRequest (400: a malformed parameter, a range over the
// server's limit), ErrRequestTooLarge (413), ErrTooManyRequests (429),
// ErrUnavailable (503) and ErrServerError (other 5xx). An answer that does
// not decode is ErrInvalidResponse; one over the size bound is
// ErrResponseTooLarge. Context errors come back wrapped, so
// errors.Is(err, context.DeadlineExceeded) works.
//
// # Streams
//
// The WebSocket routes (stream/blocks/{height} and the others) are read
// through a [Stream]: Next returns the items one at a time, in height order,
// each exactly once; Close ends the stream. The context given when opening
// a stream bounds its whole life: when it ends the stream ends. A stream
// the server ends reports why as a *StreamEndError holding the WebSocket
// close code and the server's reason (errors.Is(err, ErrStreamEnded)); a
// clean end (close code 1000) also matches io.EOF. Nothing of a stream
// outlives Close: it returns once its reading goroutine has exited.
//
// # Bounds
//
// A misbehaving server cannot make the client allocate without bound: a
// response body is read up to WithMaxResponseSize (DefaultMaxResponseSize,
// 64 MiB) and a stream message up to WithMaxMessageSize
// (DefaultMaxMessageSize, 16 MiB); beyond them the call fails with
// ErrResponseTooLarge. Every plain call is bounded by WithTimeout
// (DefaultTimeout) as well as by its context.
package client

package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gospresso/gospresso/api/client"
	"github.com/gospresso/gospresso/types"
)

// fakeServer serves h on 127.0.0.1 and returns a client of it with the
// given options.
func fakeServer(t *testing.T, h http.HandlerFunc, opts ...client.Option) (*client.Client, context.Context) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL+"/prefix", append([]client.Option{client.WithHTTPClient(srv.Client()), client.WithTimeout(10 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c, ctx
}

// TestPaths checks the paths the client builds: the base URL's prefix,
// decimal heights, TaggedBase64 commitments with the route's tag.
func TestPaths(t *testing.T) {
	var got []string
	c, ctx := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.EscapedPath())
		w.WriteHeader(http.StatusNotFound)
	})
	hash := types.Commitment{1, 2, 3}
	tx := types.Transaction{Namespace: 1, Payload: []byte("x")}
	_, _ = c.Header(ctx, 18446744073709551615)
	_, _ = c.TransactionByHashNoProof(ctx, tx.Commit())
	_, _ = c.BlockByPayloadHash(ctx, hash)
	_, _ = c.LeafByHashV1(ctx, hash)
	_, _ = c.NamespaceByHash(ctx, hash, 42)
	_, _ = c.HeaderWindowFromHash(ctx, hash, 99)
	_, _ = c.CatchupAccounts(ctx, 1, 2, nil)
	_, _ = c.ChainConfig(ctx, hash)
	want := []string{
		"GET /prefix/v0/availability/header/18446744073709551615",
		"GET /prefix/v0/availability/transaction/hash/" + tx.Hash().String() + "/noproof",
		"GET /prefix/v0/availability/block/payload-hash/" + hash.Tagged(types.TagPayload).String(),
		"GET /prefix/v1/availability/leaf/hash/" + hash.Tagged(types.TagLeaf).String(),
		"GET /prefix/v0/availability/block/hash/" + hash.Tagged(types.TagBlock).String() + "/namespace/42",
		"GET /prefix/v0/node/header/window/from/hash/" + hash.Tagged(types.TagBlock).String() + "/99",
		"POST /prefix/v0/catchup/1/2/accounts",
		"GET /prefix/v0/catchup/chain-config/" + hash.Tagged(types.TagChainConfig).String(),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestResponseBounds checks what the client makes of answers a
// misbehaving server sends: too large, not JSON, of the wrong shape.
func TestResponseBounds(t *testing.T) {
	big := strings.Repeat("1", 4096)
	c, ctx := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/status/block-height"): // sized
			io.WriteString(w, big)
		case strings.HasSuffix(r.URL.Path, "/node/block-height"): // chunked
			w.(http.Flusher).Flush()
			for range 8 {
				io.WriteString(w, big)
			}
		case strings.HasSuffix(r.URL.Path, "/status/success-rate"):
			io.WriteString(w, `"not a number"`)
		case strings.HasSuffix(r.URL.Path, "/availability/header/1"):
			io.WriteString(w, `{"height": 1}`)
		case strings.HasSuffix(r.URL.Path, "/availability/header/2"):
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway</html>"+strings.Repeat(" ", 200<<10))
		case strings.HasSuffix(r.URL.Path, "/availability/header/3"):
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"status":429,"message":"too many connections: try again later"}`)
		case strings.HasSuffix(r.URL.Path, "/availability/header/4"):
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"status":503,"message":"mempool full"}`)
		case r.URL.Path == "/prefix/healthcheck":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"status":"unhealthy","modules":{"status":{"0":503}}}`)
		case strings.HasSuffix(r.URL.Path, "/submit/submit"):
			io.WriteString(w, `"BLOCK~`+strings.TrimPrefix(types.Commitment{}.Tagged(types.TagBlock).String(), "BLOCK~")+`"`)
		default:
			http.NotFound(w, r)
		}
	}, client.WithMaxResponseSize(1024))

	_, err := c.BlockHeight(ctx)
	wantErr(t, "a sized body over the bound", err, client.ErrResponseTooLarge)
	_, err = c.NodeBlockHeight(ctx)
	wantErr(t, "a chunked body over the bound", err, client.ErrResponseTooLarge)
	_, err = c.SuccessRate(ctx)
	wantErr(t, "a body of the wrong type", err, client.ErrInvalidResponse)
	_, err = c.Header(ctx, 1)
	wantErr(t, "a header missing its fields", err, client.ErrInvalidResponse)

	_, err = c.Header(ctx, 2)
	wantErr(t, "a 502", err, client.ErrServerError)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || !strings.HasPrefix(apiErr.Message, "<html>bad gateway") || len(apiErr.Message) > 2048 {
		t.Errorf("a 502 with a long HTML body: %v, want an *APIError keeping the body's start", err)
	}
	_, err = c.Header(ctx, 3)
	wantErr(t, "a 429", err, client.ErrTooManyRequests)
	if !errors.As(err, &apiErr) || apiErr.Message != "too many connections: try again later" {
		t.Errorf("a 429: %v, want the server's message", err)
	}
	_, err = c.Header(ctx, 4)
	wantErr(t, "a 503", err, client.ErrUnavailable)
	if errors.Is(err, client.ErrServerError) {
		t.Errorf("a 503 matches ErrServerError")
	}
	h, err := c.Healthcheck(ctx)
	if err != nil || h.Status != "unhealthy" || h.Modules["status"]["0"] != 503 {
		t.Errorf("Healthcheck of an unhealthy node = %+v, %v; want unhealthy and no error", h, err)
	}
	_, err = c.Submit(ctx, types.Transaction{Namespace: 1})
	wantErr(t, "Submit answered with a block hash", err, client.ErrInvalidResponse)
}

// TestStreamBounds checks how streams end on what a misbehaving or ending
// server sends: a message over the bound, one that does not decode, a
// close with a reason, a normal close.
func TestStreamBounds(t *testing.T) {
	handlers := make(chan func(*websocket.Conn), 1)
	c, ctx := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		(<-handlers)(conn)
	}, client.WithMaxMessageSize(1024))
	header := func(h uint64) string {
		b, _ := types.Header{Height: h}.MarshalJSON()
		return string(b)
	}
	write := func(conn *websocket.Conn, msgs ...string) {
		for _, m := range msgs {
			if err := conn.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				return
			}
		}
	}
	for _, tc := range []struct {
		name   string
		server func(*websocket.Conn)
		items  int
		want   error
		check  func(error) error
	}{
		{"message over the bound", func(conn *websocket.Conn) {
			write(conn, header(0), `"`+strings.Repeat("x", 2048)+`"`)
			conn.Read(ctx) // until the client closes
		}, 1, client.ErrResponseTooLarge, nil},
		{"item that does not decode", func(conn *websocket.Conn) {
			write(conn, header(0), header(1), `{"height": "two"}`)
			conn.Read(ctx)
		}, 2, client.ErrInvalidResponse, nil},
		{"server error", func(conn *websocket.Conn) {
			write(conn, header(0))
			conn.Close(websocket.StatusInternalError, "store failed")
		}, 1, client.ErrStreamEnded, func(err error) error {
			var end *client.StreamEndError
			if !errors.As(err, &end) || end.Code != 1011 || end.Reason != "store failed" || errors.Is(err, io.EOF) {
				return fmt.Errorf("%v, want close code 1011 with the reason, not io.EOF", err)
			}
			return nil
		}},
		{"normal end", func(conn *websocket.Conn) {
			write(conn, header(0), header(1), header(2))
			conn.Close(websocket.StatusNormalClosure, "")
		}, 3, io.EOF, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			handlers <- tc.server
			s, err := c.StreamHeaders(ctx, 0)
			check(t, "StreamHeaders", err)
			defer s.Close()
			for i := range tc.items {
				h, err := s.Next(ctx)
				if err != nil || h.Height != uint64(i) {
					t.Fatalf("item %d: height %d, %v", i, h.Height, err)
				}
			}
			_, err = s.Next(ctx)
			wantErr(t, "Next", err, tc.want)
			if tc.check != nil {
				if err := tc.check(err); err != nil {
					t.Error(err)
				}
			}
			if _, err2 := s.Next(ctx); err2 != err {
				t.Errorf("second Next: %v, want %v again", err2, err)
			}
		})
	}

}

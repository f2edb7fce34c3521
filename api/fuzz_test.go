package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/types"
)

var (
	fuzzOnce sync.Once
	fuzzSrv  *api.Server
	fuzzFB   *fakeBackend
)

// FuzzRouter drives the server's handler with random methods, paths,
// content types and bodies over the fixed chain: never a 5xx, never a
// panic, and every error a JSON {"status", "message"} body.
func FuzzRouter(f *testing.F) {
	fuzzOnce.Do(func() { fuzzSrv, fuzzFB = newFakeServer(f) })
	srv, fb := fuzzSrv, fuzzFB

	// Seeds: every route filled with values of the fixed chain, and a few
	// bad ones.
	b1, _ := fb.store.BlockByHeight(bgCtx, 1)
	valid := map[string]string{
		"height": "1", "from": "0", "until": "3", "index": "0", "to": "2", "view": "2", "start": "1700000000", "end": "1700000030",
		"namespace": "7", "address": "0x" + strings.Repeat("ab", 20), "key": "1",
		"payload-hash": payloadHashOf(&b1).String(), "block-hash": blockHashOf(&b1).String(), "hash": blockHashOf(&b1).String(),
		"commitment": types.Commitment(fb.info.Genesis.ChainConfig.Commit()).Tagged(types.TagChainConfig).String(),
		"commit":     types.TaggedBase64{Tag: types.TagMerkle, Value: make([]byte, 32)}.String(),
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	var routes []string
	for _, line := range strings.Split(rec.Body.String(), "<code>")[1:] {
		routes = append(routes, strings.SplitN(line, "</code>", 2)[0])
	}
	if len(routes) < 90 {
		f.Fatalf("index lists %d routes", len(routes))
	}
	tx, _ := json.Marshal(fakeTxs[0])
	for _, r := range routes {
		method, route, _ := strings.Cut(r, " ")
		path := fill(route, func(n string) string { return valid[n] })
		var body []byte
		if method == http.MethodPost {
			body = tx
			if strings.HasSuffix(route, "batch") || strings.HasSuffix(route, "accounts") {
				body = []byte("[" + string(tx) + "]")
			}
		}
		f.Add(method, path, "application/json", body)
		f.Add(method, fill(route, func(string) string { return "x" }), "", body)
	}
	for _, s := range []struct{ method, path, ct, body string }{
		{"GET", "/", "", ""},
		{"GET", "/healthcheck", "", ""},
		{"POST", "/version", "", ""},
		{"GET", "/status/block-height?x=1", "", ""},
		{"GET", "/v0/availability/header/0/501", "", ""},
		{"GET", "/v0/availability/block/5/4", "", ""},
		{"POST", "/v0/submit/submit", "text/plain", "{}"},
		{"POST", "/v0/submit/batch", "application/json", "null"},
		{"POST", "/v0/submit/submit", "application/json", `{"namespace":4294967296,"payload":""}`},
		{"DELETE", "/v1/availability/leaf/hash/COMMIT~AAAA", "", ""},
		{"GET", "/v0/availability/transaction/hash/TX~qOF0p1P0cuOKQ86DdEM7EANNB5cuQAO-AtSB1rfhr1Vn", "", ""},
		{"GET", "/v0/availability/stream/blocks/0", "", ""},
		{"GET", "/v0/node/header/window/from/hash/BLOCK~x/1", "", ""},
		{"GET", "/v0//", "", ""},
		{"GET", "//", "", ""},
	} {
		f.Add(s.method, s.path, s.ct, []byte(s.body))
	}

	f.Fuzz(func(t *testing.T, method, path, contentType string, body []byte) {
		if method == "" {
			method = http.MethodGet
		}
		u, err := url.ParseRequestURI(path)
		if err != nil {
			u = &url.URL{Path: path}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req := (&http.Request{
			Method: method, URL: u, RequestURI: path, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Host: "fuzz", Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		}).WithContext(ctx)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		code := rec.Code
		if code >= 500 {
			t.Fatalf("%q %q (%q, %d body bytes): %d %s", method, path, contentType, len(body), code, rec.Body.Bytes())
		}
		if code >= 400 {
			if err := checkErrorBody(rec.Result(), rec.Body.Bytes(), code); err != nil {
				t.Fatalf("%q %q: %v", method, path, err)
			}
		}
	})
}

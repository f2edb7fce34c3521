package eth

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// reply is what the fake L1 answers to one request.
type reply struct {
	result any             // the JSON-RPC result (marshalled), unless one of the below
	rawRes string          // a raw JSON result, used as is
	code   int             // a JSON-RPC error with this code and msg
	msg    string          //
	status int             // an HTTP error status instead of a JSON-RPC answer
	body   string          // a raw HTTP body instead of a JSON-RPC answer
	hang   <-chan struct{} // block until closed (or the request ends)
}

// fakeL1 is a JSON-RPC server on 127.0.0.1 whose answers a test scripts, and
// which counts the calls it gets.
type fakeL1 struct {
	srv *httptest.Server

	mu     sync.Mutex
	answer func(method string, params []json.RawMessage) reply
	calls  map[string]int
	total  int
	params map[string][][]json.RawMessage
}

func newFakeL1(t *testing.T, answer func(method string, params []json.RawMessage) reply) *fakeL1 {
	t.Helper()
	f := &fakeL1{answer: answer, calls: make(map[string]int), params: make(map[string][][]json.RawMessage)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeL1) URL() string { return f.srv.URL }

func (f *fakeL1) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		ID     json.RawMessage   `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "fake L1 wants one JSON-RPC request: "+err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls[req.Method]++
	f.total++
	f.params[req.Method] = append(f.params[req.Method], req.Params)
	answer := f.answer
	f.mu.Unlock()

	rep := answer(req.Method, req.Params)
	if rep.hang != nil {
		select {
		case <-rep.hang:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case rep.status != 0:
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
		return
	case rep.body != "":
		io.WriteString(w, rep.body)
		return
	case rep.code != 0:
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":%q}}`, req.ID, rep.code, rep.msg)
		return
	}
	res := rep.rawRes
	if res == "" {
		b, err := json.Marshal(rep.result)
		if err != nil {
			panic(err)
		}
		res = string(b)
	}
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, req.ID, res)
}

// count returns how many calls of method the server got.
func (f *fakeL1) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// paramsOf returns the params of every call of method, in order.
func (f *fakeL1) paramsOf(method string) [][]json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]json.RawMessage(nil), f.params[method]...)
}

// setAnswer replaces the script.
func (f *fakeL1) setAnswer(answer func(method string, params []json.RawMessage) reply) {
	f.mu.Lock()
	f.answer = answer
	f.mu.Unlock()
}

// fakeClock is a manual clock for the failure window.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// okHead answers eth_blockNumber with n.
func okHead(n uint64) reply { return reply{result: fmt.Sprintf("0x%x", n)} }

// blockJSON is an eth_getBlockByNumber result with the fields gospresso reads
// (and a few it ignores).
func blockJSON(n uint64, ts uint64, hash string) map[string]any {
	return map[string]any{
		"number":     fmt.Sprintf("0x%x", n),
		"timestamp":  fmt.Sprintf("0x%x", ts),
		"hash":       hash,
		"parentHash": "0x" + fmt.Sprintf("%064x", n),
		"gasLimit":   "0x1c9c380",
	}
}

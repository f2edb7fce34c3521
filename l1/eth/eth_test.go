package eth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/feecontract"
	"github.com/gospresso/gospresso/types"
)

// dial returns a client over urls with a 1ms retry delay (unless opts say
// otherwise) and a manual clock; Close runs at cleanup.
func dial(t *testing.T, urls []string, opts ...Option) (*Client, *fakeClock) {
	t.Helper()
	c, err := Dial(context.Background(), urls, append([]Option{WithRetryDelay(time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c.now = clock.Now
	t.Cleanup(c.Close)
	return c, clock
}

func failovers(c *Client) float64 { return testutil.ToFloat64(c.failovers) }

func failedRequests(c *Client, label string) float64 {
	return testutil.ToFloat64(c.failed.WithLabelValues(label))
}

func always(r reply) func(string, []json.RawMessage) reply {
	return func(string, []json.RawMessage) reply { return r }
}

var http500 = reply{status: http.StatusInternalServerError, body: "boom"}

// TestFailoverAfterConsecutiveFailures: a provider that keeps failing is
// left after exactly ConsecutiveFailureTolerance failures, the next provider
// answers, and later requests go straight to it.
func TestFailoverAfterConsecutiveFailures(t *testing.T) {
	a := newFakeL1(t, always(http500))
	b := newFakeL1(t, always(okHead(42)))
	c, _ := dial(t, []string{a.URL(), b.URL()},
		WithConsecutiveFailureTolerance(3), WithFrequentFailureTolerance(0), WithMaxAttempts(10))

	head, err := c.Head(context.Background())
	if err != nil || head != 42 {
		t.Fatalf("Head = %d, %v; want 42 from the second provider", head, err)
	}
	if got := a.count("eth_blockNumber"); got != 3 {
		t.Errorf("first provider got %d calls, want exactly 3 (the tolerance)", got)
	}
	if got := b.count("eth_blockNumber"); got != 1 {
		t.Errorf("second provider got %d calls, want 1", got)
	}
	if got := failovers(c); got != 1 {
		t.Errorf("consensus_l1_failovers = %v, want 1", got)
	}
	if got := failedRequests(c, redact(a.URL())); got != 3 {
		t.Errorf("consensus_l1_failed_requests{first} = %v, want 3", got)
	}
	if got := failedRequests(c, redact(b.URL())); got != 0 {
		t.Errorf("consensus_l1_failed_requests{second} = %v, want 0", got)
	}
	if c.Current() != redact(b.URL()) {
		t.Errorf("current provider %s, want the second", c.Current())
	}
	if _, err := c.Head(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.count("eth_blockNumber") != 3 || b.count("eth_blockNumber") != 2 {
		t.Errorf("after failover: calls %d and %d, want 3 and 2", a.count("eth_blockNumber"), b.count("eth_blockNumber"))
	}
}

// TestNoFailoverBelowTolerance: failures fewer than the tolerance, with
// successes between them, never fail over; a success resets the count.
func TestNoFailoverBelowTolerance(t *testing.T) {
	var mu sync.Mutex
	n := 0
	// Fail calls 1-2, 4-5, 7-8, ...: two failures, then a success.
	a := newFakeL1(t, func(string, []json.RawMessage) reply {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%3 != 0 {
			return http500
		}
		return okHead(7)
	})
	b := newFakeL1(t, always(okHead(8)))
	c, _ := dial(t, []string{a.URL(), b.URL()},
		WithConsecutiveFailureTolerance(3), WithFrequentFailureTolerance(0), WithMaxAttempts(10))
	for i := 0; i < 4; i++ {
		if head, err := c.Head(context.Background()); err != nil || head != 7 {
			t.Fatalf("request %d: Head = %d, %v; want 7 from the first provider", i, head, err)
		}
	}
	if got := failovers(c); got != 0 {
		t.Errorf("consensus_l1_failovers = %v, want 0", got)
	}
	if got := failedRequests(c, redact(a.URL())); got != 8 {
		t.Errorf("failed requests = %v, want 8", got)
	}
	if b.count("eth_blockNumber") != 0 {
		t.Errorf("second provider was called")
	}
}

// TestFrequentFailureFailover: two failures of the current provider less
// than FrequentFailureTolerance apart fail over, even with successes between
// them; failures further apart do not.
func TestFrequentFailureFailover(t *testing.T) {
	var mu sync.Mutex
	failNext := false
	a := newFakeL1(t, func(string, []json.RawMessage) reply {
		mu.Lock()
		defer mu.Unlock()
		if failNext {
			failNext = false
			return http500
		}
		return okHead(1)
	})
	b := newFakeL1(t, always(okHead(2)))
	c, clock := dial(t, []string{a.URL(), b.URL()},
		WithConsecutiveFailureTolerance(100), WithFrequentFailureTolerance(time.Minute))
	failOnce := func() {
		mu.Lock()
		failNext = true
		mu.Unlock()
	}

	failOnce()
	if head, err := c.Head(context.Background()); err != nil || head != 1 {
		t.Fatalf("first failure: Head = %d, %v; want 1 (retried on the same provider)", head, err)
	}
	clock.Advance(2 * time.Minute) // the next failure is outside the window
	failOnce()
	if head, err := c.Head(context.Background()); err != nil || head != 1 {
		t.Fatalf("second failure, 2m later: Head = %d, %v; want 1", head, err)
	}
	if got := failovers(c); got != 0 {
		t.Fatalf("failovers after failures 2m apart = %v, want 0", got)
	}
	clock.Advance(10 * time.Second) // inside the window
	failOnce()
	if head, err := c.Head(context.Background()); err != nil || head != 2 {
		t.Fatalf("third failure, 10s later: Head = %d, %v; want 2 from the second provider", head, err)
	}
	if got := failovers(c); got != 1 {
		t.Errorf("failovers = %v, want 1", got)
	}
	if got := a.count("eth_blockNumber"); got != 5 {
		t.Errorf("first provider got %d calls, want 5 (fail+retry twice, then the failing call)", got)
	}
}

// TestFailoverWrapsAroundAndGivesUp: with every provider failing, the client
// cycles through them in order and returns a clear error after the attempts.
func TestFailoverWrapsAroundAndGivesUp(t *testing.T) {
	var fakes []*fakeL1
	var urls []string
	for i := 0; i < 3; i++ {
		f := newFakeL1(t, always(http500))
		fakes = append(fakes, f)
		urls = append(urls, f.URL())
	}
	c, _ := dial(t, urls, WithConsecutiveFailureTolerance(2), WithFrequentFailureTolerance(0), WithMaxAttempts(7))
	_, err := c.Head(context.Background())
	if err == nil {
		t.Fatal("Head succeeded with every provider failing")
	}
	// Attempts: A A | B B | C C | A -> 7, failovers after the 2nd, 4th, 6th.
	for i, want := range []int{3, 2, 2} {
		if got := fakes[i].count("eth_blockNumber"); got != want {
			t.Errorf("provider %d got %d calls, want %d", i, got, want)
		}
	}
	if got := failovers(c); got != 3 {
		t.Errorf("failovers = %v, want 3", got)
	}
	for _, want := range []string{"eth_blockNumber", redact(urls[0]), "attempt 7 of 7", "500"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestSingleProviderNeverCountsFailover: one provider that fails past the
// tolerance is retried, and no failover is counted.
func TestSingleProviderNeverCountsFailover(t *testing.T) {
	var mu sync.Mutex
	n := 0
	a := newFakeL1(t, func(string, []json.RawMessage) reply {
		mu.Lock()
		defer mu.Unlock()
		if n++; n <= 4 {
			return http500
		}
		return okHead(5)
	})
	c, _ := dial(t, []string{a.URL()}, WithConsecutiveFailureTolerance(2), WithMaxAttempts(10))
	if head, err := c.Head(context.Background()); err != nil || head != 5 {
		t.Fatalf("Head = %d, %v", head, err)
	}
	if got := failovers(c); got != 0 {
		t.Errorf("failovers = %v, want 0 with one provider", got)
	}
}

// TestDepositsSplitsRanges: a 25,000-block range with a maximum of 10,000
// takes exactly 3 eth_getLogs calls with the right bounds, in order, asking
// for the fee contract's Deposit events; the results come back in order.
func TestDepositsSplitsRanges(t *testing.T) {
	contract := types.Address{0xfe, 0xe}
	user := types.Address{0xaa}
	f := newFakeL1(t, func(method string, params []json.RawMessage) reply {
		var filter struct {
			FromBlock string `json:"fromBlock"`
			ToBlock   string `json:"toBlock"`
		}
		if err := json.Unmarshal(params[0], &filter); err != nil {
			return reply{code: -32602, msg: err.Error()}
		}
		var from uint64
		fmt.Sscanf(filter.FromBlock, "0x%x", &from)
		// One deposit in the first block of each range.
		return reply{result: []map[string]any{depositLog(contract, user, from, 0, from+1)}}
	})
	c, _ := dial(t, []string{f.URL()}, WithEventsMaxBlockRange(10_000))

	deps, err := c.Deposits(context.Background(), contract, 0, 24_999)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.paramsOf("eth_getLogs")
	if len(calls) != 3 {
		t.Fatalf("%d eth_getLogs calls, want 3", len(calls))
	}
	wantBounds := [][2]string{{"0x0", "0x270f"}, {"0x2710", "0x4e1f"}, {"0x4e20", "0x61a7"}}
	for i, p := range calls {
		var filter struct {
			Address   string     `json:"address"`
			Topics    [][]string `json:"topics"`
			FromBlock string     `json:"fromBlock"`
			ToBlock   string     `json:"toBlock"`
		}
		if err := json.Unmarshal(p[0], &filter); err != nil {
			t.Fatal(err)
		}
		if filter.FromBlock != wantBounds[i][0] || filter.ToBlock != wantBounds[i][1] {
			t.Errorf("call %d: [%s, %s], want [%s, %s]", i, filter.FromBlock, filter.ToBlock, wantBounds[i][0], wantBounds[i][1])
		}
		if filter.Address != contract.String() {
			t.Errorf("call %d: address %s, want %s", i, filter.Address, contract)
		}
		if len(filter.Topics) != 1 || len(filter.Topics[0]) != 1 || filter.Topics[0][0] != feecontract.DepositEventID.Hex() {
			t.Errorf("call %d: topics %v, want [[%s]]", i, filter.Topics, feecontract.DepositEventID.Hex())
		}
	}
	if len(deps) != 3 {
		t.Fatalf("%d deposits, want 3", len(deps))
	}
	for i, want := range []uint64{0, 10_000, 20_000} {
		if deps[i].Block != want || deps[i].Account != user || deps[i].Amount != types.NewU256(want+1) {
			t.Errorf("deposit %d = %+v, want block %d, amount %d", i, deps[i], want, want+1)
		}
	}

	// Exact multiples, a single block, and an empty range.
	for _, tc := range []struct {
		from, to uint64
		calls    int
	}{{0, 9_999, 1}, {0, 10_000, 2}, {7, 7, 1}, {8, 7, 0}, {^uint64(0) - 5, ^uint64(0), 1}} {
		before := f.count("eth_getLogs")
		if _, err := c.Deposits(context.Background(), contract, tc.from, tc.to); err != nil {
			t.Fatalf("[%d, %d]: %v", tc.from, tc.to, err)
		}
		if got := f.count("eth_getLogs") - before; got != tc.calls {
			t.Errorf("[%d, %d]: %d calls, want %d", tc.from, tc.to, got, tc.calls)
		}
	}
}

// depositLog is an eth_getLogs entry for a Deposit of amount to user.
func depositLog(contract, user types.Address, block, index, amount uint64) map[string]any {
	return map[string]any{
		"address":          contract.String(),
		"topics":           []string{feecontract.DepositEventID.Hex(), "0x000000000000000000000000" + user.String()[2:]},
		"data":             fmt.Sprintf("0x%064x", amount),
		"blockNumber":      fmt.Sprintf("0x%x", block),
		"logIndex":         fmt.Sprintf("0x%x", index),
		"transactionHash":  "0x" + strings.Repeat("11", 32),
		"transactionIndex": "0x0",
		"blockHash":        "0x" + strings.Repeat("22", 32),
		"removed":          false,
	}
}

// TestMalformedResponses: answers that are not what the method promises give
// errors that say what is wrong (wrapping l1.ErrMalformed where the JSON-RPC
// layer succeeded), never a panic.
func TestMalformedResponses(t *testing.T) {
	contract := types.Address{0xfe}
	user := types.Address{0xaa}
	hash := "0x" + strings.Repeat("ab", 32)
	mod := func(f func(m map[string]any)) map[string]any {
		m := depositLog(contract, user, 5, 0, 1)
		f(m)
		return m
	}
	tests := []struct {
		name      string
		call      func(c *Client) error
		answer    reply
		malformed bool
		text      string
	}{
		{"block without hash", blockCall(5), reply{result: map[string]any{"number": "0x5", "timestamp": "0x1"}}, true, "without a hash"},
		{"block without number", blockCall(5), reply{result: map[string]any{"hash": hash, "timestamp": "0x1"}}, true, "without a number"},
		{"block without timestamp", blockCall(5), reply{result: map[string]any{"hash": hash, "number": "0x5"}}, true, "without a timestamp"},
		{"block of another number", blockCall(5), reply{result: blockJSON(6, 1, hash)}, true, "asked for block 5, got block 6"},
		{"block timestamp not hex", blockCall(5), reply{result: map[string]any{"number": "0x5", "timestamp": "12", "hash": hash}}, true, "timestamp"},
		{"block hash too short", blockCall(5), reply{result: blockJSON(5, 1, "0xabcd")}, true, "block"},
		{"block is a string", blockCall(5), reply{result: "0x5"}, true, "cannot unmarshal"},
		{"finalized is a number", finalizedCall, reply{rawRes: "17"}, true, "cannot unmarshal"},
		{"logs not an array", logsCall(contract), reply{result: map[string]any{}}, true, "cannot unmarshal"},
		{"logs null", logsCall(contract), reply{rawRes: "null"}, true, "null instead of an array"},
		{"log of another contract", logsCall(contract), reply{result: []any{depositLog(types.Address{1}, user, 5, 0, 1)}}, true, "not the fee contract"},
		{"log of another event", logsCall(contract), reply{result: []any{mod(func(m map[string]any) {
			m["topics"] = []string{"0x" + strings.Repeat("00", 32), "0x" + strings.Repeat("00", 32)}
		})}}, true, "not a Deposit"},
		{"log user topic not an address", logsCall(contract), reply{result: []any{mod(func(m map[string]any) {
			m["topics"] = []string{feecontract.DepositEventID.Hex(), "0x" + strings.Repeat("ff", 32)}
		})}}, true, "not an address"},
		{"log data short", logsCall(contract), reply{result: []any{mod(func(m map[string]any) { m["data"] = "0x" + strings.Repeat("00", 31) })}}, true, "31 bytes"},
		{"log outside the range", logsCall(contract), reply{result: []any{depositLog(contract, user, 11, 0, 1)}}, true, "outside the range"},
		{"log without block number", logsCall(contract), reply{result: []any{mod(func(m map[string]any) { delete(m, "blockNumber") })}}, true, "no blockNumber"},
		{"log without log index", logsCall(contract), reply{result: []any{mod(func(m map[string]any) { delete(m, "logIndex") })}}, true, "no logIndex"},
		{"removed log", logsCall(contract), reply{result: []any{mod(func(m map[string]any) { m["removed"] = true })}}, true, "removed"},
		{"duplicate logs", logsCall(contract), reply{result: []any{depositLog(contract, user, 5, 3, 1), depositLog(contract, user, 5, 3, 2)}}, true, "two logs at block 5 index 3"},
		{"body not JSON", blockCall(5), reply{body: "<html>gateway</html>"}, false, "invalid character"},
		{"JSON-RPC error", blockCall(5), reply{code: -32601, msg: "method not found"}, false, "method not found"},
		{"chain id not a number", chainIDCall, reply{result: "banana"}, false, "eth_chainId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeL1(t, always(tt.answer))
			c, _ := dial(t, []string{f.URL()}, WithMaxAttempts(2))
			err := tt.call(c)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, l1.ErrMalformed) != tt.malformed {
				t.Errorf("errors.Is(err, ErrMalformed) = %v, want %v: %v", !tt.malformed, tt.malformed, err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not mention %q", err, tt.text)
			}
			if !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error %q does not name the provider", err)
			}
		})
	}
}

func blockCall(n uint64) func(c *Client) error {
	return func(c *Client) error {
		_, err := c.Block(context.Background(), n)
		return err
	}
}

func finalizedCall(c *Client) error {
	_, err := c.Finalized(context.Background())
	return err
}

func chainIDCall(c *Client) error {
	_, err := c.ChainID(context.Background())
	return err
}

func logsCall(contract types.Address) func(c *Client) error {
	return func(c *Client) error {
		_, err := c.Deposits(context.Background(), contract, 1, 10)
		return err
	}
}

// TestReads: every method decodes a good answer, sends the right params, and
// a missing block or finalized block is not a provider failure.
func TestReads(t *testing.T) {
	hash := "0x" + strings.Repeat("cd", 32)
	var mu sync.Mutex
	finalized := reply{rawRes: "null"}
	f := newFakeL1(t, func(method string, params []json.RawMessage) reply {
		switch method {
		case "eth_chainId":
			return reply{result: "0x539"}
		case "eth_blockNumber":
			return okHead(100)
		case "eth_getCode":
			return reply{result: "0x6080"}
		case "eth_getStorageAt":
			return reply{result: "0x" + strings.Repeat("00", 31) + "07"}
		case "eth_getBlockByNumber":
			var tag string
			json.Unmarshal(params[0], &tag)
			switch tag {
			case "finalized":
				mu.Lock()
				defer mu.Unlock()
				return finalized
			case "0x40":
				return reply{result: blockJSON(64, 1_700_000_000, hash)}
			default:
				return reply{rawRes: "null"}
			}
		}
		return reply{code: -32601, msg: "no method " + method}
	})
	c, _ := dial(t, []string{f.URL()})
	ctx := context.Background()

	if id, err := c.ChainID(ctx); err != nil || id != types.NewU256(1337) {
		t.Errorf("ChainID = %v, %v", id, err)
	}
	if h, err := c.Head(ctx); err != nil || h != 100 {
		t.Errorf("Head = %v, %v", h, err)
	}
	if code, err := c.Code(ctx, types.Address{1}); err != nil || len(code) != 2 {
		t.Errorf("Code = %x, %v", code, err)
	}
	if v, err := c.StorageAt(ctx, types.Address{1}, types.Hash{}); err != nil || v[31] != 7 {
		t.Errorf("StorageAt = %x, %v", v, err)
	}
	if fin, err := c.Finalized(ctx); err != nil || fin != nil {
		t.Errorf("Finalized on null = %v, %v; want nil, nil", fin, err)
	}
	mu.Lock()
	finalized = reply{code: -32000, msg: "finalized block not found"}
	mu.Unlock()
	if fin, err := c.Finalized(ctx); err != nil || fin != nil {
		t.Errorf("Finalized on geth's not-found error = %v, %v; want nil, nil", fin, err)
	}
	mu.Lock()
	finalized = reply{result: blockJSON(64, 1_700_000_000, hash)}
	mu.Unlock()
	fin, err := c.Finalized(ctx)
	if err != nil || fin == nil || fin.Number != 64 || fin.Timestamp != types.NewU256(1_700_000_000) || fin.Hash.String() != hash {
		t.Errorf("Finalized = %+v, %v", fin, err)
	}
	b, err := c.Block(ctx, 64)
	if err != nil || b != *fin {
		t.Errorf("Block(64) = %+v, %v; want %+v", b, err, fin)
	}
	if p := f.paramsOf("eth_getBlockByNumber"); string(p[len(p)-1][1]) != "false" {
		t.Errorf("eth_getBlockByNumber asked for full transactions: %s", p[len(p)-1][1])
	}
	_, err = c.Block(ctx, 65)
	if !errors.Is(err, l1.ErrNotFound) {
		t.Errorf("Block(65) error %v, want ErrNotFound", err)
	}
	if got := failedRequests(c, redact(f.URL())); got != 0 {
		t.Errorf("failed requests = %v, want 0 (a missing block is an answer)", got)
	}
	if got := f.count("eth_getBlockByNumber"); got != 5 {
		t.Errorf("eth_getBlockByNumber calls = %d, want 5 (no retries)", got)
	}
}

// TestRateLimitDelay: a rate-limit answer adds the rate-limit delay before
// the retry; other failures do not.
func TestRateLimitDelay(t *testing.T) {
	for _, limit := range []reply{
		{status: http.StatusTooManyRequests, body: "slow down"},
		{code: -32005, msg: "limit exceeded"},
		{code: -32000, msg: "Your app has exceeded its compute units per second capacity; rate limit"},
	} {
		var mu sync.Mutex
		n := 0
		f := newFakeL1(t, func(string, []json.RawMessage) reply {
			mu.Lock()
			defer mu.Unlock()
			if n++; n == 1 {
				return limit
			}
			return okHead(3)
		})
		c, _ := dial(t, []string{f.URL()}, WithRateLimitDelay(150*time.Millisecond))
		start := time.Now()
		if _, err := c.Head(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("%+v: retried after %v, want at least the 150ms rate-limit delay", limit, d)
		}
	}
	f := newFakeL1(t, always(http500))
	c, _ := dial(t, []string{f.URL()}, WithRateLimitDelay(time.Hour), WithMaxAttempts(3))
	start := time.Now()
	if _, err := c.Head(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a plain failure waited %v: the rate-limit delay applied", d)
	}
}

// TestRequestTimeoutFailsOver: a provider that hangs costs one request
// timeout per attempt, counts as failing, and is failed over.
func TestRequestTimeoutFailsOver(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	a := newFakeL1(t, always(reply{hang: hang}))
	b := newFakeL1(t, always(okHead(9)))
	c, _ := dial(t, []string{a.URL(), b.URL()}, WithRequestTimeout(50*time.Millisecond),
		WithConsecutiveFailureTolerance(2), WithFrequentFailureTolerance(0))
	head, err := c.Head(context.Background())
	if err != nil || head != 9 {
		t.Fatalf("Head = %d, %v", head, err)
	}
	if got := failovers(c); got != 1 {
		t.Errorf("failovers = %v, want 1", got)
	}
}

// TestCallerCancelIsNotAFailure: a request the caller cancels is not counted
// against the provider.
func TestCallerCancelIsNotAFailure(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	a := newFakeL1(t, always(reply{hang: hang}))
	c, _ := dial(t, []string{a.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Head(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's", err)
	}
	if got := failedRequests(c, redact(a.URL())); got != 0 {
		t.Errorf("failed requests = %v, want 0", got)
	}
}

// TestProviderLabels: metric labels and errors show only the scheme and host
// of a provider URL, never its path or query (API keys).
func TestProviderLabels(t *testing.T) {
	for in, want := range map[string]string{
		"https://mainnet.example.io/v3/SECRETKEY":   "https://mainnet.example.io/...",
		"http://127.0.0.1:8545":                     "http://127.0.0.1:8545",
		"http://127.0.0.1:8545/":                    "http://127.0.0.1:8545",
		"https://user:pass@node.example:443?key=SK": "https://node.example:443/...",
		"ws://127.0.0.1:8546":                       "ws://127.0.0.1:8546",
		"/tmp/geth.ipc":                             "ipc",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
	f := newFakeL1(t, always(http500))
	c, _ := dial(t, []string{f.URL() + "/v3/SECRETKEY", f.URL() + "/other"}, WithMaxAttempts(1))
	if got := c.Providers(); got[0] != redact(f.URL())+"/..." || got[1] != got[0]+"#2" {
		t.Errorf("labels %q: want distinct labels without the path", got)
	}
	_, err := c.Head(context.Background())
	if err == nil || strings.Contains(err.Error(), "SECRETKEY") {
		t.Errorf("error %v shows the URL's path", err)
	}
	reg := prometheus.NewPedanticRegistry()
	for _, col := range c.Collectors() {
		if err := reg.Register(col); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if strings.Contains(lp.GetValue(), "SECRETKEY") {
					t.Errorf("metric %s label %q shows the URL's path", mf.GetName(), lp.GetValue())
				}
			}
		}
	}
	for _, want := range []string{"consensus_l1_failovers", "consensus_l1_failed_requests"} {
		if !names[want] {
			t.Errorf("metric %s not exposed (have %v)", want, names)
		}
	}
}

// TestConcurrentRequests: requests from many goroutines while the first
// provider fails now and then (run with -race).
func TestConcurrentRequests(t *testing.T) {
	var mu sync.Mutex
	n := 0
	a := newFakeL1(t, func(string, []json.RawMessage) reply {
		mu.Lock()
		defer mu.Unlock()
		if n++; n%4 == 0 {
			return http500
		}
		return okHead(1)
	})
	b := newFakeL1(t, always(okHead(2)))
	c, _ := dial(t, []string{a.URL(), b.URL()}, WithConsecutiveFailureTolerance(3), WithMaxAttempts(20))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			for j := 0; j < 8; j++ {
				if _, err := c.Head(context.Background()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// At most one failover per round through the providers: failures of a
	// provider that is no longer current do not fail over again.
	if got := failovers(c); got > 2 {
		t.Errorf("failovers = %v after concurrent failures of one provider, want at most 2", got)
	}
}

func TestDialErrors(t *testing.T) {
	if _, err := Dial(context.Background(), nil); err == nil {
		t.Error("Dial with no URL succeeded")
	}
	if _, err := Dial(context.Background(), []string{"ftp://example.com"}); err == nil {
		t.Error("Dial with an ftp URL succeeded")
	}
}

// TestDepositsFailoverMidRange: a provider that starts failing in the middle
// of a split eth_getLogs range is failed over, and the next provider answers
// the rest: every call covers at most WithEventsMaxBlockRange blocks, the
// answered ranges cover [from, to] once each in order, and the metrics
// (gathered as Prometheus would) count the failures by provider and the
// failover.
func TestDepositsFailoverMidRange(t *testing.T) {
	contract := types.Address{0xfe, 0xe}
	user := types.Address{0xaa}
	var mu sync.Mutex
	var answered [][2]uint64 // ranges answered, by either provider, in order
	logsAnswer := func(fail func() bool) func(string, []json.RawMessage) reply {
		return func(method string, params []json.RawMessage) reply {
			if method != "eth_getLogs" {
				return reply{code: -32601, msg: "no method " + method}
			}
			var filter struct {
				FromBlock string `json:"fromBlock"`
				ToBlock   string `json:"toBlock"`
			}
			if err := json.Unmarshal(params[0], &filter); err != nil {
				return reply{code: -32602, msg: err.Error()}
			}
			var from, to uint64
			fmt.Sscanf(filter.FromBlock, "0x%x", &from)
			fmt.Sscanf(filter.ToBlock, "0x%x", &to)
			if to < from || to-from+1 > 10 {
				t.Errorf("eth_getLogs [%d, %d]: more than 10 blocks", from, to)
			}
			if fail() {
				return http500
			}
			mu.Lock()
			answered = append(answered, [2]uint64{from, to})
			mu.Unlock()
			return reply{result: []map[string]any{depositLog(contract, user, from, 0, from+1)}}
		}
	}
	aCalls := 0
	a := newFakeL1(t, logsAnswer(func() bool {
		mu.Lock()
		defer mu.Unlock()
		aCalls++
		return aCalls > 1 // answers the first range only
	}))
	b := newFakeL1(t, logsAnswer(func() bool { return false }))
	c, _ := dial(t, []string{a.URL(), b.URL()}, WithEventsMaxBlockRange(10),
		WithConsecutiveFailureTolerance(2), WithFrequentFailureTolerance(0))

	deps, err := c.Deposits(context.Background(), contract, 0, 34)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.count("eth_getLogs"), 3; got != want { // [0,9] ok, [10,19] fails twice
		t.Errorf("first provider got %d eth_getLogs calls, want %d", got, want)
	}
	if got, want := b.count("eth_getLogs"), 3; got != want { // [10,19], [20,29], [30,34]
		t.Errorf("second provider got %d eth_getLogs calls, want %d", got, want)
	}
	if want := [][2]uint64{{0, 9}, {10, 19}, {20, 29}, {30, 34}}; fmt.Sprint(answered) != fmt.Sprint(want) {
		t.Errorf("answered ranges %v, want %v", answered, want)
	}
	if len(deps) != 4 {
		t.Fatalf("%d deposits, want 4", len(deps))
	}
	for i, want := range []uint64{0, 10, 20, 30} {
		if deps[i].Block != want {
			t.Errorf("deposit %d in block %d, want %d", i, deps[i].Block, want)
		}
	}

	reg := prometheus.NewPedanticRegistry()
	for _, col := range c.Collectors() {
		if err := reg.Register(col); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, lp := range m.GetLabel() {
				name += "{" + lp.GetName() + "=" + lp.GetValue() + "}"
			}
			got[name] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"consensus_l1_failovers": 1,
		"consensus_l1_failed_requests{provider=" + redact(a.URL()) + "}": 2,
		"consensus_l1_failed_requests{provider=" + redact(b.URL()) + "}": 0,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
}

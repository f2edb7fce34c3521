package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// bgCtx is the context of store reads in tests.
var bgCtx = context.Background()

// waitTimeout bounds every wait of these tests.
const waitTimeout = 20 * time.Second

// testEnv is the environment the config module of every test server
// lists.
var testEnv = []string{"ESPRESSO_SEQUENCER_API_PORT=8080", "ESPRESSO_SEQUENCER_STORAGE_PATH=/data", "ESPRESSO_SEQUENCER_IS_DA"}

// allModules returns every module of the package, availability at both
// majors.
func allModules(tb testing.TB) []api.Module {
	tb.Helper()
	must := func(m api.Module, err error) api.Module {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return m
	}
	return []api.Module{
		must(api.Status(api.Identity{NodeName: "test node", CountryCode: "DE"})),
		must(api.Availability()),
		must(api.AvailabilityV1()),
		api.Node(),
		api.Submit(),
		api.Catchup(),
		must(api.Config(testEnv)),
		api.StateSignature(),
		api.Events(),
		must(api.MerkleState("block-state")),
		must(api.MerkleState("fee-state")),
	}
}

// ---------------------------------------------------------------------------
// HTTP

// client talks to one API server.
type client struct {
	tb   testing.TB
	base string // http://host:port
	hc   *http.Client
}

func newClient(tb testing.TB, base string) *client {
	hc := &http.Client{
		Timeout:       waitTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tb.Cleanup(hc.CloseIdleConnections)
	return &client{tb: tb, base: base, hc: hc}
}

// do sends a request and returns the response with its body read.
func (c *client) do(method, path string, body []byte, header http.Header) (*http.Response, []byte) {
	c.tb.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, trunc(path), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read body: %v", method, trunc(path), err)
	}
	return resp, b
}

// get GETs path, wants 200 and returns the body.
func (c *client) get(path string) []byte {
	c.tb.Helper()
	resp, b := c.do(http.MethodGet, path, nil, nil)
	if resp.StatusCode != http.StatusOK {
		c.tb.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.tb.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	return b
}

// getJSON GETs path, wants 200 and decodes the body into v.
// tryJSON sends a request (body, when non-nil, as JSON) and decodes a 200
// answer into v: true. A 404 is false; any other answer fails the test.
func (c *client) tryJSON(method, path string, body []byte, v any) bool {
	c.tb.Helper()
	var h http.Header
	if body != nil {
		h = http.Header{"Content-Type": {"application/json"}}
	}
	resp, b := c.do(method, path, body, h)
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(b, v); err != nil {
			c.tb.Fatalf("%s %s: decode into %T: %v\n%s", method, path, v, err, trunc(string(b)))
		}
		return true
	case http.StatusNotFound:
		return false
	}
	c.tb.Fatalf("%s %s: %s\n%s", method, path, resp.Status, trunc(string(b)))
	return false
}

// eventuallyKept calls f with the header and view of the newest block
// whose state node 0 keeps until f succeeds (false: an answer was 404, the
// node having moved past that state), and returns that header.
func eventuallyKept(t *testing.T, l *live, c *client, f func(h *types.Header, view uint64) bool) types.Header {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		var h uint64
		c.getJSON("/v0/fee-state/block-height", &h)
		blk, err := l.net.Store(0).BlockByHeight(bgCtx, h)
		if err == nil && h > 0 && f(&blk.Leaf.Header, uint64(blk.Leaf.View)) {
			return blk.Leaf.Header
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no state node 0 keeps answered every request within %v", waitTimeout)
	return types.Header{}
}

func (c *client) getJSON(path string, v any) {
	c.tb.Helper()
	b := c.get(path)
	if err := json.Unmarshal(b, v); err != nil {
		c.tb.Fatalf("GET %s: decode into %T: %v\n%s", path, v, err, trunc(string(b)))
	}
}

// postJSON POSTs body as JSON, wants 200 and decodes the answer into v.
func (c *client) postJSON(path string, body any, v any) {
	c.tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.tb.Fatal(err)
	}
	resp, out := c.do(http.MethodPost, path, b, http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusOK {
		c.tb.Fatalf("POST %s: %s: %s", path, resp.Status, out)
	}
	if err := json.Unmarshal(out, v); err != nil {
		c.tb.Fatalf("POST %s: decode into %T: %v\n%s", path, v, err, out)
	}
}

// apiError is the body of every error answer.
type apiError struct {
	Status  *int    `json:"status"`
	Message *string `json:"message"`
}

// checkErrorBody checks that an error answer has status want and the body
// {"status": want, "message": "<non-empty>"}, and returns the message.
func checkErrorBody(resp *http.Response, body []byte, want int) error {
	if resp.StatusCode != want {
		return fmt.Errorf("status %d, want %d: %s", resp.StatusCode, want, trunc(string(body)))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q, want application/json: %s", ct, trunc(string(body)))
	}
	var e apiError
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil {
		return fmt.Errorf("error body is not {status, message}: %v: %s", err, trunc(string(body)))
	}
	if e.Status == nil || *e.Status != want {
		return fmt.Errorf("error body status %v, want %d: %s", e.Status, want, trunc(string(body)))
	}
	if e.Message == nil || strings.TrimSpace(*e.Message) == "" {
		return fmt.Errorf("error body without a message: %s", trunc(string(body)))
	}
	return nil
}

// expectError sends a request, wants the error status and returns the
// message.
func (c *client) expectError(method, path string, want int) string {
	c.tb.Helper()
	resp, b := c.do(method, path, nil, nil)
	if err := checkErrorBody(resp, b, want); err != nil {
		c.tb.Fatalf("%s %s: %v", method, trunc(path), err)
	}
	var e apiError
	_ = json.Unmarshal(b, &e)
	return *e.Message
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// ---------------------------------------------------------------------------
// WebSocket streams

// dialStream opens the stream at path (relative to base, an http:// URL).
func dialStream(ctx context.Context, tb testing.TB, base, path string) *websocket.Conn {
	tb.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + path
	conn, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		status := ""
		if resp != nil {
			status = resp.Status
		}
		tb.Fatalf("dial %s: %v %s", path, err, status)
	}
	conn.SetReadLimit(64 << 20)
	return conn
}

// readItem reads one JSON message into v.
func readItem(ctx context.Context, conn *websocket.Conn, v any) error {
	typ, b, err := conn.Read(ctx)
	if err != nil {
		return err
	}
	if typ != websocket.MessageText {
		return fmt.Errorf("message type %v, want text", typ)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %T: %v: %s", v, err, trunc(string(b)))
	}
	return nil
}

// streamGoroutines counts the goroutines running a stream handler of the
// api package.
func streamGoroutines() int {
	buf := make([]byte, 8<<20)
	n := runtime.Stack(buf, true)
	count := 0
	for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
		if strings.Contains(g, "gospresso/api.") && strings.Contains(g, "(*Router).Stream.func") {
			count++
		}
	}
	return count
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// A live network with decided transactions

// live is a running network that serves every module, with transactions
// decided in known blocks.
type live struct {
	net *nodetest.Network
	c   *client // node 0
	// batch holds the transactions submitted in batches (POST batch);
	// block txHeight holds several of them in namespaces 7 and 8; single
	// was submitted alone (POST submit).
	batch    []types.Transaction
	txHeight uint64
	single   types.Transaction
	// loc places each submitted transaction.
	loc map[types.Commitment]txLoc
}

type txLoc struct{ height, index uint64 }

// startLive starts a 4-node network serving every module and decides a
// few transactions in namespaces 7, 8 and 9.
func startLive(t *testing.T, opts ...api.Option) *live {
	t.Helper()
	net := nodetest.New(t, nodetest.Nodes(4), nodetest.Timeout(waitTimeout), nodetest.API(allModules(t), opts...))
	l := &live{net: net, c: newClient(t, net.APIURL(0)), loc: make(map[types.Commitment]txLoc)}
	// Submit batches until a block holds at least two namespace-7 and one
	// namespace-8 transaction of one (its first transaction is often
	// proposed before the others arrive).
	for attempt := 0; ; attempt++ {
		if attempt == 20 {
			t.Fatal("no block got two namespace-7 transactions and one namespace-8 transaction in 20 attempts")
		}
		batch := []types.Transaction{
			{Namespace: 7, Payload: []byte(fmt.Sprintf("lead-in-%d", attempt))},
			{Namespace: 7, Payload: []byte(fmt.Sprintf("seven-a-%d", attempt))},
			{Namespace: 8, Payload: []byte(fmt.Sprintf("eight-a-%d", attempt))},
			{Namespace: 7, Payload: []byte(fmt.Sprintf("seven-b-%d", attempt))},
			{Namespace: 7, Payload: append(bytes.Repeat([]byte{0xAB}, 3000), byte(attempt))},
			{Namespace: 8, Payload: []byte(fmt.Sprintf("eight-b-%d", attempt))},
		}
		var hashes []string
		l.c.postJSON("/v0/submit/batch", batch, &hashes)
		if len(hashes) != len(batch) {
			t.Fatalf("batch answered %d hashes for %d transactions", len(hashes), len(batch))
		}
		perNs := map[uint64]map[uint64]int{} // height -> namespace -> count
		for i, tx := range batch {
			if want := tx.Commit().Tagged(types.TagTransaction).String(); hashes[i] != want {
				t.Fatalf("batch answer %d is %s, want %s", i, hashes[i], want)
			}
			loc := net.WaitForTransaction(tx.Commit(), 0)
			l.loc[tx.Commit()] = txLoc{loc.Height, loc.Index}
			if perNs[loc.Height] == nil {
				perNs[loc.Height] = map[uint64]int{}
			}
			perNs[loc.Height][tx.Namespace]++
		}
		l.batch = append(l.batch, batch...)
		found := false
		for h, n := range perNs {
			if n[7] >= 2 && n[8] >= 1 {
				l.txHeight, found = h, true
			}
		}
		if found {
			break
		}
	}
	l.single = types.Transaction{Namespace: 9, Payload: []byte("nine")}
	var h string
	l.c.postJSON("/v0/submit/submit", l.single, &h)
	if want := l.single.Commit().Tagged(types.TagTransaction).String(); h != want {
		t.Fatalf("submit answered %s, want %s", h, want)
	}
	loc := net.WaitForTransaction(l.single.Commit(), 0)
	l.loc[l.single.Commit()] = txLoc{loc.Height, loc.Index}
	// A few more blocks, so ranges around the transactions are decided.
	net.WaitForHeight(l.maxTxHeight()+3, 0)
	return l
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }

func (l *live) maxTxHeight() uint64 {
	var m uint64
	for _, loc := range l.loc {
		m = max(m, loc.height)
	}
	return m
}

// block returns the block at height h from node 0's store.
func (l *live) block(t testing.TB, h uint64) types.Block {
	t.Helper()
	b, err := l.net.Store(0).BlockByHeight(context.Background(), h)
	if err != nil {
		t.Fatalf("block %d: %v", h, err)
	}
	return b
}

// txBlock returns block txHeight.
func (l *live) txBlock(t testing.TB) types.Block { return l.block(t, l.txHeight) }

// ---------------------------------------------------------------------------
// A deterministic backend: fixed blocks in a memory store

// fakeBackend serves a fixed chain: the same bytes on every run, for golden
// files, the fuzz target and the server tests.
type fakeBackend struct {
	store   *mem.Store
	info    api.Info
	stateK  keys.StateKey
	metrics *prometheus.Registry

	mu     sync.Mutex
	notify chan struct{}
	halted bool
	// states are the chain states after each block: the fakeAccounts and
	// a block tree of the headers before it. Their roots are not the fake
	// headers' (those are placeholders); they give the state routes
	// answers of a fixed shape.
	states []*chain.DecidedState
}

var _ api.StateBackend = (*fakeBackend)(nil)

// fakeAccounts are the fee accounts of the fixed chain's states.
var fakeAccounts = map[types.Address]types.U256{{0xf3, 0x9f}: types.NewU256(1000), {0xab, 19: 0xcd}: types.NewU256(5)}

// fakeGenesisTime is the timestamp of the fixed chain's first block.
const fakeGenesisTime = 1_700_000_000

// fakeTxs are the transactions of the fixed chain's block 1; block 2 holds
// fakeTxs2; blocks 0 and 3 are empty.
var (
	fakeTxs = []types.Transaction{
		{Namespace: 7, Payload: []byte("hello")},
		{Namespace: 8, Payload: []byte("other rollup")},
		{Namespace: 7, Payload: []byte("world")},
	}
	fakeTxs2 = []types.Transaction{{Namespace: 12648430, Payload: []byte{0xbe, 0x3f, 0x1c}}}
)

func newFakeBackend(tb testing.TB) *fakeBackend {
	tb.Helper()
	ks, err := nodetest.Keys(nodetest.DefaultSeed, 4)
	if err != nil {
		tb.Fatal(err)
	}
	g, err := nodetest.Genesis(ks, fakeGenesisTime)
	if err != nil {
		tb.Fatal(err)
	}
	feeContract := types.Address{0xfc}
	g.ChainConfig.FeeContract = &feeContract
	f := &fakeBackend{
		store: mem.New(), stateK: ks[0].State, metrics: prometheus.NewRegistry(), notify: make(chan struct{}),
		info: api.Info{Genesis: g, Consensus: nodetest.FastConsensus, NodeIndex: 0,
			StakingKey: ks[0].Staking.PubKey(), StateKey: ks[0].State.PubKey(), Version: "0.0.0-test"},
	}
	f.metrics.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "consensus_test_counter", Help: "test"}))
	for _, txs := range [][]types.Transaction{nil, fakeTxs, fakeTxs2, nil} {
		f.appendBlock(tb, txs)
	}
	return f
}

// appendBlock decides one more block holding txs.
func (f *fakeBackend) appendBlock(tb testing.TB, txs []types.Transaction) types.Block {
	tb.Helper()
	ctx := context.Background()
	h, err := f.store.BlockHeight(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := types.EncodePayload(txs)
	if err != nil {
		tb.Fatal(err)
	}
	cc := f.info.Genesis.ChainConfig
	header := types.Header{
		Version: types.Version{Major: 0, Minor: 2}, ChainConfig: cc, Height: h,
		Timestamp: fakeGenesisTime + 10*h, L1Head: 100 + h,
		PayloadCommitment:   sha256.Sum256(p.Raw),
		BuilderCommitment:   sha256.Sum256(append([]byte("builder"), p.Raw...)),
		NsTable:             p.NsTable,
		BlockMerkleTreeRoot: bytes.Repeat([]byte{byte(h + 1)}, 32),
		FeeMerkleTreeRoot:   bytes.Repeat([]byte{0xfe}, 32),
		FeeInfo:             types.FeeInfo{Account: types.Address{0xf3, 0x9f}, Amount: types.NewU256(0)},
		L1Finalized:         &types.L1BlockInfo{Number: 123 + h, Timestamp: types.NewU256(0x456 + h), Hash: types.Hash{0x01, 0x23, byte(h)}},
	}
	var leaf types.Leaf
	if h == 0 {
		// The genesis block is a v0.1 header (flat JSON).
		header.Version = types.Version{Major: 0, Minor: 1}
		leaf = types.GenesisLeaf(header)
		leaf.JustifyQC = types.GenesisQC(&leaf)
	} else {
		prev, err := f.store.BlockByHeight(ctx, h-1)
		if err != nil {
			tb.Fatal(err)
		}
		leaf = types.Leaf{View: types.ViewNumber(2 * h), Parent: prev.Leaf.Commit(), Header: header, JustifyQC: prev.QC}
	}
	signers := types.NewBitmap(4)
	for i := range 3 {
		signers.Set(i)
	}
	qc := types.QuorumCertificate{View: leaf.View, Leaf: leaf.Commit(), Signers: signers, Signature: bytes.Repeat([]byte{byte(h)}, 96)}
	if h == 0 {
		qc = types.GenesisQC(&leaf)
	}
	blk := types.Block{Leaf: leaf, Payload: p, QC: qc}
	if err := f.store.SaveDecided(ctx, []types.Block{blk}); err != nil {
		tb.Fatal(err)
	}
	st := state.Genesis(fakeAccounts)
	if h > 0 {
		prev := f.states[h-1]
		blocks, err := prev.State.BlockTree().Push(prev.Header.Commit())
		if err != nil {
			tb.Fatal(err)
		}
		st = state.New(prev.State.FeeTree(), blocks)
	}
	f.mu.Lock()
	f.states = append(f.states, &chain.DecidedState{Header: header, State: st})
	close(f.notify)
	f.notify = make(chan struct{})
	f.mu.Unlock()
	return blk
}

func (f *fakeBackend) Store() storage.BlockStore { return f.store }

func (f *fakeBackend) ChainState(ctx context.Context) (types.Block, []byte, error) {
	kept := f.DecidedStates()
	ds := kept[len(kept)-1]
	b, err := f.store.BlockByHeight(ctx, ds.Header.Height)
	return b, ds.State.Encode(), err
}

func (f *fakeBackend) DecidedStates() []*chain.DecidedState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.states)
}

func (f *fakeBackend) BlockHeight() uint64 {
	h, _ := f.store.BlockHeight(context.Background())
	return h
}

func (f *fakeBackend) Decided(ctx context.Context, from uint64) iter.Seq2[types.Block, error] {
	return func(yield func(types.Block, error) bool) {
		next := from
		for {
			f.mu.Lock()
			ch := f.notify
			f.mu.Unlock()
			if next < f.BlockHeight() {
				b, err := f.store.BlockByHeight(ctx, next)
				if !yield(b, err) || err != nil {
					return
				}
				next++
				continue
			}
			select {
			case <-ctx.Done():
				yield(types.Block{}, ctx.Err())
				return
			case <-ch:
			}
		}
	}
}

// SubmitTransaction checks what a node checks and admits nothing.
func (f *fakeBackend) SubmitTransaction(ctx context.Context, tx types.Transaction) (types.Commitment, error) {
	if err := tx.Validate(); err != nil {
		return types.Commitment{}, err
	}
	if limit := f.info.Genesis.ChainConfig.MaxBlockSize; uint64(len(tx.Payload))+8 > limit {
		return types.Commitment{}, fmt.Errorf("%w: %d bytes cannot fit a block of max_block_size %d", chain.ErrTransactionTooLarge, len(tx.Payload), limit)
	}
	return tx.Commit(), nil
}

func (f *fakeBackend) Info() api.Info { return f.info }

func (f *fakeBackend) Status() api.NodeStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return api.NodeStatus{View: 8, LastDecidedView: 6, LastDecidedTime: time.Now().Add(-3 * time.Second), Halted: f.halted}
}

func (f *fakeBackend) Metrics() prometheus.Gatherer { return f.metrics }

func (f *fakeBackend) VerifyQC(*types.QuorumCertificate) error { return nil }

func (f *fakeBackend) StateSignature(h uint64) (lightclient.SignedState, bool) {
	b, err := f.store.BlockByHeight(context.Background(), h)
	if err != nil {
		return lightclient.SignedState{}, false
	}
	st, err := lightclient.Sign(f.stateK, lightclient.StateOf(&b.Leaf))
	return st, err == nil
}

// newFakeServer builds a server of every module over a fake backend.
func newFakeServer(tb testing.TB, opts ...api.Option) (*api.Server, *fakeBackend) {
	tb.Helper()
	fb := newFakeBackend(tb)
	srv, err := api.New(fb, allModules(tb), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return srv, fb
}

// serve serves srv on a loopback listener until the test ends and returns
// its base URL.
func serve(tb testing.TB, srv *api.Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, net.ErrClosed) {
				tb.Errorf("serve: %v", err)
			}
		case <-ctx.Done():
			tb.Errorf("serve did not return after shutdown")
		}
	})
	return "http://" + ln.Addr().String()
}

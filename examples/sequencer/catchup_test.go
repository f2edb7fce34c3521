package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/nodetest"
)

// closedURL is an http URL nothing listens at.
func closedURL(t *testing.T) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close()
	return u
}

var testBackoff = options.CatchupOptions{BaseRetryDelay: 10 * time.Millisecond, MaxRetryDelay: 40 * time.Millisecond,
	BackoffFactor: 2, BackoffJitter: options.Ratio{Num: 1, Den: 10}}

// The --state-peers source asks the peers in order, passes over one that
// does not answer, and returns a peer's state that checks against the
// certified block it follows.
func TestStateSourceFetchesFromPeers(t *testing.T) {
	net := nodetest.New(t, nodetest.API([]api.Module{api.Catchup()}))
	net.WaitForHeight(3)
	peer, err := url.Parse(net.APIURL(1))
	if err != nil {
		t.Fatal(err)
	}
	src, err := stateSource([]*url.URL{closedURL(t), peer}, testBackoff, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, data, err := src(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.QC.Leaf != b.Leaf.Commit() || b.Height() == 0 {
		t.Fatalf("block %d with a certificate for leaf %s", b.Height(), b.QC.Leaf.Short())
	}
	if err := net.Node(0).APIBackend().VerifyQC(&b.QC); err != nil {
		t.Fatalf("the block's certificate: %v", err)
	}
	st, err := state.DecodeState(data)
	if err != nil {
		t.Fatal(err)
	}
	blockRoot, feeRoot := st.Roots()
	if !bytes.Equal(blockRoot, b.Leaf.Header.BlockMerkleTreeRoot) || !bytes.Equal(feeRoot, b.Leaf.Header.FeeMerkleTreeRoot) {
		t.Fatalf("the state's roots are not those of block %d", b.Height())
	}
}

// With no peer answering, the source asks again after the backoff until
// its context ends, and says how many rounds it tried and why they failed.
func TestStateSourceEndsWithContext(t *testing.T) {
	src, err := stateSource([]*url.URL{closedURL(t)}, testBackoff, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, err = src(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), " 1 round(s)") {
		t.Fatalf("src with no peer up: %v; want the deadline after several rounds, naming the refused connection", err)
	}
}

// The catchup options given that the node does not use are named: the
// proposal fetcher's always, the backoff's without --state-peers.
func TestUnusedCatchupOptions(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"", ""},
		{"--state-peers http://peer:8080 --catchup-base-retry-delay 1s", ""},
		{"--catchup-base-retry-delay 1s --catchup-backoff-jitter 1:5",
			"--catchup-base-retry-delay, --catchup-backoff-jitter (they pace state catchup, which needs --state-peers)"},
		{"--state-peers http://peer:8080 --proposal-fetcher-num-workers 4",
			"--proposal-fetcher-num-workers (the node fetches missing proposals from its peers over libp2p)"},
	} {
		cfg, err := options.Parse(strings.Fields(tc.args), nil)
		if err != nil {
			t.Fatal(err)
		}
		g := &cfg.Global
		if got := strings.Join(unusedCatchup(&g.Catchup, len(g.StatePeers) > 0), "; "); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/l1/l1test"
)

// decidedRE matches a decided-block line: transactions, latency, L1 head,
// L1 finalized block.
var decidedRE = regexp.MustCompile(`(?m)^decided height=\d+ view=\d+ transactions=(\d+) latency=(\S+) l1_head=(\d+) l1_finalized=(\d+|none)$`)

// decidedLine is one parsed decided-block line.
type decidedLine struct {
	txs       int
	latency   string
	head      uint64
	finalized int64 // -1: none
}

func decidedLines(out string) []decidedLine {
	var ls []decidedLine
	for _, m := range decidedRE.FindAllStringSubmatch(out, -1) {
		l := decidedLine{latency: m[2], finalized: -1}
		l.txs, _ = strconv.Atoi(m[1])
		l.head, _ = strconv.ParseUint(m[3], 10, 64)
		if m[4] != "none" {
			l.finalized, _ = strconv.ParseInt(m[4], 10, 64)
		}
		ls = append(ls, l)
	}
	return ls
}

// runUntil runs the dev node until done(lines so far) holds, or fails the
// test after d; it then stops the dev node and returns its output.
func runUntil(t *testing.T, args []string, d time.Duration, done func([]decidedLine) bool) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, args, &out, &errOut) }()
	deadline := time.After(d)
	for !done(decidedLines(out.String())) {
		select {
		case code := <-exited:
			t.Fatalf("exit %d before the test was done:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		case <-deadline:
			cancel()
			<-exited
			t.Fatalf("not done within %v:\n%s\nstderr:\n%s", d, out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the dev node did not stop within 15s")
	}
	return out.String()
}

// The dev node prints its decided blocks with their L1 head and finalized
// block, which advance with the embedded L1 (a block every 20ms here, so
// that an epoch of 32 blocks is finalized within a second).
func TestDevNodePrintsDecidedBlocks(t *testing.T) {
	args := []string{"--tx-interval", "20ms", "--builder-timeout", "50ms", "--port", "0", "--dev-port", "0",
		"--l1-block-interval", "20ms", "--l1-polling-interval", "50ms"}
	out := runUntil(t, args, 30*time.Second, func(ls []decidedLine) bool {
		withTx := slices.ContainsFunc(ls, func(l decidedLine) bool { return l.txs > 0 && l.latency != "-" })
		return len(ls) >= 5 && withTx && ls[len(ls)-1].head > ls[0].head && ls[len(ls)-1].finalized >= l1test.EpochLength
	})
	if !strings.Contains(out, "\ndev-node: embedded L1 (chain id 1337) at http://127.0.0.1:") {
		t.Errorf("no embedded L1 line:\n%s", out)
	}
	// Neither height goes backwards, and the finalized block is never
	// above the head.
	ls := decidedLines(out)
	for i, l := range ls {
		if l.finalized > int64(l.head) {
			t.Errorf("line %d: l1_finalized %d above l1_head %d", i, l.finalized, l.head)
		}
		if i > 0 && (l.head < ls[i-1].head || l.finalized < ls[i-1].finalized) {
			t.Errorf("line %d: L1 heights went back: %+v after %+v", i, l, ls[i-1])
		}
	}
}

// With --l1-provider-url the nodes use that L1 (here another embedded one,
// reached over JSON-RPC), and dev-info answers its URL.
func TestDevNodeExternalL1(t *testing.T) {
	l, err := l1test.New(l1test.WithBlockInterval(20 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	args := []string{"--no-transactions", "--builder-timeout", "20ms", "--port", "0", "--dev-port", "0", "--l1-polling-interval", "50ms"}
	var errOut bytes.Buffer
	o, err := parseArgs(args, func(k string) (string, bool) { return l.URL(), k == envL1 }, &errOut)
	if err != nil || len(o.l1URLs) != 1 || o.l1URLs[0] != l.URL() {
		t.Fatalf("%s=%s: %+v, %v %s", envL1, l.URL(), o.l1URLs, err, errOut.String())
	}
	out := runUntil(t, append(args, "--l1-provider-url", l.URL()), 30*time.Second, func(ls []decidedLine) bool {
		return len(ls) >= 3 && ls[len(ls)-1].head > ls[0].head
	})
	if want := "\ndev-node: L1 at " + l.URL() + " (chain id 1337), polled every 50ms; no fee contract"; !strings.Contains(out, want) {
		t.Errorf("no %q line:\n%s", want, out)
	}
	_, _, devURL := startDevNode(t, "--no-transactions", "--l1-provider-url", l.URL())
	code, _, body := call(t, http.DefaultClient, http.MethodGet, devURL+"/api/dev-info", "")
	var info struct {
		L1URL *string `json:"l1_url"`
	}
	if err := json.Unmarshal(body, &info); code != http.StatusOK || err != nil || info.L1URL == nil || *info.L1URL != l.URL() {
		t.Errorf("dev-info: %d %s, want l1_url %q", code, body, l.URL())
	}
}

func TestDevNodeBadFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"--no-such-flag"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}

// With --data-dir the stores are kept, and a second run resumes the chain
// where the first stopped. The short view timeout matters: when every node
// stops at once, the votes of the last view are lost with the processes, and
// the restarted nodes (which may not vote twice in it) must time out of it.
func TestDevNodeResumesFromDataDir(t *testing.T) {
	dir := t.TempDir()
	heights := func() []int {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		var out, errOut syncBuffer
		// A slow terminal: the nodes decide blocks faster than they are
		// printed, and keep deciding while the start-up lines are written.
		slow := slowWriter{w: &out, d: 60 * time.Millisecond}
		if code := run(ctx, []string{"--data-dir", dir, "--builder-timeout", "20ms", "--view-timeout", "300ms", "--no-transactions", "--port", "0", "--dev-port", "0"}, slow, &errOut); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		var hs []int
		for _, m := range regexp.MustCompile(`(?m)^decided height=(\d+) `).FindAllStringSubmatch(out.String(), -1) {
			h, _ := strconv.Atoi(m[1])
			hs = append(hs, h)
		}
		if len(hs) == 0 {
			t.Fatalf("no decided block printed:\n%s", out.String())
		}
		return hs
	}
	// Every block is printed exactly once: the first run from height 1
	// (the first after genesis) on, the second from the height after the
	// first run's last, each without a gap or a repeat, although the nodes
	// decide blocks while the others start and while they stop.
	contiguous := func(run string, hs []int, start int) {
		t.Helper()
		for i, h := range hs {
			if h != start+i {
				t.Fatalf("%s run printed heights %v: want %d, %d, ... (no gap, no repeat)", run, hs, start, start+1)
			}
		}
	}
	first := heights()
	contiguous("first", first, 1)
	second := heights()
	contiguous("second", second, first[len(first)-1]+1)
}

// slowWriter writes to w after waiting d, like a slow terminal.
type slowWriter struct {
	w io.Writer
	d time.Duration
}

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(s.d)
	return s.w.Write(p)
}

// The L1 options: flag, else environment variable, else default.
func TestDevNodeL1Options(t *testing.T) {
	parse := func(args string, env map[string]string) (options, string, error) {
		var errOut bytes.Buffer
		o, err := parseArgs(strings.Fields(args), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &errOut)
		return o, errOut.String(), err
	}
	o, _, err := parse("", nil)
	if err != nil || o.l1URLs != nil || o.l1Polling != 250*time.Millisecond || o.l1Block != 250*time.Millisecond || o.l1Port != 0 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	o, _, err = parse("--l1-port 8545 --l1-block-interval 2s", map[string]string{envL1: "http://a:8545, http://b:8545", envL1Polling: "7s"})
	if err != nil || !slices.Equal(o.l1URLs, []string{"http://a:8545", "http://b:8545"}) || o.l1Polling != 7*time.Second ||
		o.l1Block != 2*time.Second || o.l1Port != 8545 {
		t.Errorf("from the environment: %+v, %v", o, err)
	}
	o, _, err = parse("--l1-provider-url http://c:8545 --l1-polling-interval 200ms", map[string]string{envL1: "http://a:8545", envL1Polling: "7s"})
	if err != nil || !slices.Equal(o.l1URLs, []string{"http://c:8545"}) || o.l1Polling != 200*time.Millisecond {
		t.Errorf("flags beat the environment: %+v, %v", o, err)
	}
	if _, errOut, err := parse("", map[string]string{envL1Polling: "7 parsecs"}); err == nil ||
		errOut != `dev-node: --l1-polling-interval (ESPRESSO_SEQUENCER_L1_POLLING_INTERVAL): "7 parsecs": want a positive duration such as 1s or 500ms`+"\n" {
		t.Errorf("bad polling interval: %v, %q", err, errOut)
	}
	if _, _, err := parse("--l1-block-interval 0s", nil); err == nil {
		t.Error("a zero block interval was accepted")
	}
}

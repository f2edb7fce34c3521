package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gospresso/gospresso/api/client"
	"github.com/gospresso/gospresso/types"
)

// The whole system as processes: build the binaries, start an orchestrator,
// a state relay and five sequencers; submit at one node and read the
// transaction decided at another; SIGKILL a node, see the others go on,
// restart it and see it catch up to the same chain; stop everything and
// leave no process behind.
func TestLocalNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries and runs five processes; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var pids []int
	n, err := Start(ctx, Config{Nodes: 5, Dir: dir, ViewTimeout: 2 * time.Second, Seed: strings.Repeat("0", 63) + "5"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			n.Stop()
		}
	}()
	pids = n.Procs()
	if len(pids) != 7 {
		t.Fatalf("%d processes running, want 7 (orchestrator, relay, 5 sequencers)", len(pids))
	}
	clients := make([]*client.Client, len(n.APIURLs))
	for i, u := range n.APIURLs {
		if clients[i], err = client.New(u); err != nil {
			t.Fatal(err)
		}
	}
	logs := func() string {
		var b strings.Builder
		for i := range n.APIURLs {
			data, _ := os.ReadFile(n.LogOf(i))
			lines := strings.Split(string(data), "\n")
			fmt.Fprintf(&b, "--- node %d (last lines)\n%s\n", i, strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
		return b.String()
	}
	height := func(i int) uint64 {
		h, err := clients[i].BlockHeight(ctx)
		if err != nil {
			return 0
		}
		return h
	}
	waitHeight := func(i int, h uint64, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for height(i) < h {
			if time.Now().After(deadline) {
				t.Fatalf("node %d at height %d, not %d, after %v\n%s", i, height(i), h, d, logs())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitHeight(0, 3, 90*time.Second)

	// Submit at node 1, read it decided at node 3.
	tx := types.Transaction{Namespace: 77, Payload: []byte("across processes")}
	c, err := clients[1].Submit(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := clients[3].TransactionByHash(ctx, c)
		if err == nil {
			if got.Transaction.Commit() != tx.Commit() {
				t.Fatalf("node 3 returned another transaction for %s", c)
			}
			break
		}
		if !errors.Is(err, client.ErrNotFound) || time.Now().After(deadline) {
			t.Fatalf("transaction submitted at node 1 not decided at node 3: %v\n%s", err, logs())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Kill node 4; the other four go on.
	if err := n.Kill(4); err != nil {
		t.Fatal(err)
	}
	h := height(0)
	waitHeight(0, h+3, 60*time.Second)

	// Restart it: it catches up to the same chain.
	if err := n.Restart(4); err != nil {
		t.Fatal(err)
	}
	pids = append(pids, n.Procs()...)
	target := height(0) + 2
	waitHeight(4, target, 90*time.Second)
	for _, hh := range []uint64{1, h - 1, target - 3} {
		a, err := clients[0].Header(ctx, hh)
		if err != nil {
			t.Fatal(err)
		}
		b, err := clients[4].Header(ctx, hh)
		if err != nil {
			t.Fatalf("restarted node 4, header %d: %v", hh, err)
		}
		if a.Commit() != b.Commit() {
			t.Fatalf("nodes 0 and 4 disagree at height %d", hh)
		}
	}

	n.Stop()
	stopped = true
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Stop (%v)", pid, err)
		}
	}
	if left := n.Procs(); len(left) != 0 {
		t.Errorf("processes left running: %v", left)
	}
}

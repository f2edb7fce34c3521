package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestDevNodePrintsDecidedBlocks(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"--tx-interval", "20ms", "--builder-timeout", "50ms", "--port", "0", "--dev-port", "0"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	blocks := regexp.MustCompile(`(?m)^decided height=\d+ view=\d+ transactions=(\d+) latency=(\S+)$`).FindAllStringSubmatch(out.String(), -1)
	if len(blocks) < 5 {
		t.Fatalf("%d decided blocks printed in 3s, want at least 5:\n%s", len(blocks), out.String())
	}
	withTx := 0
	for _, b := range blocks {
		if b[1] != "0" && b[2] != "-" {
			withTx++
		}
	}
	if withTx == 0 {
		t.Fatalf("no decided block carried the sample transactions:\n%s", out.String())
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
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"--data-dir", dir, "--builder-timeout", "20ms", "--view-timeout", "300ms", "--no-transactions", "--port", "0", "--dev-port", "0"}, &out, &errOut); code != 0 {
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
	first := heights()
	second := heights()
	if second[0] <= first[len(first)-1] {
		t.Fatalf("second run started at height %d, first run ended at %d: want it to resume after", second[0], first[len(first)-1])
	}
}

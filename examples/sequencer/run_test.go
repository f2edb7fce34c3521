package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// soloGenesis writes a genesis whose stake table is k alone, with no L1.
func soloGenesis(t *testing.T, k keys.Keys) string {
	t.Helper()
	toml := fmt.Sprintf(`base_version = "0.2"
upgrade_version = "0.2"
[stake_table]
capacity = 10
[chain_config]
chain_id = 4711
base_fee = '0 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'
[header]
timestamp = "2024-01-01T00:00:00Z"
[[public_keys]]
stake_table_key = %q
state_ver_key = %q
da = true
stake = 1
stake_table_key_pop = %q
`, k.Staking.PubKey(), k.State.PubKey(), k.Staking.ProvePossession())
	path := filepath.Join(t.TempDir(), "genesis.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var servingRE = regexp.MustCompile(`api: serving on http://\S*:(\d+)`)

// The sequencer runs a node: with a one-member genesis it decides blocks on
// its own, serves its modules, takes a transaction and sequences it, stops
// cleanly on a signal (its context), and a second run resumes from the
// store.
func TestSequencerRunsANode(t *testing.T) {
	k, keyFile := testKeys(t)
	gen := soloGenesis(t, k)
	store := filepath.Join(t.TempDir(), "store")
	args := strings.Fields("--key-file " + keyFile + " --genesis-file " + gen +
		" --libp2p-bind-address 127.0.0.1:0 --libp2p-advertise-address 127.0.0.1:0 --next-view-timeout 2s --builder-timeout 20ms" +
		" -- storage-fs --path " + store + " -- http --port 0 -- query -- submit -- status")
	runOnce := func(until func(base string) error) (string, uint64) {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var out, errOut syncBuffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, args, func(string) (string, bool) { return "", false }, &out, &errOut) }()
		var base string
		deadline := time.Now().Add(60 * time.Second)
		for base == "" {
			if m := servingRE.FindStringSubmatch(out.String()); m != nil {
				base = "http://127.0.0.1:" + m[1]
				break
			}
			select {
			case code := <-done:
				t.Fatalf("sequencer exited %d before serving:\n%s\n%s", code, out.String(), errOut.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("sequencer never served its API:\n%s\n%s", out.String(), errOut.String())
			}
		}
		if err := until(base); err != nil {
			var m []string
			if resp, err := http.Get(base + "/v0/status/metrics"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				for _, l := range strings.Split(string(b), "\n") {
					if strings.HasPrefix(l, "consensus_") && !strings.Contains(l, "bucket") {
						m = append(m, l)
					}
				}
			}
			t.Fatalf("%v\n%s\n%s\n%s", err, strings.Join(m, "\n"), out.String(), errOut.String())
		}
		h := getHeight(t, base)
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Fatalf("exit %d after the signal:\n%s", code, errOut.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("sequencer did not stop within 30s of the signal")
		}
		if !strings.Contains(out.String(), "sequencer: stopped; store closed") {
			t.Errorf("no clean stop reported:\n%s", out.String())
		}
		return out.String(), h
	}

	tx := types.Transaction{Namespace: 9, Payload: []byte("hello from a sequencer")}
	out, first := runOnce(func(base string) error {
		if err := waitHeight(base, 3, 30*time.Second); err != nil {
			return err
		}
		resp, err := http.Post(base+"/v0/submit/submit", "application/json", strings.NewReader(`{"namespace":9,"payload":"aGVsbG8gZnJvbSBhIHNlcXVlbmNlcg=="}`))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := `"` + tx.Commit().Tagged(types.TagTransaction).String() + `"`; strings.TrimSpace(string(b)) != want {
			return fmt.Errorf("submit answered %s, want %s", b, want)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(base + "/v0/availability/transaction/hash/" + tx.Commit().Tagged(types.TagTransaction).String())
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("transaction not decided within 30s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	for _, want := range []string{"libp2p: listening on /ip4/127.0.0.1/udp/", "store: opened storage-fs", "sequencer: running"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// A second run resumes where the first stopped.
	_, second := runOnce(func(base string) error {
		if h := getHeight(t, base); h < first {
			return fmt.Errorf("resumed at height %d, the first run reached %d", h, first)
		}
		return waitHeight(base, first+2, 30*time.Second)
	})
	if second < first+2 {
		t.Fatalf("second run ended at height %d, want at least %d", second, first+2)
	}
}

func getHeight(t *testing.T, base string) uint64 {
	t.Helper()
	resp, err := http.Get(base + "/v0/status/block-height")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h uint64
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func waitHeight(base string, h uint64, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(base + "/v0/status/block-height")
		if err == nil {
			var got uint64
			_ = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if got >= h {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("height %d not reached within %v", h, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/storage/sqlite"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// benchBlocks is the chain length the API benchmarks read from.
const benchBlocks = 10_000

// benchClients is how many clients send requests at once.
const benchClients = 16

// benchNode is a one-member node on a SQLite store holding benchBlocks
// blocks, serving the API on a loopback port.
type benchNode struct {
	url  string
	stop func()
}

// newBenchNode fills a SQLite store with benchBlocks blocks of 10
// transactions (the chain of storagetest, extending the node's genesis
// block) and starts a node on it with the API. The generated blocks carry
// placeholder certificates, so the node serves them but decides nothing
// new; the benchmarks only read and submit.
func newBenchNode(b *testing.B) *benchNode {
	b.Helper()
	ctx := context.Background()
	k, err := keys.DeriveKeys([32]byte{31: 42}, 0)
	if err != nil {
		b.Fatal(err)
	}
	gen := &genesis.Genesis{
		BaseVersion: types.Version{Major: 0, Minor: 2}, UpgradeVersion: types.Version{Major: 0, Minor: 2}, StakeTableCapacity: 1,
		ChainConfig: types.ChainConfig{ChainID: types.NewU256(4242), MaxBlockSize: 1 << 20},
		Timestamp:   uint64(time.Now().Unix()),
		StakeTable: []genesis.StakeTableEntry{{StakingKey: k.Staking.PubKey(), StateKey: k.State.PubKey(), DA: true, Stake: 1,
			ProofOfPossession: k.Staking.ProvePossession()}},
	}
	setup, err := replica.NewSetup(gen)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	last := setup.GenesisBlock
	if err := st.SaveDecided(ctx, []types.Block{last}); err != nil {
		b.Fatal(err)
	}
	for last.Height() < benchBlocks-1 {
		batch := storagetest.Extend(&last, min(500, benchBlocks-1-int(last.Height())), 10, 100)
		if err := st.SaveDecided(ctx, batch); err != nil {
			b.Fatal(err)
		}
		last = batch[len(batch)-1]
	}
	tr, err := memnet.NewHub().Join(node.PeerID(k.Staking.PubKey()))
	if err != nil {
		b.Fatal(err)
	}
	av, _ := api.Availability()
	n, err := node.New(gen, k, node.WithStorage(st), node.WithNetwork(tr),
		node.WithAPI("127.0.0.1:0", []api.Module{av, api.Node(), api.Submit()}))
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Start(ctx); err != nil {
		b.Fatal(err)
	}
	return &benchNode{url: "http://" + n.APIAddr().String(), stop: func() { _ = n.Stop(context.Background()) }}
}

// BenchmarkAPI measures the API from benchClients concurrent clients
// against a SQLite-backed node with benchBlocks blocks: header by height
// and namespace lookups (requests/s, p50 and p99 latency in ms), and
// transaction submission (submits/s).
//
//	go test ./api -run XXX -bench API -benchtime 20000x
func BenchmarkAPI(b *testing.B) {
	bn := newBenchNode(b)
	defer bn.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}}

	get := func(path string) func(i int) error {
		return func(i int) error {
			resp, err := client.Get(bn.url + fmt.Sprintf(path, 1+i%(benchBlocks-1)))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s", fmt.Sprintf(path, i), resp.Status)
			}
			return nil
		}
	}
	b.Run("header", func(b *testing.B) { runClients(b, get("/v0/availability/header/%d"), "requests/s") })
	b.Run("namespace", func(b *testing.B) {
		runClients(b, get(fmt.Sprintf("/v0/availability/block/%%d/namespace/%d", storagetest.NamespaceA)), "requests/s")
	})
	var seq atomic.Uint64
	b.Run("submit", func(b *testing.B) {
		runClients(b, func(int) error {
			p := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "bench transaction %d", seq.Add(1)))
			resp, err := client.Post(bn.url+"/v0/submit/submit", "application/json",
				bytes.NewReader(fmt.Appendf(nil, `{"namespace":7,"payload":%q}`, p)))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("submit: %s", resp.Status)
			}
			return nil
		}, "submits/s")
	})
}

// runClients runs b.N calls of do from benchClients goroutines and reports
// the rate in unit and the p50 and p99 latency.
func runClients(b *testing.B, do func(i int) error, unit string) {
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		firstErr  error
		wg        sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/benchClients+1)
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					break
				}
				t := time.Now()
				if err := do(int(i)); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					break
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	slices.Sort(latencies)
	ms := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

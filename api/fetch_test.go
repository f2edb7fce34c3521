package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

// A node that pruned old blocks serves them again by fetching them from a
// peer's query service, checked against its own stake table; a peer that
// lies is not believed.
func TestFetchMissingBlocksFromPeers(t *testing.T) {
	av, err := api.Availability()
	if err != nil {
		t.Fatal(err)
	}
	net := nodetest.New(t, nodetest.Nodes(4), nodetest.API([]api.Module{av}))
	net.WaitForHeight(6)
	if err := net.Store(1).PruneBefore(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	serve := func(peers ...string) string {
		t.Helper()
		var opts []api.AvailabilityOption
		if len(peers) > 0 {
			opts = append(opts, api.WithPeers(peers, 2*time.Second))
		}
		m, err := api.Availability(opts...)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := api.New(net.Node(1).APIBackend(), []api.Module{m})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		return hs.URL
	}
	get := func(url string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	want, err := net.Store(0).BlockByHeight(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}

	alone := serve()
	if code, body := get(alone + "/v0/availability/block/2"); code != http.StatusNotFound || !strings.Contains(string(body), "pruned") {
		t.Fatalf("pruned block without peers: %d %s, want 404 saying it was pruned", code, body)
	}

	withPeer := serve(net.APIURL(0))
	for _, path := range []string{
		"/v0/availability/block/2",
		"/v0/availability/header/2",
		"/v0/availability/block/hash/" + want.Leaf.Header.Commit().Tagged(types.TagBlock).String(),
		"/v0/availability/block/payload-hash/" + want.Leaf.Header.PayloadCommitment.Tagged(types.TagPayload).String(),
	} {
		code, body := get(withPeer + path)
		if code != http.StatusOK {
			t.Fatalf("GET %s with a peer: %d %s", path, code, body)
		}
	}
	code, body := get(withPeer + "/v0/availability/block/2")
	var got api.BlockQueryData
	if err := json.Unmarshal(body, &got); err != nil || code != http.StatusOK || got.Header.Commit() != want.Leaf.Header.Commit() {
		t.Fatalf("fetched block 2: %d, %v", code, err)
	}

	// A peer that serves a block whose payload was swapped is not believed.
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(net.APIURL(0) + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if strings.Contains(r.URL.Path, "/block/") {
			var bd api.BlockQueryData
			if json.Unmarshal(b, &bd) == nil {
				bd.Payload, _ = types.EncodePayload([]types.Transaction{{Namespace: 1, Payload: []byte("forged")}})
				b, _ = json.Marshal(bd)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(liar.Close)
	lied := serve(liar.URL)
	if code, body := get(lied + "/v0/availability/block/2"); code != http.StatusNotFound || !strings.Contains(string(body), "payload") {
		t.Fatalf("block from a lying peer: %d %s, want 404 saying its payload does not match", code, body)
	}
	// Heights the node has not decided are never fetched.
	if code, _ := get(withPeer + fmt.Sprintf("/v0/availability/block/%d", 1_000_000)); code != http.StatusNotFound {
		t.Fatalf("undecided height: %d, want 404", code)
	}
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/chain/vid"
	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/types"
)

// coverage records the routes a test exercised, as the index lists them
// ("GET /v0/availability/header/{height}").
type coverage map[string]bool

func (c coverage) mark(method string, major int, module, pattern string) {
	c[fmt.Sprintf("%s /v%d/%s/%s", method, major, module, pattern)] = true
}

// indexRoutes parses the routes GET / lists.
func indexRoutes(t *testing.T, c *client) []string {
	t.Helper()
	resp, b := c.do(http.MethodGet, "/", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	var out []string
	for _, m := range regexp.MustCompile(`<code>((?:GET|POST) /v\d+/[^<]+)</code>`).FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestRoutes checks a success case of every route against a running
// network with decided transactions, then that every route GET / lists was
// exercised.
func TestRoutes(t *testing.T) {
	l := startLive(t)
	c := l.c
	cov := coverage{}
	txBlk := l.txBlock(t)
	txh := txBlk.Height()
	ctx := context.Background()

	t.Run("status", func(t *testing.T) {
		c := newClient(t, c.base)
		var h uint64
		c.getJSON("/v0/status/block-height", &h)
		if h <= l.maxTxHeight()+3 || h > l.net.Node(0).BlockHeight() {
			t.Fatalf("block-height %d, want above %d and at most %d", h, l.maxTxHeight()+3, l.net.Node(0).BlockHeight())
		}
		cov.mark("GET", 0, "status", "block-height")

		var rate float64
		c.getJSON("/v0/status/success-rate", &rate)
		if !(rate > 0 && rate <= 1.5) {
			t.Fatalf("success-rate %v", rate)
		}
		cov.mark("GET", 0, "status", "success-rate")

		var since uint64
		c.getJSON("/v0/status/time-since-last-decide", &since)
		if since > 5 {
			t.Fatalf("time-since-last-decide %d s on a live network", since)
		}
		cov.mark("GET", 0, "status", "time-since-last-decide")

		resp, b := c.do(http.MethodGet, "/v0/status/metrics", nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("metrics: %s %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{`consensus_node_identity_general{`, `name="test node"`, `consensus_node_identity_location{country="DE"`} {
			if !bytes.Contains(b, []byte(want)) {
				t.Fatalf("metrics lack %s:\n%s", want, trunc(string(b)))
			}
		}
		cov.mark("GET", 0, "status", "metrics")
	})

	for _, major := range []int{0, 1} {
		t.Run(fmt.Sprintf("availability/v%d", major), func(t *testing.T) {
			testAvailability(t, l, newClient(t, c.base), major, cov)
		})
	}

	t.Run("node", func(t *testing.T) {
		c := newClient(t, c.base)
		var h uint64
		c.getJSON("/v0/node/block-height", &h)
		if h <= txh || h > l.net.Node(0).BlockHeight() {
			t.Fatalf("node block-height %d", h)
		}
		cov.mark("GET", 0, "node", "block-height")

		var lim map[string]uint64
		c.getJSON("/v0/node/limits", &lim)
		if len(lim) != 1 || lim["window_limit"] != api.DefaultWindowLimit {
			t.Fatalf("node limits %v", lim)
		}
		cov.mark("GET", 0, "node", "limits")

		// Every transaction and byte of the chain was submitted by
		// startLive (other blocks are empty), so the totals are stable.
		total := uint64(len(l.batch) + 1)
		var size uint64
		var upto, uptoSize, inTx, inTxSize uint64
		for x := uint64(0); x <= l.maxTxHeight(); x++ {
			b := l.block(t, x)
			txs, err := b.Payload.Transactions()
			if err != nil {
				t.Fatal(err)
			}
			size += b.Payload.Size()
			if x <= txh {
				upto += uint64(len(txs))
				uptoSize += b.Payload.Size()
			}
			if x == txh {
				inTx, inTxSize = uint64(len(txs)), b.Payload.Size()
			}
		}
		for _, tc := range []struct {
			path string
			want uint64
			pat  string
		}{
			{"/v0/node/transactions/count", total, "transactions/count"},
			{fmt.Sprintf("/v0/node/transactions/count/%d", txh), upto, "transactions/count/{to}"},
			{fmt.Sprintf("/v0/node/transactions/count/%d/%d", txh, txh), inTx, "transactions/count/{from}/{to}"},
			{"/v0/node/payloads/size", size, "payloads/size"},
			{fmt.Sprintf("/v0/node/payloads/size/%d", txh), uptoSize, "payloads/size/{to}"},
			{fmt.Sprintf("/v0/node/payloads/size/%d/%d", txh, txh), inTxSize, "payloads/size/{from}/{to}"},
			{"/v0/node/payloads/total-size", size, "payloads/total-size"},
		} {
			var got uint64
			c.getJSON(tc.path, &got)
			if got != tc.want {
				t.Errorf("%s = %d, want %d", tc.path, got, tc.want)
			}
			if tc.pat != "" {
				cov.mark("GET", 0, "node", tc.pat)
			}
		}
		if total != l.mustCount(t) {
			t.Fatalf("submitted %d transactions, the chain holds %d", total, l.mustCount(t))
		}

		// This node's VID share, by height, block hash and payload hash:
		// one share, which checks against the header's payload commitment.
		hash := blockHashOf(&txBlk).String()
		ph := txBlk.Leaf.Header.PayloadCommitment.Tagged(types.TagAvidM).String()
		var first []byte
		for pat, path := range map[string]string{
			"vid/share/{height}":                    fmt.Sprint(txh),
			"vid/share/hash/{hash}":                 "hash/" + hash,
			"vid/share/payload-hash/{payload-hash}": "payload-hash/" + ph,
		} {
			raw := c.get("/v0/node/vid/share/" + path)
			if first == nil {
				first = raw
			} else if !bytes.Equal(raw, first) {
				t.Fatalf("vid/share/%s differs from another route's share", path)
			}
			cov.mark("GET", 0, "node", pat)
		}
		var share api.VidShare
		if err := json.Unmarshal(first, &share); err != nil {
			t.Fatal(err)
		}
		params, err := chain.VIDParams([]uint64{1, 1, 1, 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := (chain.Rules{VID: params}).VIDScheme().VerifyShare(txBlk.Leaf.Header.PayloadCommitment, int(share.V1.NodeIndex), share.V1.Data); err != nil {
			t.Fatalf("vid/share of node %d does not check against the header: %v", share.V1.NodeIndex, err)
		}

		var ss api.SyncStatus
		c.getJSON("/v0/node/sync-status", &ss)
		if ss != (api.SyncStatus{}) {
			t.Fatalf("sync-status %+v", ss)
		}
		cov.mark("GET", 0, "node", "sync-status")

		// Header windows: [start, end) in header timestamps.
		ts := txBlk.Leaf.Header.Timestamp
		check := func(path string, start, end uint64, must uint64) {
			t.Helper()
			var w struct {
				Window []json.RawMessage `json:"window"`
				Prev   *types.Header     `json:"prev"`
				Next   *types.Header     `json:"next"`
			}
			c.getJSON(path, &w)
			var heights []uint64
			for _, raw := range w.Window {
				var hd types.Header
				if err := json.Unmarshal(raw, &hd); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if hd.Timestamp < start || hd.Timestamp >= end {
					t.Fatalf("%s: header %d has timestamp %d outside [%d, %d)", path, hd.Height, hd.Timestamp, start, end)
				}
				stored := l.block(t, hd.Height)
				if hd.Commit() != stored.Leaf.Header.Commit() {
					t.Fatalf("%s: header %d differs from the stored one", path, hd.Height)
				}
				heights = append(heights, hd.Height)
			}
			if len(heights) == 0 || !slices.Contains(heights, must) {
				t.Fatalf("%s: window %v lacks height %d", path, heights, must)
			}
			for i := 1; i < len(heights); i++ {
				if heights[i] != heights[i-1]+1 {
					t.Fatalf("%s: window heights %v not consecutive", path, heights)
				}
			}
			if w.Prev != nil && (w.Prev.Height+1 != heights[0] || w.Prev.Timestamp >= start) {
				t.Fatalf("%s: prev %d (ts %d) before window from %d", path, w.Prev.Height, w.Prev.Timestamp, heights[0])
			}
			if heights[0] > 0 && w.Prev == nil {
				t.Fatalf("%s: no prev before height %d", path, heights[0])
			}
			if w.Next != nil && (w.Next.Height != heights[len(heights)-1]+1 || w.Next.Timestamp < end) {
				t.Fatalf("%s: next %d (ts %d) after window to %d", path, w.Next.Height, w.Next.Timestamp, heights[len(heights)-1])
			}
		}
		check(fmt.Sprintf("/v0/node/header/window/%d/%d", ts, ts+1), ts, ts+1, txh)
		cov.mark("GET", 0, "node", "header/window/{start}/{end}")
		check(fmt.Sprintf("/v0/node/header/window/from/%d/%d", txh, ts+1), ts, ts+1, txh)
		cov.mark("GET", 0, "node", "header/window/from/{height}/{end}")
		check(fmt.Sprintf("/v0/node/header/window/from/hash/%s/%d", hash, ts+1), ts, ts+1, txh)
		cov.mark("GET", 0, "node", "header/window/from/hash/{hash}/{end}")
		var empty api.TimeWindow
		c.getJSON(fmt.Sprintf("/v0/node/header/window/%d/%d", ts, ts), &empty)
		if empty.Window == nil || len(empty.Window) != 0 {
			t.Fatalf("empty window: %+v", empty)
		}

		var st []api.StakeTableEntry
		c.getJSON("/v0/node/stake-table/current", &st)
		if len(st) != 4 {
			t.Fatalf("stake table of %d", len(st))
		}
		for i, e := range st {
			if e.StakeTableKey != l.net.Keys[i].Staking.PubKey().String() || e.StateVerKey != l.net.Keys[i].State.PubKey().String() || e.Stake != 1 || !e.DA {
				t.Fatalf("stake table entry %d: %+v", i, e)
			}
		}
		cov.mark("GET", 0, "node", "stake-table/current")
	})

	t.Run("submit", func(t *testing.T) {
		c := newClient(t, c.base)
		tx := types.Transaction{Namespace: 42, Payload: []byte("hi")}
		var h string
		c.postJSON("/v0/submit/submit", tx, &h)
		if h != "TX~qOF0p1P0cuOKQ86DdEM7EANNB5cuQAO-AtSB1rfhr1Vn" || h != tx.Commit().Tagged(types.TagTransaction).String() {
			t.Fatalf("submit answered %s", h)
		}
		cov.mark("POST", 0, "submit", "submit")
		var hs []string
		c.postJSON("/v0/submit/batch", []types.Transaction{}, &hs)
		if hs == nil || len(hs) != 0 {
			t.Fatalf("empty batch answered %v", hs)
		}
		txs := []types.Transaction{{Namespace: 42, Payload: []byte("b1")}, {Namespace: 43, Payload: nil}}
		c.postJSON("/v0/submit/batch", txs, &hs)
		if len(hs) != 2 || hs[0] != txs[0].Commit().Tagged(types.TagTransaction).String() || hs[1] != txs[1].Commit().Tagged(types.TagTransaction).String() {
			t.Fatalf("batch answered %v", hs)
		}
		cov.mark("POST", 0, "submit", "batch")
		// Content-Type is a media type: case and parameters do not matter.
		b, _ := json.Marshal(tx)
		resp, out := c.do(http.MethodPost, "/v0/submit/submit", b, http.Header{"Content-Type": {"Application/JSON; charset=UTF-8"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("Content-Type Application/JSON; charset=UTF-8: %s %s", resp.Status, out)
		}
		l.net.WaitForTransaction(txs[0].Commit(), 0)
	})

	t.Run("catchup", func(t *testing.T) {
		c := newClient(t, c.base)
		addr := types.Address{0xab, 19: 0xab}
		// The state after the newest block node 0 keeps; the network can
		// move past the chain.StatesKept it keeps between two requests,
		// so a 404 on a kept height means: read the height again.
		var fr state.BlockFrontier
		var ps []state.FeeProof
		var ap api.AccountProof
		hdr := eventuallyKept(t, l, c, func(hd *types.Header, view uint64) bool {
			base := fmt.Sprintf("/v0/catchup/%d/%d/", hd.Height, view)
			return c.tryJSON(http.MethodGet, base+"account/"+addr.String(), nil, &ap) &&
				c.tryJSON(http.MethodPost, base+"accounts", []byte(`["`+addr.String()+`"]`), &ps) &&
				c.tryJSON(http.MethodGet, base+"blocks", nil, &fr)
		})
		if _, present, err := state.VerifyFeeProof(hdr.FeeMerkleTreeRoot, addr, &ap.Proof); err != nil || present || !ap.Balance.IsZero() {
			t.Errorf("account: a proof that does not show %s absent: %v", addr, err)
		}
		if _, present, err := state.VerifyFeeProof(hdr.FeeMerkleTreeRoot, addr, &ps[0]); len(ps) != 1 || err != nil || present {
			t.Errorf("accounts: %d proofs, the first not showing %s absent: %v", len(ps), addr, err)
		}
		if tree, err := state.BlockTreeFromFrontier(fr); err != nil || !bytes.Equal(tree.Root(), hdr.BlockMerkleTreeRoot) {
			t.Errorf("blocks: a frontier that does not rebuild block %d's root: %v", hdr.Height, err)
		}
		for _, pat := range []string{"{height}/{view}/account/{address}", "{height}/{view}/blocks"} {
			cov.mark("GET", 0, "catchup", pat)
		}
		// The newest state whole, under the certified block it follows.
		var cs api.ChainState
		c.getJSON("/v0/catchup/state", &cs)
		st, err := state.DecodeState(cs.State)
		if err != nil {
			t.Fatal(err)
		}
		if blockRoot, feeRoot := st.Roots(); cs.QC.Leaf != cs.Leaf.Commit() || !bytes.Equal(blockRoot, cs.Leaf.Header.BlockMerkleTreeRoot) ||
			!bytes.Equal(feeRoot, cs.Leaf.Header.FeeMerkleTreeRoot) || !bytes.Equal(cs.Payload.Raw, l.block(t, cs.Leaf.Height()).Payload.Raw) {
			t.Errorf("catchup/state: block %d's certificate, payload or roots are not the state's", cs.Leaf.Height())
		}
		cov.mark("GET", 0, "catchup", "state")
		cov.mark("POST", 0, "catchup", "{height}/{view}/accounts")
		if msg := c.expectError(http.MethodGet, "/v0/catchup/99999999/1/blocks", http.StatusNotFound); !strings.Contains(msg, "not applied yet") {
			t.Errorf("a future height: %q", msg)
		}
		many := "[" + strings.Repeat(`"`+addr.String()+`",`, api.MaxCatchupAccounts) + `"` + addr.String() + `"]`
		resp, b := c.do(http.MethodPost, fmt.Sprintf("/v0/catchup/%d/1/accounts", hdr.Height), []byte(many), http.Header{"Content-Type": {"application/json"}})
		if err := checkErrorBody(resp, b, http.StatusBadRequest); err != nil || !strings.Contains(string(b), "at most") {
			t.Errorf("%d addresses: %v %s", api.MaxCatchupAccounts+1, err, b)
		}

		cc := l.net.Genesis.ChainConfig
		var got types.ChainConfig
		c.getJSON("/v0/catchup/chain-config/"+types.Commitment(cc.Commit()).Tagged(types.TagChainConfig).String(), &got)
		if !got.Equal(cc) {
			t.Fatalf("chain-config %+v, want %+v", got, cc)
		}
		cov.mark("GET", 0, "catchup", "chain-config/{commitment}")

		var chain []api.LeafQueryData
		c.getJSON(fmt.Sprintf("/v0/catchup/%d/leafchain", txh), &chain)
		if len(chain) != 3 {
			t.Fatalf("leafchain of %d leaves", len(chain))
		}
		for i, lq := range chain {
			stored := l.block(t, txh+uint64(i))
			if lq.Leaf.Commit() != stored.Leaf.Commit() || lq.QC.Leaf != lq.Leaf.Commit() {
				t.Fatalf("leafchain leaf %d is not the stored leaf at height %d with its certificate", i, txh+uint64(i))
			}
			if i > 0 && lq.Leaf.Parent != chain[i-1].Leaf.Commit() {
				t.Fatalf("leafchain leaf %d does not extend leaf %d", i, i-1)
			}
		}
		cov.mark("GET", 0, "catchup", "{height}/leafchain")
	})

	t.Run("config", func(t *testing.T) {
		c := newClient(t, c.base)
		var hc map[string]json.RawMessage
		c.getJSON("/v0/config/hotshot", &hc)
		var cfg api.HotShotConfig
		c.getJSON("/v0/config/hotshot", &cfg)
		k := l.net.Keys[0]
		if cfg.NumNodesWithStake != 4 || cfg.DAStakedCommitteeSize != 4 || cfg.NodeIndex != 0 ||
			cfg.StakingKey != k.Staking.PubKey().String() || cfg.StateKey != k.State.PubKey().String() ||
			cfg.NextViewTimeoutMS != 300 || cfg.ViewSyncTimeoutMS != 200 || cfg.BuilderTimeoutMS != 20 ||
			cfg.StartThreshold != [2]uint64{4, 4} || len(cfg.KnownNodesWithStake) != 4 || cfg.Version != node.Version {
			t.Fatalf("hotshot config %+v", cfg)
		}
		var cc types.ChainConfig
		if err := json.Unmarshal(hc["chain_config"], &cc); err != nil || !cc.Equal(l.net.Genesis.ChainConfig) {
			t.Fatalf("hotshot chain_config %s: %v", hc["chain_config"], err)
		}
		for name := range hc {
			if n := strings.ToLower(name); strings.Contains(n, "private") || strings.Contains(n, "secret") {
				t.Fatalf("hotshot config has field %s", name)
			}
		}
		hb := c.get("/v0/config/hotshot")
		for _, k := range l.net.Keys {
			if bytes.Contains(hb, []byte(k.Staking.Secret())) || bytes.Contains(hb, []byte(k.State.Secret())) {
				t.Fatal("hotshot config holds a private key")
			}
		}
		cov.mark("GET", 0, "config", "hotshot")

		var env []string
		c.getJSON("/v0/config/env", &env)
		want := []string{"ESPRESSO_SEQUENCER_API_PORT=8080", "ESPRESSO_SEQUENCER_IS_DA=", "ESPRESSO_SEQUENCER_STORAGE_PATH=/data"}
		if !slices.Equal(env, want) {
			t.Fatalf("env %q, want %q", env, want)
		}
		cov.mark("GET", 0, "config", "env")
	})

	t.Run("state-signature", func(t *testing.T) {
		c := newClient(t, c.base)
		h := l.net.Node(0).BlockHeight() - 1
		var st lightclient.SignedState
		c.getJSON(fmt.Sprintf("/v0/state-signature/block/%d", h), &st)
		if err := st.Verify(); err != nil {
			t.Fatal(err)
		}
		stored := l.block(t, h)
		if st.State != lightclient.StateOf(&stored.Leaf) || st.Key.String() != l.net.Keys[0].State.PubKey().String() {
			t.Fatalf("signed state %+v is not node 0's state of height %d", st, h)
		}
		cov.mark("GET", 0, "state-signature", "block/{height}")
		for _, x := range []uint64{h + 1000, 1<<64 - 1} {
			if msg := c.expectError(http.MethodGet, fmt.Sprintf("/v0/state-signature/block/%d", x), http.StatusNotFound); msg != "Signature not found." {
				t.Fatalf("height %d: %q", x, msg)
			}
		}
		// Only the latest StateSignaturesKept are kept.
		l.net.WaitForHeight(node.StateSignaturesKept+2, 0)
		if msg := c.expectError(http.MethodGet, "/v0/state-signature/block/0", http.StatusNotFound); msg != "Signature not found." {
			t.Fatalf("height 0: %q", msg)
		}
	})

	t.Run("hotshot-events", func(t *testing.T) {
		c := newClient(t, c.base)
		var info struct {
			Known    []api.StakeTableEntry `json:"known_node_with_stake"`
			NonStake *int                  `json:"non_staked_node_count"`
		}
		c.getJSON("/v0/hotshot-events/startup_info", &info)
		if len(info.Known) != 4 || info.NonStake == nil || *info.NonStake != 0 {
			t.Fatalf("startup_info %+v", info)
		}
		cov.mark("GET", 0, "hotshot-events", "startup_info")

		ctx, cancel := context.WithTimeout(ctx, waitTimeout)
		defer cancel()
		before := l.net.Node(0).BlockHeight()
		conn := dialStream(ctx, t, c.base, "/v0/hotshot-events/events")
		defer conn.CloseNow()
		var prev uint64
		for i := range 3 {
			var ev struct {
				View  uint64 `json:"view_number"`
				Event struct {
					Decide *struct {
						Leaf      types.Leaf              `json:"leaf"`
						QC        types.QuorumCertificate `json:"qc"`
						BlockSize *uint64                 `json:"block_size"`
					} `json:"Decide"`
				} `json:"event"`
			}
			if err := readItem(ctx, conn, &ev); err != nil {
				t.Fatal(err)
			}
			d := ev.Event.Decide
			if d == nil || d.BlockSize == nil || ev.View != uint64(d.Leaf.View) || d.QC.Leaf != d.Leaf.Commit() || d.Leaf.Height() < before {
				t.Fatalf("event %d: %+v", i, ev)
			}
			if i > 0 && d.Leaf.Height() != prev+1 {
				t.Fatalf("event %d at height %d after %d", i, d.Leaf.Height(), prev)
			}
			prev = d.Leaf.Height()
		}
		conn.Close(websocket.StatusNormalClosure, "")
		cov.mark("GET", 0, "hotshot-events", "events")
	})

	t.Run("merkle-state", func(t *testing.T) {
		c := newClient(t, c.base)
		addr := types.Address{0x0a, 19: 0x0a}
		var blockProofs [2]api.BlockStateProof
		var feeProofs [2]api.FeeStateProof
		var blockHeight, feeHeight uint64
		var balance *types.U256
		hdr := eventuallyKept(t, l, c, func(hd *types.Header, _ uint64) bool {
			h := hd.Height
			root := func(r []byte) string { return types.TaggedBase64{Tag: types.TagMerkle, Value: r}.String() }
			return c.tryJSON(http.MethodGet, fmt.Sprintf("/v0/block-state/%d/%d", h, h-1), nil, &blockProofs[0]) &&
				c.tryJSON(http.MethodGet, fmt.Sprintf("/v0/block-state/commit/%s/%d", root(hd.BlockMerkleTreeRoot), h-1), nil, &blockProofs[1]) &&
				c.tryJSON(http.MethodGet, fmt.Sprintf("/v0/fee-state/%d/%s", h, addr), nil, &feeProofs[0]) &&
				c.tryJSON(http.MethodGet, fmt.Sprintf("/v0/fee-state/commit/%s/%s", root(hd.FeeMerkleTreeRoot), addr), nil, &feeProofs[1]) &&
				c.tryJSON(http.MethodGet, "/v0/block-state/block-height", nil, &blockHeight) &&
				c.tryJSON(http.MethodGet, "/v0/fee-state/block-height", nil, &feeHeight) &&
				c.tryJSON(http.MethodGet, "/v0/fee-state/fee-balance/latest/"+addr.String(), nil, &balance)
		})
		prev := l.block(t, hdr.Height-1).Leaf.Header
		for i, p := range blockProofs {
			if err := state.VerifyBlockProof(hdr.BlockMerkleTreeRoot, hdr.Height-1, prev.Commit(), &p.Proof); err != nil || p.Height != hdr.Height {
				t.Errorf("block-state proof %d: of the tree after block %d: %v", i, p.Height, err)
			}
		}
		// By root, the answer names the newest kept block with that fee
		// tree: blocks that move no fee leave the root as it was.
		for i, p := range feeProofs {
			if _, present, err := state.VerifyFeeProof(hdr.FeeMerkleTreeRoot, addr, &p.Proof); err != nil || present ||
				p.Height < hdr.Height || (i == 0 && p.Height != hdr.Height) || !bytes.Equal(p.Root.Value, hdr.FeeMerkleTreeRoot) {
				t.Errorf("fee-state proof %d: of the tree after block %d, present %v: %v", i, p.Height, present, err)
			}
		}
		if blockHeight < hdr.Height || feeHeight < hdr.Height || balance != nil {
			t.Errorf("block-height %d and %d, want at least %d; balance %v of an absent account, want null", blockHeight, feeHeight, hdr.Height, balance)
		}
		for _, tc := range []struct{ module, pat string }{
			{"block-state", "{height}/{key}"}, {"block-state", "commit/{commit}/{key}"}, {"block-state", "block-height"},
			{"fee-state", "{height}/{key}"}, {"fee-state", "commit/{commit}/{key}"}, {"fee-state", "block-height"},
			{"fee-state", "fee-balance/latest/{address}"},
		} {
			cov.mark("GET", 0, tc.module, tc.pat)
		}
		// A block the tree does not hold yet, and a root no kept state has.
		if msg := c.expectError(http.MethodGet, fmt.Sprintf("/v0/block-state/%d/%d", hdr.Height, hdr.Height), http.StatusNotFound); !strings.Contains(msg, "not in the block tree") {
			t.Errorf("block %d in the tree after it: %q", hdr.Height, msg)
		}
		merkle := types.TaggedBase64{Tag: types.TagMerkle, Value: bytes.Repeat([]byte{1}, 32)}.String()
		if msg := c.expectError(http.MethodGet, "/v0/fee-state/commit/"+merkle+"/"+addr.String(), http.StatusNotFound); !strings.Contains(msg, "no fee tree with that root") {
			t.Errorf("an unknown root: %q", msg)
		}
	})

	t.Run("framework", func(t *testing.T) {
		c := newClient(t, c.base)
		var health struct {
			Status  string                    `json:"status"`
			Modules map[string]map[string]int `json:"modules"`
		}
		c.getJSON("/healthcheck", &health)
		wantMods := map[string][]string{"status": {"0"}, "availability": {"0", "1"}, "node": {"0"}, "submit": {"0"}, "catchup": {"0"},
			"config": {"0"}, "state-signature": {"0"}, "hotshot-events": {"0"}, "block-state": {"0"}, "fee-state": {"0"}}
		if health.Status != "available" || len(health.Modules) != len(wantMods) {
			t.Fatalf("healthcheck %+v", health)
		}
		for m, majors := range wantMods {
			if len(health.Modules[m]) != len(majors) {
				t.Fatalf("healthcheck module %s: %v", m, health.Modules[m])
			}
			for _, mj := range majors {
				if health.Modules[m][mj] != 200 {
					t.Fatalf("healthcheck module %s v%s: %v", m, mj, health.Modules[m])
				}
			}
		}
		var version struct {
			Modules      map[string][]map[string]string `json:"modules"`
			AppVersion   string                         `json:"app_version"`
			DiscoVersion string                         `json:"disco_version"`
		}
		c.getJSON("/version", &version)
		if version.AppVersion != "gospresso "+node.Version || version.DiscoVersion == "" || len(version.Modules) != len(wantMods) {
			t.Fatalf("version %+v", version)
		}
		var avs []string
		for _, v := range version.Modules["availability"] {
			if len(v) != 2 || v["spec_version"] != api.SpecVersion {
				t.Fatalf("version of availability: %v", v)
			}
			avs = append(avs, v["api_version"])
		}
		sort.Strings(avs)
		if !slices.Equal(avs, []string{"0.1.0", "1.0.0"}) {
			t.Fatalf("availability versions %v", avs)
		}
		// Per-module healthcheck and version.
		for m, majors := range wantMods {
			for _, mj := range majors {
				var h map[string]string
				c.getJSON("/v"+mj+"/"+m+"/healthcheck", &h)
				if len(h) != 1 || h["status"] != "available" {
					t.Fatalf("%s v%s healthcheck %v", m, mj, h)
				}
				var v map[string]string
				c.getJSON("/v"+mj+"/"+m+"/version", &v)
				if len(v) != 2 || v["spec_version"] != api.SpecVersion || !strings.HasPrefix(v["api_version"], mj+".") {
					t.Fatalf("%s v%s version %v", m, mj, v)
				}
			}
		}

		// Unversioned paths redirect (307) to the latest major, keeping the
		// query string; /healthcheck and /version do not.
		for path, loc := range map[string]string{
			"/status/block-height":           "/v0/status/block-height",
			"/status/block-height?x=1&y=%2F": "/v0/status/block-height?x=1&y=%2F",
			"/availability/header/3":         "/v1/availability/header/3",
			"/availability/header/3?":        "/v1/availability/header/3",
			"/node/vid/share/x":              "/v0/node/vid/share/x",
		} {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				resp, _ := c.do(method, path, nil, nil)
				if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != loc {
					t.Fatalf("%s %s: %s to %q, want 307 to %q", method, path, resp.Status, resp.Header.Get("Location"), loc)
				}
			}
		}
		for _, path := range []string{"/healthcheck", "/version"} {
			resp, _ := c.do(http.MethodGet, path, nil, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %s", path, resp.Status)
			}
		}
		// A client that follows the redirect gets the answer.
		follow := &http.Client{Timeout: waitTimeout}
		resp, err := follow.Get(c.base + "/status/block-height")
		if err != nil {
			t.Fatal(err)
		}
		var h uint64
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || h == 0 {
			t.Fatalf("followed redirect: %s %d %v", resp.Status, h, err)
		}
		follow.CloseIdleConnections()

		// A wrong method is 405.
		c.expectError(http.MethodPost, "/v0/status/block-height", http.StatusMethodNotAllowed)
		c.expectError(http.MethodGet, "/v0/submit/submit", http.StatusMethodNotAllowed)
		c.expectError(http.MethodDelete, "/v1/availability/header/1", http.StatusMethodNotAllowed)

		// GET / is HTML listing every route and the block height.
		before := l.net.Node(0).BlockHeight()
		resp2, body := c.do(http.MethodGet, "/", nil, nil)
		after := l.net.Node(0).BlockHeight()
		if resp2.StatusCode != 200 || !strings.HasPrefix(resp2.Header.Get("Content-Type"), "text/html") || !bytes.HasPrefix(body, []byte("<!doctype html>")) {
			t.Fatalf("GET /: %s %q", resp2.Status, resp2.Header.Get("Content-Type"))
		}
		m := regexp.MustCompile(`Block height: (\d+)`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("GET / shows no block height:\n%s", trunc(string(body)))
		}
		if n, _ := strconv.ParseUint(string(m[1]), 10, 64); n < before || n > after {
			t.Fatalf("GET / shows height %d, want %d to %d", n, before, after)
		}
		for _, want := range []string{"GET /v0/availability/header/{height}", "GET /v1/availability/leaf/{height}", "POST /v0/submit/submit",
			"GET /v0/status/healthcheck", "GET /v0/availability/stream/blocks/{height}", "GET /v0/hotshot-events/events"} {
			if !bytes.Contains(body, []byte("<code>"+want+"</code>")) {
				t.Fatalf("GET / does not list %s", want)
			}
		}
	})

	// Every route the index lists was exercised above (per-module
	// healthcheck and version by the framework subtest).
	for _, r := range indexRoutes(t, c) {
		if strings.HasSuffix(r, "/healthcheck") || strings.HasSuffix(r, "/version") {
			continue
		}
		if !cov[r] {
			t.Errorf("route %s has no success case", r)
		}
	}
	if len(cov) < 80 {
		t.Errorf("only %d routes covered", len(cov))
	}
}

func (l *live) mustCount(t *testing.T) uint64 {
	var n uint64
	for x := uint64(0); x <= l.maxTxHeight(); x++ {
		b := l.block(t, x)
		txs, err := b.Payload.Transactions()
		if err != nil {
			t.Fatal(err)
		}
		n += uint64(len(txs))
	}
	return n
}

func blockHashOf(b *types.Block) types.TaggedBase64 {
	return b.Leaf.Header.Commit().Tagged(types.TagBlock)
}

func payloadHashOf(b *types.Block) types.TaggedBase64 {
	return b.Leaf.Header.PayloadCommitment.Tagged(b.Leaf.Header.PayloadTag())
}

// testAvailability checks every availability route at one major.
func testAvailability(t *testing.T, l *live, c *client, major int, cov coverage) {
	av := fmt.Sprintf("/v%d/availability/", major)
	mark := func(pat string) { cov.mark("GET", major, "availability", pat) }
	txBlk := l.txBlock(t)
	txh := txBlk.Height()
	hash := blockHashOf(&txBlk).String()
	ph := payloadHashOf(&txBlk).String()

	var lim api.Limits
	c.getJSON(av+"limits", &lim)
	if lim.SmallObjectRangeLimit != api.DefaultSmallObjectRangeLimit || lim.LargeObjectRangeLimit != api.DefaultLargeObjectRangeLimit {
		t.Fatalf("limits %+v", lim)
	}
	mark("limits")

	// Leaves: decoded in the shape of the major, the stored leaf with the
	// certificate that signs it.
	decodeLeaf := func(b []byte) (types.Leaf, types.QuorumCertificate) {
		t.Helper()
		if major == 0 {
			var lq api.LeafQueryData
			if err := json.Unmarshal(b, &lq); err != nil || bytes.Contains(b, []byte("with_epoch")) {
				t.Fatalf("v0 leaf: %v\n%s", err, trunc(string(b)))
			}
			return lq.Leaf, lq.QC
		}
		var lq api.LeafQueryDataV1
		if err := json.Unmarshal(b, &lq); err != nil || !bytes.Contains(b, []byte(`"with_epoch":false`)) {
			t.Fatalf("v1 leaf: %v\n%s", err, trunc(string(b)))
		}
		return lq.Leaf.Leaf, lq.QC
	}
	checkLeaf := func(b []byte, h uint64) {
		t.Helper()
		leaf, qc := decodeLeaf(b)
		stored := l.block(t, h)
		if leaf.Height() != h || leaf.Commit() != stored.Leaf.Commit() || qc.Leaf != leaf.Commit() || qc.Commit() != stored.QC.Commit() {
			t.Fatalf("leaf at height %d: got height %d, not the stored leaf and certificate", h, leaf.Height())
		}
	}
	for _, h := range []uint64{0, txh} {
		checkLeaf(c.get(fmt.Sprintf("%sleaf/%d", av, h)), h)
	}
	mark("leaf/{height}")
	leafHash := txBlk.Leaf.Commit().Tagged(types.TagLeaf).String()
	if a, b := c.get(av+"leaf/hash/"+leafHash), c.get(fmt.Sprintf("%sleaf/%d", av, txh)); !bytes.Equal(a, b) {
		t.Fatalf("leaf/hash differs from leaf/%d", txh)
	}
	mark("leaf/hash/{hash}")

	// Ranges: until-from items, until exclusive.
	rangeOf := func(kind string, from, until uint64) []json.RawMessage {
		t.Helper()
		var out []json.RawMessage
		c.getJSON(fmt.Sprintf("%s%s/%d/%d", av, kind, from, until), &out)
		if out == nil || uint64(len(out)) != until-from {
			t.Fatalf("%s/%d/%d: %d items, want %d", kind, from, until, len(out), until-from)
		}
		single := func(h uint64) []byte {
			if kind == "block/summaries" {
				return c.get(fmt.Sprintf("%sblock/summary/%d", av, h))
			}
			return c.get(fmt.Sprintf("%s%s/%d", av, kind, h))
		}
		for i, raw := range out {
			if want := bytes.TrimSpace(single(from + uint64(i))); !bytes.Equal(raw, want) {
				t.Fatalf("%s/%d/%d item %d differs from %s/%d", kind, from, until, i, kind, from+uint64(i))
			}
		}
		return out
	}
	for _, kind := range []string{"leaf", "header", "block", "payload", "block/summaries"} {
		rangeOf(kind, txh-1, txh+2)
		rangeOf(kind, txh, txh)
		rangeOf(kind, 0, 1)
		mark(kind + "/{from}/{until}")
	}

	// Headers.
	var hd types.Header
	c.getJSON(fmt.Sprintf("%sheader/%d", av, txh), &hd)
	if hd.Height != txh || hd.Commit() != txBlk.Leaf.Header.Commit() {
		t.Fatalf("header/%d: height %d", txh, hd.Height)
	}
	mark("header/{height}")
	hb := c.get(fmt.Sprintf("%sheader/%d", av, txh))
	// The Espresso Go client decodes it (the network runs v0.2).
	if shape, height, err := goClientDecodeHeader(hb); err != nil || shape != "0.2" || height != txh {
		t.Fatalf("the Go client reads header/%d as %s at height %d: %v", txh, shape, height, err)
	}
	if !bytes.Equal(c.get(av+"header/hash/"+hash), hb) {
		t.Fatal("header/hash differs from header/{height}")
	}
	mark("header/hash/{hash}")
	// The payload of the transactions' block is unique, so the lowest block
	// with its payload hash is that block.
	if !bytes.Equal(c.get(av+"header/payload-hash/"+ph), hb) {
		t.Fatal("header/payload-hash differs from header/{height}")
	}
	mark("header/payload-hash/{payload-hash}")

	// Blocks.
	var blk struct {
		Header          types.Header  `json:"header"`
		Payload         types.Payload `json:"payload"`
		Hash            string        `json:"hash"`
		Size            uint64        `json:"size"`
		NumTransactions uint64        `json:"num_transactions"`
	}
	bb := c.get(fmt.Sprintf("%sblock/%d", av, txh))
	if err := json.Unmarshal(bb, &blk); err != nil {
		t.Fatal(err)
	}
	txs, _ := txBlk.Payload.Transactions()
	if blk.Header.Height != txh || blk.Hash != blk.Header.Commit().Tagged(types.TagBlock).String() || blk.Hash != hash ||
		blk.Size != uint64(len(txBlk.Payload.Raw)) || blk.NumTransactions != uint64(len(txs)) ||
		!bytes.Equal(blk.Payload.Raw, txBlk.Payload.Raw) || !bytes.Equal(blk.Payload.NsTable.Bytes, txBlk.Payload.NsTable.Bytes) {
		t.Fatalf("block/%d: %+v", txh, blk)
	}
	mark("block/{height}")
	if !bytes.Equal(c.get(av+"block/hash/"+hash), bb) {
		t.Fatal("block/hash differs")
	}
	mark("block/hash/{hash}")
	if !bytes.Equal(c.get(av+"block/payload-hash/"+ph), bb) {
		t.Fatal("block/payload-hash differs")
	}
	mark("block/payload-hash/{payload-hash}")

	// Summaries.
	var sum api.BlockSummaryQueryData
	c.getJSON(fmt.Sprintf("%sblock/summary/%d", av, txh), &sum)
	if sum.Header.Commit() != txBlk.Leaf.Header.Commit() || sum.Hash.String() != hash || sum.Size != blk.Size || sum.NumTransactions != blk.NumTransactions {
		t.Fatalf("block/summary: %+v", sum)
	}
	mark("block/summary/{height}")

	// Payloads.
	var pd api.PayloadQueryData
	pb := c.get(fmt.Sprintf("%spayload/%d", av, txh))
	if err := json.Unmarshal(pb, &pd); err != nil {
		t.Fatal(err)
	}
	if pd.Height != txh || pd.BlockHash.String() != hash || pd.Hash.String() != ph || pd.Size != blk.Size || !bytes.Equal(pd.Data.Raw, txBlk.Payload.Raw) {
		t.Fatalf("payload/%d: %+v", txh, pd)
	}
	mark("payload/{height}")
	if !bytes.Equal(c.get(av+"payload/hash/"+ph), pb) {
		t.Fatal("payload/hash/{payload hash} differs from payload/{height}")
	}
	mark("payload/hash/{hash}")
	if !bytes.Equal(c.get(av+"payload/block-hash/"+hash), pb) {
		t.Fatal("payload/block-hash differs")
	}
	mark("payload/block-hash/{block-hash}")

	// VID common.
	var vc api.VidCommonQueryData
	vb := c.get(fmt.Sprintf("%svid/common/%d", av, txh))
	if err := json.Unmarshal(vb, &vc); err != nil {
		t.Fatal(err)
	}
	if v := vc.Common.V1; vc.Height != txh || vc.BlockHash.String() != hash || vc.PayloadHash.String() != ph ||
		v.TotalWeights != 4 || v.RecoveryThreshold != 2 || v.PayloadByteLen != blk.Size || len(v.NsRoots) != 2 {
		t.Fatalf("vid/common: %+v", vc)
	}
	// With the header's namespace table, the common data recomputes the
	// payload commitment.
	common := vid.Common{Total: 4, Recovery: 2, PayloadLen: int(blk.Size), NsTable: txBlk.Leaf.Header.NsTable.Bytes}
	for _, r := range vc.Common.V1.NsRoots {
		common.Roots = append(common.Roots, [32]byte(r))
	}
	if common.Commit() != txBlk.Leaf.Header.PayloadCommitment {
		t.Fatal("vid/common: the common data does not recompute the header's payload commitment")
	}
	mark("vid/common/{height}")
	if !bytes.Equal(c.get(av+"vid/common/hash/"+hash), vb) {
		t.Fatal("vid/common/hash differs")
	}
	mark("vid/common/hash/{hash}")
	if !bytes.Equal(c.get(av+"vid/common/payload-hash/"+ph), vb) {
		t.Fatal("vid/common/payload-hash differs")
	}
	mark("vid/common/payload-hash/{payload-hash}")

	// Transactions, each submitted one by position and by hash.
	for _, tx := range append(slicesClone(l.batch), l.single) {
		loc := l.loc[tx.Commit()]
		b := l.block(t, loc.height)
		btxs, _ := b.Payload.Transactions()
		entries, _ := b.Payload.NsTable.Entries(len(b.Payload.Raw))
		nsIndex := slices.IndexFunc(entries, func(e types.NsEntry) bool { return uint64(e.Namespace) == tx.Namespace })
		var inNs uint64
		for _, o := range btxs[:loc.index] {
			if o.Namespace == tx.Namespace {
				inNs++
			}
		}
		check := func(path string, proof bool) []byte {
			t.Helper()
			var td api.TransactionQueryData
			raw := c.get(path)
			if err := json.Unmarshal(raw, &td); err != nil {
				t.Fatal(err)
			}
			ok := td.Transaction.Namespace == tx.Namespace && bytes.Equal(td.Transaction.Payload, tx.Payload) &&
				td.Hash.String() == tx.Commit().Tagged(types.TagTransaction).String() && td.Index == loc.index &&
				td.BlockHeight == loc.height && td.BlockHash.String() == blockHashOf(&b).String()
			if proof {
				ok = ok && td.Proof != nil && *td.Proof == api.TransactionProof{NsIndex: uint64(nsIndex), TxIndex: inNs}
			} else {
				ok = ok && td.Proof == nil && bytes.Contains(raw, []byte(`"proof":null`))
			}
			if !ok {
				t.Fatalf("%s: %+v (want height %d index %d)", path, td, loc.height, loc.index)
			}
			return raw
		}
		byPos := check(fmt.Sprintf("%stransaction/%d/%d", av, loc.height, loc.index), true)
		check(fmt.Sprintf("%stransaction/%d/%d/noproof", av, loc.height, loc.index), false)
		byHash := check(av+"transaction/hash/"+tx.Commit().Tagged(types.TagTransaction).String(), true)
		check(av+"transaction/hash/"+tx.Commit().Tagged(types.TagTransaction).String()+"/noproof", false)
		if !bytes.Equal(byPos, byHash) {
			t.Fatal("transaction by position and by hash differ")
		}
	}
	mark("transaction/{height}/{index}")
	mark("transaction/{height}/{index}/noproof")
	mark("transaction/hash/{hash}")
	mark("transaction/hash/{hash}/noproof")

	// Namespaces: exactly the namespace's transactions; an absent one is
	// {"proof":null,"transactions":[]}.
	var ns7 []types.Transaction
	for _, tx := range txs {
		if tx.Namespace == 7 {
			ns7 = append(ns7, tx)
		}
	}
	if len(ns7) < 2 {
		t.Fatalf("block %d holds %d namespace-7 transactions", txh, len(ns7))
	}
	checkNs := func(raw []byte, b *types.Block, ns uint64) {
		t.Helper()
		btxs, _ := b.Payload.Transactions()
		var want []types.Transaction
		for _, tx := range btxs {
			if tx.Namespace == ns {
				want = append(want, tx)
			}
		}
		if len(want) == 0 {
			if string(bytes.TrimSpace(raw)) != `{"proof":null,"transactions":[]}` {
				t.Fatalf("absent namespace %d in block %d: %s", ns, b.Height(), raw)
			}
			return
		}
		var nd api.NamespaceProofQueryData
		if err := json.Unmarshal(raw, &nd); err != nil {
			t.Fatal(err)
		}
		if len(nd.Transactions) != len(want) || nd.Proof == nil {
			t.Fatalf("namespace %d of block %d: %d transactions, want %d", ns, b.Height(), len(nd.Transactions), len(want))
		}
		for i := range want {
			if nd.Transactions[i].Namespace != ns || !bytes.Equal(nd.Transactions[i].Payload, want[i].Payload) {
				t.Fatalf("namespace %d transaction %d differs", ns, i)
			}
		}
		p := nd.Proof.V1
		if !bytes.Equal(p.NsPayload, b.Payload.Raw[p.Start:p.End]) {
			t.Fatalf("namespace %d: proof bytes are not payload[%d:%d]", ns, p.Start, p.End)
		}
		if txs, err := api.VerifyNamespace(&b.Leaf.Header, ns, nd); err != nil || len(txs) != len(want) {
			t.Fatalf("namespace %d of block %d: the answer does not verify against the header: %v", ns, b.Height(), err)
		}
		// A transaction dropped from the proven bytes breaks the proof.
		if len(want) > 0 {
			bad := nd
			bad.Transactions = nd.Transactions[1:]
			if _, err := api.VerifyNamespace(&b.Leaf.Header, ns, bad); err == nil {
				t.Fatalf("namespace %d: an answer missing a transaction verified", ns)
			}
			badProof := *nd.Proof
			badProof.V1.NsPayload = append(slices.Clone(p.NsPayload), 0)
			bad.Transactions, bad.Proof = nd.Transactions, &badProof
			if _, err := api.VerifyNamespace(&b.Leaf.Header, ns, bad); err == nil {
				t.Fatalf("namespace %d: a proof of altered bytes verified", ns)
			}
		}
	}
	for _, ns := range []uint64{7, 8, 12345, 1<<32 - 1} {
		raw := c.get(fmt.Sprintf("%sblock/%d/namespace/%d", av, txh, ns))
		checkNs(raw, &txBlk, ns)
		if !bytes.Equal(c.get(fmt.Sprintf("%sblock/hash/%s/namespace/%d", av, hash, ns)), raw) {
			t.Fatal("block/hash/namespace differs")
		}
		if !bytes.Equal(c.get(fmt.Sprintf("%sblock/payload-hash/%s/namespace/%d", av, ph, ns)), raw) {
			t.Fatal("block/payload-hash/namespace differs")
		}
		var items []json.RawMessage
		c.getJSON(fmt.Sprintf("%sblock/%d/%d/namespace/%d", av, txh-1, txh+2, ns), &items)
		if len(items) != 3 {
			t.Fatalf("namespace range of %d", len(items))
		}
		for i, item := range items {
			b := l.block(t, txh-1+uint64(i))
			checkNs(item, &b, ns)
		}
	}
	mark("block/{height}/namespace/{namespace}")
	mark("block/hash/{hash}/namespace/{namespace}")
	mark("block/payload-hash/{payload-hash}/namespace/{namespace}")
	mark("block/{from}/{until}/namespace/{namespace}")

	// Streams: the first items from the transactions' block.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	first := func(path string, v any) {
		t.Helper()
		conn := dialStream(ctx, t, c.base, av+path)
		defer conn.CloseNow()
		if err := readItem(ctx, conn, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		conn.Close(websocket.StatusNormalClosure, "")
	}
	var sl json.RawMessage
	first(fmt.Sprintf("stream/leaves/%d", txh), &sl)
	checkLeaf(sl, txh)
	mark("stream/leaves/{height}")
	var sh types.Header
	first(fmt.Sprintf("stream/headers/%d", txh), &sh)
	if sh.Commit() != txBlk.Leaf.Header.Commit() {
		t.Fatal("stream/headers: first header differs")
	}
	mark("stream/headers/{height}")
	var sb json.RawMessage
	first(fmt.Sprintf("stream/blocks/%d", txh), &sb)
	if !bytes.Equal(sb, bytes.TrimSpace(bb)) {
		t.Fatal("stream/blocks: first block differs from block/{height}")
	}
	mark("stream/blocks/{height}")
	var sp json.RawMessage
	first(fmt.Sprintf("stream/payloads/%d", txh), &sp)
	if !bytes.Equal(sp, bytes.TrimSpace(pb)) {
		t.Fatal("stream/payloads: first payload differs")
	}
	mark("stream/payloads/{height}")
	var sv json.RawMessage
	first(fmt.Sprintf("stream/vid/common/%d", txh), &sv)
	if !bytes.Equal(sv, bytes.TrimSpace(vb)) {
		t.Fatal("stream/vid/common: first item differs")
	}
	mark("stream/vid/common/{height}")
	var st api.TransactionQueryData
	first(fmt.Sprintf("stream/transactions/%d", txh), &st)
	if st.BlockHeight != txh || st.Index != 0 || st.Transaction.Namespace != txs[0].Namespace || !bytes.Equal(st.Transaction.Payload, txs[0].Payload) {
		t.Fatalf("stream/transactions: first %+v", st)
	}
	mark("stream/transactions/{height}")
	first(fmt.Sprintf("stream/transactions/%d/namespace/8", txh), &st)
	if st.BlockHeight != txh || st.Transaction.Namespace != 8 {
		t.Fatalf("stream/transactions/namespace: first %+v", st)
	}
	mark("stream/transactions/{height}/namespace/{namespace}")
	var sn json.RawMessage
	first(fmt.Sprintf("stream/blocks/%d/namespace/7", txh), &sn)
	checkNs(sn, &txBlk, 7)
	mark("stream/blocks/{height}/namespace/{namespace}")

	// A stream route without a WebSocket upgrade is 426.
	c.expectError(http.MethodGet, av+"stream/blocks/0", http.StatusUpgradeRequired)
}

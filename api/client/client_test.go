package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/api/client"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// TestMain checks that no goroutine outlives the tests: every stream's
// reader, every server handler and every node stopped by then.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Range limits the test networks serve: small, so over-limit ranges are
// cheap to ask for.
const (
	smallLimit = 10
	largeLimit = 5
	testNS     = 7 // the namespace most test transactions go to
	otherNS    = 8
)

// testNetwork starts a 4-node network serving every API module on
// 127.0.0.1 and returns it with a client of node 0 and a context that
// bounds the test.
func testNetwork(t *testing.T) (*nodetest.Network, *client.Client, context.Context) {
	t.Helper()
	must := func(m api.Module, err error) api.Module {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	modules := []api.Module{
		must(api.Status(api.Identity{NodeName: "client-test-node"})),
		must(api.Availability(api.WithRangeLimits(smallLimit, largeLimit))),
		must(api.AvailabilityV1(api.WithRangeLimits(smallLimit, largeLimit))),
		api.Node(), api.Submit(), api.Catchup(),
		must(api.Config([]string{"ESPRESSO_SEQUENCER_API_PORT=8080", "ESPRESSO_SEQUENCER_POSTGRES_PASSWORD=hunter2"})),
		api.StateSignature(), api.Events(),
		must(api.MerkleState("block-state")), must(api.MerkleState("fee-state")),
	}
	net := nodetest.New(t, nodetest.API(modules), nodetest.Timeout(30*time.Second),
		nodetest.EditGenesis(func(g *genesis.Genesis) {
			if g.Accounts == nil {
				g.Accounts = make(map[types.Address]types.U256)
			}
			g.Accounts[funded] = fundedBalance
		}))
	c, err := client.New(net.APIURL(0), client.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return net, c, ctx
}

// funded is an account the genesis of the test network funds with
// fundedBalance; no block touches it.
var (
	funded        = types.Address{0xf0, 19: 0x0d}
	fundedBalance = types.NewU256(123_456)
)

// checkState reads the chain state after the newest block the node keeps
// through every state route, and checks each answer against the block's
// header.
func checkState(ctx context.Context, c *client.Client) error {
	h, err := c.FeeStateHeight(ctx)
	if err != nil {
		return err
	}
	if bh, err := c.BlockStateHeight(ctx); err != nil || bh < h {
		return fmt.Errorf("BlockStateHeight = %d, %v after FeeStateHeight %d", bh, err, h)
	}
	if h == 0 {
		return errors.New("no block decided yet")
	}
	lq, err := c.Leaf(ctx, h)
	if err != nil {
		return err
	}
	hdr, view := &lq.Leaf.Header, uint64(lq.Leaf.View)
	prev, err := c.Header(ctx, h-1)
	if err != nil {
		return err
	}
	checkFee := func(what string, addr types.Address, p *state.FeeProof, want types.U256, present bool) error {
		bal, ok, err := state.VerifyFeeProof(hdr.FeeMerkleTreeRoot, addr, p)
		if err != nil || ok != present || bal != want {
			return fmt.Errorf("%s: balance %s (present %v), %v; want %s (present %v)", what, bal, ok, err, want, present)
		}
		return nil
	}

	ap, err := c.CatchupAccount(ctx, h, view, funded)
	if err != nil {
		return err
	}
	if ap.Balance != fundedBalance {
		return fmt.Errorf("CatchupAccount balance %s, want %s", ap.Balance, fundedBalance)
	}
	if err := checkFee("CatchupAccount", funded, &ap.Proof, fundedBalance, true); err != nil {
		return err
	}
	ps, err := c.CatchupAccounts(ctx, h, view, []types.Address{funded, {1}})
	if err != nil {
		return err
	}
	if len(ps) != 2 {
		return fmt.Errorf("CatchupAccounts: %d proofs for 2 addresses", len(ps))
	}
	if err := checkFee("CatchupAccounts, funded", funded, &ps[0], fundedBalance, true); err != nil {
		return err
	}
	if err := checkFee("CatchupAccounts, absent", types.Address{1}, &ps[1], types.U256{}, false); err != nil {
		return err
	}
	fr, err := c.CatchupBlocks(ctx, h, view)
	if err != nil {
		return err
	}
	tree, err := state.BlockTreeFromFrontier(fr)
	if err != nil || !bytes.Equal(tree.Root(), hdr.BlockMerkleTreeRoot) || tree.NumLeaves() != h {
		return fmt.Errorf("CatchupBlocks: a frontier of %d leaves that does not rebuild block %d's root (%v)", fr.NumLeaves, h, err)
	}

	for name, get := range map[string]func() (api.BlockStateProof, error){
		"BlockStateProof":       func() (api.BlockStateProof, error) { return c.BlockStateProof(ctx, h, h-1) },
		"BlockStateProofByRoot": func() (api.BlockStateProof, error) { return c.BlockStateProofByRoot(ctx, hdr.BlockMerkleTreeRoot, h-1) },
	} {
		bp, err := get()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := state.VerifyBlockProof(hdr.BlockMerkleTreeRoot, h-1, prev.Commit(), &bp.Proof); err != nil || bp.Height != h ||
			!bytes.Equal(bp.Root.Value, hdr.BlockMerkleTreeRoot) {
			return fmt.Errorf("%s: block %d at height %d: %v", name, h-1, bp.Height, err)
		}
	}
	for name, get := range map[string]func() (api.FeeStateProof, error){
		"FeeStateProof":       func() (api.FeeStateProof, error) { return c.FeeStateProof(ctx, h, funded) },
		"FeeStateProofByRoot": func() (api.FeeStateProof, error) { return c.FeeStateProofByRoot(ctx, hdr.FeeMerkleTreeRoot, funded) },
	} {
		fp, err := get()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		// By root, the newest kept block with that fee tree: blocks that
		// move no fee leave the root as it was.
		if fp.Height < h || (name == "FeeStateProof" && fp.Height != h) || !bytes.Equal(fp.Root.Value, hdr.FeeMerkleTreeRoot) {
			return fmt.Errorf("%s: the tree after block %d, want %d", name, fp.Height, h)
		}
		if err := checkFee(name, funded, &fp.Proof, fundedBalance, true); err != nil {
			return err
		}
	}
	if b, err := c.FeeBalance(ctx, funded); err != nil || b == nil || *b != fundedBalance {
		return fmt.Errorf("FeeBalance = %v, %v; want %s", b, err, fundedBalance)
	}
	return nil
}

// eventually calls f until it returns nil, failing the test with f's last
// error after d.
func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantErr fails the test unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func sameTx(a, b types.Transaction) bool {
	return a.Namespace == b.Namespace && bytes.Equal(a.Payload, b.Payload)
}

// submitted is a transaction the test submitted and where it was decided.
type submitted struct {
	tx  types.Transaction
	loc storage.TxLocation
}

// submitAll submits one transaction with Submit and three with
// SubmitBatch, checks the commitments they return, and waits until all
// are decided at every node.
func submitAll(t *testing.T, net *nodetest.Network, c *client.Client, ctx context.Context) []submitted {
	t.Helper()
	one := types.Transaction{Namespace: testNS, Payload: []byte("hello from the client")}
	cm, err := c.Submit(ctx, one)
	check(t, "Submit", err)
	if cm != one.Commit() {
		t.Fatalf("Submit returned %s, want %s", cm.Tagged(types.TagTransaction), one.Hash())
	}
	batch := []types.Transaction{
		{Namespace: testNS, Payload: []byte("batch a")},
		{Namespace: otherNS, Payload: []byte("batch b")},
		{Namespace: testNS, Payload: []byte("batch c")},
	}
	cms, err := c.SubmitBatch(ctx, batch)
	check(t, "SubmitBatch", err)
	if len(cms) != len(batch) {
		t.Fatalf("SubmitBatch returned %d commitments for %d transactions", len(cms), len(batch))
	}
	var out []submitted
	for i, tx := range append([]types.Transaction{one}, batch...) {
		if i > 0 && cms[i-1] != tx.Commit() {
			t.Fatalf("SubmitBatch commitment %d is %s, want %s", i-1, cms[i-1].Tagged(types.TagTransaction), tx.Hash())
		}
		out = append(out, submitted{tx: tx, loc: net.WaitForTransaction(tx.Commit())})
	}
	return out
}

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "ftp://127.0.0.1:1", "http://", "127.0.0.1:8080", "http://127.0.0.1:1/v0", "http://127.0.0.1:1/v1/",
		"http://127.0.0.1:1?x=1", "http://127.0.0.1:1/#top", "http://u:p@127.0.0.1:1"} {
		if _, err := client.New(bad); !errors.Is(err, client.ErrInvalidOption) {
			t.Errorf("New(%q): error %v, want ErrInvalidOption", bad, err)
		}
	}
	for name, o := range map[string]client.Option{
		"nil HTTP client": client.WithHTTPClient(nil), "negative timeout": client.WithTimeout(-time.Second),
		"zero response size": client.WithMaxResponseSize(0), "zero message size": client.WithMaxMessageSize(0), "nil option": nil,
	} {
		if _, err := client.New("http://127.0.0.1:1", o); !errors.Is(err, client.ErrInvalidOption) {
			t.Errorf("New with %s: error %v, want ErrInvalidOption", name, err)
		}
	}
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":         "http://127.0.0.1:8080",
		"https://127.0.0.1/espresso/":    "https://127.0.0.1/espresso",
		"http://127.0.0.1:1/v0x/version": "http://127.0.0.1:1/v0x/version",
	} {
		c, err := client.New(in, client.WithTimeout(0))
		if err != nil {
			t.Errorf("New(%q): %v", in, err)
			continue
		}
		if got := c.BaseURL(); got != want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", in, got, want)
		}
	}
}

// TestQueries calls every plain route against a live network and checks
// the answers against each other, against the chain the nodes stored and
// against what the test submitted.
func TestQueries(t *testing.T) {
	net, c, ctx := testNetwork(t)
	txs := submitAll(t, net, c, ctx)
	const minHeight = 3 * smallLimit
	net.WaitForHeight(max(minHeight, txs[len(txs)-1].loc.Height+3), 0)
	height, err := c.BlockHeight(ctx)
	check(t, "BlockHeight", err)
	if height <= minHeight {
		t.Fatalf("BlockHeight %d, want above %d", height, minHeight)
	}
	// The chain below height as node 0 stored it: the reference answers.
	chain := net.Chains(0)[0][:height]
	txBlock := txs[0].loc.Height // a block with transactions: its payload hash is its own

	t.Run("status", func(t *testing.T) {
		if h, err := c.NodeBlockHeight(ctx); err != nil || h < height {
			t.Errorf("NodeBlockHeight = %d, %v; want at least %d", h, err, height)
		}
		rate, err := c.SuccessRate(ctx)
		check(t, "SuccessRate", err)
		if rate <= 0 || rate > 2 {
			t.Errorf("SuccessRate = %v, want in (0, 2]", rate)
		}
		since, err := c.TimeSinceLastDecide(ctx)
		check(t, "TimeSinceLastDecide", err)
		if since < 0 || since > time.Minute {
			t.Errorf("TimeSinceLastDecide = %v, want under a minute", since)
		}
		m, err := c.Metrics(ctx)
		check(t, "Metrics", err)
		if !strings.Contains(m, "consensus_node_identity_general") || !strings.Contains(m, `name="client-test-node"`) {
			t.Errorf("Metrics lack the identity gauge with the node's name:\n%.500s", m)
		}
		h, err := c.Healthcheck(ctx)
		check(t, "Healthcheck", err)
		if h.Status != "available" || h.Modules["availability"]["0"] != 200 || h.Modules["availability"]["1"] != 200 {
			t.Errorf("Healthcheck = %+v, want available with availability v0 and v1 at 200", h)
		}
		if st, err := c.ModuleHealth(ctx, "node", 0); err != nil || st != "available" {
			t.Errorf("ModuleHealth(node, 0) = %q, %v; want available", st, err)
		}
		v, err := c.Version(ctx)
		check(t, "Version", err)
		if len(v.Modules["availability"]) != 2 || !strings.HasPrefix(v.AppVersion, "gospresso") || v.DiscoVersion == "" {
			t.Errorf("Version = %+v, want two availability versions and a gospresso app version", v)
		}
		mv, err := c.ModuleVersion(ctx, "availability", 1)
		check(t, "ModuleVersion", err)
		if mv.APIVersion != "1.0.0" || mv.SpecVersion == "" {
			t.Errorf("ModuleVersion(availability, 1) = %+v, want API version 1.0.0", mv)
		}
		_, err = c.ModuleVersion(ctx, "availability", 7)
		wantErr(t, "ModuleVersion(availability, 7)", err, client.ErrNotFound)
	})

	t.Run("availability by height and hash", func(t *testing.T) {
		lim, err := c.Limits(ctx)
		check(t, "Limits", err)
		if lim != (api.Limits{SmallObjectRangeLimit: smallLimit, LargeObjectRangeLimit: largeLimit}) {
			t.Errorf("Limits = %+v, want %d and %d", lim, smallLimit, largeLimit)
		}
		for h := range height {
			want := &chain[h]
			hash := want.Leaf.Header.Commit()
			blockHash := hash.Tagged(types.TagBlock).String()
			payloadHash := want.Leaf.Header.PayloadCommitment
			wantTxs, err := want.Payload.Transactions()
			check(t, "stored payload", err)

			hdr, err := c.Header(ctx, h)
			check(t, fmt.Sprintf("Header(%d)", h), err)
			if hdr.Height != h || hdr.Commit() != hash {
				t.Fatalf("Header(%d): height %d, hash %s; want %s", h, hdr.Height, hdr.Commit().Tagged(types.TagBlock), blockHash)
			}
			if got, err := c.HeaderByHash(ctx, hash); err != nil || got.Commit() != hash {
				t.Errorf("HeaderByHash(%d) = height %d, %v", h, got.Height, err)
			}
			if got, err := c.HeaderByPayloadHash(ctx, payloadHash); err != nil || got.PayloadCommitment != payloadHash {
				t.Errorf("HeaderByPayloadHash(%d) = height %d, %v", h, got.Height, err)
			}

			leaf, err := c.Leaf(ctx, h)
			check(t, fmt.Sprintf("Leaf(%d)", h), err)
			if leaf.Leaf.Commit() != want.Leaf.Commit() || leaf.Leaf.Header.Commit() != hash || leaf.QC.Leaf != leaf.Leaf.Commit() {
				t.Errorf("Leaf(%d): leaf %s, its QC certifies %s; want leaf %s", h, leaf.Leaf.Commit().Short(), leaf.QC.Leaf.Short(), want.Leaf.Commit().Short())
			}
			if got, err := c.LeafByHash(ctx, want.Leaf.Commit()); err != nil || got.Leaf.Height() != h {
				t.Errorf("LeafByHash(%d) = height %d, %v", h, got.Leaf.Height(), err)
			}
			leaf1, err := c.LeafV1(ctx, h)
			if err != nil || leaf1.Leaf.Commit() != want.Leaf.Commit() {
				t.Errorf("LeafV1(%d): %v", h, err)
			}
			if got, err := c.LeafByHashV1(ctx, want.Leaf.Commit()); err != nil || got.Leaf.Height() != h {
				t.Errorf("LeafByHashV1(%d) = height %d, %v", h, got.Leaf.Height(), err)
			}

			blk, err := c.Block(ctx, h)
			check(t, fmt.Sprintf("Block(%d)", h), err)
			if blk.Header.Commit() != hash || blk.Hash.String() != blockHash || blk.Size != uint64(len(want.Payload.Raw)) ||
				blk.NumTransactions != uint64(len(wantTxs)) || !bytes.Equal(blk.Payload.Raw, want.Payload.Raw) {
				t.Errorf("Block(%d) = hash %s, size %d, %d transactions; want %s, %d, %d", h, blk.Hash, blk.Size, blk.NumTransactions, blockHash, len(want.Payload.Raw), len(wantTxs))
			}
			if got, err := c.BlockByHash(ctx, hash); err != nil || got.Hash.String() != blockHash {
				t.Errorf("BlockByHash(%d) = %s, %v", h, got.Hash, err)
			}
			if got, err := c.BlockByPayloadHash(ctx, payloadHash); err != nil || got.Header.PayloadCommitment != payloadHash {
				t.Errorf("BlockByPayloadHash(%d): %v", h, err)
			}
			sum, err := c.BlockSummary(ctx, h)
			if err != nil || sum.Hash.String() != blockHash || sum.Size != blk.Size || sum.NumTransactions != blk.NumTransactions || sum.Header.Height != h {
				t.Errorf("BlockSummary(%d) = %+v, %v", h, sum, err)
			}

			pl, err := c.Payload(ctx, h)
			check(t, fmt.Sprintf("Payload(%d)", h), err)
			if pl.Height != h || pl.BlockHash.String() != blockHash || pl.Hash.String() != payloadHash.Tagged(want.Leaf.Header.PayloadTag()).String() ||
				pl.Size != blk.Size || !bytes.Equal(pl.Data.Raw, want.Payload.Raw) {
				t.Errorf("Payload(%d) = height %d, block %s, hash %s, size %d", h, pl.Height, pl.BlockHash, pl.Hash, pl.Size)
			}
			if got, err := c.PayloadByBlockHash(ctx, hash); err != nil || got.Height != h {
				t.Errorf("PayloadByBlockHash(%d) = height %d, %v", h, got.Height, err)
			}

			vid, err := c.VidCommon(ctx, h)
			check(t, fmt.Sprintf("VidCommon(%d)", h), err)
			if vid.Height != h || vid.BlockHash.String() != blockHash || vid.PayloadHash.String() != pl.Hash.String() ||
				vid.Common.V1.TotalWeights != 4 || vid.Common.V1.RecoveryThreshold != 2 || vid.Common.V1.PayloadByteLen != blk.Size {
				t.Errorf("VidCommon(%d) = %+v", h, vid)
			}
			if got, err := c.VidCommonByHash(ctx, hash); err != nil || got.Height != h {
				t.Errorf("VidCommonByHash(%d) = height %d, %v", h, got.Height, err)
			}
			if got, err := c.VidCommonByPayloadHash(ctx, payloadHash); err != nil || got.PayloadHash.String() != pl.Hash.String() {
				t.Errorf("VidCommonByPayloadHash(%d): %v", h, err)
			}

			for _, ns := range []uint64{testNS, otherNS, 12345} {
				var wantNs []types.Transaction
				for _, tx := range wantTxs {
					if tx.Namespace == ns {
						wantNs = append(wantNs, tx)
					}
				}
				got, err := c.Namespace(ctx, h, ns)
				check(t, fmt.Sprintf("Namespace(%d, %d)", h, ns), err)
				if !slices.EqualFunc(got.Transactions, wantNs, sameTx) || (got.Proof == nil) != (len(wantNs) == 0) {
					t.Errorf("Namespace(%d, %d): %d transactions (proof %v), want %d", h, ns, len(got.Transactions), got.Proof != nil, len(wantNs))
				}
				if got.Proof != nil && !bytes.Equal(got.Proof.V1.NsPayload, want.Payload.Raw[got.Proof.V1.Start:got.Proof.V1.End]) {
					t.Errorf("Namespace(%d, %d): proof bytes are not the payload's [%d, %d)", h, ns, got.Proof.V1.Start, got.Proof.V1.End)
				}
			}
		}
		// Lookups by payload hash on a block of its own payload; and by hash.
		want := &chain[txBlock]
		ph := want.Leaf.Header.PayloadCommitment
		if got, err := c.HeaderByPayloadHash(ctx, ph); err != nil || got.Height != txBlock {
			t.Errorf("HeaderByPayloadHash of block %d = height %d, %v", txBlock, got.Height, err)
		}
		if got, err := c.BlockByPayloadHash(ctx, ph); err != nil || got.Header.Height != txBlock {
			t.Errorf("BlockByPayloadHash of block %d = height %d, %v", txBlock, got.Header.Height, err)
		}
		if got, err := c.VidCommonByPayloadHash(ctx, ph); err != nil || got.Height != txBlock {
			t.Errorf("VidCommonByPayloadHash of block %d = height %d, %v", txBlock, got.Height, err)
		}
		for _, get := range []func() (api.NamespaceProofQueryData, error){
			func() (api.NamespaceProofQueryData, error) {
				return c.NamespaceByHash(ctx, want.Leaf.Header.Commit(), testNS)
			},
			func() (api.NamespaceProofQueryData, error) { return c.NamespaceByPayloadHash(ctx, ph, testNS) },
		} {
			byHeight, err := c.Namespace(ctx, txBlock, testNS)
			check(t, "Namespace", err)
			got, err := get()
			if err != nil || !slices.EqualFunc(got.Transactions, byHeight.Transactions, sameTx) || len(got.Transactions) == 0 {
				t.Errorf("namespace of block %d by hash: %d transactions, %v; want %d", txBlock, len(got.Transactions), err, len(byHeight.Transactions))
			}
		}
		// payload/hash takes the payload's own hash (HASH~), as in the reference.
		if got, err := c.PayloadByHash(ctx, ph); err != nil || got.Height != txBlock {
			t.Errorf("PayloadByHash of block %d = height %d, %v", txBlock, got.Height, err)
		}
	})

	t.Run("availability ranges", func(t *testing.T) {
		leaves, err := c.Leaves(ctx, 0, smallLimit)
		check(t, "Leaves", err)
		leaves1, err := c.LeavesV1(ctx, 1, smallLimit+1)
		check(t, "LeavesV1", err)
		headers, err := c.Headers(ctx, 2, 2+smallLimit)
		check(t, "Headers", err)
		sums, err := c.BlockSummaries(ctx, 3, 3+smallLimit)
		check(t, "BlockSummaries", err)
		blocks, err := c.Blocks(ctx, 4, 4+largeLimit)
		check(t, "Blocks", err)
		payloads, err := c.Payloads(ctx, 5, 5+largeLimit)
		check(t, "Payloads", err)
		nss, err := c.NamespaceRange(ctx, txBlock, txBlock+largeLimit, testNS)
		check(t, "NamespaceRange", err)
		if len(leaves) != smallLimit || len(leaves1) != smallLimit || len(headers) != smallLimit || len(sums) != smallLimit ||
			len(blocks) != largeLimit || len(payloads) != largeLimit || len(nss) != largeLimit {
			t.Fatalf("range lengths %d %d %d %d %d %d %d, want %d for small objects and %d for large", len(leaves), len(leaves1), len(headers),
				len(sums), len(blocks), len(payloads), len(nss), smallLimit, largeLimit)
		}
		for i := range uint64(smallLimit) {
			if leaves[i].Leaf.Commit() != chain[i].Leaf.Commit() || leaves1[i].Leaf.Commit() != chain[1+i].Leaf.Commit() ||
				headers[i].Commit() != chain[2+i].Leaf.Header.Commit() || sums[i].Header.Height != 3+i {
				t.Errorf("range item %d is not the stored block's", i)
			}
		}
		for i := range uint64(largeLimit) {
			if blocks[i].Header.Commit() != chain[4+i].Leaf.Header.Commit() || payloads[i].Height != 5+i {
				t.Errorf("large range item %d is not the stored block's", i)
			}
			one, err := c.Namespace(ctx, txBlock+i, testNS)
			check(t, "Namespace", err)
			if !slices.EqualFunc(nss[i].Transactions, one.Transactions, sameTx) {
				t.Errorf("NamespaceRange item %d differs from Namespace(%d)", i, txBlock+i)
			}
		}
		if empty, err := c.Leaves(ctx, 7, 7); err != nil || empty == nil || len(empty) != 0 {
			t.Errorf("Leaves(7, 7) = %v, %v; want an empty slice", empty, err)
		}
		_, err = c.Leaves(ctx, 0, smallLimit+1)
		wantErr(t, "Leaves over the limit", err, client.ErrBadRequest)
		_, err = c.Blocks(ctx, 0, largeLimit+1)
		wantErr(t, "Blocks over the limit", err, client.ErrBadRequest)
		_, err = c.Payloads(ctx, 0, largeLimit+1)
		wantErr(t, "Payloads over the limit", err, client.ErrBadRequest)
		_, err = c.BlockSummaries(ctx, 0, smallLimit+1)
		wantErr(t, "BlockSummaries over the limit", err, client.ErrBadRequest)
		_, err = c.NamespaceRange(ctx, 0, largeLimit+1, testNS)
		wantErr(t, "NamespaceRange over the limit", err, client.ErrBadRequest)
		_, err = c.Headers(ctx, 9, 8)
		wantErr(t, "Headers with until below from", err, client.ErrBadRequest)
		_, err = c.Headers(ctx, 1<<40, 1<<40+1)
		wantErr(t, "Headers past the chain", err, client.ErrNotFound)
	})

	t.Run("transactions", func(t *testing.T) {
		for _, s := range txs {
			hash := s.tx.Commit()
			blockHash := chain[s.loc.Height].Leaf.Header.Commit().Tagged(types.TagBlock).String()
			for name, get := range map[string]func() (api.TransactionQueryData, error){
				"TransactionByHash":        func() (api.TransactionQueryData, error) { return c.TransactionByHash(ctx, hash) },
				"TransactionByHashNoProof": func() (api.TransactionQueryData, error) { return c.TransactionByHashNoProof(ctx, hash) },
				"Transaction":              func() (api.TransactionQueryData, error) { return c.Transaction(ctx, s.loc.Height, s.loc.Index) },
				"TransactionNoProof":       func() (api.TransactionQueryData, error) { return c.TransactionNoProof(ctx, s.loc.Height, s.loc.Index) },
			} {
				got, err := get()
				check(t, name, err)
				wantProof := !strings.HasSuffix(name, "NoProof")
				if !sameTx(got.Transaction, s.tx) || got.Hash.String() != s.tx.Hash().String() || got.BlockHeight != s.loc.Height ||
					got.Index != s.loc.Index || got.BlockHash.String() != blockHash || (got.Proof != nil) != wantProof {
					t.Errorf("%s(%s) = %+v; want height %d, index %d, block %s, proof %v", name, s.tx.Hash(), got, s.loc.Height, s.loc.Index, blockHash, wantProof)
				}
			}
		}
		_, err := c.TransactionByHash(ctx, types.Commitment{1, 2, 3})
		wantErr(t, "TransactionByHash of an unknown hash", err, client.ErrNotFound)
		_, err = c.Transaction(ctx, txs[0].loc.Height, 1000)
		wantErr(t, "Transaction past the block's transactions", err, client.ErrNotFound)
	})

	t.Run("node", func(t *testing.T) {
		last := height - 1
		var count, size uint64
		for i := range chain {
			n, err := chain[i].Payload.Transactions()
			check(t, "stored payload", err)
			count += uint64(len(n))
			size += chain[i].Payload.Size()
		}
		if count != uint64(len(txs)) {
			t.Fatalf("the chain holds %d transactions, want the %d submitted", count, len(txs))
		}
		b := &chain[txBlock]
		bTxs, _ := b.Payload.Transactions()
		for name, tc := range map[string]struct {
			get  func() (uint64, error)
			want uint64
		}{
			"TransactionCount":           {func() (uint64, error) { return c.TransactionCount(ctx) }, count},
			"TransactionCountTo":         {func() (uint64, error) { return c.TransactionCountTo(ctx, last) }, count},
			"TransactionCountRange":      {func() (uint64, error) { return c.TransactionCountRange(ctx, txBlock, txBlock) }, uint64(len(bTxs))},
			"TransactionCountRange(0,0)": {func() (uint64, error) { return c.TransactionCountRange(ctx, 0, 0) }, 0},
			"PayloadSize":                {func() (uint64, error) { return c.PayloadSize(ctx) }, size},
			"PayloadTotalSize":           {func() (uint64, error) { return c.PayloadTotalSize(ctx) }, size},
			"PayloadSizeTo":              {func() (uint64, error) { return c.PayloadSizeTo(ctx, last) }, size},
			"PayloadSizeRange":           {func() (uint64, error) { return c.PayloadSizeRange(ctx, txBlock, txBlock) }, b.Payload.Size()},
		} {
			if got, err := tc.get(); err != nil || got != tc.want {
				t.Errorf("%s = %d, %v; want %d", name, got, err, tc.want)
			}
		}
		_, err := c.TransactionCountTo(ctx, 1<<40)
		wantErr(t, "TransactionCountTo a future height", err, client.ErrNotFound)
		_, err = c.PayloadSizeRange(ctx, 1<<40, 1)
		wantErr(t, "PayloadSizeRange with from above to", err, client.ErrBadRequest)

		st, err := c.SyncStatus(ctx)
		if err != nil || st.MissingBlocks != 0 || st.MissingLeaves != 0 {
			t.Errorf("SyncStatus = %+v, %v; want nothing missing", st, err)
		}
		lim, err := c.NodeLimits(ctx)
		if err != nil || lim.WindowLimit != api.DefaultWindowLimit {
			t.Errorf("NodeLimits = %+v, %v; want window limit %d", lim, err, api.DefaultWindowLimit)
		}

		// Header windows: every block of [0, last] has a timestamp below end.
		end := chain[last].Leaf.Header.Timestamp + 1
		w, err := c.HeaderWindow(ctx, 0, end)
		check(t, "HeaderWindow", err)
		if uint64(len(w.Window)) < height || w.Prev != nil || (w.Next != nil && w.Next.Timestamp < end) {
			t.Fatalf("HeaderWindow(0, %d): %d headers (prev %v, next %v), want at least %d, no prev, next at or after the end", end, len(w.Window), w.Prev != nil, w.Next != nil, height)
		}
		for i, h := range w.Window {
			if h.Height != uint64(i) || h.Timestamp >= end {
				t.Fatalf("HeaderWindow(0, %d): header %d has height %d, timestamp %d", end, i, h.Height, h.Timestamp)
			}
		}
		const k = 5
		from, err := c.HeaderWindowFrom(ctx, k, end)
		check(t, "HeaderWindowFrom", err)
		byHash, err := c.HeaderWindowFromHash(ctx, chain[k].Leaf.Header.Commit(), end)
		check(t, "HeaderWindowFromHash", err)
		start := chain[k].Leaf.Header.Timestamp
		if len(from.Window) == 0 || from.Window[0].Timestamp != start || !slices.ContainsFunc(from.Window, func(h types.Header) bool { return h.Height == k }) {
			t.Errorf("HeaderWindowFrom(%d, %d) does not start at the block's timestamp %d or lacks it", k, end, start)
		}
		// Blocks decided between the two calls may join the later window.
		n := min(len(byHash.Window), len(from.Window))
		if n == 0 || !slices.EqualFunc(byHash.Window[:n], from.Window[:n], func(a, b types.Header) bool { return a.Commit() == b.Commit() }) {
			t.Errorf("HeaderWindowFromHash differs from HeaderWindowFrom: %d and %d headers", len(byHash.Window), len(from.Window))
		}
		_, err = c.HeaderWindow(ctx, end, 0)
		wantErr(t, "HeaderWindow with end below start", err, client.ErrBadRequest)

		stake, err := c.StakeTable(ctx)
		check(t, "StakeTable", err)
		if len(stake) != net.Len() {
			t.Fatalf("StakeTable has %d entries, want %d", len(stake), net.Len())
		}
		for i, e := range stake {
			if e.StakeTableKey != net.Keys[i].Staking.PubKey().String() || e.StateVerKey != net.Keys[i].State.PubKey().String() || e.Stake != 1 || !e.DA {
				t.Errorf("StakeTable entry %d = %+v", i, e)
			}
		}
		// The node's share of a block, by height, block hash and payload
		// hash: one share, and the node's own.
		share, err := c.VidShare(ctx, 1)
		check(t, "VidShare", err)
		byBlock, err := c.VidShareByHash(ctx, chain[1].Leaf.Header.Commit())
		check(t, "VidShareByHash", err)
		byPayload, err := c.VidShareByPayloadHash(ctx, chain[1].Leaf.Header.PayloadCommitment)
		check(t, "VidShareByPayloadHash", err)
		if len(share.V1.Data) == 0 || !bytes.Equal(share.V1.Data, byBlock.V1.Data) || !bytes.Equal(share.V1.Data, byPayload.V1.Data) {
			t.Fatal("VidShare by height, block hash and payload hash: not one share")
		}
		_, err = c.VidShare(ctx, 1<<40)
		wantErr(t, "VidShare of a block not decided", err, client.ErrNotFound)
	})

	t.Run("catchup, config, state signatures, Merkle state, events", func(t *testing.T) {
		cc := net.Genesis.ChainConfig
		got, err := c.ChainConfig(ctx, types.Commitment(cc.Commit()))
		if err != nil || got.Commit() != cc.Commit() {
			t.Errorf("ChainConfig = %+v, %v; want the genesis chain config", got, err)
		}
		_, err = c.ChainConfig(ctx, types.Commitment{9})
		wantErr(t, "ChainConfig of an unknown commitment", err, client.ErrNotFound)
		lc, err := c.LeafChain(ctx, 3)
		check(t, "LeafChain", err)
		if len(lc) != 3 {
			t.Fatalf("LeafChain(3) has %d leaves, want 3", len(lc))
		}
		for i, l := range lc {
			if l.Leaf.Commit() != chain[3+i].Leaf.Commit() {
				t.Errorf("LeafChain(3) leaf %d is not block %d's", i, 3+i)
			}
		}
		_, err = c.LeafChain(ctx, 1<<40)
		wantErr(t, "LeafChain of a future height", err, client.ErrNotFound)
		// The chain state after the newest block the node keeps: every
		// answer checks against that block's header. The node keeps the
		// last chain.StatesKept states, so a fast network can move past
		// the one asked for between two calls: try again.
		eventually(t, 10*time.Second, func() error { return checkState(ctx, c) })
		cs, err := c.ChainState(ctx)
		check(t, "ChainState", err)
		if st, err := state.DecodeState(cs.State); err != nil || st.Balance(funded) != fundedBalance || cs.QC.Leaf != cs.Leaf.Commit() {
			t.Errorf("ChainState at height %d: %v, or not funded's balance, or a certificate for another leaf", cs.Leaf.Height(), err)
		}
		_, err = c.CatchupAccount(ctx, 1<<40, 1, funded)
		wantErr(t, "CatchupAccount of a future height", err, client.ErrNotFound)
		_, err = c.CatchupBlocks(ctx, 1<<40, 1)
		wantErr(t, "CatchupBlocks of a future height", err, client.ErrNotFound)
		_, err = c.BlockStateProofByRoot(ctx, make([]byte, 32), 3)
		wantErr(t, "BlockStateProofByRoot of an unknown root", err, client.ErrNotFound)
		_, err = c.FeeStateProofByRoot(ctx, make([]byte, 32), funded)
		wantErr(t, "FeeStateProofByRoot of an unknown root", err, client.ErrNotFound)
		if b, err := c.FeeBalance(ctx, types.Address{1}); b != nil || err != nil {
			t.Errorf("FeeBalance of an account the tree does not hold = %v, %v; want nil, nil", b, err)
		}

		hc, err := c.HotShotConfig(ctx)
		check(t, "HotShotConfig", err)
		hcc, ok := hc.ChainConfig.(*types.ChainConfig)
		if hc.NumNodesWithStake != net.Len() || hc.NodeIndex != 0 || hc.StakingKey != net.Keys[0].Staking.PubKey().String() ||
			len(hc.KnownNodesWithStake) != net.Len() || !ok || hcc.Commit() != cc.Commit() {
			t.Errorf("HotShotConfig = %+v (chain config %T), want node 0 of %d with the genesis chain config", hc, hc.ChainConfig, net.Len())
		}
		env, err := c.Env(ctx)
		if err != nil || !slices.Equal(env, []string{"ESPRESSO_SEQUENCER_API_PORT=8080"}) {
			t.Errorf("Env = %q, %v; want the port only (the password dropped)", env, err)
		}

		var sig, old = height - 2, height - 1 - 200
		eventually(t, 10*time.Second, func() error {
			s, err := c.StateSignature(ctx, sig)
			if err != nil {
				return err
			}
			if s.State.BlockHeight != sig || s.Key.String() != net.Keys[0].State.PubKey().String() {
				return fmt.Errorf("StateSignature(%d) = state of height %d by %s", sig, s.State.BlockHeight, s.Key)
			}
			return s.Verify()
		})
		if height > 200 {
			_, err = c.StateSignature(ctx, old)
			wantErr(t, "StateSignature of an old height", err, client.ErrNotFound)
		}
		_, err = c.StateSignature(ctx, 1<<40)
		wantErr(t, "StateSignature of a future height", err, client.ErrNotFound)

		info, err := c.StartupInfo(ctx)
		if err != nil || len(info.KnownNodesWithStake) != net.Len() || info.NonStakedNodeCount != 0 {
			t.Errorf("StartupInfo = %+v, %v; want %d nodes with stake", info, err, net.Len())
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := c.Header(ctx, 1<<40)
		wantErr(t, "Header of a future height", err, client.ErrNotFound)
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, "not found") ||
			apiErr.Path != "/v0/availability/header/1099511627776" || apiErr.Method != "GET" {
			t.Errorf("Header of a future height: %#v, want an *APIError 404 with the server's message and the path", err)
		}
		if errors.Is(err, client.ErrBadRequest) || errors.Is(err, client.ErrServerError) {
			t.Errorf("a 404 matches another sentinel: %v", err)
		}
		_, err = c.Namespace(ctx, 0, 1<<33)
		wantErr(t, "Namespace over 32 bits", err, client.ErrBadRequest)
		_, err = c.Submit(ctx, types.Transaction{Namespace: 1 << 33, Payload: []byte("x")})
		wantErr(t, "Submit to a namespace over 32 bits", err, client.ErrBadRequest)
		_, err = c.SubmitBatch(ctx, make([]types.Transaction, api.DefaultMaxBatch+1))
		wantErr(t, "SubmitBatch over the batch limit", err, client.ErrBadRequest)
		_, err = c.Submit(ctx, types.Transaction{Namespace: 1, Payload: make([]byte, 3<<20)})
		wantErr(t, "Submit over the body limit", err, client.ErrRequestTooLarge)

		short, cancel := context.WithTimeout(ctx, time.Nanosecond)
		defer cancel()
		<-short.Done()
		_, err = c.BlockHeight(short)
		wantErr(t, "BlockHeight with an expired context", err, context.DeadlineExceeded)
	})
}

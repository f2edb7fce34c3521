package nodetest_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/eth"
	"github.com/gospresso/gospresso/l1/l1test"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

// feeRecipient is where the fee tests' genesis sends the fees.
var feeRecipient = types.Address{19: 0xfe}

// builderAccount is the fee account of the builder of the node with keys k.
func builderAccount(t testing.TB, k keys.Keys) types.Address {
	t.Helper()
	key, err := node.DefaultBuilderKey(k.Staking)
	if err != nil {
		t.Fatal(err)
	}
	return chain.BuilderAddress(key)
}

// decidedState waits until node i has applied the state of block h or
// later and returns it.
func decidedState(t testing.TB, net *nodetest.Network, i int, h uint64) (types.Header, *state.State) {
	t.Helper()
	// A generous bound: under CI's race pass, with every package testing at
	// once on two cores, a restarted node's L1 reads can lag for long.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if nd := net.Node(i); nd != nil {
			if hd, st, ok := nd.DecidedState(); ok && hd.Height >= h {
				return hd, st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d: the chain state of block %d not applied within 60s", i, h)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// feeNetwork starts four nodes whose genesis charges baseFee wei a byte,
// pays feeRecipient, and funds every builder's account with funds wei.
func feeNetwork(t *testing.T, baseFee, funds uint64) (*nodetest.Network, []keys.Keys) {
	t.Helper()
	ks, err := nodetest.Keys(nodetest.DefaultSeed, 4)
	if err != nil {
		t.Fatal(err)
	}
	net := nodetest.New(t, nodetest.EditGenesis(func(g *genesis.Genesis) {
		g.ChainConfig.BaseFee = u256(baseFee)
		g.ChainConfig.FeeRecipient = feeRecipient
		g.Accounts = map[types.Address]types.U256{}
		for _, k := range ks {
			g.Accounts[builderAccount(t, k)] = types.NewU256(funds)
		}
	}))
	return net, ks
}

func u256(v uint64) types.U256 { return types.NewU256(v) }

// u64 is a U256 known to fit 64 bits.
func u64(t testing.TB, v types.U256) uint64 {
	t.Helper()
	x, ok := v.Uint64()
	if !ok {
		t.Fatalf("%s does not fit 64 bits", v)
	}
	return x
}

// TestFeesPaidToRecipient runs four nodes with base_fee 3 wei per byte
// and funded builders: transactions get decided, and the fee recipient's
// balance is exactly the sum of base_fee × payload bytes over the decided
// blocks, which is what the builders paid.
func TestFeesPaidToRecipient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const baseFee, funds = 3, 1_000_000_000
		net, ks := feeNetwork(t, baseFee, funds)
		var hashes []types.Commitment
		for i := range 12 {
			tx := types.Transaction{Namespace: uint64(1 + i%3), Payload: fmt.Appendf(nil, "fee-paying transaction %d", i)}
			hashes = append(hashes, net.Submit(i%net.Len(), tx))
		}
		var last uint64
		for _, c := range hashes {
			last = max(last, net.WaitForTransaction(c).Height)
		}
		hd, st := decidedState(t, net, 0, last)

		// What the chain charged, block by block, from the stored chain.
		var charged, paid uint64
		for _, b := range net.Chains(0)[0] {
			if b.Height() == 0 || b.Height() > hd.Height {
				continue
			}
			size := b.Payload.Size()
			fee := b.Leaf.Header.FeeInfo
			if u64(t, fee.Amount) != baseFee*size {
				t.Errorf("block %d: fee %s for %d payload bytes, want %d", b.Height(), fee.Amount, size, baseFee*size)
			}
			charged += baseFee * size
			paid += u64(t, fee.Amount)
		}
		if charged == 0 {
			t.Fatal("no payload bytes decided")
		}
		if got := st.Balance(feeRecipient); u64(t, got) != charged {
			t.Errorf("fee recipient balance %s after block %d, want %d (base_fee × payload bytes)", got, hd.Height, charged)
		}
		var spent uint64
		for _, k := range ks {
			spent += funds - u64(t, st.Balance(builderAccount(t, k)))
		}
		if spent != paid {
			t.Errorf("builders spent %d, blocks charged %d", spent, paid)
		}
		// Every node holds the same state at that height.
		for i := 1; i < net.Len(); i++ {
			h2, st2 := decidedState(t, net, i, hd.Height)
			if h2.Height == hd.Height && st2.Balance(feeRecipient) != st.Balance(feeRecipient) {
				t.Errorf("node %d: recipient balance %s, node 0: %s", i, st2.Balance(feeRecipient), st.Balance(feeRecipient))
			}
		}
	})
}

// TestUnfundedBuildersDecideNothing runs four nodes with base_fee > 0 and
// no funded builder: blocks keep being decided, all of them empty, and a
// submitted transaction stays pending instead of being included.
func TestUnfundedBuildersDecideNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.EditGenesis(func(g *genesis.Genesis) {
			g.ChainConfig.BaseFee = u256(1)
		}))
		c := net.Submit(0, types.Transaction{Namespace: 7, Payload: []byte("nobody can pay for me")})
		net.WaitForHeight(net.Node(0).BlockHeight() + 10)
		for _, b := range net.Chains(0)[0] {
			if n := b.Payload.Size(); n != 0 {
				t.Errorf("block %d has %d payload bytes; no builder can pay for them", b.Height(), n)
			}
		}
		if _, err := net.Store(0).TransactionByHash(context.Background(), c); err == nil {
			t.Error("the transaction was decided")
		}
		if p := net.Node(0).PendingTransactions(); p != 1 {
			t.Errorf("node 0 has %d pending transactions, want 1", p)
		}
	})
}

// TestDepositCreditedOnce runs four nodes on the embedded L1: a deposit
// made through the fee contract is credited to its account exactly once,
// on every node, and still exactly once on a node that restarts.
func TestDepositCreditedOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	chainL1, err := l1test.New(l1test.WithListenAddr(""), l1test.WithBlockInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = chainL1.Close() })
	fee := chainL1.FeeContract()
	net := nodetest.New(t,
		nodetest.EditGenesis(func(g *genesis.Genesis) { g.ChainConfig.FeeContract = &fee }),
		nodetest.L1(chainL1, l1.WithPollingInterval(20*time.Millisecond), l1.WithRetryDelay(20*time.Millisecond)))
	net.WaitForHeight(2)

	user := types.Address{0: 0xde, 19: 0x01}
	amount := types.NewU256(123_456_789)
	dep, err := chainL1.Deposit(ctx, 1, user, amount)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chainL1.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	// The first block whose l1_finalized covers the deposit credits it.
	credited := waitBalance(t, net, 0, user, amount)
	if credited.L1Finalized == nil || credited.L1Finalized.Number < dep.Block {
		t.Fatalf("credited at block %d whose l1_finalized %v is below the deposit's L1 block %d", credited.Height, credited.L1Finalized, dep.Block)
	}
	for i := 1; i < net.Len(); i++ {
		waitBalance(t, net, i, user, amount)
	}
	// The node reports what its L1 tracker sees, and its header checks.
	mfs, err := net.Node(0).Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if g := m.GetGauge(); g != nil {
				found[mf.GetName()] = g.GetValue()
			} else if c := m.GetCounter(); c != nil {
				found[mf.GetName()] += c.GetValue()
			}
		}
	}
	if found["consensus_l1_head"] < float64(dep.Block) || found["consensus_l1_finalized"] < float64(dep.Block) {
		t.Errorf("consensus_l1_head %v, consensus_l1_finalized %v; want both at least the deposit's block %d",
			found["consensus_l1_head"], found["consensus_l1_finalized"], dep.Block)
	}
	if v, ok := found["consensus_invalid_headers"]; !ok || v != 0 {
		t.Errorf("consensus_invalid_headers %v (present %v), want 0 on an honest network", v, ok)
	}

	net.Crash(2)
	net.WaitForHeight(net.Node(0).BlockHeight()+3, 0, 1, 3)
	net.Restart(2)
	// Let L1 finality move on several times, over several blocks.
	for range 2 {
		if _, err := chainL1.Finalize(ctx); err != nil {
			t.Fatal(err)
		}
	}
	top := net.Node(0).BlockHeight() + 5
	net.WaitForHeight(top)
	for i := range net.Len() {
		hd, st := decidedState(t, net, i, top)
		if got := st.Balance(user); got != amount {
			t.Errorf("node %d at block %d: balance %s, want %s (credited once)", i, hd.Height, got, amount)
		}
	}
}

// waitBalance waits until node i's decided state credits user with want,
// and returns the header of that state.
func waitBalance(t *testing.T, net *nodetest.Network, i int, user types.Address, want types.U256) types.Header {
	t.Helper()
	return waitBalanceFor(t, net, i, user, want, 30*time.Second)
}

// waitBalanceFor is waitBalance with a deadline of its own.
func waitBalanceFor(t *testing.T, net *nodetest.Network, i int, user types.Address, want types.U256, wait time.Duration) types.Header {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if nd := net.Node(i); nd != nil {
			if hd, st, ok := nd.DecidedState(); ok {
				got := st.Balance(user)
				if got == want {
					return hd
				}
				if got.Cmp(want) > 0 {
					t.Fatalf("node %d at block %d: balance %s, more than the %s deposited", i, hd.Height, got, want)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d: deposit of %s not credited within %v", i, want, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGethDepositDecided runs four nodes against a real geth --dev
// (l1test.StartGeth; .ci/run installs geth): the fee contract is deployed
// there, a deposit is made, and the decided chain state credits it once
// geth has finalized its block (geth --dev finalizes every 32 blocks, one
// block a second, so this takes up to about 40 s).
func TestGethDepositDecided(t *testing.T) {
	g := l1test.StartGeth(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fee, err := g.DeployFeeContract(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client, err := eth.Dial(ctx, []string{g.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	net := nodetest.New(t,
		nodetest.EditGenesis(func(gen *genesis.Genesis) { gen.ChainConfig.FeeContract = &fee }),
		nodetest.L1(client, l1.WithPollingInterval(250*time.Millisecond), l1.WithRetryDelay(250*time.Millisecond)),
		nodetest.Timeout(2*time.Minute))
	user := types.Address{0: 0x9e, 19: 0x07}
	amount := types.NewU256(424_242)
	dep, err := g.Deposit(ctx, user, amount)
	if err != nil {
		t.Fatal(err)
	}
	for i := range net.Len() {
		hd := waitBalanceFor(t, net, i, user, amount, 2*time.Minute)
		if hd.L1Finalized == nil || hd.L1Finalized.Number < dep.Block {
			t.Fatalf("node %d: credited at block %d whose l1_finalized %v is below the deposit's L1 block %d", i, hd.Height, hd.L1Finalized, dep.Block)
		}
	}
}

// TestStateCatchupFromPeer crashes a node, deletes what its chain state
// would be rebuilt from (its snapshot, and its blocks below the last
// decided one) and restarts it: it fetches the chain
// state from a peer, checks it against the certified block, and goes on
// deciding with the same balances as its peers.
func TestStateCatchupFromPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const baseFee, funds = 1, 1_000_000_000
		net, _ := feeNetwork(t, baseFee, funds)
		for i := range 8 {
			net.WaitForTransaction(net.Submit(i%4, types.Transaction{Namespace: 3, Payload: fmt.Appendf(nil, "before %d", i)}))
		}
		net.Crash(2)
		ctx := context.Background()
		last, err := net.Store(2).LastDecided(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if last.Height() < 3 {
			t.Fatalf("only %d blocks decided", last.Height())
		}
		net.Store(2).DropState()
		if err := net.Store(2).PruneBefore(ctx, last.Height()); err != nil {
			t.Fatal(err)
		}
		net.Restart(2)
		for i := range 4 {
			net.WaitForTransaction(net.Submit(2, types.Transaction{Namespace: 3, Payload: fmt.Appendf(nil, "after %d", i)}), 2)
		}
		top := net.Node(2).BlockHeight() + 2
		net.WaitForHeight(top)
		h2, st2 := decidedState(t, net, 2, top)
		h0, st0 := decidedState(t, net, 0, top)
		if h0.Height == h2.Height && st0.Balance(feeRecipient) != st2.Balance(feeRecipient) {
			t.Errorf("at block %d: node 2's recipient balance %s, node 0's %s", h0.Height, st2.Balance(feeRecipient), st0.Balance(feeRecipient))
		}
		if st2.Balance(feeRecipient).IsZero() {
			t.Error("no fees in node 2's state")
		}
	})
}

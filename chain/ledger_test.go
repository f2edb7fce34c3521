package chain_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

var t0 = time.Unix(genesisTime+5, 0)

func txIn(ns uint64, i int) types.Transaction {
	return types.Transaction{Namespace: ns, Payload: fmt.Appendf(nil, "ns %d tx %03d", ns, i)}
}

// A funded builder builds a block of several namespaces, another replica
// validates it, and deciding it moves base_fee × bytes from the builder to
// the fee recipient.
func TestLedgerBuildValidateDecide(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	txs := []types.Transaction{txIn(1, 0), txIn(2, 0), txIn(1, 1), txIn(3, 0)}
	fill(t, mp, t0, txs...)
	a := n.ledger(t, newFakeL1(genesisL1), n.builder, mp)
	b := n.ledger(t, newFakeL1(genesisL1), nil, nil)
	builder := chain.BuilderAddress(n.builder)
	if a.BuilderAccount() != builder {
		t.Fatalf("BuilderAccount %s, want %s", a.BuilderAccount(), builder)
	}
	if !a.Pending() {
		t.Fatal("Pending is false with transactions in the mempool")
	}

	p := build(t, a, &n.genesis, t0)
	got, err := p.payload.Transactions()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(txs) {
		t.Fatalf("block holds %d transactions, want %d", len(got), len(txs))
	}
	if entries, _ := p.payload.NsTable.Entries(len(p.payload.Raw)); len(entries) != 3 {
		t.Fatalf("block has %d namespaces, want 3", len(entries))
	}
	h := &p.leaf.Header
	fee := baseFee * p.payload.Size()
	if h.Height != 1 || h.FeeInfo.Account != builder || h.FeeInfo.Amount != types.NewU256(fee) || h.BuilderSignature == nil {
		t.Fatalf("header: height %d, fee info %s %s, signature %v; want 1, %s %d, signed",
			h.Height, h.FeeInfo.Account, h.FeeInfo.Amount, h.BuilderSignature, builder, fee)
	}
	if err := chain.VerifyFee(h); err != nil {
		t.Fatal(err)
	}

	if err := p.validate(b, t0); err != nil {
		t.Fatalf("another replica rejects the block: %v", err)
	}
	if err := p.validate(a, t0); err != nil {
		t.Fatalf("the builder rejects its own block: %v", err)
	}
	if r := b.Rejections(); len(r) != 0 {
		t.Fatalf("rejections %v after a valid block", r)
	}

	decide(t, p, a, b)
	for name, led := range map[string]*chain.Ledger{"builder": a, "validator": b} {
		ds := led.DecidedState()
		if ds.Header.Height != 1 || ds.Header.Commit() != h.Commit() {
			t.Fatalf("%s: decided state at height %d, want the block of height 1", name, ds.Header.Height)
		}
		if got := balance(led, feeRecipient); got != fee {
			t.Errorf("%s: fee recipient holds %d wei, want %d (base_fee %d × %d bytes)", name, got, fee, baseFee, p.payload.Size())
		}
		if got := balance(led, builder); got != funded-fee {
			t.Errorf("%s: builder holds %d wei, want %d - %d", name, got, funded, fee)
		}
		blockRoot, feeRoot := ds.State.Roots()
		if string(blockRoot) != string(h.BlockMerkleTreeRoot) || string(feeRoot) != string(h.FeeMerkleTreeRoot) {
			t.Errorf("%s: decided state's roots are not the header's", name)
		}
	}

	// The next block skips the transactions of an undecided ancestor: here
	// block 1, passed as undecided although decided above.
	p2 := build(t, a, &p.leaf, t0.Add(time.Second), &p.payload)
	if p2.payload.Size() != 0 {
		t.Fatalf("block 2 holds %d bytes, want none (its transactions are block 1's)", p2.payload.Size())
	}
	if err := p2.validate(b, t0.Add(time.Second)); err != nil {
		t.Fatalf("empty block 2: %v", err)
	}
}

// breaks lists, for each rule, an edit of a valid proposal that breaks it
// and only it.
type breaks struct {
	rule string
	edit func(t *testing.T, p *proposal, now *time.Time)
}

func resign(t *testing.T, p *proposal) {
	t.Helper()
	s, err := chain.SignFee(builderKey(t, 1), &p.leaf.Header)
	if err != nil {
		t.Fatal(err)
	}
	p.leaf.Header.BuilderSignature = s
}

func ruleBreaks() []breaks {
	return []breaks{
		{chain.RuleHeight, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.Height++
			resign(t, p)
		}},
		{chain.RuleTimestamp, func(t *testing.T, p *proposal, now *time.Time) {
			p.leaf.Header.Timestamp = p.parent.Header.Timestamp - 1
			*now = time.Unix(int64(p.leaf.Header.Timestamp), 0) // within the clock skew
		}},
		{chain.RuleClock, func(t *testing.T, p *proposal, now *time.Time) {
			p.leaf.Header.Timestamp = uint64(now.Unix()) + uint64(chain.MaxClockSkew/time.Second) + 1
		}},
		{chain.RuleVersion, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.Version.Minor++
		}},
		{chain.RuleChainConfig, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.ChainConfig.ChainID = types.NewU256(1000)
			resign(t, p)
		}},
		{chain.RuleL1Head, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.L1Head = p.parent.Header.L1Head - 1
		}},
		{chain.RuleL1Finalized, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.L1Finalized.Hash[0] ^= 1
		}},
		{chain.RulePayloadSize, func(t *testing.T, p *proposal, _ *time.Time) {
			big, err := types.EncodePayload([]types.Transaction{{Namespace: 1, Payload: make([]byte, maxBlockSize)}})
			if err != nil {
				t.Fatal(err)
			}
			p.payload = big
		}},
		{chain.RuleNsTable, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.NsTable.Bytes[4] ^= 0x40 // the first namespace id
			resign(t, p)
		}},
		{chain.RulePayloadCommitment, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.PayloadCommitment[0] ^= 1
			resign(t, p)
		}},
		{chain.RuleBuilderSignature, func(t *testing.T, p *proposal, _ *time.Time) {
			s, err := chain.SignFee(builderKey(t, 2), &p.leaf.Header)
			if err != nil {
				t.Fatal(err)
			}
			p.leaf.Header.BuilderSignature = s
		}},
		{chain.RuleFeeAmount, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.FeeInfo.Amount = types.NewU256(baseFee*p.payload.Size() - 1)
			resign(t, p)
		}},
		{chain.RuleFeeBalance, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.FeeInfo.Amount = types.NewU256(funded + 1)
			resign(t, p)
		}},
		{chain.RuleBlockRoot, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.BlockMerkleTreeRoot[0] ^= 1
		}},
		{chain.RuleFeeRoot, func(t *testing.T, p *proposal, _ *time.Time) {
			p.leaf.Header.FeeMerkleTreeRoot[0] ^= 1
		}},
	}
}

// Each rule rejects a proposal that breaks it alone, with a *RuleError
// naming it, and counts the rejection under its name.
func TestLedgerRejectsEachRule(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	fill(t, mp, t0, txIn(1, 0), txIn(2, 0), txIn(1, 1))
	l1 := newFakeL1(genesisL1)
	l1.advance(14, 12) // the block moves l1_head and l1_finalized
	l1.deposit(12, state.Credit{Account: types.Address{0xde}, Amount: types.NewU256(7)})
	a := n.ledger(t, l1, n.builder, mp)
	b := n.ledger(t, l1, nil, nil)
	valid := build(t, a, &n.genesis, t0)
	if h := valid.leaf.Header; h.L1Head != 14 || h.L1Finalized == nil || h.L1Finalized.Number != 12 || valid.payload.Size() == 0 {
		t.Fatalf("built block: l1_head %d, l1_finalized %v, %d payload bytes; want 14, 12, some", h.L1Head, h.L1Finalized, valid.payload.Size())
	}

	cases := ruleBreaks()
	covered := make(map[string]bool)
	for _, c := range cases {
		covered[c.rule] = true
	}
	for _, r := range chain.RuleNames() {
		if !covered[r] {
			t.Errorf("no case breaks rule %s", r)
		}
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			p := valid.clone()
			now := t0
			c.edit(t, p, &now)
			before := b.Rejections()
			err := p.validate(b, now)
			var re *chain.RuleError
			if !errors.As(err, &re) {
				t.Fatalf("ValidateProposal: %v, want a *chain.RuleError", err)
			}
			if re.Rule != c.rule {
				t.Fatalf("rule %q broken (%v), want %q", re.Rule, err, c.rule)
			}
			if !errors.Is(err, chain.ErrInvalidBlock) {
				t.Fatalf("%v does not wrap ErrInvalidBlock", err)
			}
			if errors.Is(err, consensus.ErrNotYet) {
				t.Fatalf("%v wraps ErrNotYet", err)
			}
			if !strings.Contains(err.Error(), c.rule) {
				t.Errorf("error %q does not name the rule", err)
			}
			want := maps.Clone(before)
			want[c.rule]++
			if got := b.Rejections(); !maps.Equal(got, want) {
				t.Fatalf("rejections %v, want %v", got, want)
			}
		})
	}

	// The valid proposal still passes, on both replicas, and the fee_balance
	// case's state was not kept.
	if err := valid.validate(b, t0); err != nil {
		t.Fatalf("valid proposal after the broken ones: %v", err)
	}
	if err := valid.validate(a, t0); err != nil {
		t.Fatalf("builder on its own proposal: %v", err)
	}
}

// A validator that lacks the L1 data a header needs answers ErrNotYet and
// counts no rejection, then accepts once its L1 has caught up.
func TestLedgerWaitsForL1(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	fill(t, mp, t0, txIn(1, 0), txIn(2, 0))
	deposit := state.Credit{Account: types.Address{0xde}, Amount: types.NewU256(500)}
	la := newFakeL1(genesisL1)
	la.advance(14, 12)
	la.deposit(12, deposit)
	a := n.ledger(t, la, n.builder, mp)
	p := build(t, a, &n.genesis, t0)
	if f := p.leaf.Header.L1Finalized; f == nil || f.Number != 12 || p.leaf.Header.L1Head != 14 {
		t.Fatalf("built block: l1_head %d, l1_finalized %v; want 14, block 12", p.leaf.Header.L1Head, f)
	}

	lb := newFakeL1(genesisL1) // has seen nothing past the genesis block
	lb.deposit(12, deposit)
	b := n.ledger(t, lb, nil, nil)
	notYet := func(stage string) {
		t.Helper()
		err := p.validate(b, t0)
		if !errors.Is(err, consensus.ErrNotYet) {
			t.Fatalf("%s: %v, want ErrNotYet", stage, err)
		}
		if errors.Is(err, chain.ErrInvalidBlock) {
			t.Fatalf("%s: %v is also ErrInvalidBlock", stage, err)
		}
		if r := b.Rejections(); len(r) != 0 {
			t.Fatalf("%s: rejections %v, want none", stage, r)
		}
	}
	notYet("l1_head not seen")
	lb.set(14, 12)
	lb.setKnown(14, true)
	notYet("l1_finalized block not fetched")
	lb.setKnown(12, true)
	notYet("deposits not fetched")
	lb.setCreditsUpTo(14)
	if err := p.validate(b, t0); err != nil {
		t.Fatalf("once the L1 has caught up: %v", err)
	}
	decide(t, p, b)
	if got := balance(b, deposit.Account); got != 500 {
		t.Fatalf("deposit account holds %d wei, want 500", got)
	}
}

// A builder whose fee account cannot pay builds empty blocks and leaves
// the transactions in the mempool.
func TestLedgerUnfundedBuilder(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	fill(t, mp, t0, txIn(1, 0), txIn(2, 0))
	poor := builderKey(t, 3)
	a := n.ledger(t, newFakeL1(genesisL1), poor, mp)
	b := n.ledger(t, newFakeL1(genesisL1), nil, nil)
	for i, parent := 0, &n.genesis; i < 3; i++ {
		now := t0.Add(time.Duration(i) * time.Second)
		p := build(t, a, parent, now)
		if p.payload.Size() != 0 || !p.leaf.Header.FeeInfo.Amount.IsZero() {
			t.Fatalf("block %d: %d payload bytes, fee %s; want an empty block paying nothing", i+1, p.payload.Size(), p.leaf.Header.FeeInfo.Amount)
		}
		if err := p.validate(b, now); err != nil {
			t.Fatalf("empty block %d: %v", i+1, err)
		}
		decide(t, p, a, b)
		parent = &p.leaf
	}
	if mp.Len() != 2 || !mp.Pending() {
		t.Fatalf("mempool holds %d transactions (pending %v), want both still there", mp.Len(), mp.Pending())
	}
	// The leader must not hurry to propose what it cannot pay for: its
	// builder says it has nothing to include until the next build.
	if a.Pending() {
		t.Fatal("the starved builder reports pending transactions")
	}
	if got := balance(b, feeRecipient); got != 0 {
		t.Fatalf("fee recipient holds %d wei, want 0", got)
	}
}

// A builder with too little balance for every waiting transaction fills
// the block up to what it can pay.
func TestLedgerBuilderPaysWhatItCan(t *testing.T) {
	n := newNetwork(t)
	poor := builderKey(t, 3)
	mp := chain.NewMempool(chain.MempoolConfig{})
	fill(t, mp, t0, txIn(1, 0), txIn(2, 0), txIn(3, 0))
	l1 := newFakeL1(genesisL1)
	// Enough for the first two transactions (4+4+11 bytes each), not the third.
	l1.deposit(11, state.Credit{Account: chain.BuilderAddress(poor), Amount: types.NewU256(baseFee*38 + 2)})
	l1.advance(11, 11)
	a := n.ledger(t, l1, poor, mp)
	b := n.ledger(t, l1, nil, nil)
	p := build(t, a, &n.genesis, t0)
	if txs, _ := p.payload.Transactions(); len(txs) != 2 || p.payload.Size() != 38 {
		t.Fatalf("block of %d transactions, %d bytes; want 2, 38", len(txs), p.payload.Size())
	}
	if err := p.validate(b, t0); err != nil {
		t.Fatal(err)
	}
	decide(t, p, a, b)
	if got := balance(b, chain.BuilderAddress(poor)); got != 2 {
		t.Fatalf("builder holds %d wei after paying, want 2", got)
	}
}

// A deposit is credited by the block whose l1_finalized crosses its L1
// block, and by no later one.
func TestLedgerDepositCreditedOnce(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	l1 := newFakeL1(genesisL1)
	depositor := types.Address{0xde, 0x90}
	l1.deposit(12, state.Credit{Account: depositor, Amount: types.NewU256(500)})
	a := n.ledger(t, l1, n.builder, mp)
	lb := newFakeL1(genesisL1) // the validator's own L1 client
	lb.deposit(12, state.Credit{Account: depositor, Amount: types.NewU256(500)})
	b := n.ledger(t, lb, nil, nil)

	steps := []struct {
		head, fin uint64
		wantFin   uint64
	}{
		{11, 11, 11}, // before the deposit
		{13, 12, 12}, // crosses block 12
		{13, 12, 12}, // same l1_finalized: credits nothing
		{15, 14, 14}, // (12, 14]
		{16, 16, 16},
	}
	parent := &n.genesis
	for i, s := range steps {
		l1.advance(s.head, s.fin)
		lb.advance(s.head, s.fin)
		now := t0.Add(time.Duration(i) * time.Second)
		fill(t, mp, now, txIn(1, i))
		p := build(t, a, parent, now)
		if f := p.leaf.Header.L1Finalized; f == nil || f.Number != s.wantFin {
			t.Fatalf("block %d: l1_finalized %v, want %d", i+1, f, s.wantFin)
		}
		if err := p.validate(b, now); err != nil {
			t.Fatalf("block %d: %v", i+1, err)
		}
		decide(t, p, a, b)
		mp.Decided([]types.Transaction{txIn(1, i)})
		want := uint64(0)
		if s.fin >= 12 {
			want = 500
		}
		for name, led := range map[string]*chain.Ledger{"builder": a, "validator": b} {
			if got := balance(led, depositor); got != want {
				t.Fatalf("%s after block %d (l1_finalized %d): depositor holds %d wei, want %d", name, i+1, s.fin, got, want)
			}
		}
		for _, c := range append(l1.creditCalls(), lb.creditCalls()...) {
			if c[0] <= 12 && 12 <= c[1] && s.wantFin != 12 {
				t.Fatalf("block %d (l1_finalized %d) asked for the deposits of L1 blocks %d to %d", i+1, s.wantFin, c[0], c[1])
			}
		}
		parent = &p.leaf
	}
}

// Decided blocks whose deposits are not fetched yet leave the decided
// state behind until they are.
func TestLedgerDecideWaitsForDeposits(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	l1 := newFakeL1(genesisL1)
	l1.advance(12, 12)
	a := n.ledger(t, l1, n.builder, mp)
	p := build(t, a, &n.genesis, t0)
	lb := newFakeL1(genesisL1)
	lb.set(12, 12)
	lb.setKnown(12, true)
	b := n.ledger(t, lb, nil, nil)
	decide(t, p, b) // never validated by b
	if h := b.DecidedState().Header.Height; h != 0 {
		t.Fatalf("decided state at height %d before the deposits are fetched, want 0", h)
	}
	lb.setCreditsUpTo(12)
	if err := b.Decide(nil); err != nil { // nothing new: the state catches up
		t.Fatal(err)
	}
	if h := b.DecidedState().Header.Height; h != 1 {
		t.Fatalf("decided state at height %d once the deposits are fetched, want 1", h)
	}
}

// RuleNames lists the rules in the order the ledger checks them: a
// proposal that breaks two rules is rejected by the one listed first.
func TestLedgerChecksRulesInRuleNamesOrder(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	fill(t, mp, t0, txIn(1, 0), txIn(2, 0), txIn(1, 1))
	l1 := newFakeL1(genesisL1)
	l1.advance(14, 12)
	a := n.ledger(t, l1, n.builder, mp)
	b := n.ledger(t, l1, nil, nil)
	valid := build(t, a, &n.genesis, t0)
	edits := make(map[string]func(*testing.T, *proposal, *time.Time))
	for _, c := range ruleBreaks() {
		edits[c.rule] = c.edit
	}
	names := chain.RuleNames()
	for i, first := range names {
		for _, second := range names[i+1:] {
			p := valid.clone()
			now := t0
			edits[second](t, p, &now)
			edits[first](t, p, &now) // last, so that its re-signing stands
			var re *chain.RuleError
			if err := p.validate(b, now); !errors.As(err, &re) || re.Rule != first {
				t.Errorf("breaking %s and %s: %v, want rule %s", first, second, err, first)
			}
		}
	}
}

// Blocks build and validate on undecided parents, and one Decide of the
// chain moves the decided state to its top; a fork off a block the decided
// chain has passed is rejected, not waited for.
func TestLedgerUndecidedChainAndForks(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	l1 := newFakeL1(genesisL1)
	a := n.ledger(t, l1, n.builder, mp)
	b := n.ledger(t, l1, nil, nil)
	parent := &n.genesis
	var chainOf []*proposal
	var undecided []*types.Payload
	for i := range 3 {
		now := t0.Add(time.Duration(i) * time.Second)
		fill(t, mp, now, txIn(uint64(i%2), i), txIn(5, i))
		p := build(t, a, parent, now, undecided...)
		if txs, _ := p.payload.Transactions(); len(txs) != 2 {
			t.Fatalf("block %d holds %d transactions, want the 2 new ones", i+1, len(txs))
		}
		if err := p.validate(b, now); err != nil {
			t.Fatalf("block %d on an undecided parent: %v", i+1, err)
		}
		if err := p.validate(a, now); err != nil {
			t.Fatalf("builder, block %d: %v", i+1, err)
		}
		chainOf = append(chainOf, p)
		undecided = append([]*types.Payload{&p.payload}, undecided...)
		parent = &p.leaf
	}

	// A fork of block 1 (another view, same parent), validated before the
	// chain is decided.
	fork := build(t, a, &n.genesis, t0.Add(5*time.Second))
	fork.leaf.View = 7
	if err := fork.validate(b, t0.Add(5*time.Second)); err != nil {
		t.Fatalf("fork of block 1: %v", err)
	}
	forkChild := build(t, a, &fork.leaf, t0.Add(6*time.Second))

	// A third replica decides block 1 only: the fork's child (height 2)
	// extends a block at the decided height that is not the decided one.
	c := n.ledger(t, l1, nil, nil)
	for _, p := range []*proposal{chainOf[0], fork} {
		if err := p.validate(c, time.Unix(int64(p.leaf.Header.Timestamp), 0)); err != nil {
			t.Fatal(err)
		}
	}
	decide(t, chainOf[0], c)
	err := forkChild.validate(c, t0.Add(6*time.Second))
	if re := (*chain.RuleError)(nil); !errors.As(err, &re) || re.Rule != chain.RuleHeight {
		t.Errorf("child of a fork of the decided block: %v, want a height rejection", err)
	}

	blocks := make([]types.Block, len(chainOf))
	for i, p := range chainOf {
		blocks[i] = p.block()
	}
	for _, led := range []*chain.Ledger{a, b} {
		if err := led.Decide(blocks); err != nil {
			t.Fatal(err)
		}
		if ds := led.DecidedState(); ds.Header.Commit() != chainOf[2].leaf.Header.Commit() {
			t.Fatalf("decided state at height %d, want 3", ds.Header.Height)
		}
	}
	// Both keep the state after each decided block: the genesis and blocks
	// 1 to 3 of the chain (decided at once), never the fork's.
	for name, led := range map[string]*chain.Ledger{"builder": a, "validator": b} {
		kept := led.DecidedStates()
		want := []*types.Header{&n.genesis.Header, &chainOf[0].leaf.Header, &chainOf[1].leaf.Header, &chainOf[2].leaf.Header}
		if len(kept) != len(want) {
			t.Fatalf("%s keeps %d states, want %d", name, len(kept), len(want))
		}
		for i, ds := range kept {
			blockRoot, feeRoot := ds.State.Roots()
			if ds.Header.Commit() != want[i].Commit() || !bytes.Equal(blockRoot, want[i].BlockMerkleTreeRoot) ||
				!bytes.Equal(feeRoot, want[i].FeeMerkleTreeRoot) {
				t.Errorf("%s: kept state %d is at height %d, or its roots are not its header's", name, i, ds.Header.Height)
			}
		}
	}
	var fee uint64
	for _, p := range chainOf {
		fee += baseFee * p.payload.Size()
	}
	if got := balance(b, feeRecipient); got != fee {
		t.Fatalf("fee recipient holds %d wei after 3 blocks, want %d", got, fee)
	}

	now := t0.Add(6 * time.Second)
	for name, p := range map[string]*proposal{"fork of block 1": fork, "child of the fork": forkChild} {
		before := b.Rejections()[chain.RuleHeight]
		err := p.validate(b, now)
		var re *chain.RuleError
		if !errors.As(err, &re) || re.Rule != chain.RuleHeight {
			t.Errorf("%s after block 3 is decided: %v, want a height rejection", name, err)
		}
		if got := b.Rejections()[chain.RuleHeight]; got != before+1 {
			t.Errorf("%s: %d height rejections, want %d", name, got, before+1)
		}
	}
}

// The clock rule allows 12 seconds either way, not 13.
func TestLedgerClockSkewBound(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	fill(t, mp, t0, txIn(1, 0))
	a := n.ledger(t, newFakeL1(genesisL1), n.builder, mp)
	b := n.ledger(t, newFakeL1(genesisL1), nil, nil)
	p := build(t, a, &n.genesis, t0)
	for _, d := range []time.Duration{-12 * time.Second, 12 * time.Second, 0} {
		if err := p.validate(b, t0.Add(d)); err != nil {
			t.Fatalf("clock %v from the timestamp: %v", d, err)
		}
	}
	for _, d := range []time.Duration{-13 * time.Second, 13 * time.Second} {
		var re *chain.RuleError
		if err := p.validate(b, t0.Add(d)); !errors.As(err, &re) || re.Rule != chain.RuleClock {
			t.Fatalf("clock %v from the timestamp: %v, want a clock rejection", d, err)
		}
	}
}

// Without an L1 client, blocks keep the parent's L1 fields, and a header
// that moves them is rejected.
func TestLedgerWithoutL1(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	fill(t, mp, t0, txIn(1, 0))
	a := n.ledger(t, nil, n.builder, mp)
	b := n.ledger(t, nil, nil, nil)
	p := build(t, a, &n.genesis, t0)
	if h := p.leaf.Header; h.L1Head != genesisL1 || h.L1Finalized == nil || *h.L1Finalized != l1Block(genesisL1) {
		t.Fatalf("l1_head %d, l1_finalized %v; want the genesis values", h.L1Head, h.L1Finalized)
	}
	if err := p.validate(b, t0); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(h *types.Header){
		chain.RuleL1Head:      func(h *types.Header) { h.L1Head++ },
		chain.RuleL1Finalized: func(h *types.Header) { h.L1Finalized = nil },
	} {
		q := p.clone()
		edit(&q.leaf.Header)
		var re *chain.RuleError
		if err := q.validate(b, t0); !errors.As(err, &re) || re.Rule != name {
			t.Errorf("%s changed without an L1: %v, want a %s rejection", name, err, name)
		}
	}
}

// A decided block whose state this node computes differently (its L1
// reports other deposits) fails Decide once the deposits are fetched, and
// is not counted as a rejection of the proposals validated meanwhile.
func TestLedgerDivergedDecidedState(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	la := newFakeL1(genesisL1)
	la.deposit(12, state.Credit{Account: types.Address{0xde}, Amount: types.NewU256(9)})
	la.advance(12, 12)
	a := n.ledger(t, la, n.builder, mp)
	p1 := build(t, a, &n.genesis, t0)
	if err := p1.validate(a, t0); err != nil {
		t.Fatal(err)
	}
	p2 := build(t, a, &p1.leaf, t0)

	lb := newFakeL1(genesisL1) // no deposit in block 12: another L1
	lb.set(12, 12)
	lb.setKnown(12, true)
	b := n.ledger(t, lb, nil, nil)
	decide(t, p1, b) // waits for the deposits
	lb.setCreditsUpTo(12)
	err := p2.validate(b, t0)
	if err == nil {
		t.Fatal("a proposal validated on a diverged decided state")
	}
	if r := b.Rejections(); len(r) != 0 {
		t.Fatalf("rejections %v: the divergence was counted against the proposal", r)
	}
	if err := b.Decide(nil); !errors.Is(err, chain.ErrInvalidBlock) {
		t.Fatalf("Decide on a diverged state: %v, want an error", err)
	}
}

// A ledger keeps the states after its last StatesKept decided blocks, in
// height order, and the state a later block changes leaves the earlier
// ones as they were.
func TestLedgerKeepsRecentStates(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{})
	a := n.ledger(t, newFakeL1(genesisL1), n.builder, mp)
	parent := &n.genesis
	blocks := chain.StatesKept + 5
	for i := range blocks {
		now := t0.Add(time.Duration(i) * time.Second)
		fill(t, mp, now, txIn(1, i))
		p := build(t, a, parent, now)
		decide(t, p, a)
		parent = &p.leaf
	}
	kept := a.DecidedStates()
	if len(kept) != chain.StatesKept {
		t.Fatalf("%d states kept, want %d", len(kept), chain.StatesKept)
	}
	first := uint64(blocks - chain.StatesKept + 1)
	for i, ds := range kept {
		if ds.Header.Height != first+uint64(i) {
			t.Fatalf("kept state %d at height %d, want %d", i, ds.Header.Height, first+uint64(i))
		}
		blockRoot, feeRoot := ds.State.Roots()
		if !bytes.Equal(blockRoot, ds.Header.BlockMerkleTreeRoot) || !bytes.Equal(feeRoot, ds.Header.FeeMerkleTreeRoot) {
			t.Fatalf("kept state at height %d has roots other than its header's", ds.Header.Height)
		}
		if got := ds.State.BlockTree().NumLeaves(); got != ds.Header.Height {
			t.Fatalf("kept state at height %d holds %d block commitments, want %d", ds.Header.Height, got, ds.Header.Height)
		}
	}
	if last, ds := kept[len(kept)-1], a.DecidedState(); last.Header.Commit() != ds.Header.Commit() {
		t.Fatalf("the newest kept state is at height %d, DecidedState at %d", last.Header.Height, ds.Header.Height)
	}
	// The slice is the caller's.
	kept[0] = nil
	if a.DecidedStates()[0] == nil {
		t.Fatal("DecidedStates shares its slice with the ledger")
	}
}

package chain_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// fakeL1 is a chain.L1 whose knowledge each test sets: the head and
// finalized block Snapshot reports, the blocks BlockInfo knows, the
// deposits of each L1 block, and up to which L1 block Credits answers.
type fakeL1 struct {
	mu          sync.Mutex
	head        uint64
	finalized   *types.L1BlockInfo
	known       map[uint64]bool
	deposits    map[uint64][]state.Credit
	creditsUpTo uint64 // Credits(from, to) answers iff to <= creditsUpTo
	calls       [][2]uint64
}

var _ chain.L1 = (*fakeL1)(nil)

// l1Block is the L1 block of number n, the same in every fake.
func l1Block(n uint64) types.L1BlockInfo {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return types.L1BlockInfo{Number: n, Timestamp: types.NewU256(1_600_000_000 + 12*n), Hash: types.Hash(sha256.Sum256(b[:]))}
}

// newFakeL1 returns an L1 whose head and finalized block are fin, knowing
// every block up to fin and every deposit up to it.
func newFakeL1(fin uint64) *fakeL1 {
	f := &fakeL1{known: make(map[uint64]bool), deposits: make(map[uint64][]state.Credit)}
	f.advance(fin, fin)
	return f
}

// advance makes head and fin the latest blocks, known, with their deposits
// fetched.
func (f *fakeL1) advance(head, fin uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := uint64(0); n <= head; n++ {
		f.known[n] = true
	}
	b := l1Block(fin)
	f.head, f.finalized, f.creditsUpTo = head, &b, head
}

// set changes what the fake reports without learning blocks or deposits.
func (f *fakeL1) set(head, fin uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := l1Block(fin)
	f.head, f.finalized = head, &b
}

func (f *fakeL1) setKnown(n uint64, known bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known[n] = known
}

func (f *fakeL1) setCreditsUpTo(n uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creditsUpTo = n
}

func (f *fakeL1) deposit(block uint64, c state.Credit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deposits[block] = append(f.deposits[block], c)
}

// creditCalls returns the ranges Credits was asked for, and forgets them.
func (f *fakeL1) creditCalls() [][2]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeL1) Snapshot() (uint64, *types.L1BlockInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finalized == nil {
		return f.head, nil
	}
	b := *f.finalized
	return f.head, &b
}

func (f *fakeL1) BlockInfo(n uint64) (types.L1BlockInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.known[n] {
		return types.L1BlockInfo{}, false
	}
	return l1Block(n), true
}

func (f *fakeL1) Credits(from, to uint64) ([]state.Credit, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, [2]uint64{from, to})
	if to > f.creditsUpTo {
		return nil, false
	}
	var out []state.Credit
	for n := from; n <= to; n++ {
		out = append(out, f.deposits[n]...)
	}
	return out, true
}

// Network constants of the fixtures.
const (
	genesisTime  = 1_700_000_000
	genesisL1    = 10   // genesis l1_finalized and l1_head
	baseFee      = 3    // wei per payload byte
	maxBlockSize = 1000 // bytes
	funded       = 1_000_000
)

var (
	feeRecipient = types.Address{0xfe, 0xe0}
	feeContract  = types.Address{0xc0, 0x17}
)

// network is what every replica of a test network shares: the rules and
// the genesis leaf and state.
type network struct {
	rules   chain.Rules
	genesis types.Leaf
	state   *state.State
	builder *ecdsa.PrivateKey // funded at genesis
}

func builderKey(t testing.TB, i byte) *ecdsa.PrivateKey {
	t.Helper()
	k, err := chain.DeriveBuilderKey([32]byte{0xb0, i})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newNetwork returns a network whose genesis (like replica.NewSetup's)
// has l1_finalized genesisL1, the fee contract set, base_fee > 0 and the
// builder key's account funded.
func newNetwork(t testing.TB) *network {
	t.Helper()
	key := builderKey(t, 1)
	fc := feeContract
	cc := types.ChainConfig{
		ChainID: types.NewU256(999), MaxBlockSize: maxBlockSize, BaseFee: types.NewU256(baseFee),
		FeeContract: &fc, FeeRecipient: feeRecipient,
	}
	st := state.Genesis(map[types.Address]types.U256{chain.BuilderAddress(key): types.NewU256(funded)})
	fin := l1Block(genesisL1)
	var empty types.Payload
	h := types.Header{
		Version:           types.Version{Major: 0, Minor: 2},
		ChainConfig:       cc,
		Timestamp:         genesisTime,
		L1Head:            genesisL1,
		L1Finalized:       &fin,
		PayloadCommitment: payloadCommitment(t, &empty),
		BuilderCommitment: chain.BuilderCommitment(&empty),
	}
	h.BlockMerkleTreeRoot, h.FeeMerkleTreeRoot = st.Roots()
	return &network{
		rules:   chain.Rules{Version: h.Version, ChainConfig: cc},
		genesis: types.GenesisLeaf(h),
		state:   st,
		builder: key,
	}
}

// ledger returns a replica's ledger at genesis; key and mp may be nil for a
// validator only.
func (n *network) ledger(t testing.TB, l1 chain.L1, key *ecdsa.PrivateKey, mp *chain.Mempool) *chain.Ledger {
	t.Helper()
	led, err := chain.NewLedger(chain.LedgerConfig{
		Rules: n.rules, Anchor: n.genesis, State: n.state, Mempool: mp, L1: l1, BuilderKey: key,
	})
	if err != nil {
		t.Fatal(err)
	}
	return led
}

// proposal is a built block as consensus proposes it.
type proposal struct {
	parent  *types.Leaf
	leaf    types.Leaf
	payload types.Payload
}

func (p *proposal) block() types.Block {
	return types.Block{Leaf: p.leaf, Payload: p.payload, QC: types.QuorumCertificate{View: p.leaf.View, Leaf: p.leaf.Commit()}}
}

// build has led build a block on parent at now, as the leader of the view
// after parent's.
func build(t testing.TB, led *chain.Ledger, parent *types.Leaf, now time.Time, undecided ...*types.Payload) *proposal {
	t.Helper()
	h, p, err := led.BuildBlock(consensus.BuildRequest{Parent: parent, View: parent.View + 1, Now: now, Undecided: undecided})
	if err != nil {
		t.Fatalf("BuildBlock: %v", err)
	}
	return &proposal{
		parent: parent,
		leaf: types.Leaf{
			View: parent.View + 1, Parent: parent.Commit(), Header: h,
			JustifyQC: types.QuorumCertificate{View: parent.View, Leaf: parent.Commit()},
		},
		payload: p,
	}
}

func (p *proposal) validate(led *chain.Ledger, now time.Time) error {
	return led.ValidateProposal(p.parent, &p.leaf, &p.payload, now)
}

// clone returns a copy of p whose header shares no memory with p's.
func (p *proposal) clone() *proposal {
	c := *p
	h := &c.leaf.Header
	h.NsTable.Bytes = append([]byte(nil), h.NsTable.Bytes...)
	h.BlockMerkleTreeRoot = append([]byte(nil), h.BlockMerkleTreeRoot...)
	h.FeeMerkleTreeRoot = append([]byte(nil), h.FeeMerkleTreeRoot...)
	if h.L1Finalized != nil {
		f := *h.L1Finalized
		h.L1Finalized = &f
	}
	if h.BuilderSignature != nil {
		s := *h.BuilderSignature
		h.BuilderSignature = &s
	}
	return &c
}

// fill adds txs to mp at now.
func fill(t testing.TB, mp *chain.Mempool, now time.Time, txs ...types.Transaction) {
	t.Helper()
	for _, tx := range txs {
		if _, err := mp.Add(tx, now); err != nil {
			t.Fatal(err)
		}
	}
}

func decide(t testing.TB, p *proposal, leds ...*chain.Ledger) {
	t.Helper()
	for _, led := range leds {
		if err := led.Decide([]types.Block{p.block()}); err != nil {
			t.Fatalf("Decide height %d: %v", p.leaf.Height(), err)
		}
	}
}

func balance(led *chain.Ledger, a types.Address) uint64 {
	b, ok := led.DecidedState().State.Balance(a).Uint64()
	if !ok {
		panic("balance above 64 bits")
	}
	return b
}

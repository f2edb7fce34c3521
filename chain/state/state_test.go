package state

import (
	"bytes"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/gospresso/gospresso/types"
)

var recipient = addr(0xfe, 0xe5)

func header(height uint64, fee types.FeeInfo) *types.Header {
	return &types.Header{
		Version:     types.Version{Major: 0, Minor: 2},
		ChainConfig: types.ChainConfig{ChainID: u(999999999), MaxBlockSize: 1000000, BaseFee: u(1), FeeRecipient: recipient},
		Height:      height,
		Timestamp:   1700000000 + height,
		FeeInfo:     fee,
	}
}

func TestGenesis(t *testing.T) {
	a, b, c := addr(1), addr(2), addr(3)
	s := Genesis(map[types.Address]types.U256{a: u(10), b: maxU256(), c: {}})
	if s.FeeTree().Len() != 2 || s.Balance(a) != u(10) || s.Balance(b) != maxU256() || !s.Balance(c).IsZero() {
		t.Fatalf("genesis balances wrong: %d accounts", s.FeeTree().Len())
	}
	if _, ok := s.FeeTree().Get(c); ok {
		t.Fatal("a zero genesis amount made an account")
	}
	block, fee := s.Roots()
	if !bytes.Equal(block, refBlockRoot(nil)) || s.BlockTree().NumLeaves() != 0 {
		t.Fatal("genesis block tree is not empty")
	}
	if !bytes.Equal(fee, refFeeRoot(map[types.Address]types.U256{a: u(10), b: maxU256()})) {
		t.Fatal("genesis fee root differs from the definition")
	}
	if e := Genesis(nil); e.FeeTree().Len() != 0 || !bytes.Equal(e.FeeTree().Root(), FeeTree{}.Root()) {
		t.Fatal("Genesis(nil) is not empty")
	}
}

// TestApplyOrder checks the steps of docs/state.md, "The transition":
// deposits are credited before the fee is charged, the parent's
// commitment is appended, and the fee goes to the header's fee_recipient.
func TestApplyOrder(t *testing.T) {
	builder, depositor := addr(0xb1), addr(0xd1)
	s0 := Genesis(map[types.Address]types.U256{depositor: u(1)})
	g := header(0, types.FeeInfo{})
	// The builder has nothing until its deposit in this very block.
	h1 := header(1, types.FeeInfo{Account: builder, Amount: u(40)})
	s1, err := s0.Apply(g, h1, []Credit{{builder, u(30)}, {depositor, u(5)}, {builder, u(20)}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[types.Address]types.U256{builder: u(10), depositor: u(6), recipient: u(40)}
	for a, b := range want {
		if s1.Balance(a) != b {
			t.Errorf("%s: balance %s, want %s", a, s1.Balance(a), b)
		}
	}
	block, fee := s1.Roots()
	if !bytes.Equal(fee, refFeeRoot(want)) {
		t.Error("fee root differs from the definition")
	}
	if !bytes.Equal(block, refBlockRoot([]types.Commitment{g.Commit()})) {
		t.Error("block root is not that of the genesis header's commitment")
	}
	p, err := s1.BlockTree().Prove(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBlockProof(block, 0, g.Commit(), &p); err != nil {
		t.Fatal(err)
	}
	// The receiver is unchanged.
	if s0.Balance(depositor) != u(1) || s0.FeeTree().Len() != 1 || s0.BlockTree().NumLeaves() != 0 {
		t.Fatal("Apply changed its receiver")
	}

	// A chain of blocks: the block tree holds every earlier header's
	// commitment, and every state stays as it was.
	states := []*State{s0, s1}
	headers := []*types.Header{g, h1}
	for hgt := uint64(2); hgt < 40; hgt++ {
		h := header(hgt, types.FeeInfo{Account: builder, Amount: u(1)})
		next, err := states[len(states)-1].Apply(headers[len(headers)-1], h, []Credit{{builder, u(1)}})
		if err != nil {
			t.Fatal(err)
		}
		states, headers = append(states, next), append(headers, h)
	}
	for i, s := range states {
		var comms []types.Commitment
		for _, h := range headers[:i] {
			comms = append(comms, h.Commit())
		}
		if !bytes.Equal(s.BlockTree().Root(), refBlockRoot(comms)) {
			t.Fatalf("state %d: block root differs", i)
		}
	}
	last := states[len(states)-1]
	if last.Balance(builder) != u(10) || last.Balance(recipient) != u(40+38) {
		t.Fatalf("after 39 blocks: builder %s, recipient %s", last.Balance(builder), last.Balance(recipient))
	}
}

func TestApplyErrors(t *testing.T) {
	builder := addr(0xb1)
	rich := addr(0xaa)
	gen := Genesis(map[types.Address]types.U256{builder: u(5), rich: maxU256()})
	g := header(0, types.FeeInfo{})
	full := Genesis(map[types.Address]types.U256{builder: u(5), recipient: maxU256()})
	cases := []struct {
		name    string
		s       *State
		parent  *types.Header
		h       *types.Header
		credits []Credit
		want    error
		msg     []string
	}{
		{"nil parent", gen, nil, header(1, types.FeeInfo{}), nil, ErrWrongParent, nil},
		{"nil header", gen, g, nil, nil, ErrWrongParent, nil},
		{"height skips", gen, g, header(2, types.FeeInfo{}), nil, ErrWrongParent, []string{"header 2 is not the child of header 0"}},
		{"same height", gen, g, header(0, types.FeeInfo{}), nil, ErrWrongParent, nil},
		{"parent at max height", gen, header(^uint64(0), types.FeeInfo{}), header(0, types.FeeInfo{}), nil, ErrWrongParent, nil},
		{"state not after the parent", gen, header(4, types.FeeInfo{}), header(5, types.FeeInfo{}), nil, ErrWrongParent,
			[]string{"after header 0", "not after the parent 4"}},
		{"insufficient funds", gen, g, header(1, types.FeeInfo{Account: builder, Amount: u(6)}), nil, ErrInsufficientFunds,
			[]string{builder.String(), "6 wei", "balance is 5 wei", "header 1"}},
		{"absent fee account", gen, g, header(1, types.FeeInfo{Account: addr(0x77), Amount: u(1)}), nil, ErrInsufficientFunds,
			[]string{addr(0x77).String(), "balance is 0 wei"}},
		{"deposit to another account", gen, g, header(1, types.FeeInfo{Account: builder, Amount: u(6)}), []Credit{{addr(0x77), u(100)}},
			ErrInsufficientFunds, []string{"balance is 5 wei"}},
		{"deposits count before the charge, but not enough", gen, g, header(1, types.FeeInfo{Account: builder, Amount: u(9)}),
			[]Credit{{builder, u(3)}}, ErrInsufficientFunds, []string{"balance is 8 wei"}},
		{"deposit overflows", gen, g, header(1, types.FeeInfo{}), []Credit{{builder, u(1)}, {rich, u(1)}}, ErrBalanceOverflow,
			[]string{"deposit 1 of 2", rich.String()}},
		{"fee overflows the recipient", full, g, header(1, types.FeeInfo{Account: builder, Amount: u(1)}), nil, ErrBalanceOverflow,
			[]string{"fee_recipient", recipient.String()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			blockBefore, feeBefore := c.s.Roots()
			next, err := c.s.Apply(c.parent, c.h, c.credits)
			if !errors.Is(err, c.want) || next != nil {
				t.Fatalf("Apply = %v, %v; want %v", next, err, c.want)
			}
			for _, m := range c.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
			if c.want == ErrInsufficientFunds {
				var ife *InsufficientFundsError
				if !errors.As(err, &ife) || ife.Account != c.h.FeeInfo.Account || ife.Amount != c.h.FeeInfo.Amount || ife.Height != c.h.Height {
					t.Errorf("error %#v", err)
				}
			}
			blockAfter, feeAfter := c.s.Roots()
			if !bytes.Equal(blockBefore, blockAfter) || !bytes.Equal(feeBefore, feeAfter) {
				t.Error("a failed Apply changed the state")
			}
		})
	}
}

func TestApplyEdgeCases(t *testing.T) {
	builder, other := addr(0xb1), addr(0x0c)
	g := header(0, types.FeeInfo{})
	type bal = map[types.Address]types.U256
	cases := []struct {
		name    string
		genesis bal
		fee     types.FeeInfo
		credits []Credit
		want    bal // every account of the resulting tree
	}{
		{"empty block: zero fee from the zero address", bal{builder: u(5)}, types.FeeInfo{}, nil, bal{builder: u(5)}},
		{"charge the whole balance deletes the account", bal{builder: u(5)}, types.FeeInfo{Account: builder, Amount: u(5)}, nil,
			bal{recipient: u(5)}},
		{"max U256 charged in full", bal{builder: maxU256()}, types.FeeInfo{Account: builder, Amount: maxU256()}, nil,
			bal{recipient: maxU256()}},
		{"max U256 charged in part", bal{builder: maxU256()}, types.FeeInfo{Account: builder, Amount: u(1)}, nil,
			bal{builder: types.U256FromUint256(new(uint256.Int).SubUint64(maxU256().Uint256(), 1)), recipient: u(1)}},
		{"deposit up to max U256", bal{builder: u(1)}, types.FeeInfo{},
			[]Credit{{builder, types.U256FromUint256(new(uint256.Int).SubUint64(maxU256().Uint256(), 1))}}, bal{builder: maxU256()}},
		{"credit then charge in one block", bal{}, types.FeeInfo{Account: builder, Amount: u(7)}, []Credit{{builder, u(7)}},
			bal{recipient: u(7)}},
		{"several deposits to one account", bal{builder: u(1)}, types.FeeInfo{Account: builder, Amount: u(3)},
			[]Credit{{builder, u(1)}, {other, u(2)}, {builder, u(1)}}, bal{other: u(2), recipient: u(3)}},
		{"fee account is the recipient", bal{recipient: u(9)}, types.FeeInfo{Account: recipient, Amount: u(9)}, nil,
			bal{recipient: u(9)}},
		{"zero deposit to an absent account", bal{builder: u(5)}, types.FeeInfo{}, []Credit{{other, types.U256{}}}, bal{builder: u(5)}},
		{"deposit to the recipient", bal{builder: u(5)}, types.FeeInfo{Account: builder, Amount: u(2)}, []Credit{{recipient, u(10)}},
			bal{builder: u(3), recipient: u(12)}},
		{"zero fee from an absent account", bal{}, types.FeeInfo{Account: other}, nil, bal{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Genesis(c.genesis)
			next, err := s.Apply(g, header(1, c.fee), c.credits)
			if err != nil {
				t.Fatal(err)
			}
			got := maps.Collect(next.FeeTree().All())
			if !maps.Equal(got, c.want) {
				t.Fatalf("accounts %v, want %v", got, c.want)
			}
			if _, fee := next.Roots(); !bytes.Equal(fee, refFeeRoot(c.want)) {
				t.Fatal("fee root differs from the definition")
			}
			if !maps.Equal(maps.Collect(s.FeeTree().All()), withoutZeros(c.genesis)) {
				t.Fatal("Apply changed its receiver")
			}
		})
	}
}

func withoutZeros(m map[types.Address]types.U256) map[types.Address]types.U256 {
	out := map[types.Address]types.U256{}
	for a, b := range m {
		if !b.IsZero() {
			out[a] = b
		}
	}
	return out
}

func TestNewState(t *testing.T) {
	s := Genesis(map[types.Address]types.U256{addr(1): u(1)})
	g := header(0, types.FeeInfo{})
	s1, err := s.Apply(g, header(1, types.FeeInfo{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A state assembled from a fee tree and a frontier applies the next
	// block like the original.
	bt, err := BlockTreeFromFrontier(s1.BlockTree().Frontier())
	if err != nil {
		t.Fatal(err)
	}
	re := New(s1.FeeTree(), bt)
	h1, h2 := header(1, types.FeeInfo{}), header(2, types.FeeInfo{Account: addr(1), Amount: u(1)})
	a, err := s1.Apply(h1, h2, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := re.Apply(h1, h2, nil)
	if err != nil {
		t.Fatal(err)
	}
	ab, af := a.Roots()
	bb, bf := b.Roots()
	if !bytes.Equal(ab, bb) || !bytes.Equal(af, bf) {
		t.Fatal("restored state applies differently")
	}
}

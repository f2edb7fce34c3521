package consensus

import (
	"fmt"
	"math/big"
	"math/bits"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// Member is one entry of the stake table.
type Member struct {
	Key   keys.StakingPubKey
	Stake uint64
	DA    bool
}

// StakeTable is the ordered set of consensus participants. The order is the
// leader-rotation order. Stake sums use 128-bit arithmetic, so no table of
// 64-bit stakes can overflow them.
type StakeTable struct {
	members []Member
	index   map[keys.StakingPubKey]int
	total   stake
	// thresholds over the whole table
	success, failure, upgrade stake
	// DA committee
	daTotal, daSuccess stake
}

// stake is an unsigned 128-bit amount.
type stake struct{ hi, lo uint64 }

func (s stake) add(v uint64) stake {
	lo, carry := bits.Add64(s.lo, v, 0)
	return stake{hi: s.hi + carry, lo: lo}
}

func (s stake) less(t stake) bool { return s.hi < t.hi || (s.hi == t.hi && s.lo < t.lo) }

func (s stake) big() *big.Int {
	b := new(big.Int).SetUint64(s.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(s.lo))
}

func stakeFromBig(b *big.Int) stake {
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0)))
	hi := new(big.Int).Rsh(b, 64)
	return stake{hi: hi.Uint64(), lo: lo.Uint64()}
}

// NewStakeTable checks and indexes the members: at least one, each with a
// positive stake and a distinct key. Keys are assumed already validated
// (proof of possession) by whoever built the list, such as package genesis.
// The members flagged DA form the DA committee; when none is, every member
// is in it.
func NewStakeTable(members []Member) (*StakeTable, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("%w: no members", ErrInvalidStakeTable)
	}
	t := &StakeTable{members: append([]Member(nil), members...), index: make(map[keys.StakingPubKey]int, len(members))}
	for i, m := range members {
		if m.Stake == 0 {
			return nil, fmt.Errorf("%w: member %d (%s): stake 0, want > 0", ErrInvalidStakeTable, i, m.Key)
		}
		if j, dup := t.index[m.Key]; dup {
			return nil, fmt.Errorf("%w: member %d repeats the key of member %d", ErrInvalidStakeTable, i, j)
		}
		t.index[m.Key] = i
		t.total = t.total.add(m.Stake)
		if m.DA {
			t.daTotal = t.daTotal.add(m.Stake)
		}
	}
	if t.daTotal == (stake{}) {
		// No DA flag anywhere (an orchestrator-built table, say): the
		// whole table is the DA committee.
		for i := range t.members {
			t.members[i].DA = true
		}
		t.daTotal = t.total
	}
	w := t.total.big()
	third := new(big.Int).Div(w, big.NewInt(3))
	twoThirds := new(big.Int).Div(new(big.Int).Mul(w, big.NewInt(2)), big.NewInt(3))
	one := big.NewInt(1)
	t.success = stakeFromBig(new(big.Int).Add(twoThirds, one))
	t.failure = stakeFromBig(new(big.Int).Add(third, one))
	nineTenths := new(big.Int).Div(new(big.Int).Mul(w, big.NewInt(9)), big.NewInt(10))
	if nineTenths.Cmp(new(big.Int).Add(twoThirds, one)) > 0 {
		t.upgrade = stakeFromBig(nineTenths)
	} else {
		t.upgrade = t.success
	}
	da := t.daTotal.big()
	t.daSuccess = stakeFromBig(new(big.Int).Add(new(big.Int).Div(new(big.Int).Mul(da, big.NewInt(2)), big.NewInt(3)), one))
	return t, nil
}

// Len returns the number of members.
func (t *StakeTable) Len() int { return len(t.members) }

// Member returns member i.
func (t *StakeTable) Member(i int) Member { return t.members[i] }

// Index returns the position of key in the table.
func (t *StakeTable) Index(key keys.StakingPubKey) (int, bool) {
	i, ok := t.index[key]
	return i, ok
}

// Leader returns the index of the leader of view v: round robin in table order.
func (t *StakeTable) Leader(v types.ViewNumber) int { return int(uint64(v) % uint64(len(t.members))) }

// threshold kinds
type threshold int

const (
	thresholdSuccess threshold = iota // ⌊2W/3⌋+1
	thresholdFailure                  // ⌊W/3⌋+1
	thresholdUpgrade                  // max(⌊9W/10⌋, ⌊2W/3⌋+1)
	thresholdDA                       // ⌊2D/3⌋+1 of the DA stake D; signers must be DA members
)

func (t *StakeTable) threshold(k threshold) stake {
	switch k {
	case thresholdFailure:
		return t.failure
	case thresholdUpgrade:
		return t.upgrade
	case thresholdDA:
		return t.daSuccess
	default:
		return t.success
	}
}

// stakeOf sums the stake of the members in signers.
func (t *StakeTable) stakeOf(signers types.Bitmap) stake {
	var s stake
	for _, i := range signers.Indexes() {
		if i < len(t.members) {
			s = s.add(t.members[i].Stake)
		}
	}
	return s
}

// IsDA reports whether member i is in the DA committee.
func (t *StakeTable) IsDA(i int) bool { return i >= 0 && i < len(t.members) && t.members[i].DA }

// onlyDA reports whether every signer is a DA committee member.
func (t *StakeTable) onlyDA(signers types.Bitmap) bool {
	for _, i := range signers.Indexes() {
		if !t.IsDA(i) {
			return false
		}
	}
	return true
}

// reaches reports whether the signers' stake meets the threshold.
func (t *StakeTable) reaches(signers types.Bitmap, k threshold) bool {
	return !t.stakeOf(signers).less(t.threshold(k))
}

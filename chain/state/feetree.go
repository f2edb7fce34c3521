package state

import (
	"bytes"
	"iter"
	"math/bits"
	"slices"

	"github.com/gospresso/gospresso/types"
)

// FeeTree is the fee Merkle tree: a sparse Merkle tree of arity 256 and
// depth 20 keyed by the 20-byte fee account address (byte i of the address
// picks the child at depth i), whose leaves are the accounts' balances
// (docs/state.md, "The fee tree"). An account with a zero balance is
// absent.
//
// A FeeTree is an immutable value: Set and SetBalances return a new tree
// that shares every untouched node with the old one, which stays valid and
// unchanged. The zero FeeTree is the empty tree. FeeTree values are safe for
// concurrent use.
type FeeTree struct {
	root *feeNode
}

// feeNode is a non-empty subtree at some height h, which its parent knows.
// It is either a leaf (the only account in the subtree, stored at the top
// of it instead of at height 0: path compression) or a branch whose
// present children are kids, in index order. A branch holds at least two
// accounts, so a branch never has a single leaf child (that leaf moves up
// in its place). Nodes are never modified once built.
type feeNode struct {
	// hash is the hash of the subtree at the node's height, as the full
	// depth-20 tree defines it (for a leaf, its leaf hash carried up through
	// single-child nodes to the node's height).
	hash [32]byte
	// size is the number of accounts in the subtree.
	size int
	leaf bool
	// leaf fields
	addr types.Address
	bal  types.U256
	// branch fields
	bm   bitmap
	kids []*feeNode
}

func (n *feeNode) kid(i byte) *feeNode {
	if !n.bm.has(i) {
		return nil
	}
	return n.kids[n.bm.rank(i)]
}

// feeChainHash is the hash at height h of a subtree holding only addr with
// balance bal.
func feeChainHash(addr *types.Address, bal types.U256, h int) [32]byte {
	b := bal.Bytes32()
	x := feeLeafHash((*[20]byte)(addr), &b)
	for k := 1; k <= h; k++ {
		x = feeSingleHash(k, addr[FeeTreeDepth-k], &x)
	}
	return x
}

func newFeeLeaf(addr types.Address, bal types.U256, h int) *feeNode {
	return &feeNode{hash: feeChainHash(&addr, bal, h), size: 1, leaf: true, addr: addr, bal: bal}
}

// Len returns the number of accounts with a non-zero balance.
func (t FeeTree) Len() int {
	if t.root == nil {
		return 0
	}
	return t.root.size
}

// Root returns the 32-byte root hash, the value of a header's
// fee_merkle_tree_root.
func (t FeeTree) Root() []byte {
	if t.root == nil {
		r := feeDefaults[FeeTreeDepth]
		return r[:]
	}
	r := t.root.hash
	return r[:]
}

// Get returns the balance of addr and whether the account is present (has
// a non-zero balance).
func (t FeeTree) Get(addr types.Address) (types.U256, bool) {
	n := t.root
	for d := 0; n != nil; d++ {
		if n.leaf {
			if n.addr == addr {
				return n.bal, true
			}
			return types.U256{}, false
		}
		n = n.kid(addr[d])
	}
	return types.U256{}, false
}

// Set returns a tree in which addr has balance bal; a zero balance removes
// the account. t is unchanged.
func (t FeeTree) Set(addr types.Address, bal types.U256) FeeTree {
	u := feeUpdater{hasher: newFeeNodeHasher()}
	defer u.hasher.release()
	return FeeTree{root: u.set(t.root, FeeTreeDepth, []feeEntry{{addr, bal}})}
}

// SetBalances returns a tree in which every address of balances has its
// balance there (zero removes the account); other accounts keep theirs.
// It gives the same tree as the Set calls one by one, in any order, but
// hashes each changed node once. t is unchanged.
func (t FeeTree) SetBalances(balances map[types.Address]types.U256) FeeTree {
	if len(balances) == 0 {
		return t
	}
	es := make([]feeEntry, 0, len(balances))
	for a, b := range balances {
		es = append(es, feeEntry{a, b})
	}
	slices.SortFunc(es, func(x, y feeEntry) int { return bytes.Compare(x.addr[:], y.addr[:]) })
	u := feeUpdater{hasher: newFeeNodeHasher()}
	defer u.hasher.release()
	return FeeTree{root: u.set(t.root, FeeTreeDepth, es)}
}

// All yields every account and its balance in increasing address order.
func (t FeeTree) All() iter.Seq2[types.Address, types.U256] {
	return func(yield func(types.Address, types.U256) bool) {
		feeWalk(t.root, yield)
	}
}

func feeWalk(n *feeNode, yield func(types.Address, types.U256) bool) bool {
	if n == nil {
		return true
	}
	if n.leaf {
		return yield(n.addr, n.bal)
	}
	for _, k := range n.kids {
		if !feeWalk(k, yield) {
			return false
		}
	}
	return true
}

// feeTreeFromSorted builds a tree from entries sorted by strictly
// increasing address, all with non-zero balances.
func feeTreeFromSorted(es []feeEntry) FeeTree {
	u := feeUpdater{hasher: newFeeNodeHasher()}
	defer u.hasher.release()
	return FeeTree{root: u.build(FeeTreeDepth, es)}
}

type feeEntry struct {
	addr types.Address
	bal  types.U256
}

// feeUpdater applies sorted, distinct entries to a tree, copying the paths
// it changes.
type feeUpdater struct {
	hasher *feeNodeHasher
}

// set returns the subtree at height h that is n with the entries es (sorted,
// distinct, all under n's prefix) applied. It returns n itself when nothing
// changes.
func (u *feeUpdater) set(n *feeNode, h int, es []feeEntry) *feeNode {
	if len(es) == 0 {
		return n
	}
	if n == nil {
		return u.build(h, dropZero(es))
	}
	if n.leaf {
		i, found := slices.BinarySearchFunc(es, n.addr, func(e feeEntry, a types.Address) int {
			return bytes.Compare(e.addr[:], a[:])
		})
		if found {
			if len(es) == 1 && es[0].bal == n.bal {
				return n
			}
			return u.build(h, dropZero(es))
		}
		rest := dropZero(es)
		if len(rest) == 0 {
			return n // only deletions of absent accounts
		}
		merged := make([]feeEntry, 0, len(rest)+1)
		i, _ = slices.BinarySearchFunc(rest, n.addr, func(e feeEntry, a types.Address) int {
			return bytes.Compare(e.addr[:], a[:])
		})
		merged = append(merged, rest[:i]...)
		merged = append(merged, feeEntry{n.addr, n.bal})
		merged = append(merged, rest[i:]...)
		return u.build(h, merged)
	}

	// A branch: apply each group of entries to its child.
	d := FeeTreeDepth - h
	type change struct {
		i   byte
		kid *feeNode
	}
	var changes []change
	var cbm bitmap
	for len(es) > 0 {
		i := es[0].addr[d]
		j := 1
		for j < len(es) && es[j].addr[d] == i {
			j++
		}
		old := n.kid(i)
		if k := u.set(old, h-1, es[:j]); k != old {
			changes = append(changes, change{i, k})
			cbm.set(i)
		}
		es = es[j:]
	}
	if len(changes) == 0 {
		return n
	}
	var bm bitmap
	kids := make([]*feeNode, 0, len(n.kids)+len(changes))
	k, c := 0, 0
	for w := range 4 {
		for word := n.bm[w] | cbm[w]; word != 0; word &= word - 1 {
			i := byte(w<<6 | bits.TrailingZeros64(word))
			var kid *feeNode
			if cbm.has(i) {
				kid = changes[c].kid
				c++
			} else {
				kid = n.kids[k]
			}
			if n.bm.has(i) {
				k++
			}
			if kid != nil {
				bm.set(i)
				kids = append(kids, kid)
			}
		}
	}
	return u.branch(h, bm, kids)
}

// build returns the subtree at height h holding exactly es (sorted,
// distinct, non-zero balances).
func (u *feeUpdater) build(h int, es []feeEntry) *feeNode {
	switch len(es) {
	case 0:
		return nil
	case 1:
		return newFeeLeaf(es[0].addr, es[0].bal, h)
	}
	// Two distinct addresses under one prefix differ below it, so h ≥ 1.
	d := FeeTreeDepth - h
	var bm bitmap
	kids := make([]*feeNode, 0, min(len(es), FeeTreeArity))
	for len(es) > 0 {
		i := es[0].addr[d]
		j := 1
		for j < len(es) && es[j].addr[d] == i {
			j++
		}
		bm.set(i)
		kids = append(kids, u.build(h-1, es[:j]))
		es = es[j:]
	}
	return u.branch(h, bm, kids)
}

// branch returns the node at height h with the present children kids:
// nothing when there are none, the leaf itself moved up when it is the only
// one, a branch otherwise.
func (u *feeUpdater) branch(h int, bm bitmap, kids []*feeNode) *feeNode {
	switch {
	case len(kids) == 0:
		return nil
	case len(kids) == 1 && kids[0].leaf:
		// The leaf's hash at height h-1 carried up one level.
		l := kids[0]
		return &feeNode{hash: feeSingleHash(h, l.addr[FeeTreeDepth-h], &l.hash), size: 1, leaf: true, addr: l.addr, bal: l.bal}
	}
	n := &feeNode{bm: bm, kids: kids}
	for _, k := range kids {
		n.size += k.size
	}
	if len(kids) == 1 {
		n.hash = feeSingleHash(h, bm.first(), &kids[0].hash)
	} else {
		n.hash = u.hasher.hash(h, &bm, func(j int) *[32]byte { return &kids[j].hash })
	}
	return n
}

// dropZero returns es without its zero balances (es itself when it has
// none).
func dropZero(es []feeEntry) []feeEntry {
	for i := range es {
		if es[i].bal.IsZero() {
			out := slices.Clone(es[:i])
			for _, e := range es[i+1:] {
				if !e.bal.IsZero() {
					out = append(out, e)
				}
			}
			return out
		}
	}
	return es
}

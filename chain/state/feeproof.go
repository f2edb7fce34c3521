package state

import (
	"bytes"
	"fmt"

	"github.com/gospresso/gospresso/types"
)

// FeeProof proves the balance of one fee account, or its absence, against
// a fee-tree root (docs/state.md, "Fee proofs"). Its JSON form is
//
//	{"address": "0x…", "balance": "<decimal>",
//	 "path": [{"bitmap": "0x<64 hex>", "siblings": ["0x<64 hex>", …]}, …]}
//
// Path lists the nodes from the root down along the address's path: node i
// sits at height 20-i and its child on the path is number address[i]. A
// membership proof has 20 nodes and a non-zero balance; a non-membership
// proof ends at the first node where the address's child is absent, and
// has balance "0".
type FeeProof struct {
	Address types.Address  `json:"address"`
	Balance types.U256     `json:"balance"`
	Path    []FeeProofNode `json:"path"`
}

// FeeProofNode is one node of a fee proof: which of its 256 children are
// present, and the hashes of the present children other than the one on
// the proof's path, in index order.
type FeeProofNode struct {
	Bitmap   Bitmap       `json:"bitmap"`
	Siblings []types.Hash `json:"siblings"`
}

// Bitmap is the occupancy of a fee-tree node's 256 children: child i is
// present when bit i%8 of byte i/8 is set. Its text form is "0x" and 64 hex
// digits.
type Bitmap [32]byte

// Has reports whether child i is present.
func (b Bitmap) Has(i byte) bool { return b[i>>3]>>(i&7)&1 != 0 }

// MarshalText encodes b as "0x" and 64 lowercase hex digits.
func (b Bitmap) MarshalText() ([]byte, error) { return types.Hash(b).MarshalText() }

// UnmarshalText decodes "0x" and 64 hex digits.
func (b *Bitmap) UnmarshalText(text []byte) error {
	var h types.Hash
	if err := h.UnmarshalText(text); err != nil {
		return fmt.Errorf("bitmap: %w", err)
	}
	*b = Bitmap(h)
	return nil
}

// Prove returns a proof of addr's balance (a membership proof) or of its
// absence (a non-membership proof) against t.Root().
func (t FeeTree) Prove(addr types.Address) FeeProof {
	p := FeeProof{Address: addr}
	n := t.root
	if n == nil {
		p.Path = []FeeProofNode{{Siblings: []types.Hash{}}}
		return p
	}
	for h := FeeTreeDepth; ; h-- {
		d := FeeTreeDepth - h
		if n.leaf {
			// The subtree at height h holds only n: its nodes down to
			// where n's address parts from addr have a single child.
			for ; h >= 1; h-- {
				d = FeeTreeDepth - h
				i := n.addr[d]
				node := FeeProofNode{Siblings: []types.Hash{}}
				node.Bitmap[i>>3] = 1 << (i & 7)
				if i != addr[d] {
					node.Siblings = append(node.Siblings, types.Hash(feeChainHash(&n.addr, n.bal, h-1)))
					p.Path = append(p.Path, node)
					return p
				}
				p.Path = append(p.Path, node)
			}
			p.Balance = n.bal
			return p
		}
		i := addr[d]
		node := FeeProofNode{Bitmap: n.bm.bytes(), Siblings: make([]types.Hash, 0, len(n.kids))}
		pos := -1
		if n.bm.has(i) {
			pos = n.bm.rank(i)
		}
		for j, k := range n.kids {
			if j != pos {
				node.Siblings = append(node.Siblings, types.Hash(k.hash))
			}
		}
		p.Path = append(p.Path, node)
		if pos < 0 {
			return p
		}
		n = n.kids[pos]
	}
}

// VerifyFeeProof checks proof against a fee-tree root (a header's
// fee_merkle_tree_root) for the account addr. It returns addr's balance
// and whether the account is present; an absent account has balance 0.
// Any proof that does not verify, or is malformed, gives an error wrapping
// ErrInvalidProof. The work is bounded by the tree's shape (at most 20
// nodes of 256 children), whatever the proof holds.
func VerifyFeeProof(root []byte, addr types.Address, proof *FeeProof) (balance types.U256, present bool, err error) {
	fail := func(format string, args ...any) (types.U256, bool, error) {
		return types.U256{}, false, fmt.Errorf("%w: fee proof for %s: %s", ErrInvalidProof, addr, fmt.Sprintf(format, args...))
	}
	if len(root) != 32 {
		return fail("root is %d bytes, want 32", len(root))
	}
	if proof == nil {
		return fail("no proof")
	}
	if proof.Address != addr {
		return fail("the proof is for %s", proof.Address)
	}
	n := len(proof.Path)
	if n < 1 || n > FeeTreeDepth {
		return fail("path of %d nodes, want 1 to %d", n, FeeTreeDepth)
	}
	member := proof.Path[n-1].Bitmap.Has(addr[n-1])
	switch {
	case member && n != FeeTreeDepth:
		return fail("the path stops at height %d, above the leaf, though the address's child is present", FeeTreeDepth-n+1)
	case member && proof.Balance.IsZero():
		return fail("membership proof with a zero balance")
	case !member && !proof.Balance.IsZero():
		return fail("non-membership proof with balance %s", proof.Balance)
	}
	var cur [32]byte
	if member {
		b := proof.Balance.Bytes32()
		cur = feeLeafHash((*[20]byte)(&addr), &b)
	}
	hasher := newFeeNodeHasher()
	defer hasher.release()
	for i := n - 1; i >= 0; i-- {
		node := &proof.Path[i]
		h := FeeTreeDepth - i
		bm := bitmapFromBytes(node.Bitmap)
		onPath := i < n-1 || member
		if onPath && !bm.has(addr[i]) {
			return fail("the node at height %d lacks the address's child %d", h, addr[i])
		}
		count := bm.count()
		if i > 0 && count == 0 {
			return fail("the node at height %d has no children", h)
		}
		want := count
		pos := -1
		if onPath {
			want--
			pos = bm.rank(addr[i])
		}
		if len(node.Siblings) != want {
			return fail("the node at height %d has %d siblings, its bitmap says %d", h, len(node.Siblings), want)
		}
		sib := node.Siblings
		cur = hasher.hash(h, &bm, func(j int) *[32]byte {
			switch {
			case j == pos:
				return &cur
			case pos >= 0 && j > pos:
				return (*[32]byte)(&sib[j-1])
			default:
				return (*[32]byte)(&sib[j])
			}
		})
	}
	if !bytes.Equal(cur[:], root) {
		return fail("the proof does not lead to root %x", root)
	}
	return proof.Balance, member, nil
}

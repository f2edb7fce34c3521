package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/gospresso/gospresso/types"
)

func TestFeeTreeEmpty(t *testing.T) {
	var tr FeeTree
	if tr.Len() != 0 {
		t.Fatalf("Len = %d", tr.Len())
	}
	if got, want := tr.Root(), refFeeRoot(nil); !bytes.Equal(got, want) {
		t.Fatalf("empty root %x, definition gives %x", got, want)
	}
	if _, ok := tr.Get(addr(1)); ok {
		t.Fatal("Get on the empty tree found an account")
	}
	// Deleting from the empty tree changes nothing.
	if got := tr.Set(addr(1), types.U256{}); got.root != nil {
		t.Fatal("zero Set on the empty tree made a node")
	}
}

// TestFeeTreeRootGolden pins the hash definition of docs/state.md.
func TestFeeTreeRootGolden(t *testing.T) {
	var tr FeeTree
	cases := []struct {
		name string
		tree FeeTree
		want string
	}{
		{"empty", tr, "dbe726e81a7221a385e007ef9e834a975a4b528c6f55a5d2ece288bee831a3d1"},
		{"0x…01 has 1", tr.Set(addr(1), u(1)), "367bf380625b5772c776c022cd16c08732b5ea568d709a746a075edc22061466"},
		{"and 0x…02 has 1000", tr.Set(addr(1), u(1)).Set(addr(2), u(1000)), "df2126d65c76ad8773f8e0e504a51684c697819bf6a75864de5be053c5203580"},
	}
	for _, c := range cases {
		if got := mustHex(t, c.tree.Root()); got != c.want {
			t.Errorf("%s: root %s, want %s", c.name, got, c.want)
		}
		if got := mustHex(t, refFeeRoot(maps.Collect(c.tree.All()))); got != c.want {
			t.Errorf("%s: definition gives %s, want %s", c.name, got, c.want)
		}
	}
}

func TestFeeTreeMatchesDefinition(t *testing.T) {
	r := newRand(1)
	for _, n := range []int{1, 2, 3, 10, 300, 2000} {
		balances := map[types.Address]types.U256{}
		base := randAddr(r)
		for len(balances) < n {
			var a types.Address
			switch r.IntN(3) {
			case 0:
				a = randAddr(r)
			default: // long shared prefixes, down to the last byte
				a = addrWithPrefix(r, base, r.IntN(20))
			}
			balances[a] = u(1 + r.Uint64N(1e18))
		}
		var tr FeeTree
		for a, b := range balances {
			tr = tr.Set(a, b)
		}
		if got, want := tr.Root(), refFeeRoot(balances); !bytes.Equal(got, want) {
			t.Fatalf("%d accounts: root %x, definition gives %x", n, got, want)
		}
		if tr.Len() != n {
			t.Fatalf("Len = %d, want %d", tr.Len(), n)
		}
		checkFeeInvariants(t, tr.root, FeeTreeDepth)
	}
}

// checkFeeInvariants checks the shape rules of feeNode: no empty branch,
// no branch with a single leaf child, sizes and cached hashes right.
func checkFeeInvariants(t *testing.T, n *feeNode, h int) int {
	t.Helper()
	if n == nil {
		return 0
	}
	if n.leaf {
		if n.bal.IsZero() {
			t.Fatalf("leaf %s with zero balance", n.addr)
		}
		if n.hash != feeChainHash(&n.addr, n.bal, h) {
			t.Fatalf("leaf %s at height %d: stale hash", n.addr, h)
		}
		return 1
	}
	if len(n.kids) == 0 || n.bm.count() != len(n.kids) {
		t.Fatalf("branch at height %d: %d kids, bitmap %d", h, len(n.kids), n.bm.count())
	}
	if len(n.kids) == 1 && n.kids[0].leaf {
		t.Fatalf("branch at height %d with a single leaf child", h)
	}
	size := 0
	for _, k := range n.kids {
		size += checkFeeInvariants(t, k, h-1)
	}
	if size != n.size || size < 2 {
		t.Fatalf("branch at height %d: size %d, counted %d", h, n.size, size)
	}
	return size
}

func TestFeeTreeOrderIndependent(t *testing.T) {
	r := newRand(2)
	balances := map[types.Address]types.U256{}
	base := randAddr(r)
	for range 500 {
		balances[addrWithPrefix(r, base, r.IntN(4))] = u(1 + r.Uint64N(1000))
	}
	addrs := slices.Collect(maps.Keys(balances))
	want := FeeTree{}.SetBalances(balances).Root()
	for trial := range 5 {
		r.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
		var tr FeeTree
		// Insert with detours: a wrong balance first, or a temporary
		// account that is deleted again.
		for i, a := range addrs {
			if i%7 == 0 {
				tr = tr.Set(a, u(12345))
			}
			if i%11 == 0 {
				tmp := addrWithPrefix(r, a, r.IntN(20))
				tr = tr.Set(tmp, u(1))
				tr = tr.Set(a, balances[a]).Set(tmp, types.U256{})
				continue
			}
			tr = tr.Set(a, balances[a])
		}
		if !bytes.Equal(tr.Root(), want) {
			t.Fatalf("trial %d: root %x, want %x", trial, tr.Root(), want)
		}
		checkFeeInvariants(t, tr.root, FeeTreeDepth)
	}
	// Deleting everything, in another order, gives the empty tree.
	tr := FeeTree{}.SetBalances(balances)
	r.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	for i, a := range addrs {
		tr = tr.Set(a, types.U256{})
		if i%50 == 0 {
			checkFeeInvariants(t, tr.root, FeeTreeDepth)
		}
	}
	if tr.root != nil || !bytes.Equal(tr.Root(), FeeTree{}.Root()) {
		t.Fatal("deleting every account did not give the empty tree")
	}
}

func TestFeeTreeSetBalancesBatch(t *testing.T) {
	r := newRand(3)
	start := map[types.Address]types.U256{}
	for range 1000 {
		start[randAddr(r)] = u(1 + r.Uint64N(1000))
	}
	tr := Genesis(start).FeeTree()
	// A batch mixing updates, deletions, new accounts and deletions of
	// absent accounts.
	batch := map[types.Address]types.U256{}
	want := maps.Clone(start)
	i := 0
	for a := range start {
		switch i % 3 {
		case 0:
			batch[a] = types.U256{}
			delete(want, a)
		case 1:
			batch[a] = u(7)
			want[a] = u(7)
		}
		i++
		if i == 300 {
			break
		}
	}
	for range 300 {
		a := randAddr(r)
		batch[a] = u(9)
		want[a] = u(9)
		batch[randAddr(r)] = types.U256{}
	}
	got := tr.SetBalances(batch)
	if !bytes.Equal(got.Root(), refFeeRoot(want)) {
		t.Fatal("SetBalances root differs from the definition")
	}
	seq := tr
	for a, b := range batch {
		seq = seq.Set(a, b)
	}
	if !bytes.Equal(got.Root(), seq.Root()) {
		t.Fatal("SetBalances differs from Set one by one")
	}
	if got.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", got.Len(), len(want))
	}
	checkFeeInvariants(t, got.root, FeeTreeDepth)
	// All yields every account once, in address order.
	var prev *types.Address
	n := 0
	for a, b := range got.All() {
		if prev != nil && bytes.Compare(prev[:], a[:]) >= 0 {
			t.Fatalf("All: %s after %s", a, prev)
		}
		if want[a] != b {
			t.Fatalf("All: %s has %s, want %s", a, b, want[a])
		}
		prev = &a
		n++
	}
	if n != len(want) {
		t.Fatalf("All yielded %d accounts, want %d", n, len(want))
	}
}

func TestFeeTreeGetSet(t *testing.T) {
	a, b := addr(1), addr(2)
	// b shares the first 19 bytes with a: the deepest split there is.
	cases := []struct {
		name  string
		ops   func(FeeTree) FeeTree
		check map[types.Address]types.U256 // expected balances; zero = absent
	}{
		{"insert", func(t FeeTree) FeeTree { return t.Set(a, u(5)) }, map[types.Address]types.U256{a: u(5), b: {}}},
		{"update", func(t FeeTree) FeeTree { return t.Set(a, u(5)).Set(a, u(6)) }, map[types.Address]types.U256{a: u(6)}},
		{"delete to zero", func(t FeeTree) FeeTree { return t.Set(a, u(5)).Set(a, types.U256{}) }, map[types.Address]types.U256{a: {}}},
		{"delete absent", func(t FeeTree) FeeTree { return t.Set(a, u(5)).Set(b, types.U256{}) }, map[types.Address]types.U256{a: u(5), b: {}}},
		{"siblings at the last byte", func(t FeeTree) FeeTree { return t.Set(a, u(5)).Set(b, u(6)) }, map[types.Address]types.U256{a: u(5), b: u(6)}},
		{"delete one of two siblings", func(t FeeTree) FeeTree { return t.Set(a, u(5)).Set(b, u(6)).Set(a, types.U256{}) }, map[types.Address]types.U256{a: {}, b: u(6)}},
		{"max U256", func(t FeeTree) FeeTree { return t.Set(a, maxU256()) }, map[types.Address]types.U256{a: maxU256()}},
		{"zero address", func(t FeeTree) FeeTree { return t.Set(types.Address{}, u(1)) }, map[types.Address]types.U256{{}: u(1), a: {}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := c.ops(FeeTree{})
			want := map[types.Address]types.U256{}
			for x, bal := range c.check {
				got, ok := tr.Get(x)
				if ok != !bal.IsZero() || got != bal {
					t.Errorf("Get(%s) = %s, %v; want %s", x, got, ok, bal)
				}
				if !bal.IsZero() {
					want[x] = bal
				}
			}
			if tr.Len() != len(want) {
				t.Errorf("Len = %d, want %d", tr.Len(), len(want))
			}
			if !bytes.Equal(tr.Root(), refFeeRoot(want)) {
				t.Errorf("root differs from the definition")
			}
			checkFeeInvariants(t, tr.root, FeeTreeDepth)
		})
	}
}

func TestFeeTreePersistence(t *testing.T) {
	r := newRand(4)
	balances := map[types.Address]types.U256{}
	for range 200 {
		balances[randAddr(r)] = u(1 + r.Uint64N(100))
	}
	v0 := FeeTree{}.SetBalances(balances)
	root0 := v0.Root()
	versions := []FeeTree{v0}
	roots := [][]byte{root0}
	snapshots := []map[types.Address]types.U256{maps.Clone(balances)}
	cur := v0
	curBal := maps.Clone(balances)
	for i := range 100 {
		var a types.Address
		if i%2 == 0 {
			for x := range curBal {
				a = x
				break
			}
		} else {
			a = randAddr(r)
		}
		nb := u(r.Uint64N(3))
		cur = cur.Set(a, nb)
		if nb.IsZero() {
			delete(curBal, a)
		} else {
			curBal[a] = nb
		}
		versions = append(versions, cur)
		roots = append(roots, cur.Root())
		snapshots = append(snapshots, maps.Clone(curBal))
	}
	for i, v := range versions {
		if !bytes.Equal(v.Root(), roots[i]) {
			t.Fatalf("version %d: root changed after later updates", i)
		}
		if v.Len() != len(snapshots[i]) {
			t.Fatalf("version %d: Len %d, want %d", i, v.Len(), len(snapshots[i]))
		}
		for a, b := range snapshots[i] {
			if got, ok := v.Get(a); !ok || got != b {
				t.Fatalf("version %d: %s = %s, want %s", i, a, got, b)
			}
		}
	}
	if !bytes.Equal(versions[len(versions)-1].Root(), refFeeRoot(curBal)) {
		t.Fatal("last version differs from the definition")
	}
	// Root returns a copy: writing to it changes nothing.
	r0 := v0.Root()
	r0[0] ^= 1
	if !bytes.Equal(v0.Root(), root0) {
		t.Fatal("Root shares memory with the tree")
	}
}

func TestFeeProofs(t *testing.T) {
	r := newRand(5)
	base := randAddr(r)
	balances := map[types.Address]types.U256{}
	for range 300 {
		balances[randAddr(r)] = u(1 + r.Uint64N(1e9))
	}
	for n := range 20 { // prefixes of every length
		balances[addrWithPrefix(r, base, n)] = u(uint64(n + 1))
	}
	balances[base] = maxU256()
	trees := map[string]FeeTree{
		"empty":  {},
		"single": FeeTree{}.Set(base, u(3)),
		"many":   FeeTree{}.SetBalances(balances),
	}
	for name, tr := range trees {
		root := tr.Root()
		var queries []types.Address
		for a := range tr.All() {
			queries = append(queries, a)
		}
		queries = append(queries, randAddr(r), randAddr(r))
		for n := range 21 {
			queries = append(queries, addrWithPrefix(r, base, n))
		}
		for _, q := range queries {
			want, wantOK := tr.Get(q)
			p := tr.Prove(q)
			got, ok, err := VerifyFeeProof(root, q, &p)
			if err != nil || ok != wantOK || got != want {
				t.Fatalf("%s: %s: verify = %s, %v, %v; want %s, %v", name, q, got, ok, err, want, wantOK)
			}
			if ok && len(p.Path) != FeeTreeDepth {
				t.Fatalf("%s: membership proof with %d nodes", name, len(p.Path))
			}
			// Through JSON and back.
			js, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var p2 FeeProof
			if err := json.Unmarshal(js, &p2); err != nil {
				t.Fatalf("%s: %v in %s", name, err, js)
			}
			if got, ok, err := VerifyFeeProof(root, q, &p2); err != nil || ok != wantOK || got != want {
				t.Fatalf("%s: after JSON: %s, %v, %v", name, got, ok, err)
			}
			checkFeeProofTampering(t, root, q, p)
		}
	}
}

// checkFeeProofTampering checks that changing anything in a valid proof,
// or verifying it against another root or address, fails.
func checkFeeProofTampering(t *testing.T, root []byte, q types.Address, p FeeProof) {
	t.Helper()
	bad := func(what string, root []byte, q types.Address, p *FeeProof) {
		t.Helper()
		if _, _, err := VerifyFeeProof(root, q, p); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("%s: verify gave %v, want ErrInvalidProof", what, err)
		}
	}
	clone := func() FeeProof {
		c := p
		c.Path = slices.Clone(p.Path)
		for i := range c.Path {
			c.Path[i].Siblings = slices.Clone(c.Path[i].Siblings)
		}
		return c
	}
	wrongRoot := slices.Clone(root)
	wrongRoot[31] ^= 1
	bad("wrong root", wrongRoot, q, &p)
	bad("short root", root[:31], q, &p)
	bad("nil proof", root, q, nil)
	other := q
	other[19] ^= 1
	bad("other address", root, other, &p)
	c := clone()
	if !p.Balance.IsZero() {
		// (A non-membership proof also proves the absence of every
		// address under the same absent child.)
		c.Address = other
		bad("other address in both", root, other, &c)
	}

	c = clone()
	if p.Balance.IsZero() {
		c.Balance = u(1)
	} else {
		c.Balance = types.U256FromUint256(new(uint256.Int).AddUint64(p.Balance.Uint256(), 1))
		if c.Balance.IsZero() { // max + 1 wrapped
			c.Balance = u(1)
		}
	}
	bad("wrong balance", root, q, &c)
	if !p.Balance.IsZero() {
		c = clone()
		c.Balance = types.U256{}
		bad("zero balance on a membership proof", root, q, &c)
	}

	for i := range p.Path {
		if len(p.Path[i].Siblings) > 0 {
			c = clone()
			c.Path[i].Siblings[0][5] ^= 0x10
			bad("changed sibling", root, q, &c)
			c = clone()
			c.Path[i].Siblings = c.Path[i].Siblings[1:]
			bad("dropped sibling", root, q, &c)
		}
		c = clone()
		c.Path[i].Siblings = append(c.Path[i].Siblings, types.Hash{})
		bad("extra sibling", root, q, &c)
		c = clone()
		c.Path[i].Bitmap[q[i]/8] ^= 1 << (q[i] % 8)
		bad("flipped path bit", root, q, &c)
	}
	if len(p.Path) > 1 {
		c = clone()
		c.Path = c.Path[:len(c.Path)-1]
		bad("truncated path", root, q, &c)
	}
	c = clone()
	c.Path = append(c.Path, FeeProofNode{})
	bad("extended path", root, q, &c)
	c = clone()
	c.Path = nil
	bad("no path", root, q, &c)
}

func TestFeeProofJSONShape(t *testing.T) {
	tr := FeeTree{}.Set(addr(1), u(1000)).Set(addr(2), u(5))
	p := tr.Prove(addr(2))
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(js)
	for _, want := range []string{
		`{"address":"0x0000000000000000000000000000000000000002","balance":"5","path":[{"bitmap":"0x01000000`,
		`"siblings":[]}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON %s lacks %s", s, want)
		}
	}
	// The last node holds children 1 and 2; the sibling is account 1's leaf.
	last := p.Path[len(p.Path)-1]
	if !last.Bitmap.Has(1) || !last.Bitmap.Has(2) || len(last.Siblings) != 1 {
		t.Fatalf("last node %+v", last)
	}
	// Non-membership in the empty tree: one node, no children.
	e, _ := json.Marshal(FeeTree{}.Prove(addr(9)))
	want := `{"address":"0x0000000000000000000000000000000000000009","balance":"0","path":[{"bitmap":"0x0000000000000000000000000000000000000000000000000000000000000000","siblings":[]}]}`
	if string(e) != want {
		t.Fatalf("empty-tree proof\n got %s\nwant %s", e, want)
	}
	var b Bitmap
	if err := b.UnmarshalText([]byte("0x12")); err == nil {
		t.Fatal("short bitmap accepted")
	}
}

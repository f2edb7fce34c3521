package chain_test

import (
	"testing"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/types"
)

func vidPayload(t testing.TB) types.Payload {
	p, err := types.EncodePayload([]types.Transaction{
		{Namespace: 1, Payload: []byte("one")}, {Namespace: 2, Payload: []byte("two")}, {Namespace: 1, Payload: []byte("three")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fourMemberRules are chain rules whose VID is over 4 members of equal
// stake.
func fourMemberRules(t testing.TB) chain.Rules {
	t.Helper()
	params, err := chain.VIDParams([]uint64{1, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	return chain.Rules{VID: params}
}

// TestVIDSchemeShares disperses over a 4-member table: every member's
// share checks against the commitment for that member only, the
// commitment is the rules' payload commitment, and a flipped byte fails.
func TestVIDSchemeShares(t *testing.T) {
	rules := fourMemberRules(t)
	p := vidPayload(t)
	c, shares, err := rules.VIDScheme().Disperse(&p)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := rules.PayloadCommitment(&p); want != c || len(shares) != 4 {
		t.Fatalf("dispersal commitment %s and %d shares, want %s and 4", c.Short(), len(shares), want.Short())
	}
	s := rules.VIDScheme()
	for i, sh := range shares {
		if err := s.VerifyShare(c, i, sh); err != nil {
			t.Fatalf("member %d's share: %v", i, err)
		}
		if err := s.VerifyShare(c, (i+1)%4, sh); err == nil {
			t.Fatalf("member %d's share checked as member %d's", i, (i+1)%4)
		}
		bad := append([]byte(nil), sh...)
		bad[len(bad)-1] ^= 1
		if err := s.VerifyShare(c, i, bad); err == nil {
			t.Fatalf("member %d's share with a flipped byte checked", i)
		}
	}
}

// TestVIDSchemeCommitRemembers: Commit is the rules' payload commitment,
// for each of more payloads than it remembers, asked again in any order
// (the memory is keyed by the payload's SHA-256, so two payloads never
// share an entry), and a payload that is not one is an error.
func TestVIDSchemeCommitRemembers(t *testing.T) {
	rules := fourMemberRules(t)
	s := rules.VIDScheme()
	var payloads []types.Payload
	for i := range 40 {
		p, err := types.EncodePayload([]types.Transaction{{Namespace: uint64(i%3 + 1), Payload: []byte{byte(i)}}})
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, p)
	}
	for round := range 2 {
		for i := range payloads {
			p := &payloads[(i*7+round)%len(payloads)]
			got, err := s.Commit(p)
			want, _ := rules.PayloadCommitment(p)
			if err != nil || got != want {
				t.Fatalf("round %d: Commit = %s, %v; want %s", round, got.Short(), err, want.Short())
			}
		}
	}
	bad := types.Payload{Raw: []byte{1, 2, 3}, NsTable: types.NsTable{Bytes: []byte{9}}}
	if _, err := s.Commit(&bad); err == nil {
		t.Fatal("a payload with a broken namespace table got a commitment")
	}
}

// TestVIDSchemePrepareKeepsTheDispersal: the dispersal of a prepared
// payload is the one Disperse hands out, its shares check, and another
// payload is dispersed afresh.
func TestVIDSchemePrepareKeepsTheDispersal(t *testing.T) {
	rules := fourMemberRules(t)
	s := rules.VIDScheme()
	p := vidPayload(t)
	c, err := s.Prepare(&p)
	if want, _ := rules.PayloadCommitment(&p); err != nil || c != want {
		t.Fatalf("Prepare = %s, %v; want %s", c.Short(), err, want.Short())
	}
	got, shares, err := s.Disperse(&p)
	if err != nil || got != c || len(shares) != 4 {
		t.Fatalf("Disperse after Prepare: %s, %d shares, %v", got.Short(), len(shares), err)
	}
	for i, sh := range shares {
		if err := s.VerifyShare(c, i, sh); err != nil {
			t.Fatalf("member %d's kept share: %v", i, err)
		}
	}
	other, err := types.EncodePayload([]types.Transaction{{Namespace: 5, Payload: []byte("other")}})
	if err != nil {
		t.Fatal(err)
	}
	oc, oshares, err := s.Disperse(&other)
	if want, _ := rules.PayloadCommitment(&other); err != nil || oc != want || s.VerifyShare(oc, 0, oshares[0]) != nil {
		t.Fatalf("Disperse of another payload after Prepare: %s, %v; want %s with its own shares", oc.Short(), err, want.Short())
	}
}

// FuzzDecodeVIDShare feeds arbitrary bytes to the share decoder and
// checker: never a panic, and nothing but the real share checks.
func FuzzDecodeVIDShare(f *testing.F) {
	params, err := chain.VIDParams([]uint64{1, 1, 1, 1})
	if err != nil {
		f.Fatal(err)
	}
	s := chain.Rules{VID: params}.VIDScheme()
	p := vidPayload(f)
	c, shares, err := s.Disperse(&p)
	if err != nil {
		f.Fatal(err)
	}
	for _, sh := range shares {
		f.Add(sh)
	}
	f.Add([]byte{0, 0, 0, 9, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = chain.DecodeVIDShare(b)
		if s.VerifyShare(c, 0, b) == nil && string(b) != string(shares[0]) {
			// Another encoding of member 0's shards may exist only if
			// the decoder is not canonical; the shards must still be
			// member 0's (the Merkle proofs checked them).
			common, sh, err := chain.DecodeVIDShare(b)
			if err != nil || common.Commit() != c || sh.Node != 0 {
				t.Fatalf("bytes %x checked as member 0's share", b)
			}
		}
	})
}

package keys_test

import (
	"testing"

	"github.com/gospresso/gospresso/keys"
)

// TestVerifyBatch: a batch of a single signature and an aggregate over
// another message verifies; a batch with either one wrong (another
// signature, a signer missing, another message, an extra signature added)
// fails, and so does an empty one.
func TestVerifyBatch(t *testing.T) {
	var ks []keys.StakingKey
	for i := range 4 {
		k, err := keys.DeriveKeys([32]byte{31: 5}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k.Staking)
	}
	m1, m2 := []byte("proposal"), []byte("quorum vote")
	single := ks[0].Sign(m1)
	var sigs []keys.Signature
	var pubs []keys.StakingPubKey
	for _, k := range ks[1:] {
		sigs = append(sigs, k.Sign(m2))
		pubs = append(pubs, k.PubKey())
	}
	agg, err := keys.AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	good := []keys.Check{{Pubs: []keys.StakingPubKey{ks[0].PubKey()}, Msg: m1, Sig: single}, {Pubs: pubs, Msg: m2, Sig: agg}}
	for _, batch := range [][]keys.Check{good, hashed(good), good[:1], hashed(good[1:]), {good[0], hashed(good[1:])[0]}} {
		if !keys.VerifyBatch(batch) {
			t.Fatalf("a valid batch of %d checks does not verify", len(batch))
		}
	}
	extra := ks[0].Sign([]byte("something else"))
	padded, err := keys.AggregateSignatures([]keys.Signature{single, extra})
	if err != nil {
		t.Fatal(err)
	}
	for name, batch := range map[string][]keys.Check{
		"wrong single":    {{Pubs: []keys.StakingPubKey{ks[0].PubKey()}, Msg: m1, Sig: extra}, good[1]},
		"wrong aggregate": {good[0], {Pubs: pubs[1:], Msg: m2, Sig: agg}},
		"wrong message":   {good[0], {Pubs: pubs, Msg: m1, Sig: agg}},
		"extra signature": {{Pubs: []keys.StakingPubKey{ks[0].PubKey()}, Msg: m1, Sig: padded}, good[1]},
		"empty":           {},
	} {
		if keys.VerifyBatch(batch) {
			t.Errorf("%s: a bad batch verified", name)
		}
		if len(batch) > 0 && keys.VerifyBatch(hashed(batch)) {
			t.Errorf("%s, messages hashed beforehand: a bad batch verified", name)
		}
		// The bad check alone, unweighted.
		if len(batch) > 0 {
			bad := batch[:1]
			if name == "wrong aggregate" || name == "wrong message" {
				bad = batch[1:]
			}
			if keys.VerifyBatch(bad) || keys.VerifyBatch(hashed(bad)) {
				t.Errorf("%s: the bad check alone verified", name)
			}
		}
	}
}

// hashed returns the checks with their messages hashed beforehand.
func hashed(checks []keys.Check) []keys.Check {
	out := make([]keys.Check, len(checks))
	for i, c := range checks {
		c.Point, c.Msg = keys.HashMessage(c.Msg), nil
		out[i] = c
	}
	return out
}

// TestSignPoint: signing a hashed message gives the signature of the
// message.
func TestSignPoint(t *testing.T) {
	k, err := keys.DeriveKeys([32]byte{31: 6}, 0)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("quorum vote")
	if got, want := k.Staking.SignPoint(keys.HashMessage(msg)), k.Staking.Sign(msg); got != want {
		t.Fatalf("SignPoint gives %s, Sign %s", got, want)
	}
	if !(keys.StakingKey{}).SignPoint(keys.HashMessage(msg)).IsZero() || !k.Staking.SignPoint(nil).IsZero() {
		t.Fatal("signing with no key or no point gives a signature")
	}
}

package keys

import blst "github.com/supranational/blst/bindings/go"

// AggregatePubKeys adds public keys into one, so that signatures of one
// message by all of them verify against the sum with one pairing check. Only
// use it for keys whose proof of possession was verified (rogue-key attacks).
func AggregatePubKeys(pubs []StakingPubKey) (StakingPubKey, error) {
	if len(pubs) == 0 {
		return StakingPubKey{}, errorf(ErrNoSignatures, "keys: aggregate public keys: empty list")
	}
	var sum blst.P1Aggregate
	for i := range pubs {
		if pubs[i].IsZero() {
			return StakingPubKey{}, errorf(ErrZeroKey, "keys: aggregate public keys: key %d is the zero value", i)
		}
		sum.Add(&pubs[i].point, false)
	}
	p := sum.ToAffine()
	if p.Equals(new(blst.P1Affine)) {
		return StakingPubKey{}, errorf(ErrIdentity, "keys: aggregate public keys: the %d keys add up to the identity", len(pubs))
	}
	var k StakingPubKey
	k.point = *p
	copy(k.compressed[:], p.Compress())
	return k, nil
}

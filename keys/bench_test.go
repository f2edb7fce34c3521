package keys

import (
	"fmt"
	"testing"
)

// reportRate reports operations (and, with perOp > 1, signatures) per second.
func reportRate(b *testing.B, perOp int) {
	b.Helper()
	secs := b.Elapsed().Seconds()
	if secs == 0 {
		return
	}
	b.ReportMetric(float64(b.N)/secs, "ops/s")
	if perOp > 1 {
		b.ReportMetric(float64(b.N*perOp)/secs, "sigs/s")
	}
}

var benchMsg = []byte("gospresso/v1 quorum vote view 123456 0123456789abcdef0123456789abcdef")

func BenchmarkSign(b *testing.B) {
	k := derived(b, 0).Staking
	for b.Loop() {
		k.Sign(benchMsg)
	}
	reportRate(b, 1)
}

func BenchmarkVerify(b *testing.B) {
	k := derived(b, 0).Staking
	pub, sig := k.PubKey(), k.Sign(benchMsg)
	for b.Loop() {
		if !pub.Verify(benchMsg, sig) {
			b.Fatal("verify failed")
		}
	}
	reportRate(b, 1)
}

func BenchmarkVerifyAggregate(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ks := signers(b, n)
			pubs := make([]StakingPubKey, n)
			sigs := make([]Signature, n)
			for i, k := range ks {
				pubs[i], sigs[i] = k.PubKey(), k.Sign(benchMsg)
			}
			agg, err := AggregateSignatures(sigs)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if !VerifyAggregate(pubs, benchMsg, agg) {
					b.Fatal("verify failed")
				}
			}
			reportRate(b, n)
		})
	}
}

func BenchmarkVerifyAggregateDistinct(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ks := signers(b, n)
			pubs := make([]StakingPubKey, n)
			msgs := make([][]byte, n)
			sigs := make([]Signature, n)
			for i, k := range ks {
				msgs[i] = fmt.Appendf(nil, "%s %d", benchMsg, i)
				pubs[i], sigs[i] = k.PubKey(), k.Sign(msgs[i])
			}
			agg, err := AggregateSignatures(sigs)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if !VerifyAggregateDistinct(pubs, msgs, agg) {
					b.Fatal("verify failed")
				}
			}
			reportRate(b, n)
		})
	}
}

func BenchmarkAggregateSignatures(b *testing.B) {
	const n = 100
	sigs := make([]Signature, n)
	for i, k := range signers(b, n) {
		sigs[i] = k.Sign(benchMsg)
	}
	for b.Loop() {
		if _, err := AggregateSignatures(sigs); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, n)
}

func BenchmarkSignatureFromBytes(b *testing.B) {
	enc := derived(b, 0).Staking.Sign(benchMsg).Bytes()
	for b.Loop() {
		if _, err := SignatureFromBytes(enc); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, 1)
}

func BenchmarkParseStakingPubKey(b *testing.B) {
	s := derived(b, 0).Staking.PubKey().String()
	for b.Loop() {
		if _, err := ParseStakingPubKey(s); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, 1)
}

func BenchmarkStateSign(b *testing.B) {
	k := derived(b, 0).State
	for b.Loop() {
		if _, err := k.Sign(benchMsg); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, 1)
}

func BenchmarkStateVerify(b *testing.B) {
	k := derived(b, 0).State
	sig, err := k.Sign(benchMsg)
	if err != nil {
		b.Fatal(err)
	}
	pub := k.PubKey()
	for b.Loop() {
		if !pub.Verify(benchMsg, sig) {
			b.Fatal("verify failed")
		}
	}
	reportRate(b, 1)
}

func BenchmarkDeriveKeys(b *testing.B) {
	var i uint64
	for b.Loop() {
		if _, err := DeriveKeys(katSeed, i); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportRate(b, 1)
}

// BenchmarkVerifyHashed is BenchmarkVerify with the message hashed
// beforehand (HashMessage), as a node checks a certificate of votes it
// signed itself.
func BenchmarkVerifyHashed(b *testing.B) {
	k := derived(b, 0).Staking
	check := []Check{{Pubs: []StakingPubKey{k.PubKey()}, Point: HashMessage(benchMsg), Sig: k.Sign(benchMsg)}}
	for b.Loop() {
		if !VerifyBatch(check) {
			b.Fatal("verify failed")
		}
	}
	reportRate(b, 1)
}

package keys

import (
	"bytes"
	"strings"
	"testing"
)

// fuzzSeeds returns valid and invalid texts to seed the text fuzz targets.
func fuzzSeeds(t testing.TB) []string {
	k := derived(t, 0)
	sig := k.Staking.Sign([]byte("m"))
	ss, err := k.State.Sign([]byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{
		"", "~", "BLS_VER_KEY~", "BLS_VER_KEY~AA", "nonsense",
		k.Staking.PubKey().String(), k.Staking.Secret(), k.Staking.ProvePossession().String(), sig.String(),
		k.State.PubKey().String(), k.State.Secret(), ss.String(),
		tagged(TagStakingPubKey, make([]byte, StakingPubKeySize)),
		tagged(TagStakingPubKey, append([]byte{0xc0}, make([]byte, 47)...)),
		tagged(TagStatePubKey, edwardsY(bigOne(), false)),
	}
	for _, s := range out[5:12] {
		out = append(out, tamper(s))
	}
	return out
}

func FuzzParseStakingPubKey(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add(tagged(TagStakingPubKey, offSubgroupG1Seed()))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseStakingPubKey(s)
		if err != nil {
			if !k.IsZero() {
				t.Fatal("error with a non-zero key")
			}
			return
		}
		if k.String() != s {
			t.Fatalf("ParseStakingPubKey(%q).String() = %q", s, k.String())
		}
		again, err := StakingPubKeyFromBytes(k.Bytes())
		if err != nil || again != k {
			t.Fatalf("bytes round trip: %v", err)
		}
	})
}

func FuzzStakingPubKeyFromBytes(f *testing.F) {
	f.Add(derived(f, 0).Staking.PubKey().Bytes())
	f.Add(offSubgroupG1Seed())
	f.Add(append([]byte{0xc0}, make([]byte, 47)...))
	f.Add(bytes.Repeat([]byte{0xff}, 48))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := StakingPubKeyFromBytes(b)
		if err == nil && !bytes.Equal(k.Bytes(), b) {
			t.Fatalf("StakingPubKeyFromBytes(%x).Bytes() = %x", b, k.Bytes())
		}
	})
}

func FuzzSignatureFromBytes(f *testing.F) {
	k := derived(f, 0).Staking
	f.Add(k.Sign(nil).Bytes())
	f.Add(k.ProvePossession().Bytes())
	f.Add(append([]byte{0xc0}, make([]byte, 95)...))
	f.Add(bytes.Repeat([]byte{0x9f}, 96))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := SignatureFromBytes(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Bytes(), b) {
			t.Fatalf("SignatureFromBytes(%x).Bytes() = %x", b, s.Bytes())
		}
		if p, err := ProofOfPossessionFromBytes(b); err != nil || !bytes.Equal(p.Bytes(), b) {
			t.Fatalf("ProofOfPossessionFromBytes disagrees: %v", err)
		}
		k.PubKey().Verify(nil, s) // must not panic
	})
}

func FuzzParseProofOfPossession(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	pub := derived(f, 0).Staking.PubKey()
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProofOfPossession(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("ParseProofOfPossession(%q).String() = %q", s, p.String())
		}
		_ = pub.VerifyPossession(p) // must not panic
	})
}

func FuzzParseSignature(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignature(s)
		if err == nil && sig.String() != s {
			t.Fatalf("ParseSignature(%q).String() = %q", s, sig.String())
		}
	})
}

func FuzzParseStakingKey(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseStakingKey(s)
		if err != nil {
			if data, ok := strings.CutPrefix(s, TagStakingKey+"~"); ok && len(data) >= 8 && strings.Contains(err.Error(), data) {
				t.Fatalf("error %q repeats the key text", err)
			}
			return
		}
		if k.Secret() != s {
			t.Fatalf("ParseStakingKey(%q).Secret() = %q", s, k.Secret())
		}
	})
}

func FuzzParseStatePubKey(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseStatePubKey(s)
		if err != nil {
			return
		}
		if k.String() != s {
			t.Fatalf("ParseStatePubKey(%q).String() = %q", s, k.String())
		}
		again, err := StatePubKeyFromBytes(k.Bytes())
		if err != nil || again != k {
			t.Fatalf("bytes round trip: %v", err)
		}
	})
}

func FuzzParseStateKey(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseStateKey(s)
		if err == nil && k.Secret() != s {
			t.Fatalf("ParseStateKey(%q).Secret() = %q", s, k.Secret())
		}
	})
}

func FuzzStateSignatureFromBytes(f *testing.F) {
	k := derived(f, 0).State
	sig, err := k.Sign([]byte("m"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig.Bytes())
	f.Add(make([]byte, 64))
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := StateSignatureFromBytes(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Bytes(), b) {
			t.Fatalf("StateSignatureFromBytes(%x).Bytes() = %x", b, s.Bytes())
		}
		if p, err := ParseStateSignature(s.String()); err != nil || p != s {
			t.Fatalf("text round trip: %v", err)
		}
		k.PubKey().Verify([]byte("m"), s) // must not panic
	})
}

func FuzzParseKeyFile(f *testing.F) {
	k := derived(f, 0)
	var b bytes.Buffer
	if err := WriteKeyFile(&b, k, SchemeAll); err != nil {
		f.Fatal(err)
	}
	l := keyFileLines(k)
	for _, s := range []string{
		b.String(), "", "\n", "#", "=", "A=", "export A=1", `A="`, `A='x' y`, "A=b c", "\uFEFFA=1",
		strings.Join([]string{"# c", "", `export ` + l[1], `'` + l[3] + `'`}, "\r\n"),
		l[1] + "\n" + l[3], l[0] + "\n" + l[1] + "\n" + l[3] + "\n" + l[1],
		strings.Replace(b.String(), "=", ` = "`, 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseKeyFile(strings.NewReader(s))
		if err != nil {
			return
		}
		// Whatever parses writes back to a file that parses to the same keys.
		var out bytes.Buffer
		if err := WriteKeyFile(&out, got, SchemeAll); err != nil {
			t.Fatal(err)
		}
		again, err := ParseKeyFile(&out)
		if err != nil {
			t.Fatal(err)
		}
		if again.Staking.PubKey() != got.Staking.PubKey() || again.State.PubKey() != got.State.PubKey() {
			t.Fatal("write/parse round trip changed the keys")
		}
	})
}

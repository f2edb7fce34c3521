package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/iotest"
)

// katSeed is the known-answer seed 0x00..01 (31 zero bytes, then 1).
var katSeed = [SeedSize]byte{31: 1}

// katMessage is signed in the known-answer vectors.
const katMessage = "gospresso"

// Known answers of DeriveKeys(katSeed, i), generated once and frozen so that
// derivation can never drift (docs/keys.md, "Deriving keys from a seed"). The BLS secret, the state seed and
// the peer ID of index 0 were also recomputed independently (Python: IETF
// KeyGen with HKDF-SHA-256, hashlib, Ed25519 + base58 multihash). The peer ID
// of the libp2p seed is frozen in network/p2p's known-answer test.
var knownAnswers = []struct {
	index         uint64
	stakingPub    string
	stakingSecret string
	pop           string
	statePub      string
	stateSecret   string
	libp2pSeed    string // hex of DeriveSeed(libp2pDerivationDomain)
	signature     string // staking signature of katMessage
	stateSig      string // state signature of katMessage
}{
	{
		index:         0,
		stakingPub:    "BLS_VER_KEY~r1TZamQtT1RjvhTa7m2owOrFI4J9evSXrG9fxcD7s6lO3HaRs3CF7xBy7NHaHUnNfA",
		stakingSecret: "BLS_SIGNING_KEY~X40qaRctqSjA14cCd9p90uMXYVsW44DxNVFO6nIFye3H",
		pop:           "BLS_POP~k-xtnL-RNWivKC9_Ce2Ji9RvZoEJcFWLhnyBKdGbMf7iKIxdKcnQyC_ubxvFhgVpB4hBoCW_X9opt4IKqXslsdw5961SC12hcpNmwcXAr9uOWCRapVOLIxW2ibmNc6ring",
		statePub:      "SCHNORR_VER_KEY~eMmMovVGUpLS5__FOSxDZ2nb0xk4bFHEbzLLptl3DpQS",
		stateSecret:   "SCHNORR_SIGNING_KEY~i7UkaVNQpI8Si628dqBaPazyeeSc6xr5mOChHaKto6I2",
		libp2pSeed:    "faa08f7251fe0d406039c4d829b224dfda11e14ebf0d0c801e7aaa5480436441",
		signature:     "BLS_SIG~sZSMZ_o3saEPOK67xCKoTjll7PSS4BMb5VRbzdbc9MNxm2pDt7angR1H_MzPAX84DC5iCPJgW764BvxzElHgXAtwZQ8WvtjCR2l_1ZffxsLmY9R65Zq5iVpVeUwzq23JMQ",
		stateSig:      "SCHNORR_SIG~J1MeYfL_7RBoKBZ6JMnNs3E1FTmID-uqqf5RujJ2RQEFoQeIT35HRvlHN9CzSTWh12LvDRa2gIJq2aKH4Bcnd8A",
	},
	{
		index:         1,
		stakingPub:    "BLS_VER_KEY~gi6GMgrzeAcGKSRoU2tX6tOgRzyKA-prizdQIJ4Mv26-rDt4uGotN-dK4t0VdErXQQ",
		stakingSecret: "BLS_SIGNING_KEY~JD__aGhuc_MsQHBUHDYevmUrUIerM_QiiL5zC5ORDOTx",
		pop:           "BLS_POP~oPZ9acQtEJaQUlGYHGreczOIO0LYBeDBhbUXPnb-A277XfrxtS8z1clvtbpyOFgdClY8tuMZkblnmxkaGpbkKMJzmzg1Lgp--PJF8Lma7bJvHv6Mx2v4dw7HraX0e2r9gQ",
		statePub:      "SCHNORR_VER_KEY~Rx_-Bf_gwo6Fh2aUm_eW9IG51MwSev-Lrbto8Hla-K1q",
		stateSecret:   "SCHNORR_SIGNING_KEY~UXdrbQfwoc-OemAsVCCDS-Y6CrZtafJyLT-RAj6hx0b6",
		libp2pSeed:    "31217391449497ce086eb8f40e4ba35ce321f11b8e269a6f4deba14a219ce3e4",
		signature:     "BLS_SIG~lBJoX2rRPOLjWX0wMo2Jmm0UFfn-K3pn9zSd5obf-C-ZY5IhmnulzWYGWMdNKzZNDLAf_1tTlEYDyrjL8LCNP0VYEDuY_nWOcVlYOpKwGr0nbVV9wSHmdZlmYug8P6BtFw",
		stateSig:      "SCHNORR_SIG~dKhBp6k5tf4Zi2fy-cXeFQS5xf_ev0m7jffGnOZwKycEoL-p0n4BH8pp6AoZMAM-X7mmkuiXp82DRwHIPR-Yk68",
	},
}

// derived returns DeriveKeys(katSeed, i) or fails the test.
func derived(t testing.TB, i uint64) Keys {
	t.Helper()
	k, err := DeriveKeys(katSeed, i)
	if err != nil {
		t.Fatalf("DeriveKeys(katSeed, %d): %v", i, err)
	}
	return k
}

func TestDeriveKeysKnownAnswers(t *testing.T) {
	for _, ka := range knownAnswers {
		t.Run(fmt.Sprint(ka.index), func(t *testing.T) {
			k := derived(t, ka.index)
			check := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %s, want %s", what, got, want)
				}
			}
			check("staking public key", k.Staking.PubKey().String(), ka.stakingPub)
			check("staking secret", k.Staking.Secret(), ka.stakingSecret)
			check("proof of possession", k.Staking.ProvePossession().String(), ka.pop)
			check("state public key", k.State.PubKey().String(), ka.statePub)
			check("state secret", k.State.Secret(), ka.stateSecret)
			seed, err := k.Staking.DeriveSeed(libp2pDerivationDomain)
			if err != nil {
				t.Fatal(err)
			}
			check("libp2p seed", hex.EncodeToString(seed[:]), ka.libp2pSeed)
			check("signature", k.Staking.Sign([]byte(katMessage)).String(), ka.signature)
			ss, err := k.State.Sign([]byte(katMessage))
			if err != nil {
				t.Fatal(err)
			}
			check("state signature", ss.String(), ka.stateSig)

			// The frozen texts parse back to the same values and verify.
			sig, err := ParseSignature(ka.signature)
			if err != nil {
				t.Fatal(err)
			}
			if !k.Staking.PubKey().Verify([]byte(katMessage), sig) {
				t.Error("frozen signature does not verify")
			}
			st, err := ParseStateSignature(ka.stateSig)
			if err != nil {
				t.Fatal(err)
			}
			if !k.State.PubKey().Verify([]byte(katMessage), st) {
				t.Error("frozen state signature does not verify")
			}
			pop, err := ParseProofOfPossession(ka.pop)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Staking.PubKey().VerifyPossession(pop); err != nil {
				t.Errorf("frozen proof of possession: %v", err)
			}
		})
	}
}

func TestDeriveKeysDeterministicAndDistinct(t *testing.T) {
	a, b := derived(t, 7), derived(t, 7)
	if a.Staking.PubKey() != b.Staking.PubKey() || a.State.PubKey() != b.State.PubKey() {
		t.Fatal("same (seed, index) gave different keys")
	}
	if a.Staking.Secret() != b.Staking.Secret() || a.State.Secret() != b.State.Secret() {
		t.Fatal("same (seed, index) gave different secrets")
	}
	c := derived(t, 8)
	if a.Staking.PubKey() == c.Staking.PubKey() || a.State.PubKey() == c.State.PubKey() {
		t.Fatal("different indexes gave the same key")
	}
	other := katSeed
	other[0] = 0xff
	d, err := DeriveKeys(other, 7)
	if err != nil {
		t.Fatal(err)
	}
	if a.Staking.PubKey() == d.Staking.PubKey() || a.State.PubKey() == d.State.PubKey() {
		t.Fatal("different seeds gave the same key")
	}
	// Index is u64 little-endian: large indexes work and differ.
	e := derived(t, 1<<63)
	if e.Staking.PubKey() == a.Staking.PubKey() {
		t.Fatal("index 2^63 collides")
	}
}

func TestGenerateKeys(t *testing.T) {
	seed := bytes.Repeat([]byte{0x5a}, SeedSize)
	k, err := GenerateKeys(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	want, err := DeriveKeys([SeedSize]byte(seed), 0)
	if err != nil {
		t.Fatal(err)
	}
	if k.Staking.PubKey() != want.Staking.PubKey() || k.State.PubKey() != want.State.PubKey() {
		t.Fatal("GenerateKeys(r) != DeriveKeys(seed read from r, 0)")
	}
	// A reader that returns one byte at a time still fills the seed.
	k2, err := GenerateKeys(iotest.OneByteReader(bytes.NewReader(seed)))
	if err != nil || k2.Staking.PubKey() != want.Staking.PubKey() {
		t.Fatalf("GenerateKeys(one-byte reader) = %v, %v", k2.Staking.PubKey(), err)
	}
	if _, err := GenerateKeys(bytes.NewReader(seed[:10])); err == nil || !strings.Contains(err.Error(), "read seed") {
		t.Fatalf("short reader: err = %v", err)
	}
	if _, err := GenerateKeys(iotest.ErrReader(errors.New("boom"))); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("failing reader: err = %v", err)
	}
}

func TestDeriveSeed(t *testing.T) {
	k := derived(t, 0)
	seed, err := k.Staking.DeriveSeed(libp2pDerivationDomain)
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256(domain ‖ 32-byte big-endian secret), the secret being the
	// TaggedBase64 payload of the secret key text.
	secret, err := decodeTagged(k.Staking.Secret(), TagStakingKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(append([]byte(libp2pDerivationDomain), secret...)); seed != want {
		t.Fatalf("seed %x, want SHA-256(domain ‖ secret) = %x", seed, want)
	}
	// Stable: a key parsed from its text gives the same seed.
	parsed, err := ParseStakingKey(k.Staking.Secret())
	if err != nil {
		t.Fatal(err)
	}
	if again, err := parsed.DeriveSeed(libp2pDerivationDomain); err != nil || again != seed {
		t.Fatalf("seed of parsed key = %x, %v; want %x", again, err, seed)
	}
	// The domain and the key both matter.
	if other, _ := k.Staking.DeriveSeed("another/domain"); other == seed {
		t.Fatal("another domain gives the same seed")
	}
	if other, _ := derived(t, 1).Staking.DeriveSeed(libp2pDerivationDomain); other == seed {
		t.Fatal("another key gives the same seed")
	}
	var zero StakingKey
	if _, err := zero.DeriveSeed(libp2pDerivationDomain); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero key DeriveSeed: err = %v, want ErrZeroKey", err)
	}
}

// holder keeps keys in an unexported field, where fmt cannot call String.
type holder struct {
	name string
	keys Keys
	st   StakingKey
}

func TestSecretsAreRedacted(t *testing.T) {
	k := derived(t, 0)
	secrets := []string{
		strings.SplitN(k.Staking.Secret(), "~", 2)[1],
		strings.SplitN(k.State.Secret(), "~", 2)[1],
	}
	var outputs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outputs = append(outputs,
			fmt.Sprintf(format, k),
			fmt.Sprintf(format, &k),
			fmt.Sprintf(format, k.Staking),
			fmt.Sprintf(format, k.State),
			fmt.Sprintf(format, holder{name: "n", keys: k, st: k.Staking}),
			fmt.Sprintf(format, &holder{name: "n", keys: k, st: k.Staking}),
		)
	}
	js, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("keys", "keys", k, "staking", k.Staking, "state", k.State, "holder", holder{keys: k})
		outputs = append(outputs, buf.String())
	}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) || strings.Contains(out, fmt.Sprintf("%x", s)) {
				t.Errorf("output leaks a secret: %s", out)
			}
		}
	}
	if got := fmt.Sprint(k.Staking); got != "BLS_SIGNING_KEY~<redacted>" {
		t.Errorf("StakingKey prints %q", got)
	}
	if got := fmt.Sprintf("%#v", k.State); got != "keys.StateKey(SCHNORR_SIGNING_KEY~<redacted>)" {
		t.Errorf("StateKey %%#v prints %q", got)
	}
	// The redacted text can never be parsed as a key.
	if _, err := ParseStakingKey(k.Staking.String()); err == nil {
		t.Error("redacted staking key text parses")
	}
	if _, err := ParseStateKey(k.State.String()); err == nil {
		t.Error("redacted state key text parses")
	}
}

func sha256Sum(b []byte) []byte {
	d := sha256.Sum256(b)
	return d[:]
}

func TestConcurrentUse(t *testing.T) {
	// Keys are immutable after construction: one value may sign and verify
	// from many goroutines at once (run with -race).
	k := derived(t, 0)
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			msg := []byte{byte(g)}
			sig := k.Staking.Sign(msg)
			ss, err := k.State.Sign(msg)
			switch {
			case err != nil:
				done <- err
			case !k.Staking.PubKey().Verify(msg, sig) || !k.State.PubKey().Verify(msg, ss):
				done <- errors.New("verify failed")
			default:
				done <- nil
			}
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

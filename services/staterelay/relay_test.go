package staterelay_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/services/staterelay"
	"github.com/gospresso/gospresso/types"
)

var seed = [keys.SeedSize]byte{7}

// stateKeys derives n state keys.
func stateKeys(t testing.TB, n int) []keys.StateKey {
	t.Helper()
	out := make([]keys.StateKey, n)
	for i := range out {
		k, err := keys.DeriveKeys(seed, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = k.State
	}
	return out
}

// table is a stake table of ks with the given stakes (only the state keys
// and stakes matter to the relay).
func table(ks []keys.StateKey, stakes ...uint64) []genesis.StakeTableEntry {
	var out []genesis.StakeTableEntry
	for i, s := range stakes {
		out = append(out, genesis.StakeTableEntry{StateKey: ks[i].PubKey(), Stake: s})
	}
	return out
}

func state(h, view, root uint64) lightclient.State {
	return lightclient.State{ViewNumber: view, BlockHeight: h, BlockCommRoot: types.NewU256(root)}
}

func sign(t testing.TB, k keys.StateKey, s lightclient.State) lightclient.SignedState {
	t.Helper()
	st, err := lightclient.Sign(k, s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// harness is a relay behind its api.Server, used as an http.Handler (no
// sockets).
type harness struct {
	t     *testing.T
	relay *staterelay.Relay
	srv   *api.Server
}

func newHarness(t *testing.T, opts ...staterelay.Option) *harness {
	t.Helper()
	r, err := staterelay.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := r.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, relay: r, srv: srv}
}

// answer is a decoded response.
type answer struct {
	code int
	body []byte
	loc  string
}

func (a answer) message() string {
	var e api.Error
	_ = json.Unmarshal(a.body, &e)
	return e.Message
}

func (h *harness) do(method, path, contentType string, body []byte) answer {
	h.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return answer{code: rec.Code, body: rec.Body.Bytes(), loc: rec.Header().Get("Location")}
}

func (h *harness) post(st lightclient.SignedState) answer {
	h.t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(http.MethodPost, "/v0/api/state", "application/json", b)
}

// accept posts st and wants 200 with the outcome and weight given.
func (h *harness) accept(st lightclient.SignedState, outcome staterelay.Outcome, weight uint64) staterelay.Receipt {
	h.t.Helper()
	a := h.post(st)
	if a.code != http.StatusOK {
		h.t.Fatalf("post height %d by %s: %d %s", st.State.BlockHeight, st.Key, a.code, a.body)
	}
	var rc staterelay.Receipt
	if err := json.Unmarshal(a.body, &rc); err != nil {
		h.t.Fatal(err)
	}
	if rc.Outcome != outcome || rc.Weight != weight || rc.BlockHeight != st.State.BlockHeight {
		h.t.Fatalf("post height %d: receipt %+v, want outcome %s, weight %d", st.State.BlockHeight, rc, outcome, weight)
	}
	return rc
}

// refuse posts st and wants the status, with a message holding each of
// want.
func (h *harness) refuse(st lightclient.SignedState, code int, want ...string) {
	h.t.Helper()
	a := h.post(st)
	checkRefusal(h.t, a, code, want...)
}

func checkRefusal(t *testing.T, a answer, code int, want ...string) {
	t.Helper()
	if a.code != code {
		t.Fatalf("status %d, want %d: %s", a.code, code, a.body)
	}
	var e api.Error
	if err := json.Unmarshal(a.body, &e); err != nil || e.Status != code || e.Message == "" {
		t.Fatalf("body %s is not {\"status\": %d, \"message\": ...}", a.body, code)
	}
	for _, w := range want {
		if !strings.Contains(e.Message, w) {
			t.Errorf("message %q lacks %q", e.Message, w)
		}
	}
}

// latest GETs the certified state: nil on 404.
func (h *harness) latest() *staterelay.Certified {
	h.t.Helper()
	a := h.do(http.MethodGet, "/v0/api/state", "", nil)
	if a.code == http.StatusNotFound {
		return nil
	}
	if a.code != http.StatusOK {
		h.t.Fatalf("GET state: %d %s", a.code, a.body)
	}
	var c staterelay.Certified
	if err := json.Unmarshal(a.body, &c); err != nil {
		h.t.Fatal(err)
	}
	return &c
}

// checkCertified wants the latest certified state to be s, signed by
// exactly ks, each signature verifying.
func (h *harness) checkCertified(s lightclient.State, weight uint64, ks ...keys.StateKey) {
	h.t.Helper()
	c := h.latest()
	if c == nil {
		h.t.Fatalf("no certified state, want height %d", s.BlockHeight)
	}
	if c.State != s || c.AccumulatedWeight != weight || c.Threshold != h.relay.Threshold() || len(c.Signatures) != len(ks) {
		h.t.Fatalf("certified %+v (weight %d, %d signatures), want %+v, weight %d, %d signatures",
			c.State, c.AccumulatedWeight, len(c.Signatures), s, weight, len(ks))
	}
	for _, k := range ks {
		sig, ok := c.Signatures[k.PubKey()]
		if !ok {
			h.t.Fatalf("certified state lacks %s's signature", k.PubKey())
		}
		ss := lightclient.SignedState{Key: k.PubKey(), State: c.State, Signature: sig}
		if err := ss.Verify(); err != nil {
			h.t.Fatal(err)
		}
	}
}

func TestGetBeforeAnyCertifiedState(t *testing.T) {
	h := newHarness(t)
	a := h.do(http.MethodGet, "/v0/api/state", "", nil)
	checkRefusal(t, a, http.StatusNotFound, "no state certified yet", "weight 2 or more")
	// One signature of weight 1 is below the threshold 2: still 404.
	h.accept(sign(t, stateKeys(t, 1)[0], state(1, 1, 1)), staterelay.OutcomePending, 1)
	checkRefusal(t, h.do(http.MethodGet, "/v0/api/state", "", nil), http.StatusNotFound, "no state certified yet")
	if _, err := h.relay.Latest(); !errors.Is(err, staterelay.ErrNoCertifiedState) {
		t.Fatalf("Latest: %v", err)
	}
}

func TestBadSignature(t *testing.T) {
	ks := stateKeys(t, 2)
	for name, opts := range map[string][]staterelay.Option{
		"no stake table": nil,
		"stake table":    {staterelay.WithStakeTable(table(ks, 1, 1))},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, opts...)
			// The state changed after signing.
			st := sign(t, ks[0], state(5, 5, 1))
			st.State.ViewNumber++
			h.refuse(st, http.StatusBadRequest, "signature does not verify", ks[0].PubKey().String(), "height 5")
			// Key 1's signature claimed for key 0.
			st = sign(t, ks[1], state(5, 5, 1))
			st.Key = ks[0].PubKey()
			h.refuse(st, http.StatusBadRequest, "signature does not verify", ks[0].PubKey().String())
			// No signature, no key.
			noSig := fmt.Sprintf(`{"key":%q,"state":{"view_number":1,"block_height":1,"block_comm_root":"0x1"}}`, ks[0].PubKey())
			checkRefusal(t, h.do(http.MethodPost, "/v0/api/state", "application/json", []byte(noSig)), http.StatusBadRequest, "no signature")
			st = sign(t, ks[0], state(5, 5, 1))
			st.Signature = keys.StateSignature{}
			checkRefusal(t, h.do(http.MethodPost, "/v0/api/state", "application/json", []byte(`{"state":{"view_number":1,"block_height":1,"block_comm_root":"0x1"}}`)),
				http.StatusBadRequest, "no key")
			// Nothing was counted.
			if h.latest() != nil {
				t.Fatal("a state was certified")
			}
			if _, err := h.relay.Submit(st); !errors.Is(err, staterelay.ErrMissing) {
				t.Fatalf("Submit: %v", err)
			}
			st = sign(t, ks[0], state(5, 5, 1))
			st.State.BlockHeight++
			if _, err := h.relay.Submit(st); !errors.Is(err, staterelay.ErrBadSignature) || !errors.Is(err, lightclient.ErrBadSignature) {
				t.Fatalf("Submit: %v", err)
			}
		})
	}
}

func TestUnknownKeyWithStakeTable(t *testing.T) {
	ks := stateKeys(t, 5)
	h := newHarness(t, staterelay.WithStakeTable(table(ks, 1, 1, 1, 1))) // key 4 is not in it
	h.refuse(sign(t, ks[4], state(1, 1, 1)), http.StatusForbidden, "not a state key of the stake table", ks[4].PubKey().String())
	if _, err := h.relay.Submit(sign(t, ks[4], state(1, 1, 1))); !errors.Is(err, staterelay.ErrUnknownKey) {
		t.Fatalf("Submit: %v", err)
	}
	// Without a stake table the same key is welcome.
	open := newHarness(t)
	open.accept(sign(t, ks[4], state(1, 1, 1)), staterelay.OutcomePending, 1)
}

// Without a stake table every key weighs 1 and the threshold is
// ⌊total/3⌋+1: the state is certified by exactly that many keys.
func TestThresholdByTotalStake(t *testing.T) {
	ks := stateKeys(t, 5)
	for total := uint64(1); total <= 12; total++ {
		want := total/3 + 1
		h := newHarness(t, staterelay.WithTotalStake(total))
		if h.relay.Threshold() != want || h.relay.TotalStake() != total {
			t.Fatalf("total %d: threshold %d, want %d", total, h.relay.Threshold(), want)
		}
		s := state(10, 12, 99)
		for i := range want - 1 {
			h.accept(sign(t, ks[i], s), staterelay.OutcomePending, i+1)
			if h.latest() != nil {
				t.Fatalf("total %d: certified by %d keys, want %d", total, i+1, want)
			}
		}
		h.accept(sign(t, ks[want-1], s), staterelay.OutcomeCertified, want)
		h.checkCertified(s, want, ks[:want]...)
	}
	if h := newHarness(t); h.relay.Threshold() != 2 || h.relay.TotalStake() != staterelay.DefaultTotalStake {
		t.Fatalf("default: threshold %d of %d, want 2 of 5", h.relay.Threshold(), h.relay.TotalStake())
	}
}

// With a stake table keys weigh their stake and the threshold is
// ⌊total/3⌋+1 of the table's stake (here 10: threshold 4).
func TestThresholdByStake(t *testing.T) {
	ks := stateKeys(t, 4)
	h := newHarness(t, staterelay.WithStakeTable(table(ks, 1, 2, 3, 4)))
	if h.relay.Threshold() != 4 || h.relay.TotalStake() != 10 {
		t.Fatalf("threshold %d of %d, want 4 of 10", h.relay.Threshold(), h.relay.TotalStake())
	}
	s := state(7, 8, 3)
	h.accept(sign(t, ks[0], s), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[1], s), staterelay.OutcomePending, 3) // threshold − 1
	if h.latest() != nil {
		t.Fatal("certified at weight 3 < 4")
	}
	h.accept(sign(t, ks[2], s), staterelay.OutcomeCertified, 6)
	h.checkCertified(s, 6, ks[0], ks[1], ks[2])

	// Exactly at the threshold: one key of stake 4 alone, or 1+3.
	h = newHarness(t, staterelay.WithStakeTable(table(ks, 1, 2, 3, 4)))
	h.accept(sign(t, ks[3], s), staterelay.OutcomeCertified, 4)
	h.checkCertified(s, 4, ks[3])
	h = newHarness(t, staterelay.WithStakeTable(table(ks, 1, 2, 3, 4)))
	h.accept(sign(t, ks[0], s), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[2], s), staterelay.OutcomeCertified, 4)
	h.checkCertified(s, 4, ks[0], ks[2])
}

// Signatures of different states of one height (another view or root)
// are counted apart.
func TestStatesCountedApart(t *testing.T) {
	ks := stateKeys(t, 3)
	h := newHarness(t) // threshold 2
	h.accept(sign(t, ks[0], state(4, 4, 1)), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[1], state(4, 4, 2)), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[2], state(4, 5, 1)), staterelay.OutcomePending, 1)
	if h.latest() != nil {
		t.Fatal("certified from signatures of three different states")
	}
}

func TestDuplicatesIgnored(t *testing.T) {
	ks := stateKeys(t, 2)
	h := newHarness(t) // threshold 2
	st := sign(t, ks[0], state(3, 3, 3))
	h.accept(st, staterelay.OutcomePending, 1)
	h.accept(st, staterelay.OutcomeDuplicate, 1)
	h.accept(st, staterelay.OutcomeDuplicate, 1)
	if h.latest() != nil {
		t.Fatal("one key posting three times certified a state")
	}
	h.accept(sign(t, ks[1], st.State), staterelay.OutcomeCertified, 2)
	h.accept(st, staterelay.OutcomeDuplicate, 2) // after certification too
	h.checkCertified(st.State, 2, ks[0], ks[1])
}

func TestEquivocationRefused(t *testing.T) {
	ks := stateKeys(t, 4)
	h := newHarness(t, staterelay.WithStakeTable(table(ks, 1, 1, 1, 1))) // threshold 2
	a, b := state(9, 9, 1), state(9, 9, 2)
	h.accept(sign(t, ks[0], a), staterelay.OutcomePending, 1)
	h.refuse(sign(t, ks[0], b), http.StatusConflict, "equivocation", ks[0].PubKey().String(), "already signed a different state of height 9", "refused")
	if _, err := h.relay.Submit(sign(t, ks[0], b)); !errors.Is(err, staterelay.ErrEquivocation) {
		t.Fatalf("Submit: %v", err)
	}
	// The first signature is kept and counts.
	h.accept(sign(t, ks[1], a), staterelay.OutcomeCertified, 2)
	h.checkCertified(a, 2, ks[0], ks[1])

	// At the certified height: key 2 signed b before a was certified, and
	// now signs a as well.
	h = newHarness(t, staterelay.WithStakeTable(table(ks, 1, 1, 1, 1)))
	h.accept(sign(t, ks[2], b), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[0], a), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[1], a), staterelay.OutcomeCertified, 2)
	h.refuse(sign(t, ks[2], a), http.StatusConflict, "equivocation")
	h.checkCertified(a, 2, ks[0], ks[1])
}

// Once a height is certified, a late signer of that state is added to it;
// a signer of another state of that height is refused.
func TestLateSignersOfTheCertifiedHeight(t *testing.T) {
	ks := stateKeys(t, 4)
	h := newHarness(t, staterelay.WithStakeTable(table(ks, 1, 1, 1, 1)))
	a := state(20, 21, 5)
	h.accept(sign(t, ks[0], a), staterelay.OutcomePending, 1)
	rc := h.accept(sign(t, ks[1], a), staterelay.OutcomeCertified, 2)
	if rc.CertifiedHeight == nil || *rc.CertifiedHeight != 20 {
		t.Fatalf("receipt %+v", rc)
	}
	h.accept(sign(t, ks[2], a), staterelay.OutcomeAdded, 3)
	h.checkCertified(a, 3, ks[0], ks[1], ks[2])
	h.refuse(sign(t, ks[3], state(20, 21, 6)), http.StatusConflict, "conflicts with the certified state", "height 20")
	h.checkCertified(a, 3, ks[0], ks[1], ks[2])
}

// States below the latest certified height: within the window, stale
// (200, not kept); beyond it, 410.
func TestWindowBelowCertified(t *testing.T) {
	ks := stateKeys(t, 2)
	h := newHarness(t, staterelay.WithWindow(3))
	h.accept(sign(t, ks[0], state(10, 10, 1)), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[1], state(10, 10, 1)), staterelay.OutcomeCertified, 2)
	for _, hh := range []uint64{9, 8, 7} {
		rc := h.accept(sign(t, ks[0], state(hh, hh, 1)), staterelay.OutcomeStale, 0)
		if rc.CertifiedHeight == nil || *rc.CertifiedHeight != 10 {
			t.Fatalf("receipt %+v", rc)
		}
	}
	h.refuse(sign(t, ks[0], state(6, 6, 1)), http.StatusGone, "height 6 is more than 3 below the latest certified height 10")
	if _, err := h.relay.Submit(sign(t, ks[0], state(0, 0, 1))); !errors.Is(err, staterelay.ErrTooOld) {
		t.Fatalf("Submit: %v", err)
	}
	// Stale states are checked all the same.
	st := sign(t, ks[0], state(9, 9, 1))
	st.State.ViewNumber = 8
	h.refuse(st, http.StatusBadRequest, "signature does not verify")
	h.checkCertified(state(10, 10, 1), 2, ks[0], ks[1])
}

// Each key holds at most window pending signatures: a newer one drops its
// oldest (whose weight leaves that state), an older one is refused.
func TestWindowPerKey(t *testing.T) {
	ks := stateKeys(t, 2)
	h := newHarness(t, staterelay.WithWindow(3)) // threshold 2
	for _, hh := range []uint64{11, 12, 13} {
		h.accept(sign(t, ks[0], state(hh, hh, 1)), staterelay.OutcomePending, 1)
	}
	h.accept(sign(t, ks[0], state(14, 14, 1)), staterelay.OutcomePending, 1) // drops 11
	// Key 0's signature of 11 is gone: key 1's alone does not certify it.
	h.accept(sign(t, ks[1], state(11, 11, 1)), staterelay.OutcomePending, 1)
	if h.latest() != nil {
		t.Fatal("height 11 certified with a dropped signature")
	}
	h.refuse(sign(t, ks[0], state(11, 11, 1)), http.StatusGone, "below the 3 newer pending states this key signed")
	// Key 0's newer ones are still there.
	h.accept(sign(t, ks[1], state(13, 13, 1)), staterelay.OutcomeCertified, 2)
	h.checkCertified(state(13, 13, 1), 2, ks[0], ks[1])
	// Certifying 13 released key 0's slots below it: it may sign three
	// more above 13 (14 is still pending).
	h.accept(sign(t, ks[0], state(15, 15, 1)), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[0], state(16, 16, 1)), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[1], state(14, 14, 1)), staterelay.OutcomeCertified, 2)
}

// There is no fixed bound above the certified height: after the nodes were
// cut off from the relay for far longer than the window, their states are
// still accepted and certified.
func TestNoWedgeAfterAGap(t *testing.T) {
	ks := stateKeys(t, 2)
	h := newHarness(t, staterelay.WithWindow(3))
	h.accept(sign(t, ks[0], state(1, 1, 1)), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[1], state(1, 1, 1)), staterelay.OutcomeCertified, 2)
	far := state(1_000_000, 1_000_010, 4)
	h.accept(sign(t, ks[0], far), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[1], far), staterelay.OutcomeCertified, 2)
	h.checkCertified(far, 2, ks[0], ks[1])
}

// Without a stake table, the keys holding pending signatures are bounded.
func TestMaxSigners(t *testing.T) {
	ks := stateKeys(t, 3)
	h := newHarness(t, staterelay.WithMaxSigners(2), staterelay.WithTotalStake(9)) // threshold 4
	h.accept(sign(t, ks[0], state(1, 1, 1)), staterelay.OutcomePending, 1)
	h.accept(sign(t, ks[1], state(2, 2, 1)), staterelay.OutcomePending, 1)
	h.refuse(sign(t, ks[2], state(3, 3, 1)), http.StatusServiceUnavailable, "too many signers", "2 keys hold pending signatures")
	// Keys already holding pending signatures go on.
	h.accept(sign(t, ks[0], state(3, 3, 1)), staterelay.OutcomePending, 1)
}

func TestHTTPRules(t *testing.T) {
	ks := stateKeys(t, 1)
	h := newHarness(t)
	body, _ := json.Marshal(sign(t, ks[0], state(1, 1, 1)))
	// The unversioned path redirects, keeping the method (307).
	for _, m := range []string{http.MethodPost, http.MethodGet} {
		if a := h.do(m, "/api/state", "application/json", body); a.code != http.StatusTemporaryRedirect || a.loc != "/v0/api/state" {
			t.Errorf("%s /api/state: %d, Location %q", m, a.code, a.loc)
		}
	}
	checkRefusal(t, h.do(http.MethodPost, "/v0/api/state", "application/json", bytes.Repeat([]byte(" "), staterelay.MaxBodySize+1)),
		http.StatusRequestEntityTooLarge, "over the limit of 4096 bytes")
	checkRefusal(t, h.do(http.MethodPost, "/v0/api/state", "application/json", []byte("not json")), http.StatusBadRequest, "request body")
	checkRefusal(t, h.do(http.MethodPost, "/v0/api/state", "application/json", []byte(`{"key":"SCHNORR_VER_KEY~nonsense"}`)), http.StatusBadRequest, "state public key")
	checkRefusal(t, h.do(http.MethodPost, "/v0/api/state", "text/plain", body), http.StatusUnsupportedMediaType, "application/json")
	checkRefusal(t, h.do(http.MethodPut, "/v0/api/state", "application/json", body), http.StatusMethodNotAllowed, "PUT")
	if a := h.do(http.MethodGet, "/healthcheck", "", nil); a.code != http.StatusOK || !strings.Contains(string(a.body), `"status":"available"`) {
		t.Errorf("/healthcheck: %d %s", a.code, a.body)
	}
	if a := h.do(http.MethodGet, "/v0/api/healthcheck", "", nil); a.code != http.StatusOK {
		t.Errorf("/v0/api/healthcheck: %d %s", a.code, a.body)
	}
	if a := h.do(http.MethodGet, "/", "", nil); a.code != http.StatusOK || !strings.Contains(string(a.body), "POST /v0/api/state") {
		t.Errorf("index: %d %s", a.code, a.body)
	}
	// The module enforces its own body bound on a server with a larger one.
	srv, err := api.New(nil, []api.Module{h.relay.Module()})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v0/api/state", bytes.NewReader(bytes.Repeat([]byte(" "), 64<<10)))
	srv.ServeHTTP(rec, req)
	checkRefusal(t, answer{code: rec.Code, body: rec.Body.Bytes()}, http.StatusRequestEntityTooLarge, "4096 bytes")
}

func TestOptions(t *testing.T) {
	ks := stateKeys(t, 2)
	dup := table(ks, 1, 1)
	dup[1].StateKey = dup[0].StateKey
	zero := table(ks, 1, 1)
	zero[1].StateKey = keys.StatePubKey{}
	for name, opts := range map[string][]staterelay.Option{
		"empty table":        {staterelay.WithStakeTable(nil)},
		"zero stake":         {staterelay.WithStakeTable(table(ks, 1, 0))},
		"duplicate key":      {staterelay.WithStakeTable(dup)},
		"zero key":           {staterelay.WithStakeTable(zero)},
		"overflow":           {staterelay.WithStakeTable(table(ks, 1<<63, 1<<63))},
		"table and total":    {staterelay.WithStakeTable(table(ks, 1, 1)), staterelay.WithTotalStake(3)},
		"total 0":            {staterelay.WithTotalStake(0)},
		"window 0":           {staterelay.WithWindow(0)},
		"max signers 0":      {staterelay.WithMaxSigners(0)},
		"nil logger":         {staterelay.WithLogger(nil)},
		"nil option":         {nil},
		"window given twice": {staterelay.WithWindow(2), staterelay.WithWindow(3)},
	} {
		if _, err := staterelay.New(opts...); !errors.Is(err, staterelay.ErrInvalidOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Many keys posting at once: the race detector watches, and the state is
// certified once with every signature kept.
func TestConcurrentPosts(t *testing.T) {
	const n = 12
	ks := stateKeys(t, n)
	stakes := make([]uint64, n)
	for i := range stakes {
		stakes[i] = 1
	}
	h := newHarness(t, staterelay.WithStakeTable(table(ks, stakes...))) // threshold 5
	s := state(50, 50, 50)
	sts := make([]lightclient.SignedState, n)
	for i := range sts {
		sts[i] = sign(t, ks[i], s)
	}
	var wg sync.WaitGroup
	outcomes := make([]staterelay.Outcome, n)
	errs := make([]error, n)
	for i := range sts {
		wg.Go(func() {
			rc, err := h.relay.Submit(sts[i])
			outcomes[i], errs[i] = rc.Outcome, err
			_, _ = h.relay.Latest()
		})
	}
	wg.Wait()
	certified := 0
	for i := range outcomes {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if outcomes[i] == staterelay.OutcomeCertified {
			certified++
		}
	}
	if certified != 1 {
		t.Fatalf("%d posts certified the state, want 1: %v", certified, outcomes)
	}
	h.checkCertified(s, n, ks...)
}

func ExampleRelay() {
	k, _ := keys.DeriveKeys([keys.SeedSize]byte{1}, 0)
	r, _ := staterelay.New(staterelay.WithTotalStake(1)) // threshold ⌊1/3⌋+1 = 1
	st, _ := lightclient.Sign(k.State, lightclient.State{ViewNumber: 3, BlockHeight: 2})
	rc, _ := r.Submit(st)
	c, _ := r.Latest()
	fmt.Println(rc.Outcome, c.State.BlockHeight, len(c.Signatures))
	// Output: certified 2 1
}

package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/nodetest"
)

// TestConfigEnvHidesSecrets builds the config module with private keys,
// passwords and URLs holding passwords among its entries, and checks that
// GET env answers none of them.
func TestConfigEnvHidesSecrets(t *testing.T) {
	ks, err := nodetest.Keys(nodetest.DefaultSeed, 1)
	if err != nil {
		t.Fatal(err)
	}
	stakingSecret, stateSecret := ks[0].Staking.Secret(), ks[0].State.Secret()
	secrets := []string{stakingSecret, stateSecret, "hunter2", "s3cr3t-pw", "q-secret", "dsn-secret", "junk junk junk",
		"0x1234abcd5678", "start-pw", "alt-mnemonic", "p%40ss", "url-pw", "relay-pw", "token-abc", "misnamed"}
	env := []string{
		"ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY=" + stakingSecret,
		"ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY=" + stateSecret,
		"espresso_sequencer_private_staking_key=" + stakingSecret,
		"ESPRESSO_SEQUENCER_POSTGRES_PASSWORD=hunter2",
		"ESPRESSO_SEQUENCER_POSTGRES_URI=postgres://gospresso:s3cr3t-pw@db.internal:5432/espresso?sslmode=disable",
		"ESPRESSO_SEQUENCER_DATABASE_URL=postgresql://db.internal/espresso?user=gospresso&password=q-secret&sslmode=require",
		"ESPRESSO_SEQUENCER_DATABASE_DSN=host=db.internal user=gospresso password=dsn-secret dbname=espresso",
		"ESPRESSO_SEQUENCER_ETH_MNEMONIC=junk junk junk junk junk junk junk junk junk junk junk test",
		"ESPRESSO_ORCHESTRATOR_KEYGEN_SEED=0x1234abcd5678",
		"ESPRESSO_ORCHESTRATOR_MANUAL_START_PASSWORD=start-pw",
		"ESPRESSO_DEPLOYER_ALT_MNEMONICS=alt-mnemonic",
		"ESPRESSO_SEQUENCER_L1_PROVIDER=https://user:p%40ss@l1.example/v3",
		"ESPRESSO_SEQUENCER_API_PEERS=http://a.example:8080,http://peer:url-pw@b.example:8080",
		"ESPRESSO_STATE_RELAY_SERVER_URL=http://relay:relay-pw@@relay.example",
		"ESPRESSO_SEQUENCER_AUTH_TOKEN=token-abc",
		"ESPRESSO_SEQUENCER_KEY_MATERIAL=" + stakingSecret + "misnamed",
		"ESPRESSO_SEQUENCER_API_PORT=8080",
		"ESPRESSO_SEQUENCER_IS_DA",
		"ESPRESSO_SEQUENCER_POSTGRES_HOST=db.internal",
		"ESPRESSO_SEQUENCER_POSTGRES_USER=gospresso",
		"ESPRESSO_SEQUENCER_X2=second",
		"ESPRESSO_SEQUENCER_X=first",
	}
	m, err := api.Config(env)
	if err != nil {
		t.Fatal(err)
	}
	fb := newFakeBackend(t)
	srv, err := api.New(fb, []api.Module{m})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v0/config/env", nil))
	if rec.Code != 200 {
		t.Fatalf("env: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, s := range secrets {
		if strings.Contains(body, s) || strings.Contains(strings.ToLower(body), strings.ToLower(s)) {
			t.Errorf("env answers secret %q:\n%s", s, body)
		}
	}
	if strings.Contains(strings.ToUpper(body), "SIGNING_KEY~") {
		t.Errorf("env holds a private key:\n%s", body)
	}
	var got []string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, kv := range got {
		name, _, _ := strings.Cut(kv, "=")
		for _, word := range []string{"PRIVATE", "PASSWORD", "MNEMONIC", "SEED", "TOKEN"} {
			if strings.Contains(strings.ToUpper(name), word) {
				t.Errorf("env lists %s", name)
			}
		}
	}
	// The public entries are kept (URLs with their passwords hidden),
	// sorted by name.
	for _, want := range []string{"ESPRESSO_SEQUENCER_API_PORT=8080", "ESPRESSO_SEQUENCER_IS_DA=", "ESPRESSO_SEQUENCER_POSTGRES_HOST=db.internal",
		"ESPRESSO_SEQUENCER_POSTGRES_USER=gospresso"} {
		if !slices.Contains(got, want) {
			t.Errorf("env lacks %q: %q", want, got)
		}
	}
	var names []string
	for _, kv := range got {
		name, value, _ := strings.Cut(kv, "=")
		names = append(names, name)
		if name == "ESPRESSO_SEQUENCER_POSTGRES_URI" && !strings.HasPrefix(value, "postgres://gospresso:") {
			t.Errorf("the URI lost more than its password: %q", value)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("env not sorted by name: %q", names)
	}
	if !slices.Contains(names, "ESPRESSO_SEQUENCER_L1_PROVIDER") || !slices.Contains(names, "ESPRESSO_SEQUENCER_POSTGRES_URI") {
		t.Errorf("URLs dropped rather than redacted: %q", names)
	}

	// The hotshot config holds no private key either.
	m2, _ := api.Config(nil)
	srv2, _ := api.New(fb, []api.Module{m2})
	rec = httptest.NewRecorder()
	srv2.ServeHTTP(rec, httptest.NewRequest("GET", "/v0/config/hotshot", nil))
	if rec.Code != 200 || strings.Contains(rec.Body.String(), stakingSecret) || strings.Contains(rec.Body.String(), stateSecret) ||
		strings.Contains(rec.Body.String(), "SIGNING_KEY") {
		t.Fatalf("hotshot: %d %s", rec.Code, rec.Body)
	}

	// Malformed entries are refused at build time.
	for _, bad := range []string{"", "=x", "A B=1", "A\n=1"} {
		if _, err := api.Config([]string{bad}); err == nil {
			t.Errorf("Config accepts entry %q", bad)
		}
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/l1/l1test"
)

// TestKeygenThenGenesis generates keys with utils keygen, reads a public key
// back with utils pubkey, lists the keys in a genesis stake table and checks
// that utils genesis accepts it — and rejects it once a proof is wrong.
func TestKeygenThenGenesis(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	seed := strings.Repeat("ab", 32)
	if code := run([]string{"keygen", "-o", dir, "-n", "2", "-s", seed}, &out, &errOut); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errOut.String())
	}
	keygenOut := out.String()
	env, err := os.ReadFile(filepath.Join(dir, "0.env"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	out.Reset()
	if code := run([]string{"pubkey", vars["ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY"]}, &out, &errOut); code != 0 {
		t.Fatalf("pubkey: exit %d: %s", code, errOut.String())
	}
	if got := strings.TrimSpace(out.String()); got != vars["ESPRESSO_SEQUENCER_PUBLIC_STAKING_KEY"] {
		t.Fatalf("pubkey printed %q, key file says %q", got, vars["ESPRESSO_SEQUENCER_PUBLIC_STAKING_KEY"])
	}
	out.Reset()
	if code := run([]string{"pubkey", "-l", vars["ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY"]}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "12D3KooW") {
		t.Fatalf("pubkey -l: exit %d, printed %q", code, out.String())
	}

	// keygen printed each staking key's proof of possession.
	pop := ""
	for _, f := range strings.Fields(keygenOut) {
		if strings.HasPrefix(f, "BLS_POP~") {
			pop = f
			break
		}
	}
	if pop == "" {
		t.Fatal("keygen printed no BLS_POP~ proof of possession")
	}
	gen := `base_version = "0.2"
[stake_table]
capacity = 4
[chain_config]
chain_id = 999999999
base_fee = '0 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'
[header]
timestamp = "2024-01-01T00:00:00Z"
[[public_keys]]
stake_table_key = "` + vars["ESPRESSO_SEQUENCER_PUBLIC_STAKING_KEY"] + `"
state_ver_key = "` + vars["ESPRESSO_SEQUENCER_PUBLIC_STATE_KEY"] + `"
da = true
stake = 1
stake_table_key_pop = "` + pop + `"
`
	file := filepath.Join(dir, "genesis.toml")
	if err := os.WriteFile(file, []byte(gen), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"genesis", file}, &out, &errOut); code != 0 {
		t.Fatalf("genesis: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "chain config commitment: CHAIN_CONFIG~") {
		t.Fatalf("genesis output lacks the chain-config commitment:\n%s", out.String())
	}

	// A proof of possession of another key is rejected with a one-line error.
	bad := strings.Replace(gen, vars["ESPRESSO_SEQUENCER_PUBLIC_STAKING_KEY"], secondKey(t, dir), 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run([]string{"genesis", file}, &out, &errOut); code != 1 {
		t.Fatalf("genesis with a wrong proof: exit %d, want 1", code)
	}
	if msg := errOut.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "public_keys[0]") {
		t.Fatalf("want one error line naming public_keys[0], got %q", msg)
	}
}

func secondKey(t *testing.T, dir string) string {
	env, err := os.ReadFile(filepath.Join(dir, "1.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(line, "ESPRESSO_SEQUENCER_PUBLIC_STAKING_KEY="); ok {
			return v
		}
	}
	t.Fatal("1.env has no public staking key")
	return ""
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if code := run(nil, &out, &errOut); code != 2 {
		t.Fatalf("no command: exit %d, want 2", code)
	}
}

// utils genesis --l1-provider-url runs the L1 checks: status 0 when they
// pass, 1 with one error line when one fails.
func TestGenesisL1Checks(t *testing.T) {
	l, err := l1test.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	doc := `base_version = "0.2"
[stake_table]
capacity = 10
[chain_config]
chain_id = 999999999
base_fee = '1 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'
fee_contract = 'FEE'
[header]
timestamp = "1970-01-01T00:00:00Z"
[l1_finalized]
number = 0
`
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.toml"), filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(good, []byte(strings.Replace(doc, "FEE", l.FeeContract().String(), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(doc, "FEE", "0xa15bb66138824a1c7167f5e85b957d04dd34e468", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"genesis", "--l1-provider-url", l.URL(), good}, &out, &errOut); code != 0 || errOut.Len() != 0 {
		t.Fatalf("good genesis: exit %d, stderr %q\n%s", code, errOut.String(), out.String())
	}
	if !strings.Contains(out.String(), "\nl1: [l1_finalized] (number form) resolves to finalized block 0 (") {
		t.Errorf("no [l1_finalized] line:\n%s", out.String())
	}
	out.Reset()
	if code := run([]string{"genesis", "--l1-provider-url", l.URL(), bad}, &out, &errOut); code != 1 {
		t.Fatalf("bad genesis: exit %d\n%s", code, out.String())
	}
	if msg := errOut.String(); strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "utils genesis: genesistool: L1 check failed: "+
		"chain_config.fee_contract 0xa15bb66138824a1c7167f5e85b957d04dd34e468: no code at this address on the L1") {
		t.Errorf("stderr %q", msg)
	}
}

package options

import (
	"slices"
	"strings"
	"testing"
)

// PublicEnvNames is derived from the tables: every ESPRESSO_* variable of a
// non-secret option is in it, and no variable of a secret option is.
func TestPublicEnvNames(t *testing.T) {
	names := PublicEnvNames()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Error("not sorted, or duplicates")
	}
	rows := globalOptions(&Global{})
	for _, s := range modules() {
		rows = append(rows, s.attach(&Config{})...)
	}
	secrets := 0
	for _, o := range rows {
		for _, e := range o.env {
			listed := slices.Contains(names, e)
			switch {
			case o.secret():
				secrets++
				if listed {
					t.Errorf("%s (a secret option) is listed", e)
				}
			case !strings.HasPrefix(e, "ESPRESSO_"):
				if listed {
					t.Errorf("%s is listed", e)
				}
			case !listed:
				t.Errorf("%s (%s) is not listed", e, o.name())
			}
		}
	}
	if secrets != 3 {
		t.Errorf("%d secret variables in the tables, want 3 (two private keys, the database password)", secrets)
	}
	for _, n := range names {
		if SecretName(n) {
			t.Errorf("%s looks secret", n)
		}
	}
	for _, want := range []string{"ESPRESSO_SEQUENCER_API_PORT", "ESPRESSO_SEQUENCER_MAX_CONNECTIONS", "ESPRESSO_STATE_RELAY_SERVER_URL",
		"ESPRESSO_SEQUENCER_IDENTITY_COUNTRY_CODE", "ESPRESSO_SEQUENCER_POSTGRES_PRUNE", "ESPRESSO_SEQUENCER_DATABASE_PRUNE"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s is not listed", want)
		}
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"ESPRESSO_SEQUENCER_POSTGRES_PASSWORD":        true,
		"ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY":      true,
		"ESPRESSO_SEQUENCER_ETH_MNEMONIC":             true,
		"ESPRESSO_ORCHESTRATOR_MANUAL_START_PASSWORD": true,
		"some_api_token":                              true,
		"ESPRESSO_SEQUENCER_API_PORT":                 false,
		"ESPRESSO_SEQUENCER_KEY_FILE":                 false,
	} {
		if SecretName(name) != want {
			t.Errorf("SecretName(%s) = %t", name, !want)
		}
	}
}

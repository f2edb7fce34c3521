package pgtest

import (
	"strings"
	"testing"
)

func TestEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if uri, skip, fail := Env(env(map[string]string{EnvURI: "postgres://x"})); uri != "postgres://x" || skip != "" || fail != "" {
		t.Errorf("set: %q %q %q", uri, skip, fail)
	}
	if _, skip, fail := Env(env(nil)); !strings.Contains(skip, EnvURI) || fail != "" {
		t.Errorf("unset: skip %q fail %q", skip, fail)
	}
	if _, skip, fail := Env(env(map[string]string{EnvRequire: "1"})); skip != "" || !strings.Contains(fail, "mandatory") {
		t.Errorf("required: skip %q fail %q", skip, fail)
	}
}

package genesis

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/internal/shared"
)

// FuzzParse checks that Parse never panics, that every error is an *Error,
// and that whatever it accepts validates, encodes to valid canonical JSON and
// parses again to the same commitment.
func FuzzParse(f *testing.F) {
	if td, ok := shared.Find(); ok {
		files, _ := filepath.Glob(filepath.Join(td, "genesis", "*.toml"))
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	for _, doc := range []string{validDoc, upgradeDoc, noL1Doc, feeUpgradeDoc, epochDoc, fullDoc(f), "", "[[[", "a = 1\na = 2"} {
		f.Add([]byte(doc))
	}
	k := testKeys(f, 2)
	f.Add([]byte(stakeDoc(entryTOML(k[0], true, 1), entryTOML(k[1], false, 2))))
	var cases []ruleCase
	cases = append(cases, syntaxAndKeyCases()...)
	cases = append(cases, requiredCases()...)
	cases = append(cases, chainConfigCases()...)
	cases = append(cases, headerAndL1Cases()...)
	cases = append(cases, networkAndAccountCases(f)...)
	cases = append(cases, versionAndUpgradeCases()...)
	for _, c := range cases {
		f.Add([]byte(c.doc(f)))
	}
	for _, c := range goodCases(f) {
		f.Add([]byte(ruleCase{name: c.name, base: c.base, old: c.old, new: c.new}.doc(f)))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not a *Error", err, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "genesis: ") {
				t.Fatalf("error %q lacks the genesis: prefix", msg)
			}
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("Parse accepted a genesis Validate rejects: %v", err)
		}
		b, err := g.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		if !json.Valid(b) {
			t.Fatalf("MarshalJSON gave invalid JSON: %s", b)
		}
		g2, err := Parse(data)
		if err != nil {
			t.Fatalf("second Parse failed: %v", err)
		}
		b2, _ := g2.MarshalJSON()
		if !bytes.Equal(b, b2) || g.Commitment() != g2.Commitment() {
			t.Fatalf("Parse is not deterministic:\n%s\n%s", b, b2)
		}
	})
}

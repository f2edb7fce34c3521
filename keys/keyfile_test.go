package keys

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// keyFileLines returns the four .env lines of k in the order of docs/keys.md,
// "Key files".
func keyFileLines(k Keys) []string {
	return []string{
		EnvPublicStakingKey + "=" + k.Staking.PubKey().String(),
		EnvPrivateStakingKey + "=" + k.Staking.Secret(),
		EnvPublicStateKey + "=" + k.State.PubKey().String(),
		EnvPrivateStateKey + "=" + k.State.Secret(),
	}
}

func TestWriteKeyFile(t *testing.T) {
	k := derived(t, 0)
	lines := keyFileLines(k)
	tests := []struct {
		scheme Scheme
		want   []string
	}{
		{SchemeAll, lines},
		{SchemeBLS, lines[:2]},
		{SchemeSchnorr, lines[2:]},
	}
	for _, tt := range tests {
		t.Run(string(tt.scheme), func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteKeyFile(&b, k, tt.scheme); err != nil {
				t.Fatal(err)
			}
			if want := strings.Join(tt.want, "\n") + "\n"; b.String() != want {
				t.Fatalf("WriteKeyFile =\n%s\nwant\n%s", b.String(), want)
			}
		})
	}
	var b bytes.Buffer
	if err := WriteKeyFile(&b, k, "rsa"); !errors.Is(err, ErrUnknownScheme) {
		t.Fatalf("unknown scheme: err = %v", err)
	}
	if err := WriteKeyFile(&b, Keys{State: k.State}, SchemeBLS); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero staking key: err = %v", err)
	}
	if err := WriteKeyFile(&b, Keys{Staking: k.Staking}, SchemeAll); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero state key: err = %v", err)
	}
	if err := WriteKeyFile(&b, Keys{Staking: k.Staking}, SchemeBLS); err != nil {
		t.Fatalf("bls scheme needs no state key: %v", err)
	}
	if err := WriteKeyFile(failingWriter{}, k, SchemeAll); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failing writer: err = %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestParseScheme(t *testing.T) {
	for in, want := range map[string]Scheme{"all": SchemeAll, "bls": SchemeBLS, "schnorr": SchemeSchnorr, "BLS": SchemeBLS, "All": SchemeAll} {
		if got, err := ParseScheme(in); err != nil || got != want {
			t.Errorf("ParseScheme(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ed25519", "bls,schnorr"} {
		if _, err := ParseScheme(in); !errors.Is(err, ErrUnknownScheme) || !strings.Contains(err.Error(), "want all, bls or schnorr") {
			t.Errorf("ParseScheme(%q): err = %v", in, err)
		}
	}
}

func TestParseKeyFile(t *testing.T) {
	k, other := derived(t, 0), derived(t, 1)
	l := keyFileLines(k)
	o := keyFileLines(other)
	join := func(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
	kv := func(line string) (string, string) { a, b, _ := strings.Cut(line, "="); return a, b }
	quoted := func(line, q string) string { a, b := kv(line); return a + "=" + q + b + q }

	valid := []struct {
		name string
		file string
	}{
		{"as written", join(l...)},
		{"private lines only", join(l[1], l[3])},
		{"state first", join(l[3], l[2], l[1], l[0])},
		{"comments and blank lines", join("# node 0 keys", "", l[0], "   # indented comment", l[1], "", "", l[2], l[3], "# end")},
		{"double quotes", join(quoted(l[0], `"`), quoted(l[1], `"`), quoted(l[2], `"`), quoted(l[3], `"`))},
		{"single quotes", join(quoted(l[1], `'`), quoted(l[3], `'`))},
		{"export prefix", join("export "+l[1], "export\t"+l[3])},
		{"spaces around =", join(strings.Replace(l[1], "=", " = ", 1), strings.Replace(l[3], "=", "= ", 1))},
		{"CRLF line ends", strings.ReplaceAll(join(l...), "\n", "\r\n")},
		{"byte order mark", "\uFEFF" + join(l...)},
		{"no final newline", strings.TrimSuffix(join(l...), "\n")},
		{"comment after unquoted value", join(l[1]+" # staking", l[3]+"\t# state")},
		{"comment after quoted value", join(quoted(l[1], `"`)+"  # staking", l[3])},
		{"other variables ignored", join("RUST_LOG=info", "ESPRESSO_SEQUENCER_API_PORT=8080", `NAME="a b # c"`, "EMPTY=", l[1], l[3])},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKeyFile(strings.NewReader(tt.file))
			if err != nil {
				t.Fatalf("ParseKeyFile: %v\nfile:\n%s", err, tt.file)
			}
			if got.Staking.PubKey() != k.Staking.PubKey() || got.State.PubKey() != k.State.PubKey() {
				t.Fatal("parsed keys differ")
			}
		})
	}

	secrets := []string{strings.SplitN(k.Staking.Secret(), "~", 2)[1], strings.SplitN(k.State.Secret(), "~", 2)[1]}
	invalid := []struct {
		name string
		file string
		want error
		text []string // substrings of the error
	}{
		{"empty file", "", ErrMissingKey, []string{EnvPrivateStakingKey}},
		{"missing staking key", join(l[0], l[2], l[3]), ErrMissingKey, []string{"no " + EnvPrivateStakingKey}},
		{"missing state key", join(l[0], l[1], l[2]), ErrMissingKey, []string{"no " + EnvPrivateStateKey}},
		{"empty staking key", join(EnvPrivateStakingKey+"=", l[3]), ErrMissingKey, []string{EnvPrivateStakingKey}},
		{"commented-out key", join("#"+l[1], l[3]), ErrMissingKey, []string{EnvPrivateStakingKey}},
		{"mismatched public staking key", join(o[0], l[1], l[2], l[3]), ErrPublicKeyMismatch,
			[]string{"line 1", EnvPublicStakingKey, other.Staking.PubKey().String(), k.Staking.PubKey().String()}},
		{"mismatched public state key", join(l[0], l[1], o[2], l[3]), ErrPublicKeyMismatch,
			[]string{"line 3", EnvPublicStateKey, other.State.PubKey().String(), k.State.PubKey().String()}},
		{"public staking key of wrong type", join(EnvPublicStakingKey+"="+k.State.PubKey().String(), l[1], l[3]), ErrWrongTag,
			[]string{"line 1", EnvPublicStakingKey}},
		{"public state key garbage", join(l[1], EnvPublicStateKey+"=nonsense", l[3]), nil, []string{"line 2", EnvPublicStateKey, "missing delimiter"}},
		{"bad private staking key", join(EnvPrivateStakingKey+"="+tamper(k.Staking.Secret()), l[3]), nil,
			[]string{"line 1", EnvPrivateStakingKey, "incorrect checksum"}},
		{"private keys swapped", join(EnvPrivateStakingKey+"="+k.State.Secret(), EnvPrivateStateKey+"="+k.Staking.Secret()), ErrWrongTag,
			[]string{"line 1", EnvPrivateStakingKey}},
		{"bad private state key", join(l[1], EnvPrivateStateKey+"="+tamper(k.State.Secret())), nil, []string{"line 2", EnvPrivateStateKey}},
		{"no equals sign", join(l[1], "JUST_A_WORD", l[3]), ErrKeyFileSyntax, []string{"line 2", `no "="`}},
		{"bad variable name", join("1ABC=x", l[1], l[3]), ErrKeyFileSyntax, []string{"line 1", `"1ABC"`}},
		{"empty variable name", join("=x", l[1], l[3]), ErrKeyFileSyntax, []string{"line 1", "variable name"}},
		{"dash in name", join("MY-VAR=x", l[1], l[3]), ErrKeyFileSyntax, []string{`"MY-VAR"`}},
		{"unterminated quote", join(EnvPrivateStakingKey+`="`+k.Staking.Secret(), l[3]), ErrKeyFileSyntax, []string{"line 1", "unterminated"}},
		{"text after quote", join(quoted(l[1], "'")+"x", l[3]), ErrKeyFileSyntax, []string{"line 1", "after the closing"}},
		{"space inside unquoted value", join(l[1]+" extra", l[3]), ErrKeyFileSyntax, []string{"line 1", "whitespace"}},
		{"duplicate private key", join(l[1], l[3], l[1]), ErrKeyFileSyntax, []string{"line 3", "first set on line 1"}},
		{"duplicate public key", join(l[0], l[0], l[1], l[3]), ErrKeyFileSyntax, []string{"line 2", EnvPublicStakingKey}},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeyFile(strings.NewReader(tt.file))
			if err == nil {
				t.Fatalf("ParseKeyFile succeeded on\n%s", tt.file)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "keys: ") || strings.Contains(err.Error(), "keys: keys:") {
				t.Errorf("error %q should start with one \"keys: \"", err)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s[:12]) {
					t.Errorf("error %q repeats a secret", err)
				}
			}
		})
	}

	big := strings.Repeat("#", MaxKeyFileSize+1)
	if _, err := ParseKeyFile(strings.NewReader(big)); !errors.Is(err, ErrKeyFileSyntax) {
		t.Fatalf("oversized file: err = %v", err)
	}
	if _, err := ParseKeyFile(iotest.ErrReader(errors.New("io failure"))); err == nil || !strings.Contains(err.Error(), "io failure") {
		t.Fatalf("failing reader: err = %v", err)
	}
}

// writeKeyFile writes k (scheme all) to dir/name and returns the path.
func writeKeyFile(t *testing.T, dir, name string, k Keys) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteKeyFile(&b, k, SchemeAll); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadKeyFile(t *testing.T) {
	dir := t.TempDir()
	k := derived(t, 3)
	p := writeKeyFile(t, dir, "3.env", k)
	got, err := LoadKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Staking.PubKey() != k.Staking.PubKey() || got.State.PubKey() != k.State.PubKey() {
		t.Fatal("loaded keys differ")
	}
	missing := filepath.Join(dir, "nope.env")
	if _, err := LoadKeyFile(missing); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: err = %v", err)
	}
	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(bad); !errors.Is(err, ErrKeyFileSyntax) || !strings.Contains(err.Error(), `key file "`+bad+`" line 1`) {
		t.Fatalf("bad file: err = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	k := derived(t, 0)
	file := writeKeyFile(t, dir, "0.env", k)
	staking, state := k.Staking.Secret(), k.State.Secret()
	tests := []struct {
		name                    string
		keyFile, staking, state string
		want                    error
		text                    string
	}{
		{"key file", file, "", "", nil, ""},
		{"both private keys", "", staking, state, nil, ""},
		{"neither", "", "", "", ErrNoKeys, "neither key file nor full set of private keys was provided"},
		{"only staking key", "", staking, "", ErrNoKeys, "neither key file nor full set of private keys was provided"},
		{"only state key", "", "", state, ErrNoKeys, "neither key file nor full set of private keys was provided"},
		{"key file and staking key", file, staking, "", ErrConflictingKeys, ErrConflictingKeys.Error()},
		{"key file and state key", file, "", state, ErrConflictingKeys, ErrConflictingKeys.Error()},
		{"key file and both keys", file, staking, state, ErrConflictingKeys, ErrConflictingKeys.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.keyFile, tt.staking, tt.state)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got.Staking.PubKey() != k.Staking.PubKey() || got.State.PubKey() != k.State.PubKey() {
					t.Fatal("loaded keys differ")
				}
				return
			}
			if !errors.Is(err, tt.want) || err.Error() != tt.text {
				t.Fatalf("err = %q, want %q", err, tt.text)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.env"), "", ""); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing key file: err = %v", err)
	}
	if _, err := Load("", tamper(staking), state); err == nil || strings.Contains(err.Error(), strings.SplitN(staking, "~", 2)[1][:12]) {
		t.Fatalf("bad staking key: err = %v", err)
	}
	if _, err := Load("", staking, k.Staking.Secret()); !errors.Is(err, ErrWrongTag) {
		t.Fatalf("staking key given as state key: err = %v", err)
	}
}

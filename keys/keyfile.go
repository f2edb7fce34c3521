package keys

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Variable names of a key file (docs/keys.md, "Key files"), in the order
// WriteKeyFile writes them.
const (
	EnvPublicStakingKey  = "ESPRESSO_SEQUENCER_PUBLIC_STAKING_KEY"
	EnvPrivateStakingKey = "ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY"
	EnvPublicStateKey    = "ESPRESSO_SEQUENCER_PUBLIC_STATE_KEY"
	EnvPrivateStateKey   = "ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY"
)

// MaxKeyFileSize bounds how many bytes ParseKeyFile reads; a key file is a few
// hundred bytes.
const MaxKeyFileSize = 1 << 20

// Scheme selects which key pairs a key file holds.
type Scheme string

// Key schemes, as keygen's --scheme flag names them.
const (
	SchemeAll     Scheme = "all"     // staking and state keys (four lines)
	SchemeBLS     Scheme = "bls"     // staking keys only (two lines)
	SchemeSchnorr Scheme = "schnorr" // state keys only (two lines)
)

// ParseScheme parses "all", "bls" or "schnorr" (case-insensitive).
func ParseScheme(s string) (Scheme, error) {
	switch sc := Scheme(strings.ToLower(s)); sc {
	case SchemeAll, SchemeBLS, SchemeSchnorr:
		return sc, nil
	}
	return "", errorf(ErrUnknownScheme, "keys: scheme %q: unknown (want all, bls or schnorr)", s)
}

// staking reports whether the scheme includes the staking key pair.
func (s Scheme) staking() bool { return s == SchemeAll || s == SchemeBLS }

// state reports whether the scheme includes the state key pair.
func (s Scheme) state() bool { return s == SchemeAll || s == SchemeSchnorr }

// WriteKeyFile writes k as .env lines in the order of docs/keys.md, "Key
// files": public
// staking, private staking, public state, private state. SchemeBLS writes only
// the two staking lines, SchemeSchnorr only the two state lines. It contains
// secrets: create the file with mode 0600.
func WriteKeyFile(w io.Writer, k Keys, scheme Scheme) error {
	if _, err := ParseScheme(string(scheme)); err != nil {
		return err
	}
	var b strings.Builder
	if scheme.staking() {
		if k.Staking.IsZero() {
			return errorf(ErrZeroKey, "keys: write key file: zero staking key")
		}
		fmt.Fprintf(&b, "%s=%s\n%s=%s\n", EnvPublicStakingKey, k.Staking.PubKey(), EnvPrivateStakingKey, k.Staking.Secret())
	}
	if scheme.state() {
		if k.State.IsZero() {
			return errorf(ErrZeroKey, "keys: write key file: zero state key")
		}
		fmt.Fprintf(&b, "%s=%s\n%s=%s\n", EnvPublicStateKey, k.State.PubKey(), EnvPrivateStateKey, k.State.Secret())
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("keys: write key file: %w", err)
	}
	return nil
}

// LoadKeyFile reads the key file at path; see ParseKeyFile. Errors name path.
func LoadKeyFile(path string) (Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return Keys{}, fmt.Errorf("keys: key file: %w", err)
	}
	defer f.Close()
	return parseKeyFile(f, fmt.Sprintf("key file %q", path))
}

// ParseKeyFile reads a .env key file: KEY=value lines, blank lines, lines
// starting with #, an optional "export " prefix, values optionally in single or
// double quotes (taken literally), and " #" comments after unquoted values. It
// needs ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY and
// ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY; when ESPRESSO_SEQUENCER_PUBLIC_STAKING_KEY
// or ESPRESSO_SEQUENCER_PUBLIC_STATE_KEY is present it must parse and belong to
// the private key, else the error wraps ErrPublicKeyMismatch. Each of the four
// variables may appear once; other variables are ignored. Errors name the line
// and variable but never repeat a private key.
func ParseKeyFile(r io.Reader) (Keys, error) {
	return parseKeyFile(r, "key file")
}

// envValue is a key file value and the line it came from.
type envValue struct {
	value string
	line  int
}

func parseKeyFile(r io.Reader, name string) (Keys, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxKeyFileSize+1))
	if err != nil {
		return Keys{}, fmt.Errorf("keys: %s: read: %w", name, err)
	}
	if len(data) > MaxKeyFileSize {
		return Keys{}, errorf(ErrKeyFileSyntax, "keys: %s: larger than %d bytes", name, MaxKeyFileSize)
	}
	vars, err := parseEnv(string(data), name)
	if err != nil {
		return Keys{}, err
	}

	privStaking, ok := vars[EnvPrivateStakingKey]
	if !ok || privStaking.value == "" {
		return Keys{}, errorf(ErrMissingKey, "keys: %s: no %s value", name, EnvPrivateStakingKey)
	}
	privState, ok := vars[EnvPrivateStateKey]
	if !ok || privState.value == "" {
		return Keys{}, errorf(ErrMissingKey, "keys: %s: no %s value", name, EnvPrivateStateKey)
	}
	staking, err := ParseStakingKey(privStaking.value)
	if err != nil {
		return Keys{}, within(err, "%s line %d: %s", name, privStaking.line, EnvPrivateStakingKey)
	}
	state, err := ParseStateKey(privState.value)
	if err != nil {
		return Keys{}, within(err, "%s line %d: %s", name, privState.line, EnvPrivateStateKey)
	}

	if pub, ok := vars[EnvPublicStakingKey]; ok {
		got, err := ParseStakingPubKey(pub.value)
		if err != nil {
			return Keys{}, within(err, "%s line %d: %s", name, pub.line, EnvPublicStakingKey)
		}
		if want := staking.PubKey(); got != want {
			return Keys{}, errorf(ErrPublicKeyMismatch, "keys: %s line %d: %s is %s, but %s belongs to %s",
				name, pub.line, EnvPublicStakingKey, got, EnvPrivateStakingKey, want)
		}
	}
	if pub, ok := vars[EnvPublicStateKey]; ok {
		got, err := ParseStatePubKey(pub.value)
		if err != nil {
			return Keys{}, within(err, "%s line %d: %s", name, pub.line, EnvPublicStateKey)
		}
		if want := state.PubKey(); got != want {
			return Keys{}, errorf(ErrPublicKeyMismatch, "keys: %s line %d: %s is %s, but %s belongs to %s",
				name, pub.line, EnvPublicStateKey, got, EnvPrivateStateKey, want)
		}
	}
	return Keys{Staking: staking, State: state}, nil
}

// parseEnv parses .env text and returns the key-file variables it sets.
func parseEnv(text, name string) (map[string]envValue, error) {
	text = strings.TrimPrefix(text, "\uFEFF")
	vars := make(map[string]envValue, 4)
	for i, raw := range strings.Split(text, "\n") {
		lineNo := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimLeft(rest, " \t")
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, errorf(ErrKeyFileSyntax, "keys: %s line %d: no \"=\" (want KEY=value)", name, lineNo)
		}
		key = strings.TrimSpace(key)
		if !validEnvName(key) {
			return nil, errorf(ErrKeyFileSyntax, "keys: %s line %d: variable name %s is not valid (want [A-Za-z_][A-Za-z0-9_]*)",
				name, lineNo, quote(key))
		}
		value, err := unquoteEnvValue(strings.TrimSpace(value))
		if err != nil {
			return nil, errorf(ErrKeyFileSyntax, "keys: %s line %d: %s: %v", name, lineNo, key, err)
		}
		switch key {
		case EnvPublicStakingKey, EnvPrivateStakingKey, EnvPublicStateKey, EnvPrivateStateKey:
			if prev, dup := vars[key]; dup {
				return nil, errorf(ErrKeyFileSyntax, "keys: %s line %d: %s set again (first set on line %d)",
					name, lineNo, key, prev.line)
			}
			vars[key] = envValue{value: value, line: lineNo}
		}
	}
	return vars, nil
}

// unquoteEnvValue strips matching quotes (content taken literally) or, for an
// unquoted value, a trailing " #" comment. Errors never include the value.
func unquoteEnvValue(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if q := v[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(v[1:], q)
		if end < 0 {
			return "", fmt.Errorf("unterminated %c quote", q)
		}
		if rest := strings.TrimSpace(v[end+2:]); rest != "" && rest[0] != '#' {
			return "", fmt.Errorf("unexpected text after the closing %c quote", q)
		}
		return v[1 : end+1], nil
	}
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		rest := strings.TrimSpace(v[i:])
		if rest[0] != '#' {
			return "", fmt.Errorf("unquoted value contains whitespace")
		}
		v = v[:i]
	}
	return v, nil
}

// validEnvName reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// FromPrivateKeys parses a BLS_SIGNING_KEY~... and a SCHNORR_SIGNING_KEY~...
// text into Keys (the sequencer's --private-staking-key and
// --private-state-key).
func FromPrivateKeys(staking, state string) (Keys, error) {
	sk, err := ParseStakingKey(staking)
	if err != nil {
		return Keys{}, err
	}
	st, err := ParseStateKey(state)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Staking: sk, State: st}, nil
}

// Load chooses where the node's keys come from, as the sequencer does
// (docs/keys.md, "Key files"): the key file at keyFile, or both private keys given directly.
// A key file together with either direct key returns ErrConflictingKeys;
// neither a key file nor both direct keys returns ErrNoKeys, unwrapped, whose
// text is "neither key file nor full set of private keys was provided".
func Load(keyFile, stakingKey, stateKey string) (Keys, error) {
	switch {
	case keyFile != "" && (stakingKey != "" || stateKey != ""):
		return Keys{}, ErrConflictingKeys
	case keyFile != "":
		return LoadKeyFile(keyFile)
	case stakingKey != "" && stateKey != "":
		return FromPrivateKeys(stakingKey, stateKey)
	default:
		return Keys{}, ErrNoKeys
	}
}

package keytool

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// seedHex is the known-answer seed 0x00..01 of the keys package tests.
const seedHex = "0000000000000000000000000000000000000000000000000000000000000001"

// Known answers for key set 0 of seedHex (frozen in the keys package too).
const (
	kat0StakingPub = "BLS_VER_KEY~r1TZamQtT1RjvhTa7m2owOrFI4J9evSXrG9fxcD7s6lO3HaRs3CF7xBy7NHaHUnNfA"
	kat0StakingKey = "BLS_SIGNING_KEY~X40qaRctqSjA14cCd9p90uMXYVsW44DxNVFO6nIFye3H"
	kat0PoP        = "BLS_POP~k-xtnL-RNWivKC9_Ce2Ji9RvZoEJcFWLhnyBKdGbMf7iKIxdKcnQyC_ubxvFhgVpB4hBoCW_X9opt4IKqXslsdw5961SC12hcpNmwcXAr9uOWCRapVOLIxW2ibmNc6ring"
	kat0StatePub   = "SCHNORR_VER_KEY~eMmMovVGUpLS5__FOSxDZ2nb0xk4bFHEbzLLptl3DpQS"
	kat0StateKey   = "SCHNORR_SIGNING_KEY~i7UkaVNQpI8Si628dqBaPazyeeSc6xr5mOChHaKto6I2"
	kat0PeerID     = "12D3KooWMf7vS7VeoUrYBrSGpB7ewVLzWfCSabk8yGzDcf9utZC4"
)

// run calls cmd with buffers and returns stdout, stderr and the error.
func run(cmd func([]string, io.Writer, io.Writer) error, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	err := cmd(args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestKeygenWritesFiles(t *testing.T) {
	// Every spelling of the flags gives the same result.
	for _, args := range [][]string{
		{"-o", "OUT", "-n", "3", "-s", seedHex},
		{"--out", "OUT", "--num", "3", "--seed", seedHex, "--scheme", "all"},
		{"--out=OUT", "--num=3", "--seed=" + seedHex, "--scheme=ALL"},
		{"-oOUT", "-n3", "-s" + seedHex},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nested", "keys")
			for i := range args {
				args[i] = strings.ReplaceAll(args[i], "OUT", dir)
			}
			stdout, stderr, err := run(Keygen, args...)
			if err != nil {
				t.Fatal(err)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing with a given seed", stderr)
			}
			if got := mode(t, dir); got != 0o700 {
				t.Errorf("directory mode = %v, want 0700", got)
			}
			if got := readFile(t, filepath.Join(dir, ".seed")); got != seedHex+"\n" {
				t.Errorf(".seed = %q", got)
			}
			if got := mode(t, filepath.Join(dir, ".seed")); got != 0o600 {
				t.Errorf(".seed mode = %v, want 0600", got)
			}
			want0 := strings.Join([]string{
				keys.EnvPublicStakingKey + "=" + kat0StakingPub,
				keys.EnvPrivateStakingKey + "=" + kat0StakingKey,
				keys.EnvPublicStateKey + "=" + kat0StatePub,
				keys.EnvPrivateStateKey + "=" + kat0StateKey,
			}, "\n") + "\n"
			if got := readFile(t, filepath.Join(dir, "0.env")); got != want0 {
				t.Errorf("0.env =\n%s\nwant\n%s", got, want0)
			}
			for i := range 3 {
				p := filepath.Join(dir, []string{"0.env", "1.env", "2.env"}[i])
				if got := mode(t, p); got != 0o600 {
					t.Errorf("%s mode = %v, want 0600", p, got)
				}
				k, err := keys.LoadKeyFile(p)
				if err != nil {
					t.Fatal(err)
				}
				want, err := keys.DeriveKeys([32]byte{31: 1}, uint64(i))
				if err != nil {
					t.Fatal(err)
				}
				if k.Staking.PubKey() != want.Staking.PubKey() || k.State.PubKey() != want.State.PubKey() {
					t.Errorf("%s holds key set other than %d", p, i)
				}
				if !strings.Contains(stdout, p+"\n") || !strings.Contains(stdout, want.Staking.PubKey().String()) ||
					!strings.Contains(stdout, want.Staking.ProvePossession().String()) || !strings.Contains(stdout, want.State.PubKey().String()) {
					t.Errorf("stdout lacks key set %d:\n%s", i, stdout)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "3.env")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("3.env exists with -n 3")
			}
			wantOut := filepath.Join(dir, "0.env") + "\n" +
				"  staking key:          " + kat0StakingPub + "\n" +
				"  proof of possession:  " + kat0PoP + "\n" +
				"  state key:            " + kat0StatePub + "\n"
			if !strings.HasPrefix(stdout, wantOut) {
				t.Errorf("stdout =\n%s\nwant prefix\n%s", stdout, wantOut)
			}
			if strings.Contains(stdout, "SIGNING_KEY") {
				t.Error("stdout shows a private key")
			}
		})
	}
}

func TestKeygenSameSeedSameFiles(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if _, _, err := run(Keygen, "-o", d, "-n", "2", "-s", seedHex); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{".seed", "0.env", "1.env"} {
		x, y := readFile(t, filepath.Join(a, name)), readFile(t, filepath.Join(b, name))
		if x != y {
			t.Errorf("%s differs between runs with the same seed", name)
		}
	}
	// Running again into the same directory rewrites identical files and
	// tightens the mode of an existing file.
	p := filepath.Join(a, "0.env")
	before := readFile(t, p)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(Keygen, "-o", a, "-n", "1", "-s", seedHex); err != nil {
		t.Fatal(err)
	}
	if readFile(t, p) != before {
		t.Error("re-run changed 0.env")
	}
	if got := mode(t, p); got != 0o600 {
		t.Errorf("re-run left mode %v, want 0600", got)
	}
}

func TestKeygenSchemes(t *testing.T) {
	tests := []struct {
		scheme   string
		lines    []string
		printed  []string
		notShown []string
	}{
		{"bls", []string{keys.EnvPublicStakingKey, keys.EnvPrivateStakingKey}, []string{kat0StakingPub, kat0PoP}, []string{"SCHNORR_VER_KEY"}},
		{"schnorr", []string{keys.EnvPublicStateKey, keys.EnvPrivateStateKey}, []string{kat0StatePub}, []string{"BLS_VER_KEY", "BLS_POP"}},
		{"all", []string{keys.EnvPublicStakingKey, keys.EnvPrivateStakingKey, keys.EnvPublicStateKey, keys.EnvPrivateStateKey},
			[]string{kat0StakingPub, kat0PoP, kat0StatePub}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			dir := t.TempDir()
			stdout, _, err := run(Keygen, "-o", dir, "-s", seedHex, "--scheme", tt.scheme)
			if err != nil {
				t.Fatal(err)
			}
			content := strings.TrimSuffix(readFile(t, filepath.Join(dir, "0.env")), "\n")
			lines := strings.Split(content, "\n")
			if len(lines) != len(tt.lines) {
				t.Fatalf("0.env has %d lines, want %d:\n%s", len(lines), len(tt.lines), content)
			}
			for i, name := range tt.lines {
				if !strings.HasPrefix(lines[i], name+"=") {
					t.Errorf("line %d = %q, want %s=...", i+1, lines[i], name)
				}
			}
			for _, s := range tt.printed {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %s", s)
				}
			}
			for _, s := range tt.notShown {
				if strings.Contains(stdout, s) {
					t.Errorf("stdout shows %s", s)
				}
			}
		})
	}
}

func TestKeygenRandomSeed(t *testing.T) {
	dir := t.TempDir()
	_, stderr, err := run(Keygen, "-o", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "random seed") || !strings.Contains(stderr, filepath.Join(dir, ".seed")) {
		t.Errorf("stderr = %q, want a note about the random seed", stderr)
	}
	seedText := strings.TrimSuffix(readFile(t, filepath.Join(dir, ".seed")), "\n")
	seed, err := hex.DecodeString(seedText)
	if err != nil || len(seed) != 32 {
		t.Fatalf(".seed = %q: %v", seedText, err)
	}
	k, err := keys.LoadKeyFile(filepath.Join(dir, "0.env"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := keys.DeriveKeys([32]byte(seed), 0)
	if err != nil {
		t.Fatal(err)
	}
	if k.Staking.PubKey() != want.Staking.PubKey() || k.State.PubKey() != want.State.PubKey() {
		t.Fatal("0.env does not hold key set 0 of the saved seed")
	}
	// Two random runs differ.
	dir2 := t.TempDir()
	if _, _, err := run(Keygen, "-o", dir2); err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(dir2, ".seed")) == readFile(t, filepath.Join(dir, ".seed")) {
		t.Fatal("two random seeds are equal")
	}
}

func TestKeygenHelp(t *testing.T) {
	for _, flag := range []string{"-h", "--help"} {
		dir := t.TempDir()
		stdout, stderr, err := run(Keygen, flag, "-o", dir)
		if err != nil {
			t.Fatalf("%s: %v", flag, err)
		}
		for _, s := range []string{"Usage: keygen", "--out", "--num", "--seed", "--scheme", "--help", keys.EnvPrivateStateKey} {
			if !strings.Contains(stdout, s) {
				t.Errorf("%s: help lacks %q", flag, s)
			}
		}
		if !strings.HasSuffix(stdout, "\n") || stderr != "" {
			t.Errorf("%s: stdout ends %q, stderr %q", flag, stdout[len(stdout)-5:], stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s wrote files", flag)
		}
	}
}

func TestKeygenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"-s", seedHex}, "-o/--out DIR is required"},
		{"no args", nil, "-o/--out DIR is required"},
		{"empty out", []string{"--out="}, "-o/--out DIR is required"},
		{"out without value", []string{"--out"}, "flag needs an argument"},
		{"num zero", []string{"-o", dir, "-n", "0"}, "-n/--num 0: want at least 1"},
		{"num negative", []string{"-o", dir, "--num", "-2"}, "-n/--num -2"},
		{"num not a number", []string{"-o", dir, "-n", "two"}, `invalid argument "two"`},
		{"seed with 0x", []string{"-o", dir, "-s", "0x" + seedHex}, "remove the 0x prefix"},
		{"seed with 0X", []string{"-o", dir, "-s", "0X" + seedHex[:62]}, "remove the 0x prefix"},
		{"seed too short", []string{"-o", dir, "--seed", seedHex[:62]}, "62 hex digits, want 64"},
		{"seed too long", []string{"-o", dir, "-s", seedHex + "00"}, "66 hex digits, want 64"},
		{"seed not hex", []string{"-o", dir, "-s", strings.Repeat("zz", 32)}, "not hex"},
		{"unknown scheme", []string{"-o", dir, "--scheme", "rsa"}, `--scheme "rsa": unknown scheme (want all, bls or schnorr)`},
		{"unknown flag", []string{"-o", dir, "--force"}, "unknown flag: --force"},
		{"unknown shorthand", []string{"-o", dir, "-x"}, "unknown shorthand flag"},
		{"positional argument", []string{"-o", dir, "extra"}, `unexpected argument "extra"`},
		{"out is a file", []string{"-o", file, "-s", seedHex}, "create output directory"},
		{"out below a file", []string{"-o", filepath.Join(file, "sub"), "-s", seedHex}, "create output directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := run(Keygen, tt.args...)
			if err == nil {
				t.Fatalf("Keygen(%q) succeeded", tt.args)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q on error", stdout)
			}
		})
	}
	// Usage errors are marked as such; I/O errors are not.
	if _, _, err := run(Keygen); !errors.Is(err, ErrUsage) {
		t.Errorf("missing -o: err = %v, want ErrUsage", err)
	}
	if _, _, err := run(Keygen, "-o", file, "-s", seedHex); errors.Is(err, ErrUsage) {
		t.Errorf("mkdir failure marked as usage error: %v", err)
	}
	// Nothing is written when the flags are wrong.
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed runs wrote %d files", len(entries))
	}
}

func TestKeygenUnwritableFile(t *testing.T) {
	dir := t.TempDir()
	// A directory where 0.env should go makes the write fail.
	if err := os.Mkdir(filepath.Join(dir, "0.env"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(Keygen, "-o", dir, "-s", seedHex)
	if err == nil || !strings.Contains(err.Error(), "0.env") {
		t.Fatalf("err = %v, want one naming 0.env", err)
	}
}

func TestPubKey(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"BLS key", []string{kat0StakingKey}, kat0StakingPub},
		{"Schnorr key", []string{kat0StateKey}, kat0StatePub},
		{"-l with BLS key", []string{"-l", kat0StakingKey}, kat0PeerID},
		{"--libp2p with BLS key", []string{"--libp2p", kat0StakingKey}, kat0PeerID},
		{"flag after key", []string{kat0StakingKey, "-l"}, kat0PeerID},
		{"surrounding whitespace", []string{" " + kat0StateKey + "\n"}, kat0StatePub},
		{"after --", []string{"--", kat0StakingKey}, kat0StakingPub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := run(PubKey, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if stdout != tt.want+"\n" || stderr != "" {
				t.Fatalf("stdout %q stderr %q, want %q", stdout, stderr, tt.want+"\n")
			}
		})
	}
}

func TestPubKeyHelp(t *testing.T) {
	for _, flag := range []string{"-h", "--help"} {
		stdout, _, err := run(PubKey, flag)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Usage: pub-key", "--libp2p", "-l", "--help"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("%s: help lacks %q", flag, s)
			}
		}
	}
}

func TestPubKeyErrors(t *testing.T) {
	secretData := strings.SplitN(kat0StakingKey, "~", 2)[1]
	badChecksum := kat0StakingKey[:20] + "A" + kat0StakingKey[21:]
	if badChecksum == kat0StakingKey {
		t.Fatal("tamper produced the same key")
	}
	tests := []struct {
		name string
		args []string
		is   error
		want string
	}{
		{"no key", nil, ErrUsage, "want exactly one private key argument, got 0"},
		{"two keys", []string{kat0StakingKey, kat0StateKey}, ErrUsage, "got 2"},
		{"unknown flag", []string{"--peer", kat0StakingKey}, ErrUsage, "unknown flag: --peer"},
		{"-l with Schnorr key", []string{"-l", kat0StateKey}, ErrLibP2PNeedsBLS, "--libp2p needs a BLS staking key"},
		{"--libp2p with Schnorr key", []string{"--libp2p", kat0StateKey}, ErrLibP2PNeedsBLS, "SCHNORR_SIGNING_KEY"},
		{"public key", []string{kat0StakingPub}, ErrUnrecognizedKeyType, `unrecognized key type "BLS_VER_KEY"`},
		{"garbage", []string{"hello"}, ErrUnrecognizedKeyType, "unrecognized key type (want a private key"},
		{"empty", []string{""}, ErrUnrecognizedKeyType, "unrecognized key type"},
		{"BLS key with bad checksum", []string{badChecksum}, nil, "incorrect checksum"},
		{"Schnorr key of wrong length", []string{types.TaggedBase64{Tag: keys.TagStateKey, Value: []byte{1, 2, 3}}.String()}, keys.ErrBadLength, "want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := run(PubKey, tt.args...)
			if err == nil {
				t.Fatalf("PubKey(%q) succeeded: %s", tt.args, stdout)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secretData[:12]) {
				t.Errorf("error %q repeats the key", err)
			}
			if stdout != "" {
				t.Errorf("stdout = %q on error", stdout)
			}
		})
	}
}

func TestRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Run("keygen", Keygen, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit code = %d, want 1", code)
	}
	if got := stderr.String(); got != "keygen: -o/--out DIR is required: the directory to write the key files to\n" {
		t.Fatalf("stderr = %q", got)
	}
	stderr.Reset()
	multi := func([]string, io.Writer, io.Writer) error { return errors.New("first\nsecond  line") }
	if code := Run("pub-key", multi, nil, &stdout, &stderr); code != 1 || stderr.String() != "pub-key: first second line\n" {
		t.Fatalf("multi-line error: code %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	stdout.Reset()
	if code := Run("pub-key", PubKey, []string{kat0StateKey}, &stdout, &stderr); code != 0 || stdout.String() != kat0StatePub+"\n" || stderr.Len() != 0 {
		t.Fatalf("success: code %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	if code := Run("pub-key", PubKey, []string{"--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("help: code %d", code)
	}
}

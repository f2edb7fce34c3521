// Package keytool implements the keygen and pub-key commands (docs/operator.md,
// "keygen" and "pub-key") as functions over arguments and writers, so that the keygen and
// pub-key binaries and `utils keygen` / `utils pubkey` share one
// implementation and tests need no subprocesses.
package keytool

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/p2p"
	"github.com/gospresso/gospresso/types"
)

// Errors of the key tools. Returned errors wrap one of these or a keys error.
var (
	// ErrUsage means the command line is wrong (missing or bad flag or argument).
	ErrUsage = errors.New("keytool: usage error")
	// ErrUnrecognizedKeyType means pub-key got text that is neither a
	// BLS_SIGNING_KEY nor a SCHNORR_SIGNING_KEY.
	ErrUnrecognizedKeyType = errors.New("unrecognized key type")
	// ErrLibP2PNeedsBLS means pub-key --libp2p got a Schnorr key.
	ErrLibP2PNeedsBLS = errors.New("keytool: --libp2p needs a BLS staking key")
)

// SeedFile is the name of the file keygen writes the seed to, inside --out.
const SeedFile = ".seed"

// Run calls cmd (Keygen or PubKey) and turns its error into one line
// "<name>: <error>" on stderr. It returns the process exit status: 0 on
// success (help included), 1 on any error.
func Run(name string, cmd func(args []string, stdout, stderr io.Writer) error, args []string, stdout, stderr io.Writer) int {
	if err := cmd(args, stdout, stderr); err != nil {
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
		fmt.Fprintf(stderr, "%s: %s\n", name, msg)
		return 1
	}
	return 0
}

// usageError wraps a message as an ErrUsage error without repeating ErrUsage's text.
func usageError(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), kind: ErrUsage}
}

type wrapped struct {
	msg  string
	kind error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.kind }

const keygenUsage = `Usage: keygen -o DIR [-n N] [-s SEED] [--scheme all|bls|schnorr]

Generates N key sets and writes DIR/.seed (the seed in hex) and DIR/<i>.env
for i = 0..N-1 with the lines
  ESPRESSO_SEQUENCER_PUBLIC_STAKING_KEY=BLS_VER_KEY~...
  ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY=BLS_SIGNING_KEY~...
  ESPRESSO_SEQUENCER_PUBLIC_STATE_KEY=SCHNORR_VER_KEY~...
  ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY=SCHNORR_SIGNING_KEY~...
(--scheme bls writes only the staking lines, schnorr only the state lines).
Key set i depends only on (seed, i). The public keys and each staking key's
proof of possession (BLS_POP~..., for genesis stake tables) are printed.

Options:
`

// Keygen runs the keygen command: see keygenUsage (and --help).
func Keygen(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("keygen", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.StringP("out", "o", "", "output directory, created (mode 0700) if missing (required)")
	num := fs.IntP("num", "n", 1, "number of key sets to generate")
	seedHex := fs.StringP("seed", "s", "", "32-byte seed as 64 hex digits, no 0x prefix (default: random from the OS)")
	schemeName := fs.String("scheme", string(keys.SchemeAll), "key pairs to generate: all, bls or schnorr")
	help := fs.BoolP("help", "h", false, "print this help")
	if err := fs.Parse(args); err != nil {
		return usageError("%v (see --help)", err)
	}
	if *help {
		_, err := fmt.Fprint(stdout, keygenUsage+fs.FlagUsages())
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q (keygen takes only flags; see --help)", fs.Arg(0))
	}
	if *out == "" {
		return usageError("-o/--out DIR is required: the directory to write the key files to")
	}
	if *num < 1 {
		return usageError("-n/--num %d: want at least 1", *num)
	}
	scheme, err := keys.ParseScheme(*schemeName)
	if err != nil {
		return usageError("--scheme %q: unknown scheme (want all, bls or schnorr)", *schemeName)
	}
	seed, err := parseSeed(*seedHex)
	if err != nil {
		return err
	}
	if *seedHex == "" {
		if _, err := io.ReadFull(rand.Reader, seed[:]); err != nil {
			return fmt.Errorf("read random seed: %w", err)
		}
		fmt.Fprintf(stderr, "keygen: no --seed given; using a random seed, saved in %s\n", filepath.Join(*out, SeedFile))
	}

	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if err := writeSecretFile(filepath.Join(*out, SeedFile), []byte(hex.EncodeToString(seed[:])+"\n")); err != nil {
		return err
	}
	for i := range *num {
		k, err := keys.DeriveKeys(seed, uint64(i))
		if err != nil {
			return err
		}
		var b strings.Builder
		if err := keys.WriteKeyFile(&b, k, scheme); err != nil {
			return err
		}
		path := filepath.Join(*out, strconv.Itoa(i)+".env")
		if err := writeSecretFile(path, []byte(b.String())); err != nil {
			return err
		}
		if err := printKeySet(stdout, path, k, scheme); err != nil {
			return err
		}
	}
	return nil
}

// parseSeed decodes --seed: exactly 64 hex digits, no 0x prefix. An empty
// string gives the zero seed (the caller then draws a random one).
func parseSeed(s string) ([keys.SeedSize]byte, error) {
	var seed [keys.SeedSize]byte
	if s == "" {
		return seed, nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return seed, usageError("-s/--seed: remove the 0x prefix (want %d hex digits)", 2*keys.SeedSize)
	}
	if len(s) != 2*keys.SeedSize {
		return seed, usageError("-s/--seed: %d hex digits, want %d (a %d-byte seed)", len(s), 2*keys.SeedSize, keys.SeedSize)
	}
	if _, err := hex.Decode(seed[:], []byte(s)); err != nil {
		return seed, usageError("-s/--seed: not hex: %v", err)
	}
	return seed, nil
}

// printKeySet prints the public parts of key set k written to path.
func printKeySet(w io.Writer, path string, k keys.Keys, scheme keys.Scheme) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", path)
	if scheme == keys.SchemeAll || scheme == keys.SchemeBLS {
		fmt.Fprintf(&b, "  staking key:          %s\n", k.Staking.PubKey())
		fmt.Fprintf(&b, "  proof of possession:  %s\n", k.Staking.ProvePossession())
	}
	if scheme == keys.SchemeAll || scheme == keys.SchemeSchnorr {
		fmt.Fprintf(&b, "  state key:            %s\n", k.State.PubKey())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSecretFile writes data to path with mode 0600 (also when the file
// already exists with wider permissions).
func writeSecretFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

const pubKeyUsage = `Usage: pub-key [-l] KEY

Prints the public key of the private key KEY: BLS_VER_KEY~... for a
BLS_SIGNING_KEY~..., SCHNORR_VER_KEY~... for a SCHNORR_SIGNING_KEY~...
With -l/--libp2p and a BLS key, prints the libp2p peer ID (12D3KooW...) used in
bootstrap multiaddrs instead.

Options:
`

// PubKey runs the pub-key command: see pubKeyUsage (and --help).
func PubKey(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("pub-key", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	libp2p := fs.BoolP("libp2p", "l", false, "print the libp2p peer ID of a BLS key instead of its public key")
	help := fs.BoolP("help", "h", false, "print this help")
	if err := fs.Parse(args); err != nil {
		return usageError("%v (see --help)", err)
	}
	if *help {
		_, err := fmt.Fprint(stdout, pubKeyUsage+fs.FlagUsages())
		return err
	}
	if fs.NArg() != 1 {
		return usageError("want exactly one private key argument, got %d (see --help)", fs.NArg())
	}
	text := strings.TrimSpace(fs.Arg(0))

	staking, errBLS := keys.ParseStakingKey(text)
	if errBLS == nil {
		if *libp2p {
			id, err := p2p.PeerID(staking)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, id)
			return err
		}
		_, err := fmt.Fprintln(stdout, staking.PubKey())
		return err
	}
	state, errSchnorr := keys.ParseStateKey(text)
	if errSchnorr == nil {
		if *libp2p {
			return fmt.Errorf("%w (got a %s; libp2p peer IDs derive from the staking key)", ErrLibP2PNeedsBLS, keys.TagStateKey)
		}
		_, err := fmt.Fprintln(stdout, state.PubKey())
		return err
	}

	// Neither parsed. A key with a known tag but bad content gets that
	// key's own error; anything else is an unrecognised key type. The key
	// text itself is never repeated.
	tag, _, _ := strings.Cut(text, types.TaggedBase64Delimiter)
	switch tag {
	case keys.TagStakingKey:
		return errBLS
	case keys.TagStateKey:
		return errSchnorr
	}
	if types.ValidTag(tag) && strings.Contains(text, types.TaggedBase64Delimiter) {
		return fmt.Errorf("%w %q (want a private key: %s~... or %s~...)", ErrUnrecognizedKeyType, tag, keys.TagStakingKey, keys.TagStateKey)
	}
	return fmt.Errorf("%w (want a private key: %s~... or %s~...)", ErrUnrecognizedKeyType, keys.TagStakingKey, keys.TagStateKey)
}

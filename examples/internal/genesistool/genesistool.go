package genesistool

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/types"
)

// ErrUsage marks a bad command line (unknown flag, missing or extra file).
var ErrUsage = errors.New("genesistool: usage error")

const usage = `Usage: utils genesis [-h] FILE

Parse and validate the genesis TOML file FILE (docs/genesis.md). On success print its
canonical JSON, the commitment of its chain config (and of each upgrade's),
and the genesis commitment (SHA-256 of the compact canonical JSON). On failure
print one line naming the offending field, its value and what was expected,
and exit with status 1.

Options:
  -h, --help   print this help
`

// Check runs `utils genesis` with args (the arguments after "genesis"). It
// writes the report to stdout and returns the first validation error, a
// usage error wrapping ErrUsage, or nil. With -h/--help it prints the usage
// to stdout and returns nil. stderr is not written to; it is accepted so all
// utils subcommands share one signature.
func Check(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("genesis", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	help := fs.BoolP("help", "h", false, "print this help")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v (usage: utils genesis [-h] FILE)", ErrUsage, err)
	}
	if *help {
		_, err := io.WriteString(stdout, usage)
		return err
	}
	switch fs.NArg() {
	case 0:
		return fmt.Errorf("%w: missing genesis FILE (usage: utils genesis [-h] FILE)", ErrUsage)
	case 1:
	default:
		return fmt.Errorf("%w: want one genesis FILE, got %d arguments (usage: utils genesis [-h] FILE)", ErrUsage, fs.NArg())
	}

	g, err := genesis.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	report, err := Report(g)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(report); err != nil {
		return fmt.Errorf("genesistool: write report: %w", err)
	}
	return nil
}

// Report renders what `utils genesis` prints for a valid genesis: the
// canonical JSON indented by two spaces, then the lines
//
//	chain config commitment: CHAIN_CONFIG~…
//	upgrade 0.99 chain config commitment: CHAIN_CONFIG~…   (one per upgrade)
//	genesis commitment: 0x…
func Report(g *genesis.Genesis) ([]byte, error) {
	compact, err := g.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("genesistool: encode genesis: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("genesistool: indent genesis JSON: %w", err)
	}
	out.WriteByte('\n')
	cc, err := chainConfigCommitment(g.ChainConfig)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&out, "chain config commitment: %s\n", cc)
	for _, u := range g.Upgrades {
		cc, err := chainConfigCommitment(u.ChainConfig)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&out, "upgrade %s chain config commitment: %s\n", u.Version, cc)
	}
	c := g.Commitment()
	fmt.Fprintf(&out, "genesis commitment: 0x%s\n", hex.EncodeToString(c[:]))
	return out.Bytes(), nil
}

// chainConfigCommitment returns the TaggedBase64 text of c's commitment.
func chainConfigCommitment(c types.ChainConfig) (string, error) {
	commit := c.Commit()
	tb, err := types.NewTaggedBase64("CHAIN_CONFIG", commit[:])
	if err != nil {
		return "", fmt.Errorf("genesistool: chain config commitment: %w", err)
	}
	return tb.String(), nil
}

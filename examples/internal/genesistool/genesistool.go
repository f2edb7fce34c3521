package genesistool

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/types"
)

// ErrUsage marks a bad command line (unknown flag, missing or extra file).
var ErrUsage = errors.New("genesistool: usage error")

const usage = `Usage: utils genesis [-h] [--l1-provider-url URL[,URL...]] FILE

Parse and validate the genesis TOML file FILE (docs/genesis.md). On success print its
canonical JSON, the commitment of its chain config (and of each upgrade's),
and the genesis commitment (SHA-256 of the compact canonical JSON). On failure
print one line naming the offending field, its value and what was expected,
and exit with status 1.

With --l1-provider-url, also run the checks that need the L1, and print one
"l1: ..." line per check: the L1 answers eth_chainId; every fee_contract
(genesis and upgrades) has code on the L1 (an EIP-1967 proxy is reported as
such); [l1_finalized] resolves to a finalized L1 block. A block not finalized
yet is a warning (a node would wait for it); a failed check exits with
status 1.

Options:
      --l1-provider-url URL[,URL...]   L1 JSON-RPC URL(s), in failover order
  -h, --help                           print this help
`

const usageLine = "usage: utils genesis [-h] [--l1-provider-url URL] FILE"

// Check runs `utils genesis` with args (the arguments after "genesis"):
// CheckContext without a deadline.
func Check(args []string, stdout, stderr io.Writer) error {
	return CheckContext(context.Background(), args, stdout, stderr)
}

// CheckContext runs `utils genesis` with args (the arguments after
// "genesis"). It writes the report to stdout and returns the first
// validation error, a usage error wrapping ErrUsage, or nil. With
// --l1-provider-url it then runs the L1 checks (CheckL1) and writes their
// lines to stdout too, returning an error wrapping ErrL1Check when one
// fails; ctx bounds them. With -h/--help it prints the usage to stdout and
// returns nil. stderr is not written to; it is accepted so all utils
// subcommands share one signature.
func CheckContext(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("genesis", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	help := fs.BoolP("help", "h", false, "print this help")
	provider := fs.String("l1-provider-url", "", "L1 JSON-RPC URL(s), in failover order")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v (%s)", ErrUsage, err, usageLine)
	}
	if *help {
		_, err := io.WriteString(stdout, usage)
		return err
	}
	switch fs.NArg() {
	case 0:
		return fmt.Errorf("%w: missing genesis FILE (%s)", ErrUsage, usageLine)
	case 1:
	default:
		return fmt.Errorf("%w: want one genesis FILE, got %d arguments (%s)", ErrUsage, fs.NArg(), usageLine)
	}
	var urls []string
	if fs.Changed("l1-provider-url") {
		var err error
		if urls, err = parseProviders(*provider); err != nil {
			return err
		}
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
	if urls == nil {
		return nil
	}
	c, err := dialL1(ctx, urls)
	if err != nil {
		return err
	}
	defer c.Close()
	return CheckL1(ctx, g, c, strings.Join(c.Providers(), ", "), stdout)
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

package genesistool

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/internal/shared"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/types"
)

// demoTOML has the content of the reference demo genesis.
const demoTOML = `base_version = "0.2"
upgrade_version = "0.2"

[stake_table]
capacity = 10

[chain_config]
chain_id = 999999999
base_fee = '1 wei'
max_block_size = '1mb'
fee_recipient = '0x0000000000000000000000000000000000000000'
fee_contract = '0xa15bb66138824a1c7167f5e85b957d04dd34e468'

[header]
timestamp = "1970-01-01T00:00:00Z"

[l1_finalized]
number = 0
`

const marketplaceUpgrade = `
[[upgrade]]
version = "0.99"
start_proposing_view = 10
stop_proposing_view = 60

[upgrade.marketplace.chain_config]
chain_id = 999999999
max_block_size = '1mb'
base_fee = '1 wei'
fee_recipient = "0x0000000000000000000000000000000000000000"
bid_recipient = "0x0000000000000000000000000000000000000000"
`

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "genesis.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckValid(t *testing.T) {
	path := writeFile(t, demoTOML)
	var stdout, stderr bytes.Buffer
	if err := Check([]string{path}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	if stderr.Len() != 0 {
		t.Errorf("stderr: %q", stderr.String())
	}

	// The JSON part is the indented canonical JSON.
	jsonEnd := strings.Index(out, "\nchain config commitment: ")
	if jsonEnd < 0 {
		t.Fatalf("no chain config commitment line in\n%s", out)
	}
	g, err := genesis.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	compact, _ := g.MarshalJSON()
	var indented bytes.Buffer
	if err := json.Indent(&indented, compact, "", "  "); err != nil {
		t.Fatal(err)
	}
	if out[:jsonEnd] != indented.String() {
		t.Errorf("JSON part:\n%s\nwant:\n%s", out[:jsonEnd], indented.String())
	}
	if !strings.Contains(out, "\n  \"base_version\": \"0.2\",\n") {
		t.Errorf("JSON not indented by two spaces:\n%s", out)
	}

	lines := strings.Split(strings.TrimSuffix(out[jsonEnd+1:], "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("trailer lines %q", lines)
	}
	cc := strings.TrimPrefix(lines[0], "chain config commitment: ")
	tb, err := types.ParseTaggedBase64(cc)
	if err != nil || tb.Tag != "CHAIN_CONFIG" || len(tb.Value) != 32 {
		t.Fatalf("chain config commitment %q: %v", cc, err)
	}
	want := g.ChainConfig.Commit()
	if !bytes.Equal(tb.Value, want[:]) {
		t.Errorf("chain config commitment %x, want %x", tb.Value, want)
	}
	// Pinned: same as the genesis package's golden demo commitment.
	const wantGenesis = "genesis commitment: 0xc580b4f238ba1c7b7e0ce23087ecf9b6f90563ecb838ccaf4a073438328f373d"
	if lines[1] != wantGenesis {
		t.Errorf("last line %q, want %q", lines[1], wantGenesis)
	}
}

func TestCheckUpgradeCommitments(t *testing.T) {
	doc := strings.Replace(demoTOML, `upgrade_version = "0.2"`, `upgrade_version = "0.99"`, 1) + marketplaceUpgrade
	var stdout bytes.Buffer
	if err := Check([]string{writeFile(t, doc)}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "\nupgrade 0.99 chain config commitment: CHAIN_CONFIG~") {
		t.Errorf("no upgrade commitment line in\n%s", stdout.String())
	}
}

func TestCheckSharedTestdata(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(shared.Dir(t), "genesis", "*.toml"))
	if len(files) == 0 {
		t.Fatal("the shared test data has no genesis/*.toml files")
	}
	for _, f := range files {
		var stdout bytes.Buffer
		if err := Check([]string{f}, &stdout, &bytes.Buffer{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestCheckErrors(t *testing.T) {
	bad := writeFile(t, strings.Replace(demoTOML, "max_block_size = '1mb'", "max_block_size = '12 parsecs'", 1))
	missing := filepath.Join(t.TempDir(), "missing.toml")
	tests := []struct {
		name string
		args []string
		is   error
		text string
	}{
		{"invalid file", []string{bad}, genesis.ErrUnknownUnit,
			"genesis: " + bad + `: chain_config.max_block_size: "12 parsecs": unknown unit (want b, kb, kib, mb, ...)`},
		{"missing file", []string{missing}, fs.ErrNotExist, missing},
		{"no file", nil, ErrUsage, "missing genesis FILE"},
		{"two files", []string{bad, bad}, ErrUsage, "want one genesis FILE, got 2 arguments"},
		{"unknown flag", []string{"--bogus", bad}, ErrUsage, "unknown flag: --bogus"},
		{"L1 URL scheme", []string{"--l1-provider-url", "ftp://localhost:8545", bad}, ErrUsage, `--l1-provider-url: "ftp://localhost:8545": scheme "ftp" (want http, https, ws or wss)`},
		{"L1 URL missing", []string{bad, "--l1-provider-url"}, ErrUsage, "flag needs an argument: --l1-provider-url"},
		// The file is checked before the L1 is contacted.
		{"invalid file with an L1", []string{"--l1-provider-url", "http://127.0.0.1:1", bad}, genesis.ErrUnknownUnit, "chain_config.max_block_size"},
	}
	for _, tt := range tests {
		var stdout bytes.Buffer
		err := Check(tt.args, &stdout, &bytes.Buffer{})
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: error %v, want %v containing %q", tt.name, err, tt.is, tt.text)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tt.name, err)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: wrote %q to stdout on error", tt.name, stdout.String())
		}
	}
}

func TestCheckHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var stdout bytes.Buffer
		if err := Check([]string{arg}, &stdout, &bytes.Buffer{}); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if !strings.HasPrefix(stdout.String(), "Usage: utils genesis [-h] [--l1-provider-url URL[,URL...]] FILE\n") {
			t.Errorf("%s printed %q", arg, stdout.String())
		}
	}
}

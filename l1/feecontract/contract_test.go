package feecontract

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestArtifactsMatchBindings checks that the committed ABI and bytecode are
// the ones the generated bindings carry, and that the Deposit event has the
// ID and shape the L1 client decodes.
func TestArtifactsMatchBindings(t *testing.T) {
	var committed, bound any
	if err := json.Unmarshal([]byte(ABIJSON), &committed); err != nil {
		t.Fatalf("FeeContract.abi: %v", err)
	}
	if err := json.Unmarshal([]byte(FeeContractMetaData.ABI), &bound); err != nil {
		t.Fatalf("bindings ABI: %v", err)
	}
	if !reflect.DeepEqual(committed, bound) {
		t.Errorf("FeeContract.abi differs from the ABI in feecontract.go: run ./gen.sh")
	}
	if got, want := FeeContractMetaData.Bin, "0x"+strings.TrimSpace(binHex); got != want {
		t.Errorf("FeeContract.bin differs from the bytecode in feecontract.go: run ./gen.sh")
	}
	if len(Bytecode()) == 0 {
		t.Fatal("empty bytecode")
	}

	parsed, err := FeeContractMetaData.ParseABI()
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := parsed.Events["Deposit"]
	if !ok {
		t.Fatal("no Deposit event in the ABI")
	}
	if ev.ID != DepositEventID {
		t.Errorf("Deposit event ID %s, want %s", ev.ID, DepositEventID)
	}
	if ev.Sig != DepositEventSignature {
		t.Errorf("Deposit event signature %q, want %q", ev.Sig, DepositEventSignature)
	}
	if len(ev.Inputs) != 2 || !ev.Inputs[0].Indexed || ev.Inputs[1].Indexed {
		t.Errorf("Deposit inputs %+v, want (address indexed user, uint256 amount)", ev.Inputs)
	}
	// 0xe1fffcc4…: keccak256("Deposit(address,uint256)"), pinned.
	if want := common.HexToHash("0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c"); DepositEventID != want {
		t.Errorf("DepositEventID %s, want %s", DepositEventID, want)
	}
	if _, ok := parsed.Methods["deposit"]; !ok {
		t.Error("no deposit method in the ABI")
	}
}

// TestGenReproduces runs gen.sh into a temporary directory and checks that it
// writes exactly the committed files. It needs npx (solc comes from the npm
// registry) and builds abigen, so it is skipped in -short mode and where npx
// is missing.
func TestGenReproduces(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running gen.sh (it fetches solc with npx and builds abigen)")
	}
	for _, tool := range []string{"npx", "node", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: cannot check that gen.sh reproduces the committed files "+
				"(install Node.js with npm to run this test)", tool)
		}
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "gen.sh", out)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && strings.Contains(log.String(), "ENOTFOUND") {
			t.Skipf("npm registry unreachable: %s", lastLine(log.String()))
		}
		t.Fatalf("gen.sh: %v\n%s", err, log.String())
	}
	for _, name := range []string{"FeeContract.abi", "FeeContract.bin", "feecontract.go"} {
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("gen.sh wrote a different %s than the committed one: run ./gen.sh and commit the result", name)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

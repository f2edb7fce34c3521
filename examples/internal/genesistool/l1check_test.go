package genesistool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/l1/l1test"
	"github.com/gospresso/gospresso/types"
)

// demoAddress is the demo genesis's fee contract, where the embedded L1
// has no code.
const demoAddress = "0xa15bb66138824a1c7167f5e85b957d04dd34e468"

func startL1(t *testing.T) *l1test.L1 {
	t.Helper()
	l, err := l1test.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// withFee is the demo genesis with its fee contract at addr and
// [l1_finalized] replaced by fin.
func withFee(addr types.Address, fin string) string {
	doc := strings.Replace(demoTOML, demoAddress, addr.String(), 1)
	return strings.Replace(doc, "[l1_finalized]\nnumber = 0\n", "[l1_finalized]\n"+fin+"\n", 1)
}

// checkL1 runs `utils genesis --l1-provider-url URL FILE` on doc.
func checkL1(t *testing.T, url, doc string) (string, error) {
	t.Helper()
	var stdout bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := CheckContext(ctx, []string{"--l1-provider-url", url, writeFile(t, doc)}, &stdout, &bytes.Buffer{})
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	return stdout.String(), err
}

// l1Lines returns the "l1: " lines of out.
func l1Lines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "l1: ") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestCheckL1(t *testing.T) {
	l := startL1(t)
	url := l.URL()
	fee := l.FeeContract()
	ctx := t.Context()
	b0, err := l.Block(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A block that is finalized: commit past the first epoch.
	fin, err := l.Finalize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answers := "l1: " + url + " answers: chain id 1337"
	contract := "l1: chain_config.fee_contract " + fee.String() + " has code ("
	notProxy := "bytes); not an EIP-1967 proxy (gospresso's fee contract is deployed without one)"

	for _, tc := range []struct {
		name  string
		doc   string
		lines []string // each a prefix of the l1 line at its index
		err   string   // "" for success
	}{
		{"number form", withFee(fee, "number = 0"), []string{answers, contract,
			fmt.Sprintf("l1: [l1_finalized] (number form) resolves to finalized block 0 (hash %s, timestamp %s)", b0.Hash, b0.Timestamp)}, ""},
		{"full form", withFee(fee, fmt.Sprintf("number = %d\ntimestamp = %q\nhash = %q", fin.Number, fin.Timestamp.Hex(), fin.Hash)),
			[]string{answers, contract, fmt.Sprintf("l1: [l1_finalized] (full form) resolves to finalized block %d", fin.Number)}, ""},
		{"timestamp form", withFee(fee, fmt.Sprintf("timestamp = %s", fin.Timestamp)),
			[]string{answers, contract, fmt.Sprintf("l1: [l1_finalized] (timestamp form) resolves to finalized block %d (", fin.Number)}, ""},
		{"not finalized yet", withFee(fee, "number = 1000000"), []string{answers, contract,
			"l1: warning: [l1_finalized] (number form): not finalized yet: a node would wait (l1: not finalized yet: block 1000000 (finalized: "}, ""},
		{"mismatch", withFee(fee, fmt.Sprintf("number = 0\ntimestamp = %q\nhash = %q", b0.Timestamp.Hex(), types.Hash{1})),
			[]string{answers, contract, "l1: error: [l1_finalized] (full form) does not match the L1: l1: block mismatch: "},
			"genesistool: L1 check failed: [l1_finalized] (full form) does not match the L1: "},
		{"no contract at the demo address", demoTOML, []string{answers,
			"l1: error: chain_config.fee_contract " + demoAddress + ": no code at this address on the L1: no fee contract is deployed there",
			"l1: [l1_finalized] (number form) resolves to finalized block 0"},
			"genesistool: L1 check failed: chain_config.fee_contract " + demoAddress + ": no code at this address on the L1"},
		{"upgrade without contract", strings.Replace(withFee(fee, "number = 0"), `upgrade_version = "0.2"`, `upgrade_version = "0.99"`, 1) +
			marketplaceUpgrade + "fee_contract = \"" + demoAddress + "\"\n",
			[]string{answers, contract, "l1: error: upgrade[0] (version 0.99) chain_config.fee_contract " + demoAddress + ": no code",
				"l1: [l1_finalized] (number form) resolves to finalized block 0"},
			"genesistool: L1 check failed: upgrade[0] (version 0.99) chain_config.fee_contract"},
		{"two failures", strings.Replace(demoTOML, "number = 0", fmt.Sprintf("number = 0\ntimestamp = %q\nhash = %q", b0.Timestamp.Hex(), types.Hash{1}), 1),
			[]string{answers, "l1: error: chain_config.fee_contract", "l1: error: [l1_finalized]"},
			"genesistool: L1 check failed: 2 checks failed; the first: chain_config.fee_contract " + demoAddress},
		{"no L1 needed", strings.Replace(strings.Replace(demoTOML, "fee_contract = '"+demoAddress+"'\n", "", 1), "[l1_finalized]\nnumber = 0\n", "", 1),
			[]string{answers, "l1: the genesis needs no L1 (no fee_contract, no [l1_finalized]): nothing more to check"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := checkL1(t, url, tc.doc)
			if tc.err == "" && err != nil {
				t.Fatalf("error %v\n%s", err, out)
			}
			if tc.err != "" && (!errors.Is(err, ErrL1Check) || !strings.HasPrefix(err.Error(), tc.err)) {
				t.Fatalf("error %v, want ErrL1Check starting %q\n%s", err, tc.err, out)
			}
			if !strings.Contains(out, "\ngenesis commitment: 0x") {
				t.Errorf("the report is missing:\n%s", out)
			}
			got := l1Lines(out)
			if len(got) != len(tc.lines) {
				t.Fatalf("l1 lines:\n%s\nwant %d lines starting:\n%s", strings.Join(got, "\n"), len(tc.lines), strings.Join(tc.lines, "\n"))
			}
			for i, want := range tc.lines {
				if !strings.HasPrefix(got[i], want) {
					t.Errorf("line %d: %q\nwant it to start %q", i, got[i], want)
				}
			}
			if strings.Contains(strings.Join(got, "\n"), contract) && !strings.Contains(out, notProxy) {
				t.Errorf("no proxy verdict:\n%s", out)
			}
		})
	}
}

// An L1 that does not answer fails the check within seconds.
func TestCheckL1Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	start := time.Now()
	out, err := checkL1(t, url, demoTOML)
	if !errors.Is(err, ErrL1Check) || !strings.HasPrefix(err.Error(), "genesistool: L1 check failed: the L1 at "+url+" does not answer eth_chainId: ") {
		t.Fatalf("error %v\n%s", err, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	if got := l1Lines(out); len(got) != 1 || !strings.HasPrefix(got[0], "l1: error: the L1 at "+url+" does not answer eth_chainId: ") {
		t.Errorf("l1 lines %q", got)
	}
}

// proxyL1 makes the embedded L1's fee contract look like an EIP-1967 proxy
// whose implementation is at impl.
type proxyL1 struct {
	*l1test.L1
	impl     types.Address
	implCode []byte
}

func (p proxyL1) StorageAt(_ context.Context, addr types.Address, key types.Hash) (types.Hash, error) {
	var h types.Hash
	if addr == p.FeeContract() && key == eip1967ImplementationSlot {
		copy(h[12:], p.impl[:])
	}
	return h, nil
}

func (p proxyL1) Code(ctx context.Context, addr types.Address) ([]byte, error) {
	if addr == p.impl {
		return p.implCode, nil
	}
	return p.L1.Code(ctx, addr)
}

func TestCheckL1Proxy(t *testing.T) {
	l := startL1(t)
	fee := l.FeeContract()
	g, err := genesis.Parse([]byte(withFee(fee, "number = 0")))
	if err != nil {
		t.Fatal(err)
	}
	impl := types.Address{0xaa, 19: 1}
	var out bytes.Buffer
	if err := CheckL1(t.Context(), g, proxyL1{l, impl, []byte{0x60, 0x00}}, "the L1", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if want := "l1: chain_config.fee_contract " + fee.String() + " has code ("; !strings.Contains(out.String(), want) ||
		!strings.Contains(out.String(), "bytes); it is an EIP-1967 proxy, implementation "+impl.String()+" (2 bytes of code)\n") {
		t.Errorf("output:\n%s", out.String())
	}
	out.Reset()
	err = CheckL1(t.Context(), g, proxyL1{l, impl, nil}, "the L1", &out)
	if !errors.Is(err, ErrL1Check) || !strings.Contains(err.Error(), "is an EIP-1967 proxy whose implementation "+impl.String()+" has no code") {
		t.Errorf("implementation without code: %v\n%s", err, out.String())
	}
}

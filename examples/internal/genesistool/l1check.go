package genesistool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/eth"
	"github.com/gospresso/gospresso/types"
)

// ErrL1Check marks a genesis whose L1-dependent checks failed (CheckL1).
var ErrL1Check = errors.New("genesistool: L1 check failed")

// L1 is what the L1 checks read: an l1.Client that also reads an account's
// code and storage (*eth.Client).
type L1 interface {
	l1.Client
	Code(ctx context.Context, addr types.Address) ([]byte, error)
	StorageAt(ctx context.Context, addr types.Address, key types.Hash) (types.Hash, error)
}

// eip1967ImplementationSlot is the storage slot where an EIP-1967 proxy
// keeps its implementation's address: keccak256("eip1967.proxy.implementation") - 1.
var eip1967ImplementationSlot = types.Hash{
	0x36, 0x08, 0x94, 0xa1, 0x3b, 0xa1, 0xa3, 0x21, 0x06, 0x67, 0xc8, 0x28, 0x49, 0x2d, 0xb9, 0x8d,
	0xca, 0x3e, 0x20, 0x76, 0xcc, 0x37, 0x35, 0xa9, 0x20, 0xa3, 0xca, 0x50, 0x5d, 0x38, 0x2b, 0xbc,
}

// Bounds of the tool's L1 client: a few quick attempts, so that an
// unreachable L1 is reported within seconds.
const (
	l1Attempts       = 3
	l1RetryDelay     = 250 * time.Millisecond
	l1RequestTimeout = 10 * time.Second
)

// parseProviders parses --l1-provider-url: a comma list of http(s) or
// ws(s) URLs, in failover order.
func parseProviders(s string) ([]string, error) {
	var urls []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		u, err := url.Parse(part)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%w: --l1-provider-url: %q is not a URL (want e.g. http://localhost:8545)", ErrUsage, part)
		}
		switch u.Scheme {
		case "http", "https", "ws", "wss":
		default:
			return nil, fmt.Errorf("%w: --l1-provider-url: %q: scheme %q (want http, https, ws or wss)", ErrUsage, part, u.Scheme)
		}
		urls = append(urls, part)
	}
	return urls, nil
}

// dialL1 connects to the providers with the tool's bounds.
func dialL1(ctx context.Context, urls []string) (*eth.Client, error) {
	c, err := eth.Dial(ctx, urls, eth.WithMaxAttempts(l1Attempts), eth.WithRetryDelay(l1RetryDelay),
		eth.WithRequestTimeout(l1RequestTimeout))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrL1Check, err)
	}
	return c, nil
}

// CheckL1 runs the L1-dependent checks of a genesis against the L1 c names
// (name labels it in the output) and writes one line per check to w, each
// starting "l1: " ("l1: warning: " and "l1: error: " for the ones that
// warn or fail):
//
//   - the L1 answers eth_chainId;
//   - every fee contract (the genesis chain config's and each upgrade's)
//     has code at its address: gospresso's fee contract is a plain
//     contract, not a proxy, so non-empty code is what is checked; a
//     contract that is an EIP-1967 proxy (its implementation slot holds an
//     address) is reported, with whether the implementation has code;
//   - [l1_finalized] resolves on the L1 (l1.Resolve): a block that is not
//     finalized yet is a warning (a node would wait for it), a block that
//     differs from the L1's (full form) an error.
//
// It returns nil when no check failed (warnings included), else an error
// wrapping ErrL1Check that names the first failure.
func CheckL1(ctx context.Context, g *genesis.Genesis, c L1, name string, w io.Writer) error {
	var failed []string
	fail := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		failed = append(failed, msg)
		fmt.Fprintf(w, "l1: error: %s\n", msg)
	}

	id, err := c.ChainID(ctx)
	if err != nil {
		msg := fmt.Sprintf("the L1 at %s does not answer eth_chainId: %v", name, err)
		fmt.Fprintf(w, "l1: error: %s\n", msg)
		return fmt.Errorf("%w: %s", ErrL1Check, msg)
	}
	fmt.Fprintf(w, "l1: %s answers: chain id %s\n", name, id)
	if !g.NeedsL1() {
		fmt.Fprintln(w, "l1: the genesis needs no L1 (no fee_contract, no [l1_finalized]): nothing more to check")
		return nil
	}

	type contract struct {
		field string
		addr  types.Address
	}
	var contracts []contract
	if a := g.ChainConfig.FeeContract; a != nil {
		contracts = append(contracts, contract{"chain_config.fee_contract", *a})
	}
	for i, u := range g.Upgrades {
		if a := u.ChainConfig.FeeContract; a != nil {
			contracts = append(contracts, contract{fmt.Sprintf("upgrade[%d] (version %s) chain_config.fee_contract", i, u.Version), *a})
		}
	}
	for _, fc := range contracts {
		if err := checkFeeContract(ctx, c, fc.field, fc.addr, w); err != nil {
			fail("%v", err)
		}
	}

	if want := g.L1Finalized; want != nil {
		b, err := l1.Resolve(ctx, c, want)
		switch {
		case err == nil:
			fmt.Fprintf(w, "l1: [l1_finalized] (%s form) resolves to finalized block %d (hash %s, timestamp %s)\n",
				want.Form(), b.Number, b.Hash, b.Timestamp)
		case errors.Is(err, l1.ErrNotFinalized):
			fmt.Fprintf(w, "l1: warning: [l1_finalized] (%s form): not finalized yet: a node would wait (%v)\n", want.Form(), err)
		case errors.Is(err, l1.ErrMismatch):
			fail("[l1_finalized] (%s form) does not match the L1: %v", want.Form(), err)
		default:
			fail("[l1_finalized] (%s form) could not be resolved: %v", want.Form(), err)
		}
	}

	switch len(failed) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s", ErrL1Check, failed[0])
	default:
		return fmt.Errorf("%w: %d checks failed; the first: %s", ErrL1Check, len(failed), failed[0])
	}
}

// checkFeeContract checks that the fee contract at addr (the genesis field
// field) has code, reports whether it is an EIP-1967 proxy, and writes the
// result line.
func checkFeeContract(ctx context.Context, c L1, field string, addr types.Address, w io.Writer) error {
	code, err := c.Code(ctx, addr)
	if err != nil {
		return fmt.Errorf("%s %s: reading its code: %v", field, addr, err)
	}
	if len(code) == 0 {
		return fmt.Errorf("%s %s: no code at this address on the L1: no fee contract is deployed there", field, addr)
	}
	slot, err := c.StorageAt(ctx, addr, eip1967ImplementationSlot)
	if err != nil {
		return fmt.Errorf("%s %s: reading its EIP-1967 implementation slot: %v", field, addr, err)
	}
	impl := types.Address(slot[12:])
	if impl == (types.Address{}) {
		fmt.Fprintf(w, "l1: %s %s has code (%d bytes); not an EIP-1967 proxy (gospresso's fee contract is deployed without one)\n",
			field, addr, len(code))
		return nil
	}
	implCode, err := c.Code(ctx, impl)
	if err != nil {
		return fmt.Errorf("%s %s: reading the code of its EIP-1967 implementation %s: %v", field, addr, impl, err)
	}
	if len(implCode) == 0 {
		return fmt.Errorf("%s %s is an EIP-1967 proxy whose implementation %s has no code", field, addr, impl)
	}
	fmt.Fprintf(w, "l1: %s %s has code (%d bytes); it is an EIP-1967 proxy, implementation %s (%d bytes of code)\n",
		field, addr, len(code), impl, len(implCode))
	return nil
}

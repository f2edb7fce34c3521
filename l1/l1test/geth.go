package l1test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/feecontract"
	"github.com/gospresso/gospresso/types"
)

// Environment variables of StartGeth.
const (
	// GethEnv names the geth binary to run (default: geth on PATH).
	GethEnv = "GOSPRESSO_TEST_GETH"
	// RequireGethEnv set to 1 makes a missing geth a test failure instead
	// of a skip (.ci/run sets it).
	RequireGethEnv = "GOSPRESSO_REQUIRE_GETH"
)

// Bounds of StartGeth and of the helpers' waits when the caller's context
// has no deadline.
const (
	gethStartTimeout = 60 * time.Second
	gethStopTimeout  = 15 * time.Second
	gethTxTimeout    = 60 * time.Second
	gethPoll         = 50 * time.Millisecond
)

// gethFunding is what StartGeth sends the Geth's Account from the dev
// account: 1,000 ether.
var gethFunding = new(big.Int).Mul(big.NewInt(1_000), big.NewInt(1e18))

// Geth is a real `geth --dev` process on 127.0.0.1 for integration tests
// (StartGeth). It runs the chain of geth's simulated beacon (chain ID 1337)
// with a block every second, and serves JSON-RPC over HTTP (the eth, net and
// web3 namespaces) at URL and nothing else: no peer-to-peer listener or
// discovery, no authenticated engine API (dev mode registers none), no
// WebSocket and no IPC.
//
// # Finality
//
// geth --dev's simulated beacon (eth/catalyst/simulated_beacon.go,
// devEpochLength) finalizes in epochs of 32 blocks, exactly as the embedded
// L1 of this package (see "Finality" in the package documentation):
// eth_getBlockByNumber("finalized") answers block 0, the genesis, from the
// start (never null and never "finalized block not found"), stays there
// until the head reaches 32, and then is the head rounded down to a multiple
// of 32 (head 32..63: block 32, and so on). With the one-second block period
// a block is therefore finalized within about 32 seconds of being mined,
// never sooner than the next multiple of 32. "safe" is the head itself.
//
// # Accounts
//
// geth --dev funds its developer account (eth_accounts[0], unlocked, its key
// in the temporary keystore; in go-ethereum v1.17 the well-known key
// cmd/utils.DeveloperKey) with 10^49 ether at genesis. StartGeth sends
// 1,000 ether from it, with eth_sendTransaction, to the first DevMnemonic
// account, whose key the Geth holds (Account): the helpers sign their
// transactions locally with it, through the same feecontract functions the
// embedded L1 uses. Since that account's first transaction deploys the fee
// contract (when DeployFeeContract is called first), the contract gets the
// same address as on the embedded L1.
type Geth struct {
	url     string
	rpc     *rpc.Client
	client  *ethclient.Client
	chainID *big.Int
	account Account
	out     *gethOutput

	txMu sync.Mutex // serializes the helpers' transactions (nonces); guards fee
	fee  types.Address
}

// StartGeth starts `geth --dev` for the test and returns once its JSON-RPC
// answers and the Geth's Account is funded. The binary is GOSPRESSO_TEST_GETH,
// or geth on PATH; without one the test is skipped, or fails when
// GOSPRESSO_REQUIRE_GETH=1. At cleanup geth gets SIGTERM (then SIGKILL after
// 15 seconds) and its data directory is removed; when the test failed, geth's
// output is logged.
func StartGeth(t testing.TB) *Geth {
	t.Helper()
	bin, missing := lookupGeth(os.Getenv, exec.LookPath)
	if bin == "" {
		if os.Getenv(RequireGethEnv) == "1" {
			t.Fatalf("%s (%s=1)", missing, RequireGethEnv)
		}
		t.Skip(missing)
	}

	dir := t.TempDir() // removed after the process is stopped (cleanups run last-in first-out)
	args := GethArgs(dir)
	out := newGethOutput()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = gethEnv(os.Environ())
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("l1test: starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			// geth shuts down cleanly on SIGTERM (or SIGINT); kill it if it
			// takes too long, and wait for it either way.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(gethStopTimeout):
				t.Logf("l1test: geth did not stop within %v of SIGTERM; killing it", gethStopTimeout)
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		if t.Failed() {
			t.Logf("l1test: geth output (%s %s):\n%s", bin, strings.Join(args, " "), out.String())
		}
	})

	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("l1test: geth: "+format+"\ngeth output (%s %s):\n%s",
			append(a, bin, strings.Join(args, " "), out.String())...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), gethStartTimeout)
	defer cancel()

	// --http.port 0 makes geth pick a free port; it logs the one it got.
	var endpoint string
	select {
	case endpoint = <-out.endpoint:
	case <-exited:
		fail("exited before serving JSON-RPC: %v", waitErr)
	case <-ctx.Done():
		fail("no \"HTTP server started\" line within %v", gethStartTimeout)
	}
	g := &Geth{url: "http://" + endpoint, out: out}
	rc, err := rpc.DialContext(ctx, g.url)
	if err != nil {
		fail("dialing %s: %v", g.url, err)
	}
	t.Cleanup(rc.Close) // runs before the process is stopped
	g.rpc, g.client = rc, ethclient.NewClient(rc)
	for {
		if g.chainID, err = g.client.ChainID(ctx); err == nil {
			break
		}
		select {
		case <-exited:
			fail("exited: %v", waitErr)
		case <-ctx.Done():
			fail("eth_chainId did not answer within %v: %v", gethStartTimeout, err)
		case <-time.After(gethPoll):
		}
	}

	keys, err := DeriveKeys(DevMnemonic, 1)
	if err != nil {
		t.Fatal(err)
	}
	g.account = Account{Address: types.Address(crypto.PubkeyToAddress(keys[0].PublicKey)), Key: keys[0]}
	if err := g.fund(ctx, g.account.Address, gethFunding); err != nil {
		fail("%v", err)
	}
	t.Logf("l1test: geth --dev at %s (chain ID %s), funded account %s", g.url, g.chainID, g.account.Address)
	return g
}

// GethArgs returns the command line arguments StartGeth runs geth with, its
// data directory dir.
func GethArgs(dir string) []string {
	return []string{
		"--dev", "--dev.period", "1", // a block every second
		"--datadir", dir,
		"--http", "--http.addr", "127.0.0.1", "--http.port", "0", "--http.api", "eth,net,web3",
		// Dev mode registers no authenticated API, so geth opens no engine
		// API listener; should a version do, it gets a free loopback port.
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", "0",
		// Dev mode already disables peer-to-peer networking; make sure.
		"--nodiscover", "--maxpeers", "0", "--nat", "none", "--port", "0",
		"--ipcdisable",
		"--cache", "256", // the default 1 GiB is for syncing networks
	}
}

// lookupGeth returns the geth binary to run, or "" and why there is none:
// the GOSPRESSO_TEST_GETH path, else geth on PATH.
func lookupGeth(getenv func(string) string, lookPath func(string) (string, error)) (bin, missing string) {
	const how = "set " + GethEnv + " to a geth binary to run it (.ci/run installs one at go.mod's " +
		"go-ethereum version: go install github.com/ethereum/go-ethereum/cmd/geth@VERSION)"
	if p := getenv(GethEnv); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Sprintf("l1test: %s=%s is not an executable file; %s", GethEnv, p, how)
		}
		return p, ""
	}
	if p, err := lookPath("geth"); err == nil {
		return p, ""
	}
	return "", "l1test: this test runs a real geth --dev, and there is no geth binary: " + how
}

// gethEnv is env without geth's GETH_* variables, which would override
// the flags the helper does not set.
func gethEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GETH_") {
			out = append(out, kv)
		}
	}
	return out
}

// URL returns the JSON-RPC endpoint ("http://127.0.0.1:PORT").
func (g *Geth) URL() string { return g.url }

// ChainID returns geth --dev's chain ID (1337).
func (g *Geth) ChainID() *big.Int { return new(big.Int).Set(g.chainID) }

// Account returns the funded account whose key the Geth holds.
func (g *Geth) Account() Account { return g.account }

// Output returns what geth has printed so far.
func (g *Geth) Output() string { return g.out.String() }

// fund sends wei from the dev account (eth_accounts[0], unlocked by geth
// --dev) to addr with eth_sendTransaction, and waits for the receipt.
func (g *Geth) fund(ctx context.Context, addr types.Address, wei *big.Int) error {
	var accounts []common.Address
	if err := g.rpc.CallContext(ctx, &accounts, "eth_accounts"); err != nil {
		return fmt.Errorf("eth_accounts: %w", err)
	}
	if len(accounts) == 0 {
		return errors.New("eth_accounts is empty: no unlocked dev account")
	}
	var hash common.Hash
	err := g.rpc.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{
		"from":  accounts[0],
		"to":    common.Address(addr),
		"value": (*hexutil.Big)(wei),
	})
	if err != nil {
		return fmt.Errorf("funding %s from the dev account %s: %w", addr, accounts[0], err)
	}
	if _, err := g.waitReceipt(ctx, hash); err != nil {
		return fmt.Errorf("funding %s: %w", addr, err)
	}
	return nil
}

// DeployFeeContract deploys a fee contract from Account, waits until it is
// mined, and returns its address; Deposit then deposits through it. (Each
// call deploys a new contract, which later Deposits use.)
func (g *Geth) DeployFeeContract(ctx context.Context) (types.Address, error) {
	ctx, cancel := withDefaultTimeout(ctx, gethTxTimeout)
	defer cancel()
	g.txMu.Lock()
	addr, tx, err := feecontract.Deploy(g.transactor(ctx), g.client)
	g.txMu.Unlock()
	if err != nil {
		return types.Address{}, fmt.Errorf("l1test: %w", err)
	}
	if _, err := g.waitReceipt(ctx, tx.Hash()); err != nil {
		return types.Address{}, fmt.Errorf("l1test: fee contract deployment: %w", err)
	}
	g.txMu.Lock()
	g.fee = types.Address(addr)
	g.txMu.Unlock()
	return types.Address(addr), nil
}

// FeeContract returns the address of the fee contract DeployFeeContract
// deployed last (the zero address before).
func (g *Geth) FeeContract() types.Address {
	g.txMu.Lock()
	defer g.txMu.Unlock()
	return g.fee
}

// Deposit makes Account deposit amount wei for user through the fee
// contract (DeployFeeContract), waits until it is mined, and returns the
// deposit as l1.Client.Deposits will report it.
func (g *Geth) Deposit(ctx context.Context, user types.Address, amount types.U256) (l1.Deposit, error) {
	ctx, cancel := withDefaultTimeout(ctx, gethTxTimeout)
	defer cancel()
	g.txMu.Lock()
	contract := g.fee
	if contract == (types.Address{}) {
		g.txMu.Unlock()
		return l1.Deposit{}, errors.New("l1test: Deposit before DeployFeeContract")
	}
	tx, err := feecontract.SendDeposit(g.transactor(ctx), g.client, common.Address(contract), common.Address(user), amount.Big())
	g.txMu.Unlock()
	if err != nil {
		return l1.Deposit{}, fmt.Errorf("l1test: %w", err)
	}
	rcpt, err := g.waitReceipt(ctx, tx.Hash())
	if err != nil {
		return l1.Deposit{}, fmt.Errorf("l1test: deposit for %s: %w", user, err)
	}
	return depositOf(rcpt, contract, user, amount)
}

// transactor returns transact options signing for Account.
func (g *Geth) transactor(ctx context.Context) *bind.TransactOpts {
	opts := bind.NewKeyedTransactor(g.account.Key, g.chainID)
	opts.Context = ctx
	return opts
}

// waitReceipt polls for the receipt of hash until ctx ends; a reverted
// transaction is an error.
func (g *Geth) waitReceipt(ctx context.Context, hash common.Hash) (*gethtypes.Receipt, error) {
	t := time.NewTicker(gethPoll)
	defer t.Stop()
	for {
		rcpt, err := g.client.TransactionReceipt(ctx, hash)
		switch {
		case err == nil && rcpt.Status != gethtypes.ReceiptStatusSuccessful:
			return nil, fmt.Errorf("transaction %s reverted (block %s)", hash, rcpt.BlockNumber)
		case err == nil:
			return rcpt, nil
		case errors.Is(err, ethereum.NotFound), strings.Contains(err.Error(), "transaction indexing is in progress"):
			// Not mined yet, or geth still indexing its first blocks: ask again.
		case ctx.Err() == nil:
			return nil, fmt.Errorf("receipt of %s: %w", hash, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s not mined: %w", hash, ctx.Err())
		case <-t.C:
		}
	}
}

// withDefaultTimeout bounds ctx by d unless it already has a deadline.
func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// gethEndpointRE matches geth's log line for the unauthenticated HTTP
// JSON-RPC server ("HTTP server started endpoint=127.0.0.1:PORT auth=false
// ..."), in its default terminal format.
var gethEndpointRE = regexp.MustCompile(`HTTP server started\s.*\bendpoint=(\S+)\s+auth=false\b`)

// gethMaxOutput bounds the output a gethOutput keeps; beyond it, the oldest
// half is dropped.
const gethMaxOutput = 8 << 20

// gethOutput collects geth's output and reports the HTTP endpoint it logs.
type gethOutput struct {
	mu       sync.Mutex
	buf      []byte
	scanned  int // buf[:scanned] holds only complete lines already looked at
	found    bool
	dropped  int
	endpoint chan string // gets the endpoint once
}

func newGethOutput() *gethOutput { return &gethOutput{endpoint: make(chan string, 1)} }

func (o *gethOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf = append(o.buf, p...)
	for !o.found {
		nl := bytes.IndexByte(o.buf[o.scanned:], '\n')
		if nl < 0 {
			break
		}
		line := o.buf[o.scanned : o.scanned+nl]
		o.scanned += nl + 1
		if m := gethEndpointRE.FindSubmatch(line); m != nil {
			o.found = true
			o.endpoint <- string(m[1])
		}
	}
	if len(o.buf) > gethMaxOutput {
		cut := len(o.buf) / 2
		o.dropped += cut
		o.buf = append([]byte(nil), o.buf[cut:]...)
		o.scanned = max(o.scanned-cut, 0)
	}
	return len(p), nil
}

func (o *gethOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dropped > 0 {
		return fmt.Sprintf("[%d earlier bytes dropped]\n%s", o.dropped, o.buf)
	}
	return string(o.buf)
}

// Package l1test runs an embedded L1 for the dev node and tests (docs/l1.md,
// "The embedded L1"): go-ethereum's simulated backend (chain ID 1337) in
// process, with accounts derived from a mnemonic (DevMnemonic by default)
// funded at genesis, and the fee contract deployed at start by the first
// account. Blocks advance on a timer (WithBlockInterval) and on demand
// (Commit).
//
// The L1 is an l1.Client itself, and serves JSON-RPC (the eth_, net_ and
// web3_ methods) over HTTP on 127.0.0.1 (URL), so that l1/eth and outside
// tools reach it like any other L1.
//
// # Finality
//
// The simulated backend finalizes in epochs of 32 blocks, like geth --dev:
// with head h, the finalized block is h itself when h is a multiple of 32 and
// otherwise the multiple of 32 below h (block 0 while h < 32). Finalized
// therefore jumps by 32 every 32 blocks and stays put in between. Tests that
// need a block finalized call Finalize, which commits blocks until the head
// at the call is finalized; they never assume that a commit finalizes
// anything.
package l1test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	gethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/eth"
	"github.com/gospresso/gospresso/l1/feecontract"
	"github.com/gospresso/gospresso/types"
)

// ChainID is the simulated backend's chain ID.
const ChainID = 1337

// EpochLength is how many blocks the simulated backend finalizes at once.
const EpochLength = 32

// Account is a funded L1 account.
type Account struct {
	Address types.Address
	Key     *ecdsa.PrivateKey
}

// Option configures an L1.
type Option func(*config)

type config struct {
	interval time.Duration
	mnemonic string
	accounts int
	balance  *big.Int
	listen   string
	logger   *slog.Logger
}

// WithBlockInterval makes the L1 commit a block every d (0, the default:
// only Commit, Finalize and Deposit add blocks). A dev node uses a second,
// like the reference demo's geth --dev.period=1.
func WithBlockInterval(d time.Duration) Option {
	return func(c *config) { c.interval = max(d, 0) }
}

// WithMnemonic derives the funded accounts from mnemonic
// (m/44'/60'/0'/0/i; default DevMnemonic) and sets how many (default 10).
func WithMnemonic(mnemonic string, accounts int) Option {
	return func(c *config) {
		c.mnemonic = mnemonic
		if accounts > 0 {
			c.accounts = accounts
		}
	}
}

// WithBalance sets each account's balance at genesis, in wei (default
// 10,000 ether).
func WithBalance(wei *big.Int) Option {
	return func(c *config) {
		if wei != nil {
			c.balance = new(big.Int).Set(wei)
		}
	}
}

// WithListenAddr sets where the JSON-RPC server listens (default
// "127.0.0.1:0", a free port); "" serves no JSON-RPC.
func WithListenAddr(addr string) Option {
	return func(c *config) { c.listen = addr }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// L1 is an embedded L1 chain. It is safe for concurrent use.
type L1 struct {
	cfg      config
	log      *slog.Logger
	backend  *simulated.Backend
	sim      simulated.Client
	rpc      *rpc.Client
	client   *eth.Client
	accounts []Account
	fee      types.Address
	chainID  *big.Int

	srv *http.Server
	url string

	commitMu sync.Mutex // serializes commits; guards closed
	closed   bool
	txMu     sync.Mutex // serializes the helpers' transactions (nonces)

	ipcDir    string // holds the backend's IPC socket
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var _ l1.Client = (*L1)(nil)

// New starts an L1: genesis with the funded accounts, then block 1 holding
// the fee contract's deployment by the first account, then the JSON-RPC
// server and the block timer.
func New(opts ...Option) (*L1, error) {
	cfg := config{
		mnemonic: DevMnemonic,
		accounts: 10,
		balance:  new(big.Int).Mul(big.NewInt(10_000), big.NewInt(1e18)),
		listen:   "127.0.0.1:0",
		logger:   slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&cfg)
	}
	keys, err := DeriveKeys(cfg.mnemonic, cfg.accounts)
	if err != nil {
		return nil, err
	}
	alloc := gethtypes.GenesisAlloc{}
	accounts := make([]Account, len(keys))
	for i, k := range keys {
		addr := crypto.PubkeyToAddress(k.PublicKey)
		accounts[i] = Account{Address: types.Address(addr), Key: k}
		alloc[addr] = gethtypes.Account{Balance: cfg.balance}
	}
	// The simulated backend hides its JSON-RPC client; it serves the same
	// API over IPC when asked to, on a socket in a private directory.
	ipcDir, err := os.MkdirTemp("", "l1test")
	if err != nil {
		return nil, fmt.Errorf("l1test: %w", err)
	}
	ipc := filepath.Join(ipcDir, "l1.ipc")
	backend := simulated.NewBackend(alloc, func(nc *node.Config, ec *ethconfig.Config) {
		nc.IPCPath = ipc
		// No log index: go-ethereum's indexer falls behind blocks that come
		// every few milliseconds, and eth_getLogs then waits for it, for
		// seconds to minutes on a loaded machine (go-ethereum issue 32552
		// reports searches that never return). A search without the index
		// reads each block's bloom filter, which is quick for a chain this
		// small.
		ec.LogNoHistory = true
	})
	l := &L1{
		cfg:      cfg,
		log:      cfg.logger,
		backend:  backend,
		sim:      backend.Client(),
		accounts: accounts,
		chainID:  big.NewInt(ChainID),
		stop:     make(chan struct{}),
		ipcDir:   ipcDir,
	}
	dialCtx, cancelDial := context.WithTimeout(context.Background(), 10*time.Second)
	fail := func() { backend.Close(); os.RemoveAll(ipcDir) }
	l.rpc, err = rpc.DialIPC(dialCtx, ipc)
	cancelDial()
	if err != nil {
		fail()
		return nil, fmt.Errorf("l1test: attach to the simulated backend: %w", err)
	}
	if l.client, err = eth.NewFromRPC([]string{"l1test"}, []*rpc.Client{l.rpc},
		eth.WithRetryDelay(10*time.Millisecond), eth.WithMaxAttempts(2)); err != nil {
		l.rpc.Close()
		fail()
		return nil, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.deployFeeContract(ctx); err != nil {
		l.rpc.Close()
		fail()
		return nil, err
	}
	if cfg.listen != "" {
		if err := l.serve(cfg.listen); err != nil {
			l.rpc.Close()
			fail()
			return nil, err
		}
	}
	if cfg.interval > 0 {
		l.wg.Go(l.tick)
	}
	l.log.Info("l1test: L1 started", "chain_id", ChainID, "url", l.url, "fee_contract", l.fee,
		"block_interval", cfg.interval, "accounts", len(accounts))
	return l, nil
}

// deployFeeContract deploys the fee contract from the first account and
// commits the block.
func (l *L1) deployFeeContract(ctx context.Context) error {
	l.txMu.Lock()
	defer l.txMu.Unlock()
	addr, tx, err := feecontract.Deploy(l.transactor(ctx, 0), l.sim)
	if err != nil {
		return fmt.Errorf("l1test: %w", err)
	}
	l.Commit()
	rcpt, err := l.sim.TransactionReceipt(ctx, tx.Hash())
	if err != nil {
		return fmt.Errorf("l1test: fee contract deployment receipt: %w", err)
	}
	if rcpt.Status != gethtypes.ReceiptStatusSuccessful {
		return errors.New("l1test: the fee contract's deployment failed")
	}
	l.fee = types.Address(addr)
	return nil
}

// transactor returns transact options signing for account i.
func (l *L1) transactor(ctx context.Context, i int) *bind.TransactOpts {
	opts := bind.NewKeyedTransactor(l.accounts[i].Key, l.chainID)
	opts.Context = ctx
	return opts
}

// tick commits a block every interval until Close.
func (l *L1) tick() {
	t := time.NewTicker(l.cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.Commit()
		}
	}
}

// Commit seals a block with the pending transactions and returns its number
// (0 once the L1 is closed).
func (l *L1) Commit() uint64 {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	if l.closed {
		return 0
	}
	hash := l.backend.Commit()
	h, err := l.sim.HeaderByHash(context.Background(), hash)
	if err != nil {
		// The block was just sealed in process; only a closed backend fails.
		return 0
	}
	return h.Number.Uint64()
}

// Finalize commits blocks until the head at the call is finalized (at most
// EpochLength blocks, see "Finality" in the package documentation) and
// returns the finalized block.
func (l *L1) Finalize(ctx context.Context) (types.L1BlockInfo, error) {
	head, err := l.Head(ctx)
	if err != nil {
		return types.L1BlockInfo{}, err
	}
	for {
		fin, err := l.Finalized(ctx)
		if err != nil {
			return types.L1BlockInfo{}, err
		}
		if fin != nil && fin.Number >= head {
			return *fin, nil
		}
		if err := ctx.Err(); err != nil {
			return types.L1BlockInfo{}, err
		}
		l.Commit()
	}
}

// URL returns the JSON-RPC endpoint ("http://127.0.0.1:PORT"), or "" when
// the L1 serves none.
func (l *L1) URL() string { return l.url }

// FeeContract returns the fee contract's address.
func (l *L1) FeeContract() types.Address { return l.fee }

// Accounts returns the funded accounts; the first deployed the fee contract.
func (l *L1) Accounts() []Account { return append([]Account(nil), l.accounts...) }

// Deposit makes account `from` (an index into Accounts) deposit amount wei
// for user through the fee contract, commits a block, and returns the
// deposit as l1.Client.Deposits will report it.
func (l *L1) Deposit(ctx context.Context, from int, user types.Address, amount types.U256) (l1.Deposit, error) {
	if from < 0 || from >= len(l.accounts) {
		return l1.Deposit{}, fmt.Errorf("l1test: no account %d (have %d)", from, len(l.accounts))
	}
	l.txMu.Lock()
	tx, err := feecontract.SendDeposit(l.transactor(ctx, from), l.sim, common.Address(l.fee), common.Address(user), amount.Big())
	if err == nil {
		l.Commit()
	}
	l.txMu.Unlock()
	if err != nil {
		return l1.Deposit{}, fmt.Errorf("l1test: %w", err)
	}
	rcpt, err := l.sim.TransactionReceipt(ctx, tx.Hash())
	if err != nil {
		return l1.Deposit{}, fmt.Errorf("l1test: deposit receipt: %w", err)
	}
	if rcpt.Status != gethtypes.ReceiptStatusSuccessful {
		return l1.Deposit{}, fmt.Errorf("l1test: deposit for %s reverted", user)
	}
	return depositOf(rcpt, l.fee, user, amount)
}

// depositOf is the deposit a successful deposit transaction's receipt
// records: its Deposit event from the fee contract at contract.
func depositOf(rcpt *gethtypes.Receipt, contract, user types.Address, amount types.U256) (l1.Deposit, error) {
	for _, lg := range rcpt.Logs {
		if lg.Address == common.Address(contract) && len(lg.Topics) > 0 && lg.Topics[0] == feecontract.DepositEventID {
			return l1.Deposit{Account: user, Amount: amount, Block: rcpt.BlockNumber.Uint64(), LogIndex: uint64(lg.Index)}, nil
		}
	}
	return l1.Deposit{}, fmt.Errorf("l1test: the deposit for %s emitted no Deposit event", user)
}

// ChainID returns 1337.
func (l *L1) ChainID(ctx context.Context) (types.U256, error) { return l.client.ChainID(ctx) }

// Head returns the latest block number.
func (l *L1) Head(ctx context.Context) (uint64, error) { return l.client.Head(ctx) }

// Finalized returns the latest finalized block (see "Finality").
func (l *L1) Finalized(ctx context.Context) (*types.L1BlockInfo, error) {
	return l.client.Finalized(ctx)
}

// Block returns the block of that number.
func (l *L1) Block(ctx context.Context, number uint64) (types.L1BlockInfo, error) {
	return l.client.Block(ctx, number)
}

// Deposits returns the fee contract deposits of blocks [from, to].
func (l *L1) Deposits(ctx context.Context, contract types.Address, from, to uint64) ([]l1.Deposit, error) {
	return l.client.Deposits(ctx, contract, from, to)
}

// Code returns the code at addr.
func (l *L1) Code(ctx context.Context, addr types.Address) ([]byte, error) {
	return l.client.Code(ctx, addr)
}

// Close stops the timer and the JSON-RPC server and shuts the chain down.
func (l *L1) Close() error {
	l.closeOnce.Do(func() {
		close(l.stop)
		var errs []error
		if l.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, l.srv.Shutdown(ctx))
			cancel()
		}
		l.wg.Wait() // the block timer and the server's goroutine
		l.commitMu.Lock()
		l.closed = true
		l.rpc.Close()
		errs = append(errs, l.backend.Close(), os.RemoveAll(l.ipcDir))
		l.commitMu.Unlock()
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// serve starts the JSON-RPC server on addr.
func (l *L1) serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("l1test: JSON-RPC listener: %w", err)
	}
	l.url = "http://" + ln.Addr().String()
	l.srv = &http.Server{Handler: http.HandlerFunc(l.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	l.wg.Go(func() {
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.log.Error("l1test: JSON-RPC server stopped", "err", err)
		}
	})
	return nil
}

// maxRequestBytes bounds one JSON-RPC request body.
const maxRequestBytes = 5 << 20

// serveHTTP answers JSON-RPC 2.0 requests, single or batched, by passing
// them to the in-process node.
func (l *L1) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "JSON-RPC wants POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		http.Error(w, "request body unreadable or too large", http.StatusRequestEntityTooLarge)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(body, &batch); err != nil || len(batch) == 0 {
			w.Write(errorReply(nil, -32700, "parse error"))
			return
		}
		out := make([]json.RawMessage, len(batch))
		for i, req := range batch {
			out[i] = l.call(r.Context(), req)
		}
		b, _ := json.Marshal(out)
		w.Write(b)
		return
	}
	w.Write(l.call(r.Context(), body))
}

// call answers one JSON-RPC request.
func (l *L1) call(ctx context.Context, raw json.RawMessage) json.RawMessage {
	var req struct {
		ID     json.RawMessage   `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return errorReply(nil, -32700, "parse error: "+err.Error())
	}
	ns, _, _ := strings.Cut(req.Method, "_")
	if (ns != "eth" && ns != "net" && ns != "web3") || req.Method == "eth_subscribe" || req.Method == "eth_unsubscribe" {
		return errorReply(req.ID, -32601, fmt.Sprintf("the method %s does not exist/is not available", req.Method))
	}
	args := make([]any, len(req.Params))
	for i, p := range req.Params {
		args[i] = p
	}
	var result json.RawMessage
	err := l.rpc.CallContext(ctx, &result, req.Method, args...)
	switch {
	case errors.Is(err, rpc.ErrNoResult):
		result = json.RawMessage("null")
	case err != nil:
		code := -32000
		var re rpc.Error
		if errors.As(err, &re) {
			code = re.ErrorCode()
		}
		var data any
		var de rpc.DataError
		if errors.As(err, &de) {
			data = de.ErrorData()
		}
		return errorReply(req.ID, code, err.Error(), data)
	}
	id := req.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  json.RawMessage `json:"result"`
	}{"2.0", id, result})
	return b
}

// errorReply renders a JSON-RPC error answer; data is left out when nil.
func errorReply(id json.RawMessage, code int, msg string, data ...any) json.RawMessage {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	type rpcErr struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	e := rpcErr{Code: code, Message: msg}
	if len(data) > 0 {
		e.Data = data[0]
	}
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   rpcErr          `json:"error"`
	}{"2.0", id, e})
	return b
}

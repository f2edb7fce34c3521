package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/lightclient"
	"github.com/gospresso/gospresso/types"
)

// Submit submits tx (submit/submit) and returns its commitment, the hash
// TransactionByHash finds it by once it is decided.
func (c *Client) Submit(ctx context.Context, tx types.Transaction) (types.Commitment, error) {
	p := path(0, "submit", "submit")
	var s types.TaggedBase64
	if err := c.call(ctx, http.MethodPost, p, tx, &s); err != nil {
		return types.Commitment{}, err
	}
	return txCommitment(p, s)
}

// SubmitBatch submits txs in order (submit/batch) and returns their
// commitments. When one is refused the answer is an error naming it; the
// ones before it were submitted.
func (c *Client) SubmitBatch(ctx context.Context, txs []types.Transaction) ([]types.Commitment, error) {
	p := path(0, "submit", "batch")
	if txs == nil {
		txs = []types.Transaction{}
	}
	var ss []types.TaggedBase64
	if err := c.call(ctx, http.MethodPost, p, txs, &ss); err != nil {
		return nil, err
	}
	if len(ss) != len(txs) {
		return nil, fmt.Errorf("%w: POST %s: %d commitments for %d transactions", ErrInvalidResponse, p, len(ss), len(txs))
	}
	out := make([]types.Commitment, len(ss))
	for i, s := range ss {
		cm, err := txCommitment(p, s)
		if err != nil {
			return nil, err
		}
		out[i] = cm
	}
	return out, nil
}

func txCommitment(p string, s types.TaggedBase64) (types.Commitment, error) {
	if s.Tag != types.TagTransaction || len(s.Value) != len(types.Commitment{}) {
		return types.Commitment{}, fmt.Errorf("%w: POST %s: %q is not a transaction commitment (%s~ of 32 bytes)", ErrInvalidResponse, p, s.String(), types.TagTransaction)
	}
	return types.Commitment(s.Value), nil
}

// The catchup module: what peers fetch to catch up.

func cu(segs ...string) string { return path(0, "catchup", segs...) }

// ChainConfig returns the chain config whose commitment is commitment
// (catchup/chain-config/{CHAIN_CONFIG~...}).
func (c *Client) ChainConfig(ctx context.Context, commitment types.Commitment) (types.ChainConfig, error) {
	return getValue[types.ChainConfig](ctx, c, cu("chain-config", tagged(commitment, types.TagChainConfig)))
}

// LeafChain returns the leaf at height and the leaves after it whose
// certificates prove it decided (catchup/{height}/leafchain). A height not
// decided yet is ErrNotFound.
func (c *Client) LeafChain(ctx context.Context, height uint64) ([]api.LeafQueryData, error) {
	return getList[api.LeafQueryData](ctx, c, cu(dec(height), "leafchain"))
}

// CatchupAccount returns the fee account of addr with its Merkle proof in
// the state after block height, of view view
// (catchup/{height}/{view}/account/{address}). A node keeps the states
// after its last chain.StatesKept decided blocks; another height is
// ErrNotFound. Check the proof against that block's fee_merkle_tree_root
// with state.VerifyFeeProof: the client does not.
func (c *Client) CatchupAccount(ctx context.Context, height, view uint64, addr types.Address) (api.AccountProof, error) {
	return getValue[api.AccountProof](ctx, c, cu(dec(height), dec(view), "account", addr.String()))
}

// CatchupAccounts returns the proofs of the fee accounts addrs (at most
// api.MaxCatchupAccounts) in the state after block height, in the order
// asked (POST catchup/{height}/{view}/accounts). Heights as for
// CatchupAccount.
func (c *Client) CatchupAccounts(ctx context.Context, height, view uint64, addrs []types.Address) ([]state.FeeProof, error) {
	if addrs == nil {
		addrs = []types.Address{}
	}
	var out []state.FeeProof
	err := c.call(ctx, http.MethodPost, cu(dec(height), dec(view), "accounts"), addrs, &out)
	return out, err
}

// CatchupBlocks returns the frontier of the block Merkle tree after block
// height (catchup/{height}/{view}/blocks); state.BlockTreeFromFrontier
// rebuilds the tree, whose root must be that block's
// block_merkle_tree_root. Heights as for CatchupAccount.
func (c *Client) CatchupBlocks(ctx context.Context, height, view uint64) (state.BlockFrontier, error) {
	return getValue[state.BlockFrontier](ctx, c, cu(dec(height), dec(view), "blocks"))
}

// ChainState returns the node's newest applied chain state whole, with
// the decided block it follows (catchup/state, gospresso's own route; see
// api.ChainState). A state of 100,000 accounts is about 7 MB of JSON:
// raise WithMaxResponseSize for larger ones. Nothing in it is checked
// here; node.WithStateCatchup checks what it is given.
func (c *Client) ChainState(ctx context.Context) (api.ChainState, error) {
	return getValue[api.ChainState](ctx, c, cu("state"))
}

// The config module.

// HotShotConfig returns the node's public consensus configuration
// (config/hotshot). Its ChainConfig, when present, is a *types.ChainConfig.
func (c *Client) HotShotConfig(ctx context.Context) (api.HotShotConfig, error) {
	// A pointer in the interface field makes encoding/json decode into it
	// (a null leaves the field nil).
	hc := api.HotShotConfig{ChainConfig: new(types.ChainConfig)}
	err := c.get(ctx, path(0, "config", "hotshot"), &hc)
	return hc, err
}

// Env returns the node's public environment, "NAME=value" sorted by name
// (config/env).
func (c *Client) Env(ctx context.Context) ([]string, error) {
	return getList[string](ctx, c, path(0, "config", "env"))
}

// StateSignature returns the light-client state of the block at height
// signed with the node's state key (state-signature/block/{height}). The
// node keeps only its latest signatures; an older or future height is
// ErrNotFound. Check the signature with its Verify method.
func (c *Client) StateSignature(ctx context.Context, height uint64) (lightclient.SignedState, error) {
	return getValue[lightclient.SignedState](ctx, c, path(0, "state-signature", "block", dec(height)))
}

// The block-state and fee-state modules: proofs against the trees after
// the last chain.StatesKept decided blocks the node keeps (another height or
// root is ErrNotFound). The client returns them unchecked: check a proof
// against a root you trust (a header's) with state.VerifyBlockProof or
// state.VerifyFeeProof.

// BlockStateProof returns the proof of block blockHeight's header
// commitment in the block Merkle tree after block height
// (block-state/{height}/{blockHeight}).
func (c *Client) BlockStateProof(ctx context.Context, height, blockHeight uint64) (api.BlockStateProof, error) {
	return getValue[api.BlockStateProof](ctx, c, path(0, "block-state", dec(height), dec(blockHeight)))
}

// BlockStateProofByRoot returns the proof of block blockHeight's header
// commitment in the block Merkle tree with root root
// (block-state/commit/{MERKLE_COMM~...}/{blockHeight}).
func (c *Client) BlockStateProofByRoot(ctx context.Context, root []byte, blockHeight uint64) (api.BlockStateProof, error) {
	return getValue[api.BlockStateProof](ctx, c, path(0, "block-state", "commit", merkleRoot(root), dec(blockHeight)))
}

// BlockStateHeight returns the height of the newest block whose state the
// node keeps (block-state/block-height).
func (c *Client) BlockStateHeight(ctx context.Context) (uint64, error) {
	return getValue[uint64](ctx, c, path(0, "block-state", "block-height"))
}

// FeeStateProof returns the proof of the fee account of addr in the fee
// Merkle tree after block height (fee-state/{height}/{address}).
func (c *Client) FeeStateProof(ctx context.Context, height uint64, addr types.Address) (api.FeeStateProof, error) {
	return getValue[api.FeeStateProof](ctx, c, path(0, "fee-state", dec(height), addr.String()))
}

// FeeStateProofByRoot returns the proof of the fee account of addr in the
// fee Merkle tree with root root (fee-state/commit/{MERKLE_COMM~...}/{address}).
func (c *Client) FeeStateProofByRoot(ctx context.Context, root []byte, addr types.Address) (api.FeeStateProof, error) {
	return getValue[api.FeeStateProof](ctx, c, path(0, "fee-state", "commit", merkleRoot(root), addr.String()))
}

// FeeStateHeight returns the height of the newest block whose state the
// node keeps (fee-state/block-height).
func (c *Client) FeeStateHeight(ctx context.Context) (uint64, error) {
	return getValue[uint64](ctx, c, path(0, "fee-state", "block-height"))
}

// FeeBalance returns the balance of addr in the newest state the node
// keeps, unproven (fee-state/fee-balance/latest/{address}); nil when the
// fee tree holds no account for addr.
func (c *Client) FeeBalance(ctx context.Context, addr types.Address) (*types.U256, error) {
	return getValue[*types.U256](ctx, c, path(0, "fee-state", "fee-balance", "latest", addr.String()))
}

func merkleRoot(root []byte) string {
	return types.TaggedBase64{Tag: types.TagMerkle, Value: root}.String()
}

// The hotshot-events module.

// StartupInfo is the answer of hotshot-events/startup_info.
type StartupInfo struct {
	KnownNodesWithStake []api.StakeTableEntry `json:"known_node_with_stake"`
	NonStakedNodeCount  uint64                `json:"non_staked_node_count"`
}

// StartupInfo returns the nodes with stake the node knows and how many
// nodes without stake (hotshot-events/startup_info).
func (c *Client) StartupInfo(ctx context.Context) (StartupInfo, error) {
	return getValue[StartupInfo](ctx, c, path(0, "hotshot-events", "startup_info"))
}

// Event is one item of the hotshot-events stream (see StreamEvents): the
// view it happened in and what happened. Decide is set for a decide event,
// the only kind the node sends now; Raw keeps the event object as sent, for
// kinds this client does not decode.
type Event struct {
	View   uint64
	Decide *DecideEvent
	Raw    json.RawMessage
}

// DecideEvent is a decide: the leaf decided, its certificate, and the
// size of its block's payload.
type DecideEvent struct {
	Leaf      types.Leaf              `json:"leaf"`
	QC        types.QuorumCertificate `json:"qc"`
	BlockSize uint64                  `json:"block_size"`
}

// UnmarshalJSON decodes {"view_number": N, "event": {"Decide": {...}}}
// (docs/api.md); an event of another kind keeps Decide nil.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j struct {
		View  *uint64         `json:"view_number"`
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.View == nil || len(j.Event) == 0 {
		return fmt.Errorf("event: want {\"view_number\": N, \"event\": {...}}")
	}
	var kinds map[string]json.RawMessage
	if err := json.Unmarshal(j.Event, &kinds); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	out := Event{View: *j.View, Raw: j.Event}
	if d, ok := kinds["Decide"]; ok {
		out.Decide = new(DecideEvent)
		if err := json.Unmarshal(d, out.Decide); err != nil {
			return fmt.Errorf("event: Decide: %w", err)
		}
	}
	*e = out
	return nil
}

package eth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/feecontract"
	"github.com/gospresso/gospresso/types"
)

// The decoders below read only the fields gospresso needs, each required,
// and never the rest: a block's hash is taken from the answer rather than
// recomputed from its header, so a header field that a later fork adds
// cannot change it. Every error wraps l1.ErrMalformed.

// rpcBlock is the part of an eth_getBlockByNumber answer gospresso reads.
type rpcBlock struct {
	Number    *hexutil.Uint64 `json:"number"`
	Timestamp *hexutil.Big    `json:"timestamp"`
	Hash      *common.Hash    `json:"hash"`
}

// decodeBlock decodes an eth_getBlockByNumber result; found is false for
// JSON null (no such block).
func decodeBlock(raw json.RawMessage) (b types.L1BlockInfo, found bool, err error) {
	if isNull(raw) {
		return types.L1BlockInfo{}, false, nil
	}
	var dec rpcBlock
	if err := json.Unmarshal(raw, &dec); err != nil {
		return types.L1BlockInfo{}, false, fmt.Errorf("%w: block: %v", l1.ErrMalformed, err)
	}
	switch {
	case dec.Number == nil:
		return types.L1BlockInfo{}, false, fmt.Errorf("%w: block without a number", l1.ErrMalformed)
	case dec.Timestamp == nil:
		return types.L1BlockInfo{}, false, fmt.Errorf("%w: block %d without a timestamp", l1.ErrMalformed, uint64(*dec.Number))
	case dec.Hash == nil:
		return types.L1BlockInfo{}, false, fmt.Errorf("%w: block %d without a hash", l1.ErrMalformed, uint64(*dec.Number))
	}
	ts, err := types.U256FromBig(dec.Timestamp.ToInt())
	if err != nil {
		return types.L1BlockInfo{}, false, fmt.Errorf("%w: block %d timestamp: %v", l1.ErrMalformed, uint64(*dec.Number), err)
	}
	return types.L1BlockInfo{Number: uint64(*dec.Number), Timestamp: ts, Hash: types.Hash(*dec.Hash)}, true, nil
}

// rpcLog is the part of an eth_getLogs entry gospresso reads.
type rpcLog struct {
	Address     *common.Address `json:"address"`
	Topics      []common.Hash   `json:"topics"`
	Data        *hexutil.Bytes  `json:"data"`
	BlockNumber *hexutil.Uint64 `json:"blockNumber"`
	LogIndex    *hexutil.Uint64 `json:"logIndex"`
	Removed     bool            `json:"removed"`
}

// decodeDeposits decodes an eth_getLogs result for the Deposit events of
// contract in blocks [from, to] and returns them in (block, log) order. Every
// entry must be a Deposit event of contract in that range (the filter asked
// for nothing else); two entries with the same block and log index are an
// error.
func decodeDeposits(raw json.RawMessage, contract types.Address, from, to uint64) ([]l1.Deposit, error) {
	if isNull(raw) {
		return nil, fmt.Errorf("%w: logs: null instead of an array", l1.ErrMalformed)
	}
	var logs []rpcLog
	if err := json.Unmarshal(raw, &logs); err != nil {
		return nil, fmt.Errorf("%w: logs: %v", l1.ErrMalformed, err)
	}
	deps := make([]l1.Deposit, 0, len(logs))
	for i := range logs {
		d, err := decodeDeposit(&logs[i], contract, from, to)
		if err != nil {
			return nil, fmt.Errorf("%w: log %d of %d: %v", l1.ErrMalformed, i, len(logs), err)
		}
		deps = append(deps, d)
	}
	slices.SortStableFunc(deps, l1.CompareDeposits)
	for i := 1; i < len(deps); i++ {
		if l1.CompareDeposits(deps[i-1], deps[i]) == 0 {
			return nil, fmt.Errorf("%w: logs: two logs at block %d index %d", l1.ErrMalformed, deps[i].Block, deps[i].LogIndex)
		}
	}
	return deps, nil
}

// decodeDeposit checks one log and turns it into a deposit.
func decodeDeposit(lg *rpcLog, contract types.Address, from, to uint64) (l1.Deposit, error) {
	switch {
	case lg.Address == nil:
		return l1.Deposit{}, fmt.Errorf("no address")
	case types.Address(*lg.Address) != contract:
		return l1.Deposit{}, fmt.Errorf("address %s, not the fee contract %s", types.Address(*lg.Address), contract)
	case lg.BlockNumber == nil:
		return l1.Deposit{}, fmt.Errorf("no blockNumber")
	case lg.LogIndex == nil:
		return l1.Deposit{}, fmt.Errorf("no logIndex")
	case lg.Data == nil:
		return l1.Deposit{}, fmt.Errorf("no data")
	case lg.Removed:
		return l1.Deposit{}, fmt.Errorf("removed (reorged) log at block %d", uint64(*lg.BlockNumber))
	}
	block := uint64(*lg.BlockNumber)
	if block < from || block > to {
		return l1.Deposit{}, fmt.Errorf("block %d outside the range [%d, %d] asked for", block, from, to)
	}
	if len(lg.Topics) != 2 || lg.Topics[0] != feecontract.DepositEventID {
		return l1.Deposit{}, fmt.Errorf("not a Deposit(address indexed, uint256) event (%d topics)", len(lg.Topics))
	}
	user := lg.Topics[1]
	if !bytes.Equal(user[:12], make([]byte, 12)) {
		return l1.Deposit{}, fmt.Errorf("user topic %s is not an address", user)
	}
	if len(*lg.Data) != 32 {
		return l1.Deposit{}, fmt.Errorf("data of %d bytes, want one uint256 (32 bytes)", len(*lg.Data))
	}
	var amount [32]byte
	copy(amount[:], *lg.Data)
	var acct types.Address
	copy(acct[:], user[12:])
	return l1.Deposit{Account: acct, Amount: types.U256FromBytes32(amount), Block: block, LogIndex: uint64(*lg.LogIndex)}, nil
}

// isNull reports whether raw is JSON null (or empty).
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

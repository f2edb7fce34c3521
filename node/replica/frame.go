package replica

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// Topics of a node's broadcasts.
const (
	TopicConsensus    = "gospresso/consensus"
	TopicTransactions = "gospresso/transactions"
)

// Frame kinds: the first byte of every message a node sends.
const (
	frameConsensus   byte = 'c'
	frameTransaction byte = 't'
)

// Frame errors.
var (
	// ErrBadFrame is returned by DecodeFrame for bytes that are not a frame
	// a node sends.
	ErrBadFrame = errors.New("replica: bad frame")
)

// Frame is a decoded network message: exactly one of Consensus and
// Transaction is set.
type Frame struct {
	Consensus   consensus.Message
	Transaction *types.Transaction
}

// EncodeMessage frames a consensus message as a node sends it.
func EncodeMessage(m consensus.Message) ([]byte, error) {
	b, err := consensus.Encode(m)
	if err != nil {
		return nil, err
	}
	return append([]byte{frameConsensus}, b...), nil
}

// EncodeTransaction frames a transaction for gossip: the frame kind, the
// namespace as a big-endian u64, then the payload.
func EncodeTransaction(tx types.Transaction) []byte {
	b := make([]byte, 9, 9+len(tx.Payload))
	b[0] = frameTransaction
	binary.BigEndian.PutUint64(b[1:], tx.Namespace)
	return append(b, tx.Payload...)
}

// DecodeFrame parses a frame made by EncodeMessage or EncodeTransaction.
// Errors wrap ErrBadFrame (or consensus's decoding errors) and say what was
// wrong; a decoded transaction is also checked with Transaction.Validate.
func DecodeFrame(b []byte) (Frame, error) {
	if len(b) == 0 {
		return Frame{}, fmt.Errorf("%w: empty message", ErrBadFrame)
	}
	switch b[0] {
	case frameConsensus:
		m, err := consensus.Decode(b[1:])
		if err != nil {
			return Frame{}, err
		}
		return Frame{Consensus: m}, nil
	case frameTransaction:
		if len(b) < 9 {
			return Frame{}, fmt.Errorf("%w: transaction frame of %d bytes, want at least 9 (kind and namespace)", ErrBadFrame, len(b))
		}
		tx := types.Transaction{Namespace: binary.BigEndian.Uint64(b[1:9]), Payload: append([]byte(nil), b[9:]...)}
		if err := tx.Validate(); err != nil {
			return Frame{}, fmt.Errorf("%w: %w", ErrBadFrame, err)
		}
		return Frame{Transaction: &tx}, nil
	default:
		return Frame{}, fmt.Errorf("%w: kind byte 0x%02x, want 'c' (consensus) or 't' (transaction)", ErrBadFrame, b[0])
	}
}

// maxFetchRequestFrame bounds the frame of a consensus.FetchRequest or
// HeaderRequest (an ID, a commitment and a height: about 50 bytes);
// FetchRequestFrame decodes nothing longer.
const maxFetchRequestFrame = 128

// FetchRequestFrame returns the request for missing leaves data frames (a
// *consensus.FetchRequest or *consensus.HeaderRequest), if it is one,
// without decoding larger messages: a driver routes such requests to its
// FetchServer with it and hands everything else to Deliver.
func FetchRequestFrame(data []byte) (consensus.Message, bool) {
	if len(data) > maxFetchRequestFrame || len(data) == 0 || data[0] != frameConsensus {
		return nil, false
	}
	f, err := DecodeFrame(data)
	if err != nil {
		return nil, false
	}
	switch req := f.Consensus.(type) {
	case *consensus.FetchRequest, *consensus.HeaderRequest:
		return req, true
	}
	return nil, false
}

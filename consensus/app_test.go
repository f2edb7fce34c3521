package consensus_test

import (
	"errors"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// emptyApp is the application of the engine tests: it builds empty blocks
// and checks heights, timestamps and payload commitments. The real one,
// with chain state and fees, is chain.Ledger, tested in package chain and
// through node/replica.
type emptyApp struct{ rules chain.Rules }

var (
	_ consensus.Validator    = emptyApp{}
	_ consensus.BlockBuilder = emptyApp{}
)

func (emptyApp) Pending() bool { return false }

func (a emptyApp) BuildBlock(req consensus.BuildRequest) (types.Header, types.Payload, error) {
	var p types.Payload
	ph := &req.Parent.Header
	h := *ph
	h.Version, h.ChainConfig = a.rules.Version, a.rules.ChainConfig
	h.Height = ph.Height + 1
	h.Timestamp = max(uint64(req.Now.Unix()), ph.Timestamp)
	pc, err := a.rules.PayloadCommitment(&p)
	if err != nil {
		return types.Header{}, types.Payload{}, err
	}
	h.PayloadCommitment, h.BuilderCommitment, h.NsTable = pc, chain.BuilderCommitment(&p), p.NsTable
	return h, p, nil
}

func (a emptyApp) ValidatePayload(leaf *types.Leaf, p *types.Payload) error {
	if pc, err := a.rules.PayloadCommitment(p); err != nil || pc != leaf.Header.PayloadCommitment {
		return errors.New("payload commitment differs")
	}
	return nil
}

func (a emptyApp) ValidateProposal(parent, leaf *types.Leaf, p *types.Payload, _ time.Time) error {
	if leaf.Header.Height != parent.Header.Height+1 || leaf.Header.Timestamp < parent.Header.Timestamp {
		return errors.New("height or timestamp does not follow the parent")
	}
	return a.ValidatePayload(leaf, p)
}

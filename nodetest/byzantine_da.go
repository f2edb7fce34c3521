package nodetest

import (
	"slices"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// The DA path's Byzantine behaviours (docs/protocol.md, "Data
// availability").

// WrongPayload is a leader whose DA proposals carry a payload other than
// the one its quorum proposal commits to: the payload commitment the DA
// proposal names stays, the bytes change. DA members find that the bytes
// are not the commitment's, report the leader and do not vote, so the view
// gets no DA certificate (and the leader never publishes its proposal).
type WrongPayload struct{}

// WithholdDA is a DA committee member that never votes for a payload and
// never answers a request for leaves and payloads: it holds the data and
// keeps it to itself.
type WithholdDA struct{}

// BadShares is a leader that sends every other member a corrupted VID
// share (one byte flipped): they cannot check their shares, so they do not
// vote, and they report the leader.
type BadShares struct{}

func (WrongPayload) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	dp, ok := m.(*consensus.DAProposal)
	if !ok {
		return pass(to, m)
	}
	c.stats.Forged++
	bad := *dp
	// Another well-formed payload: one more transaction in a namespace
	// of its own.
	txs, _ := dp.Payload.Transactions()
	txs = append(slices.Clone(txs), types.Transaction{Namespace: 0xbad, Payload: []byte{byte(dp.View)}})
	if p, err := types.EncodePayload(txs); err == nil {
		bad.Payload = p
	}
	return pass(to, &bad)
}

func (WithholdDA) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	switch m.(type) {
	case *consensus.DAVote, *consensus.FetchResponse:
		c.stats.Withheld++
		return nil
	}
	return pass(to, m)
}

func (BadShares) rewrite(c *byzContext, to int, m consensus.Message) []addressed {
	sh, ok := m.(*consensus.VIDShare)
	if !ok || to == c.self || len(sh.Share) == 0 {
		return pass(to, m)
	}
	c.stats.Forged++
	bad := *sh
	bad.Share = slices.Clone(sh.Share)
	bad.Share[len(bad.Share)-1] ^= 1
	return pass(to, &bad)
}

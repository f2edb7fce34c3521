package api

import (
	"strconv"

	"github.com/gospresso/gospresso/types"
)

// DefaultMaxBatch bounds the transactions of one batch submission.
const DefaultMaxBatch = 1000

type submit struct{}

// Submit returns the submit module: POST submit (one transaction) and POST
// batch (a list), each answered with the transactions' commitments
// ("TX~…").
func Submit() Module { return submit{} }

func (submit) Name() string    { return "submit" }
func (submit) Version() string { return "0.1.0" }

func (submit) Register(r *Router, b Backend) error {
	r.Post("submit", func(req *Request) (any, error) {
		var tx types.Transaction
		if err := req.DecodeBody(&tx); err != nil {
			return nil, err
		}
		c, err := b.SubmitTransaction(req.Context(), tx)
		if err != nil {
			return nil, err
		}
		return c.Tagged(types.TagTransaction), nil
	})
	r.Post("batch", func(req *Request) (any, error) {
		var txs []types.Transaction
		if err := req.DecodeBody(&txs); err != nil {
			return nil, err
		}
		if txs == nil {
			return nil, badRequest("request body: null, want a JSON array of transactions")
		}
		if len(txs) > DefaultMaxBatch {
			return nil, badRequest("batch of %d transactions, at most %d", len(txs), DefaultMaxBatch)
		}
		out := make([]types.TaggedBase64, 0, len(txs))
		for i, tx := range txs {
			c, err := b.SubmitTransaction(req.Context(), tx)
			if err != nil {
				e := toError(err)
				e.Message = "transaction " + strconv.Itoa(i) + ": " + e.Message + " (the ones before it were submitted)"
				return nil, e
			}
			out = append(out, c.Tagged(types.TagTransaction))
		}
		return out, nil
	})
	return nil
}

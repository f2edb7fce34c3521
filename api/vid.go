package api

import (
	"fmt"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/vid"
	"github.com/gospresso/gospresso/types"
)

// vidParams returns the VID parameters of the backend's network: its
// genesis stake table's (chain.VIDParams).
func vidParams(info Info) (vid.Params, error) {
	stakes := make([]uint64, len(info.Genesis.StakeTable))
	for i, e := range info.Genesis.StakeTable {
		stakes[i] = e.Stake
	}
	return chain.VIDParams(stakes)
}

// payloadCommitment is the payload commitment of p on the backend's
// network.
func payloadCommitment(info Info, p *types.Payload) (types.Commitment, error) {
	params, err := vidParams(info)
	if err != nil {
		return types.Commitment{}, err
	}
	return chain.Rules{VID: params}.PayloadCommitment(p)
}

// VerifyNamespace checks a namespace answer (availability
// block/.../namespace/...) against the header of its block, which the
// caller trusts (for example from a verified leaf): the proof must prove
// exactly the namespace's bytes against the header's payload commitment
// and namespace table, and the transactions must be those bytes'. It
// returns the verified transactions. An answer with a null proof verifies
// only if the header's namespace table lists no such namespace.
func VerifyNamespace(h *types.Header, ns uint64, d NamespaceProofQueryData) ([]types.Transaction, error) {
	if ns > 1<<32-1 {
		return nil, fmt.Errorf("api: namespace %d does not fit in 32 bits", ns)
	}
	if d.Proof == nil {
		n, err := h.NsTable.PayloadLen()
		if err != nil {
			return nil, fmt.Errorf("api: header namespace table: %w", err)
		}
		entries, err := h.NsTable.Entries(int(n))
		if err != nil {
			return nil, fmt.Errorf("api: header namespace table: %w", err)
		}
		for _, e := range entries {
			if uint64(e.Namespace) == ns {
				return nil, fmt.Errorf("api: no proof, but the header's namespace table lists namespace %d", ns)
			}
		}
		if len(d.Transactions) != 0 {
			return nil, fmt.Errorf("api: %d transactions without a proof", len(d.Transactions))
		}
		return nil, nil
	}
	p := d.Proof.V1
	if p.TotalWeights > vid.MaxShards || p.RecoveryThreshold > vid.MaxShards || p.NsIndex > 1<<32 {
		return nil, fmt.Errorf("api: namespace proof: parameters out of range")
	}
	proof := vid.NsProof{Total: int(p.TotalWeights), Recovery: int(p.RecoveryThreshold), NsIndex: int(p.NsIndex), Bytes: p.NsPayload}
	for i, s := range p.Path {
		if len(s) != 32 {
			return nil, fmt.Errorf("api: namespace proof: path entry %d has %d bytes, want 32", i, len(s))
		}
		proof.Path = append(proof.Path, [32]byte(s))
	}
	data, err := vid.VerifyNamespace(h.PayloadCommitment, h.NsTable, uint32(ns), proof)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	txs, err := types.NamespaceTransactions(ns, data)
	if err != nil {
		return nil, fmt.Errorf("api: proven namespace bytes: %w", err)
	}
	if len(txs) != len(d.Transactions) {
		return nil, fmt.Errorf("api: %d transactions listed, the proven bytes hold %d", len(d.Transactions), len(txs))
	}
	for i := range txs {
		if txs[i].Namespace != d.Transactions[i].Namespace || string(txs[i].Payload) != string(d.Transactions[i].Payload) {
			return nil, fmt.Errorf("api: transaction %d differs from the proven bytes", i)
		}
	}
	return txs, nil
}

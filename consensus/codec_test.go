package consensus_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

func sampleMessages(t testing.TB) []consensus.Message {
	h := newHarness(t, 4)
	leader := h.engine(1, nil)
	leader.Tick(h.now.Add(20 * time.Millisecond))
	prop := proposals(leader.Ready())[0]
	qc := prop.Leaf.JustifyQC
	sig := consensus.SignVote(h.keys[0].Staking, h.genesis, 3, types.Commitment{7})
	fee := types.Address{9}
	prop2 := *prop
	prop2.Leaf.Header.ChainConfig.FeeContract = &fee
	prop2.Leaf.Header.L1Finalized = &types.L1BlockInfo{Number: 5, Timestamp: types.NewU256(77), Hash: types.Hash{1}}
	tc := &consensus.TimeoutCert{View: 4, HighQC: qc, Signers: types.Bitmap{0x0f}, HighViews: []types.ViewNumber{0, 0, 0, 0}, Signature: sig.Bytes()}
	prop2.TC = tc
	prop2.Finalize = &consensus.ViewSyncCert{Phase: consensus.PhaseFinalize, Round: 5, Relay: 1, HighQC: qc, Signers: types.Bitmap{0x07}, HighViews: []types.ViewNumber{1, 2, 3}, Signature: sig.Bytes()}
	prop2.DA = &consensus.DACert{View: prop2.Leaf.View, Payload: prop2.Leaf.Header.PayloadCommitment, Signers: types.Bitmap{0x07}, Signature: sig.Bytes()}
	return []consensus.Message{
		prop, &prop2,
		&consensus.Vote{View: 3, Leaf: types.Commitment{7}, Signer: 2, Signature: sig},
		&consensus.TimeoutVote{View: 3, HighQC: qc, Signer: 1, Signature: sig},
		&consensus.ViewSyncVote{Phase: consensus.PhaseCommit, Round: 4, Relay: 2, HighQC: qc, Signer: 3, Signature: sig},
		&consensus.Certificates{QC: &qc, TC: tc},
		&consensus.FetchRequest{ID: 9, Leaf: types.Commitment{3}, StopHeight: 2},
		&consensus.FetchResponse{ID: 9, Leaves: []consensus.FetchedLeaf{{Leaf: prop.Leaf, Payload: prop.Payload}}},
		&consensus.HeaderRequest{ID: 10, Leaf: types.Commitment{4}, StopHeight: 3},
		&consensus.HeaderResponse{ID: 10, Leaves: []types.Leaf{prop.Leaf, prop2.Leaf}},
		&consensus.FetchUnavailable{ID: 11, FirstHeight: 1000},
		&consensus.DAProposal{View: 5, Commitment: types.Commitment{5}, Payload: types.Payload{Raw: []byte{1, 2, 3}, NsTable: types.NsTable{Bytes: []byte{1, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0}}}},
		&consensus.DAVote{View: 5, Payload: types.Commitment{5}, Signer: 2, Signature: sig},
		&consensus.VIDShare{View: 5, Commitment: types.Commitment{5}, Share: []byte{1, 2, 3, 4}},
		&consensus.Certificates{DA: &consensus.DACert{View: 5, Payload: types.Commitment{5}, Signers: types.Bitmap{0x07}, Signature: sig.Bytes()}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, m := range sampleMessages(t) {
		b, err := consensus.Encode(m)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		back, err := consensus.Decode(b)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		again, err := consensus.Encode(back)
		if err != nil || !bytes.Equal(b, again) {
			t.Fatalf("%T does not round-trip", m)
		}
		if p, ok := m.(*consensus.Proposal); ok && back.(*consensus.Proposal).Leaf.Commit() != p.Leaf.Commit() {
			t.Fatal("decoded proposal has another leaf commitment")
		}
		// Every truncation is an error, never a panic.
		for i := range b {
			if _, err := consensus.Decode(b[:i]); !errors.Is(err, consensus.ErrInvalidMessage) {
				t.Fatalf("%T truncated to %d bytes: err %v, want ErrInvalidMessage", m, i, err)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages(f) {
		b, _ := consensus.Encode(m)
		f.Add(b)
	}
	f.Add([]byte{1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := consensus.Decode(b)
		if err != nil {
			if !errors.Is(err, consensus.ErrInvalidMessage) {
				t.Fatalf("error %v does not wrap ErrInvalidMessage", err)
			}
			return
		}
		again, err := consensus.Encode(m)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decode then encode changed the bytes")
		}
	})
}

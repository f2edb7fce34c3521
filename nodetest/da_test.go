package nodetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

// TestDACommitteeWithOneMemberDown runs 7 nodes of which 4 form the DA
// committee, with one committee member down: blocks with real payloads are
// decided (3 of 4 committee members reach the DA threshold), every running
// node ends up holding every decided payload, each matching its header's
// VID commitment, and a node outside the committee serves every one of
// them over the availability API.
func TestDACommitteeWithOneMemberDown(t *testing.T) {
	availability, err := api.Availability()
	if err != nil {
		t.Fatal(err)
	}
	net := nodetest.New(t, nodetest.Nodes(7),
		nodetest.EditGenesis(func(g *genesis.Genesis) {
			for i := range g.StakeTable {
				g.StakeTable[i].DA = i < 4
			}
		}),
		nodetest.API([]api.Module{availability}))
	net.WaitForHeight(2)
	net.Crash(1)
	running := []int{0, 2, 3, 4, 5, 6}

	var txs []types.Commitment
	for i := range 40 {
		payload := make([]byte, 1000+37*i)
		copy(payload, fmt.Sprintf("transaction %d", i))
		txs = append(txs, net.Submit(running[i%len(running)], types.Transaction{Namespace: uint64(1 + i%3), Payload: payload}))
	}
	for _, c := range txs {
		net.WaitForTransaction(c, running...)
	}
	top := net.Node(0).BlockHeight()
	net.WaitForHeight(top, running...)

	params, err := chain.VIDParams([]uint64{1, 1, 1, 1, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	rules := chain.Rules{VID: params}
	chains := net.Chains(running...)
	if err := nodetest.CheckSameChain(chains...); err != nil {
		t.Fatal(err)
	}
	full := 0
	for i, ch := range chains {
		for _, b := range ch {
			c, err := rules.PayloadCommitment(&b.Payload)
			if err != nil || c != b.Leaf.Header.PayloadCommitment {
				t.Fatalf("node %d block %d: payload commitment %s (%v), header says %s", running[i], b.Height(), c.Short(), err, b.Leaf.Header.PayloadCommitment.Short())
			}
			if i == 0 && b.Payload.Size() > 0 {
				full++
			}
		}
	}
	if full == 0 {
		t.Fatal("no block with a payload was decided")
	}

	// Node 5 is outside the committee: it serves every decided payload.
	for h := range top {
		resp, err := http.Get(fmt.Sprintf("%s/v0/availability/payload/%d", net.APIURL(5), h))
		if err != nil {
			t.Fatal(err)
		}
		var pd api.PayloadQueryData
		err = json.NewDecoder(resp.Body).Decode(&pd)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("payload %d from the non-DA node: status %d, %v", h, resp.StatusCode, err)
		}
		want := chains[0][h].Payload
		if string(pd.Data.Raw) != string(want.Raw) || string(pd.Data.NsTable.Bytes) != string(want.NsTable.Bytes) {
			t.Fatalf("payload %d from the non-DA node differs from the decided one", h)
		}
	}
	t.Logf("%d blocks decided, %d with payloads, with DA member 1 down; node 5 (not in the committee) served all of them", top, full)
}

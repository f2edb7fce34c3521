package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gospresso/gospresso/chain/vid"
	"github.com/gospresso/gospresso/types"
)

// MaxClockSkew is how far a fresh proposal's timestamp may be from the
// validator's clock (docs/data.md, "Header and leaf validation").
const MaxClockSkew = 12 * time.Second

// BuilderCommitment is the header's builder_commitment: SHA-256 over the
// payload and its namespace table. (Until VID it was the payload
// commitment too.)
func BuilderCommitment(p *types.Payload) types.Commitment {
	h := sha256.New()
	h.Write([]byte("gospresso/payload/v1"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p.NsTable.Bytes))))
	h.Write(p.NsTable.Bytes)
	h.Write(p.Raw)
	return types.Commitment(h.Sum(nil))
}

// VIDParams are the VID parameters of a stake table: each member holds
// shards in proportion to its stake, vid.DefaultMaxTotal shards at most
// (plus one per member), as vid.WeightsFromStake rounds.
func VIDParams(stakes []uint64) (vid.Params, error) {
	p, err := vid.NewParams(vid.WeightsFromStake(stakes, vid.DefaultMaxTotal))
	if err != nil {
		return vid.Params{}, fmt.Errorf("chain: VID parameters of the stake table: %w", err)
	}
	return p, nil
}

// Rules are the chain parameters headers are built and checked against.
type Rules struct {
	Version     types.Version
	ChainConfig types.ChainConfig
	// VID are the dispersal parameters of the stake table (VIDParams):
	// the payload commitment is the VID commitment under them. The zero
	// value stands for a one-member table.
	VID vid.Params
}

// vid returns the VID parameters, a one-member table's for the zero value.
func (r Rules) vid() vid.Params {
	if r.VID.Nodes() > 0 {
		return r.VID
	}
	p, _ := vid.NewParams([]uint64{1}) // cannot fail
	return p
}

// PayloadCommitment is the header's payload_commitment for p: its VID
// commitment (docs/data.md, "Commitments"; tag AvidMCommit).
func (r Rules) PayloadCommitment(p *types.Payload) (types.Commitment, error) {
	c, err := vid.Commit(r.vid(), *p)
	if err != nil {
		return types.Commitment{}, fmt.Errorf("chain: payload commitment: %w", err)
	}
	return c, nil
}

// VIDScheme returns the dispersal the consensus engine's DA path uses
// under these rules.
func (r Rules) VIDScheme() *VIDScheme { return newVIDScheme(r.vid()) }

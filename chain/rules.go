package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/gospresso/gospresso/types"
)

// MaxClockSkew is how far a fresh proposal's timestamp may be from the
// validator's clock (docs/data.md, "Header and leaf validation").
const MaxClockSkew = 12 * time.Second

// PayloadCommitment commits to a payload and its namespace table. It is the
// header's payload_commitment until VID dispersal replaces it with the
// Merkle root over erasure-coded shares.
func PayloadCommitment(p *types.Payload) types.Commitment {
	h := sha256.New()
	h.Write([]byte("gospresso/payload/v1"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p.NsTable.Bytes))))
	h.Write(p.NsTable.Bytes)
	h.Write(p.Raw)
	return types.Commitment(h.Sum(nil))
}

// Rules are the chain parameters headers are built and checked against.
type Rules struct {
	Version     types.Version
	ChainConfig types.ChainConfig
}

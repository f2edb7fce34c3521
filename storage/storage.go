package storage

import (
	"context"
	"errors"

	"github.com/gospresso/gospresso/types"
)

// Sentinel errors of every backend.
var (
	// ErrNotFound is returned for an object the store does not hold.
	ErrNotFound = errors.New("storage: not found")
	// ErrClosed is returned by a store after Close.
	ErrClosed = errors.New("storage: closed")
	// ErrLocked is returned when another process holds the store.
	ErrLocked = errors.New("storage: store is in use by another process")
	// ErrConflict is returned when a write contradicts what is stored, such
	// as a different block at a stored height.
	ErrConflict = errors.New("storage: conflicting write")
)

// SafetyState is the consensus replica state that must survive a restart:
// the current view, the highest view the node may no longer vote in, and its
// highest quorum certificate.
type SafetyState struct {
	View          types.ViewNumber
	LastVotedView types.ViewNumber
	HighQC        types.QuorumCertificate
}

// StoredProposal is a proposal of an undecided view, in consensus's own
// encoding (storage treats it as opaque bytes).
type StoredProposal struct {
	View types.ViewNumber
	Data []byte
}

// ConsensusStore keeps what consensus needs to restart without voting twice
// or proposing twice. Every write is durable when it returns.
type ConsensusStore interface {
	// LoadSafety returns the stored safety state, or ErrNotFound before the
	// first SaveSafety.
	LoadSafety(ctx context.Context) (SafetyState, error)
	// SaveSafety replaces the safety state.
	SaveSafety(ctx context.Context, s SafetyState) error
	// SaveProposal stores a proposal for an undecided view. Storing several
	// for one view (an equivocating leader) keeps them all.
	SaveProposal(ctx context.Context, p StoredProposal) error
	// LoadProposals returns the stored proposals in view order.
	LoadProposals(ctx context.Context) ([]StoredProposal, error)
}

// Block is a decided leaf with its payload and the certificate of it.
type Block struct {
	Leaf    types.Leaf
	Payload types.Payload
	QC      types.QuorumCertificate
}

// Height is the block's height.
func (b *Block) Height() uint64 { return b.Leaf.Header.Height }

// TxLocation places a transaction in the chain.
type TxLocation struct {
	Height uint64
	Index  uint64
}

// BlockStore keeps the decided chain.
type BlockStore interface {
	// SaveDecided appends decided blocks, in height order, atomically: all
	// or none are stored. The first block must follow the last stored one
	// (re-saving stored blocks is a no-op; a different block at a stored
	// height is ErrConflict). Stored proposals for views up to the last
	// block's view are dropped in the same step.
	SaveDecided(ctx context.Context, blocks []Block) error
	// LastDecided returns the highest stored block, or ErrNotFound.
	LastDecided(ctx context.Context) (Block, error)
	// BlockByHeight returns the block at height h, or ErrNotFound.
	BlockByHeight(ctx context.Context, h uint64) (Block, error)
	// BlockByLeaf returns the block whose leaf commitment is c.
	BlockByLeaf(ctx context.Context, c types.Commitment) (Block, error)
	// BlockByHash returns the block whose header commitment (block hash) is c.
	BlockByHash(ctx context.Context, c types.Commitment) (Block, error)
	// TransactionByHash locates the earliest inclusion of a transaction.
	TransactionByHash(ctx context.Context, c types.Commitment) (TxLocation, error)
	// BlockHeight returns the number of stored blocks (last height + 1), 0
	// when empty.
	BlockHeight(ctx context.Context) (uint64, error)
}

// Store is a complete node store.
type Store interface {
	ConsensusStore
	BlockStore
	// Close releases the store; later calls return ErrClosed.
	Close() error
}

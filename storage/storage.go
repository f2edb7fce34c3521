package storage

import (
	"context"
	"errors"
	"fmt"

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
	// ErrPruned is returned for data below the pruned height: it existed
	// and was deleted on purpose (not missing, so not worth fetching).
	ErrPruned = errors.New("storage: pruned")
	// ErrNotSupported is returned by a backend asked for something it
	// cannot do, such as pruning the file-system backend.
	ErrNotSupported = errors.New("storage: not supported by this backend")
	// ErrModeMismatch is returned when a store is opened in a mode that
	// does not fit what it holds, such as consensus-only mode (a node
	// without the query module) on a store that keeps history, which would
	// delete that history.
	ErrModeMismatch = errors.New("storage: store mode mismatch")
	// ErrGenesisMismatch is returned by GenesisBinder.BindGenesis when the
	// store is bound to another genesis: it holds another network's chain.
	ErrGenesisMismatch = errors.New("storage: the store belongs to another network (genesis mismatch)")
)

// GenesisBinder is implemented by stores that keep the identity of the
// network they hold (the genesis commitment every signature binds) in their
// own metadata, apart from the blocks, so that a store whose block 0 was
// pruned (or never kept, in consensus-only mode) is still recognised as
// another network's. Every backend in this repository implements it;
// reset-storage wipes the identity with the rest.
type GenesisBinder interface {
	// BindGenesis records commitment as the store's genesis identity when
	// none is recorded (durably, before it returns), and returns nil when
	// the recorded one equals it. When another is recorded it changes
	// nothing and returns a *GenesisMismatchError (wrapping
	// ErrGenesisMismatch) naming both.
	BindGenesis(ctx context.Context, commitment [32]byte) error
}

// GenesisMismatchError is the error of BindGenesis for a store bound to
// another genesis. It wraps ErrGenesisMismatch.
type GenesisMismatchError struct {
	// Store names the store (a path or a database target), for the message.
	Store string
	// Stored is the genesis commitment the store is bound to, Want the one
	// BindGenesis was given.
	Stored, Want [32]byte
}

func (e *GenesisMismatchError) Error() string {
	where := ""
	if e.Store != "" {
		where = " " + e.Store
	}
	return fmt.Sprintf("%v: the store%s is bound to genesis %x, not %x", ErrGenesisMismatch, where, e.Stored, e.Want)
}

// Unwrap returns ErrGenesisMismatch.
func (e *GenesisMismatchError) Unwrap() error { return ErrGenesisMismatch }

// RefuseHistory returns an error wrapping ErrModeMismatch when st keeps any
// decided block below its last one. Backends call it when opened in
// consensus-only mode, so that dropping the query module from a node's
// command line never silently deletes the history it had stored.
func RefuseHistory(ctx context.Context, st interface {
	Pruner
	BlockStore
}) error {
	last, err := st.LastDecided(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	first, err := st.FirstHeight(ctx)
	if err != nil {
		return err
	}
	if first < last.Height() {
		return fmt.Errorf("%w: the store keeps blocks %d to %d, and consensus-only mode (no query module) would delete all but the last; "+
			"add the query module, or reset the store (utils reset-storage) to run a lightweight node", ErrModeMismatch, first, last.Height())
	}
	return nil
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
	LoadSafety(ctx context.Context) (types.SafetyState, error)
	// SaveSafety replaces the safety state.
	SaveSafety(ctx context.Context, s types.SafetyState) error
	// SaveProposal stores a proposal for an undecided view. Storing several
	// for one view (an equivocating leader) keeps them all.
	SaveProposal(ctx context.Context, p StoredProposal) error
	// LoadProposals returns the stored proposals in view order.
	LoadProposals(ctx context.Context) ([]StoredProposal, error)
}

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
	// height, a gap, or a batch not in consecutive height order is
	// ErrConflict); in an empty store that is height 0. Stored proposals
	// for views up to the last block's view are dropped in the same step.
	SaveDecided(ctx context.Context, blocks []types.Block) error
	// LastDecided returns the highest stored block, or ErrNotFound.
	LastDecided(ctx context.Context) (types.Block, error)
	// BlockByHeight returns the block at height h, or ErrNotFound.
	BlockByHeight(ctx context.Context, h uint64) (types.Block, error)
	// BlockByLeaf returns the block whose leaf commitment is c.
	BlockByLeaf(ctx context.Context, c types.Commitment) (types.Block, error)
	// BlockByHash returns the block whose header commitment (block hash) is c.
	BlockByHash(ctx context.Context, c types.Commitment) (types.Block, error)
	// TransactionByHash locates the earliest stored inclusion of a
	// transaction.
	TransactionByHash(ctx context.Context, c types.Commitment) (TxLocation, error)
	// BlockHeight returns the last stored height + 1 (0 when empty). After
	// pruning it still counts the pruned blocks.
	BlockHeight(ctx context.Context) (uint64, error)
}

// HeaderWindow is the answer to a header-window query: the headers whose
// timestamps fall in [start, end), and the nearest headers on either side.
type HeaderWindow struct {
	Window []types.Header
	// Prev is the last header before the window, Next the first after it;
	// nil when not stored. When the limit cut the window short, Next is nil
	// (the caller asks again from the last header's timestamp).
	Prev, Next *types.Header
}

// QueryStore is what the query APIs read. Ranges are [from, until): until
// is exclusive. A range stops early at the first height not stored (so it
// may return fewer than asked) and never returns more than limit items (a
// limit <= 0 returns none). Reads by height below the pruned height return
// ErrPruned; lookups by hash of pruned data may return ErrPruned or
// ErrNotFound, and scans and sums either return ErrPruned or cover the
// stored blocks only.
type QueryStore interface {
	// BlockRange returns the blocks of heights [from, until), at most limit.
	BlockRange(ctx context.Context, from, until uint64, limit int) ([]types.Block, error)
	// BlockByPayloadHash returns the lowest block whose header's payload
	// commitment is c.
	BlockByPayloadHash(ctx context.Context, c types.Commitment) (types.Block, error)
	// TransactionAt returns transaction index of the block at height.
	TransactionAt(ctx context.Context, height, index uint64) (types.Transaction, error)
	// NamespaceHeights returns, in increasing order, the heights >= from of
	// blocks whose namespace table lists namespace ns, at most limit.
	NamespaceHeights(ctx context.Context, ns uint64, from uint64, limit int) ([]uint64, error)
	// TransactionCount counts the transactions in blocks [from, until).
	TransactionCount(ctx context.Context, from, until uint64) (uint64, error)
	// PayloadBytes sums the payload sizes of blocks [from, until).
	PayloadBytes(ctx context.Context, from, until uint64) (uint64, error)
	// HeaderWindow returns the headers with start <= timestamp < end (unix
	// seconds), at most limit, with the neighbours of the window.
	HeaderWindow(ctx context.Context, start, end uint64, limit int) (HeaderWindow, error)
}

// Store is a complete node store.
type Store interface {
	ConsensusStore
	BlockStore
	QueryStore
	// Close releases the store (and its process lock); later calls return
	// ErrClosed.
	Close() error
}

// StateStore is implemented by stores that keep a snapshot of the chain
// state (docs/state.md, "Snapshots"), so that a restart replays only the
// blocks decided after it. Every backend in this repository implements it.
//
// Only one snapshot is kept: the one saved with the greatest height. A
// SaveState with a lower height than the stored one changes nothing and
// returns nil, so a late writer cannot move the snapshot back; an equal
// height replaces it. The data is opaque to the store (any length, tens of
// MiB included) and is kept in consensus-only mode too. After Close both
// methods return ErrClosed; LoadState returns a copy the caller may modify.
type StateStore interface {
	// SaveState replaces the stored snapshot with data, the encoded chain
	// state after the decided block of that height. Durable when it returns.
	SaveState(ctx context.Context, height uint64, data []byte) error
	// LoadState returns the stored snapshot and its height, or ErrNotFound
	// before the first SaveState.
	LoadState(ctx context.Context) (height uint64, data []byte, err error)
}

// Pruner is implemented by stores that can delete old blocks (SQLite and
// Postgres; not the file-system backend, whose Prune methods are absent).
// Package storage/pruner runs the retention algorithm (docs/storage.md,
// "Pruning") over it.
type Pruner interface {
	// PruneBefore deletes every block below height in one transaction and
	// records height as the pruned height. It never deletes the last
	// decided block.
	PruneBefore(ctx context.Context, height uint64) error
	// PrunedHeight returns the height below which blocks were pruned, and
	// whether anything was.
	PrunedHeight(ctx context.Context) (uint64, bool, error)
	// ResetPrunedHeight forgets the pruned height (archive mode), so that
	// data below it counts as missing and is fetched again.
	ResetPrunedHeight(ctx context.Context) error
	// LiveSize measures the bytes the stored data takes, in a way that
	// shrinks as data is deleted.
	LiveSize(ctx context.Context) (uint64, error)
	// HeightBefore returns the highest stored height whose header
	// timestamp is < t (unix seconds); ErrNotFound when there is none.
	HeightBefore(ctx context.Context, t uint64) (uint64, error)
	// FirstHeight returns the lowest stored height.
	FirstHeight(ctx context.Context) (uint64, error)
}

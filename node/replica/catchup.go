package replica

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/types"
)

// StateSource fetches a peer's decided chain state for a replica that
// cannot rebuild its own (docs/state.md, "State catchup"): the decided
// block the state follows, with the certificate that decided it, and the
// state's encoding (state.State.Encode). Nothing in the answer is
// trusted: the replica checks the certificate against the stake table and
// the state's roots against the certified header.
type StateSource func(ctx context.Context) (types.Block, []byte, error)

// catchupAttempts and catchupRetry bound how long catchupState waits for a
// peer whose state is behind this node's last decided block.
const (
	catchupAttempts = 20
	catchupRetry    = 100 * time.Millisecond
)

// ErrCatchup marks a peer's chain state that failed the checks of
// catchupState.
var ErrCatchup = errors.New("replica: state catchup")

// catchupState fetches a chain state from src and checks it: block b must
// be certified by a quorum of the stake table, at or above last (and equal
// to it at its height), and the state's roots must be b's header roots.
func catchupState(ctx context.Context, setup *Setup, src StateSource, last types.Block) (*types.Block, *state.State, error) {
	// Peers may not have applied this node's last decided block yet: ask
	// again a few times, a little later, before giving up.
	var b types.Block
	var data []byte
	for attempt := 0; ; attempt++ {
		var err error
		b, data, err = src(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: fetch: %w", ErrCatchup, err)
		}
		if b.Height() >= last.Height() || attempt >= catchupAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w: waiting for a peer at height %d: %w", ErrCatchup, last.Height(), ctx.Err())
		case <-time.After(catchupRetry):
		}
	}
	c := b.Leaf.Commit()
	if b.QC.Leaf != c {
		return nil, nil, fmt.Errorf("%w: the certificate is for leaf %s, the block's leaf is %s", ErrCatchup, b.QC.Leaf.Short(), c.Short())
	}
	if b.Height() > 0 {
		if err := setup.Verifier.VerifyQC(&b.QC); err != nil {
			return nil, nil, fmt.Errorf("%w: the block's certificate: %w", ErrCatchup, err)
		}
	}
	switch {
	case b.Height() < last.Height():
		return nil, nil, fmt.Errorf("%w: the peer's state follows block %d, below this node's last decided block %d", ErrCatchup, b.Height(), last.Height())
	case b.Height() == last.Height() && c != last.Leaf.Commit():
		return nil, nil, fmt.Errorf("%w: the peer's block %d is not this node's decided block %d (a conflicting decide)", ErrCatchup, b.Height(), last.Height())
	}
	st, err := state.DecodeState(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCatchup, err)
	}
	if !rootsMatch(&b.Leaf.Header, st) {
		return nil, nil, fmt.Errorf("%w: the state's roots are not those of the certified block %d", ErrCatchup, b.Height())
	}
	return &b, st, nil
}

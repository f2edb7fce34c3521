package l1

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/types"
)

// Resolve finds the L1 block an [l1_finalized] table names, in one of the
// forms of docs/genesis.md, "[l1_finalized]", without waiting:
//
//   - full (number, timestamp, hash): the L1's block of that number, which
//     must have exactly that timestamp and hash (else ErrMismatch);
//   - number: the L1's block of that number;
//   - timestamp: the first finalized block whose timestamp is at or after
//     the value (a binary search over the finalized blocks).
//
// The block must be finalized: when it is not yet (or, for the timestamp
// form, no finalized block is that late yet), the error wraps
// ErrNotFinalized and a node would wait (Tracker.WaitResolved).
func Resolve(ctx context.Context, c Client, want *genesis.L1Finalized) (types.L1BlockInfo, error) {
	fin, err := c.Finalized(ctx)
	if err != nil {
		return types.L1BlockInfo{}, fmt.Errorf("l1: finalized block: %w", err)
	}
	return resolve(ctx, c, want, fin)
}

// resolve is Resolve with the finalized block already read.
func resolve(ctx context.Context, c Client, want *genesis.L1Finalized, fin *types.L1BlockInfo) (types.L1BlockInfo, error) {
	switch want.Form() {
	case genesis.FormFull, genesis.FormNumber:
		n := *want.Number
		if fin == nil || fin.Number < n {
			return types.L1BlockInfo{}, fmt.Errorf("%w: block %d (finalized: %s)", ErrNotFinalized, n, describe(fin))
		}
		b, err := c.Block(ctx, n)
		if err != nil {
			return types.L1BlockInfo{}, fmt.Errorf("l1: block %d: %w", n, err)
		}
		if b.Number != n {
			return types.L1BlockInfo{}, fmt.Errorf("%w: asked for block %d, got block %d", ErrMalformed, n, b.Number)
		}
		if want.Form() == genesis.FormFull {
			if b.Hash != *want.Hash || b.Timestamp != *want.Timestamp {
				return types.L1BlockInfo{}, fmt.Errorf("%w: [l1_finalized] names block %d with hash %s and timestamp %s, "+
					"but the L1's block %d has hash %s and timestamp %s", ErrMismatch, n, want.Hash, want.Timestamp.Hex(),
					n, b.Hash, b.Timestamp.Hex())
			}
		}
		return b, nil
	case genesis.FormTimestamp:
		ts := *want.Timestamp
		if fin == nil || fin.Timestamp.Cmp(ts) < 0 {
			return types.L1BlockInfo{}, fmt.Errorf("%w: no finalized block at or after timestamp %s (finalized: %s)",
				ErrNotFinalized, ts, describe(fin))
		}
		// Block timestamps strictly increase with the number. Invariant:
		// block hi is at or after ts; every block below lo is before it.
		lo, hi, found := uint64(0), fin.Number, *fin
		for lo < hi {
			mid := lo + (hi-lo)/2
			b, err := c.Block(ctx, mid)
			if err != nil {
				return types.L1BlockInfo{}, fmt.Errorf("l1: block %d: %w", mid, err)
			}
			if b.Timestamp.Cmp(ts) >= 0 {
				hi, found = mid, b
			} else {
				lo = mid + 1
			}
		}
		return found, nil
	}
	return types.L1BlockInfo{}, errors.New("l1: [l1_finalized] has none of the forms of docs/genesis.md")
}

// describe renders a finalized block for messages.
func describe(fin *types.L1BlockInfo) string {
	if fin == nil {
		return "none yet"
	}
	return fmt.Sprintf("block %d at timestamp %s", fin.Number, fin.Timestamp)
}

// WaitResolved is Resolve that waits, logging progress every polling
// interval, while the block is not finalized yet, and retries failed
// requests after the retry delay. It returns an error wrapping ErrMismatch
// at once for a full form the L1 contradicts. For start-up: it blocks until
// ctx ends.
func (t *Tracker) WaitResolved(ctx context.Context, want *genesis.L1Finalized) (types.L1BlockInfo, error) {
	switch want.Form() {
	case genesis.FormNumber:
		return t.WaitFinalized(ctx, *want.Number)
	case genesis.FormFull:
		b, err := t.WaitFinalized(ctx, *want.Number)
		if err != nil {
			return types.L1BlockInfo{}, err
		}
		if b.Hash != *want.Hash || b.Timestamp != *want.Timestamp {
			return types.L1BlockInfo{}, fmt.Errorf("%w: [l1_finalized] names block %d with hash %s and timestamp %s, "+
				"but the L1's block %d has hash %s and timestamp %s", ErrMismatch, b.Number, want.Hash, want.Timestamp.Hex(),
				b.Number, b.Hash, b.Timestamp.Hex())
		}
		return b, nil
	case genesis.FormTimestamp:
	default:
		return types.L1BlockInfo{}, errors.New("l1: [l1_finalized] has none of the forms of docs/genesis.md")
	}
	for {
		wait := t.cfg.pollingInterval
		err := t.poll(ctx)
		_, fin := t.Snapshot()
		if err == nil {
			var b types.L1BlockInfo
			if b, err = resolve(ctx, t.c, want, fin); err == nil {
				return b, nil
			}
		}
		if ctx.Err() != nil {
			return types.L1BlockInfo{}, fmt.Errorf("l1: waiting for a finalized L1 block at or after timestamp %s: %w",
				want.Timestamp, ctx.Err())
		}
		if errors.Is(err, ErrNotFinalized) {
			t.log.Info(fmt.Sprintf("l1: waiting for a finalized L1 block at or after timestamp %s", want.Timestamp),
				"finalized", describe(fin), "next_check", wait)
		} else {
			wait = t.cfg.retryDelay
			t.log.Warn("l1: resolving [l1_finalized] failed; retrying", "err", err, "retry_delay", wait)
		}
		t.mu.Lock()
		changed := t.changed
		t.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return types.L1BlockInfo{}, fmt.Errorf("l1: waiting for a finalized L1 block at or after timestamp %s: %w",
				want.Timestamp, ctx.Err())
		case <-changed:
			timer.Stop()
		case <-timer.C:
		}
	}
}

package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// LoadSafety implements storage.ConsensusStore.
func (s *Store) LoadSafety(ctx context.Context) (types.SafetyState, error) {
	if err := s.check(ctx); err != nil {
		return types.SafetyState{}, err
	}
	var data []byte
	err := s.poolRow(ctx, "load_safety", nil, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return types.SafetyState{}, fmt.Errorf("postgres: safety state: %w", storage.ErrNotFound)
	}
	if err != nil {
		return types.SafetyState{}, s.fail(ctx, "load safety state", err)
	}
	st, err := storagecodec.DecodeSafety(data)
	if err != nil {
		return types.SafetyState{}, fmt.Errorf("postgres: load safety state: %w", err)
	}
	return st, nil
}

// SaveSafety implements storage.ConsensusStore. It is one statement that
// writes only while the schema lock is held.
func (s *Store) SaveSafety(ctx context.Context, st types.SafetyState) error {
	data, err := storagecodec.EncodeSafety(&st)
	if err != nil {
		return fmt.Errorf("postgres: save safety state: %w", err)
	}
	return s.writeStatement(ctx, "save safety state", "save_safety", data)
}

// SaveProposal implements storage.ConsensusStore. Saving the same bytes for
// the same view again is a no-op.
func (s *Store) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	if uint64(p.View) > math.MaxInt64 {
		return fmt.Errorf("postgres: save proposal: view %d: %w (want at most 2^63-1)", p.View, ErrOutOfRange)
	}
	data := p.Data
	if data == nil {
		data = []byte{}
	}
	sum := sha256.Sum256(data)
	return s.writeStatement(ctx, "save proposal", "save_proposal", int64(p.View), sum[:], data)
}

// LoadProposals implements storage.ConsensusStore: view order, and within a
// view the order they were saved in.
func (s *Store) LoadProposals(ctx context.Context) ([]storage.StoredProposal, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []storage.StoredProposal
	err := s.poolRows(ctx, "load_proposals", nil, func(r *sql.Rows) error {
		var (
			view int64
			data []byte
		)
		if err := r.Scan(&view, &data); err != nil {
			return err
		}
		out = append(out, storage.StoredProposal{View: types.ViewNumber(view), Data: data})
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, "load proposals", err)
	}
	return out, nil
}

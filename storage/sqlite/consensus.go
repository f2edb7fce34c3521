package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// write runs f in one writer transaction (BEGIN IMMEDIATE) and commits it.
// Writes are serialized; the transaction is rolled back if f or the commit
// fails.
func (s *Store) write(ctx context.Context, f func(*sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.checkFile(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	// A file deleted during the transaction took the commit with it.
	if err := s.checkFile(); err != nil {
		return err
	}
	s.ck.notify()
	return nil
}

// LoadSafety implements storage.ConsensusStore.
func (s *Store) LoadSafety(ctx context.Context) (types.SafetyState, error) {
	done, err := s.enter(ctx, "load safety")
	if err != nil {
		return types.SafetyState{}, err
	}
	defer done()
	var data []byte
	err = s.rs.loadSafety.QueryRowContext(ctx).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return types.SafetyState{}, fmt.Errorf("sqlite: safety state: %w", storage.ErrNotFound)
	}
	if err != nil {
		return types.SafetyState{}, s.fail(ctx, "load safety", err)
	}
	st, err := storagecodec.DecodeSafety(data)
	if err != nil {
		return types.SafetyState{}, fmt.Errorf("sqlite: %s: load safety: %w: %w", s.path, ErrCorrupt, err)
	}
	return st, nil
}

// SaveSafety implements storage.ConsensusStore. The state is on disk when
// it returns.
func (s *Store) SaveSafety(ctx context.Context, st types.SafetyState) error {
	done, err := s.enter(ctx, "save safety")
	if err != nil {
		return err
	}
	defer done()
	data, err := storagecodec.EncodeSafety(&st)
	if err != nil {
		return fmt.Errorf("sqlite: save safety: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.ws.saveSafety).ExecContext(ctx, data)
		return err
	})
	if err != nil {
		return s.fail(ctx, "save safety", err)
	}
	return nil
}

// SaveProposal implements storage.ConsensusStore. Saving the same bytes for
// the same view again is a no-op; different bytes for one view are all
// kept.
func (s *Store) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	done, err := s.enter(ctx, "save proposal")
	if err != nil {
		return err
	}
	defer done()
	if p.View > maxStored {
		return fmt.Errorf("sqlite: save proposal: view: %d: %w (want at most %d)", p.View, ErrOutOfRange, uint64(maxStored))
	}
	digest := sha256.Sum256(p.Data)
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.ws.saveProposal).ExecContext(ctx, int64(p.View), digest[:], nonNil(p.Data))
		return err
	})
	if err != nil {
		return s.fail(ctx, "save proposal", err)
	}
	return nil
}

// LoadProposals implements storage.ConsensusStore: proposals in view order,
// those of one view in the order they were saved.
func (s *Store) LoadProposals(ctx context.Context) ([]storage.StoredProposal, error) {
	done, err := s.enter(ctx, "load proposals")
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.rs.loadProposals.QueryContext(ctx)
	if err != nil {
		return nil, s.fail(ctx, "load proposals", err)
	}
	defer rows.Close()
	out := []storage.StoredProposal{}
	for rows.Next() {
		var (
			view int64
			data []byte
		)
		if err := rows.Scan(&view, &data); err != nil {
			return nil, s.fail(ctx, "load proposals", err)
		}
		out = append(out, storage.StoredProposal{View: types.ViewNumber(view), Data: nonNil(data)})
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "load proposals", err)
	}
	return out, nil
}

package fs

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// proposalVersion is the first byte of a proposal file's frame body.
const proposalVersion = 1

// loadSafety reads the safety state file, if any.
func (s *Store) loadSafety() error {
	p := filepath.Join(s.dir, safetyName)
	if err := removeStale(p + swpSuffix); err != nil {
		return err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fs: read %s: %w", p, err)
	}
	st, err := storagecodec.DecodeSafety(data)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, p, err)
	}
	s.safety = &st
	return nil
}

// cloneSafety copies st so that no caller shares its byte slices.
func cloneSafety(st types.SafetyState) types.SafetyState {
	st.HighQC.Signers = slices.Clone(st.HighQC.Signers)
	st.HighQC.Signature = slices.Clone(st.HighQC.Signature)
	return st
}

// LoadSafety implements storage.ConsensusStore.
func (s *Store) LoadSafety(ctx context.Context) (types.SafetyState, error) {
	s.safetyMu.Lock()
	defer s.safetyMu.Unlock()
	if err := s.check(ctx); err != nil {
		return types.SafetyState{}, err
	}
	if s.safety == nil {
		return types.SafetyState{}, fmt.Errorf("fs: safety state: %w", storage.ErrNotFound)
	}
	return cloneSafety(*s.safety), nil
}

// SaveSafety implements storage.ConsensusStore. The state is durable when
// it returns.
func (s *Store) SaveSafety(ctx context.Context, st types.SafetyState) error {
	s.safetyMu.Lock()
	defer s.safetyMu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	data, err := storagecodec.EncodeSafety(&st)
	if err != nil {
		return fmt.Errorf("fs: save safety state: %w", err)
	}
	if err := writeFileAtomic(s.dir, safetyName, data); err != nil {
		return fmt.Errorf("fs: save safety state: %w", err)
	}
	c := cloneSafety(st)
	s.safety = &c
	return nil
}

// loadProposals scans the proposal directory: it removes temporary files
// and proposals of decided views, and checks every other file.
func (s *Store) loadProposals() error {
	dir := filepath.Join(s.dir, proposalsDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("fs: list %s: %w", dir, err)
	}
	removed := false
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, swpSuffix) {
			if err := removeStale(p); err != nil {
				return err
			}
			removed = true
			continue
		}
		view, n, ok := parseProposalName(name)
		if !ok || !e.Type().IsRegular() {
			s.cfg.logger.Warn("storage-fs: ignoring a file that is not a stored proposal", "path", p)
			continue
		}
		if last, ok := s.decidedView(); ok && uint64(view) <= last {
			if err := removeStale(p); err != nil {
				return err
			}
			removed = true
			continue
		}
		data, err := readProposal(p)
		if err != nil {
			return err
		}
		s.props = append(s.props, proposalEntry{view: view, n: n, sum: sha256.Sum256(data)})
	}
	sortProposals(s.props)
	if removed {
		return syncDir(dir)
	}
	return nil
}

// readProposal reads and checks one proposal file.
func readProposal(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fs: read proposal %s: %w", path, err)
	}
	data, err := decodeProposalFile(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// encodeProposalFile returns the contents of a proposal file.
func encodeProposalFile(data []byte) []byte {
	body := make([]byte, 0, 1+len(data))
	body = append(body, proposalVersion)
	return appendFrame(nil, append(body, data...))
}

// decodeProposalFile returns the proposal bytes of a proposal file (nil
// when empty).
func decodeProposalFile(raw []byte) ([]byte, error) {
	body, n, ferr := parseFrame(raw)
	if ferr != nil {
		return nil, fmt.Errorf("%w: proposal file: %s", ErrCorrupt, ferr.reason)
	}
	if n != len(raw) {
		return nil, fmt.Errorf("%w: proposal file: %d trailing bytes after the frame", ErrCorrupt, len(raw)-n)
	}
	if body[0] != proposalVersion {
		return nil, fmt.Errorf("%w: proposal file: version %d, want %d", ErrCorrupt, body[0], proposalVersion)
	}
	if len(body) == 1 {
		return nil, nil
	}
	return body[1:], nil
}

// SaveProposal implements storage.ConsensusStore. Re-saving an identical
// proposal is a no-op; a proposal for a view more than the view retention
// below the last decided view is not kept (see WithViewRetention). The
// proposal is durable when it returns.
func (s *Store) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	s.propMu.Lock()
	defer s.propMu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if uint64(len(p.Data))+1 > maxFrameBody {
		return fmt.Errorf("fs: save proposal for view %d: %d bytes exceed the %d-byte record limit", p.View, len(p.Data), maxFrameBody-1)
	}
	s.mu.RLock()
	lastView, decided := s.decidedView()
	s.mu.RUnlock()
	if decided && lastView > s.cfg.viewRetention && uint64(p.View) < lastView-s.cfg.viewRetention {
		return nil
	}
	e := proposalEntry{view: p.View, sum: sha256.Sum256(p.Data)}
	for _, q := range s.props {
		if q.view != p.View {
			continue
		}
		if q.sum == e.sum {
			return nil
		}
		e.n = max(e.n, q.n+1)
	}
	dir := filepath.Join(s.dir, proposalsDir)
	if err := writeFileAtomic(dir, e.name(), encodeProposalFile(p.Data)); err != nil {
		return fmt.Errorf("fs: save proposal for view %d: %w", p.View, err)
	}
	i, _ := slices.BinarySearchFunc(s.props, e, cmpProposal)
	s.props = slices.Insert(s.props, i, e)
	return nil
}

// LoadProposals implements storage.ConsensusStore.
func (s *Store) LoadProposals(ctx context.Context) ([]storage.StoredProposal, error) {
	s.propMu.Lock()
	defer s.propMu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	dir := filepath.Join(s.dir, proposalsDir)
	out := make([]storage.StoredProposal, 0, len(s.props))
	for _, e := range s.props {
		data, err := readProposal(filepath.Join(dir, e.name()))
		if err != nil {
			return nil, err
		}
		out = append(out, storage.StoredProposal{View: e.view, Data: data})
	}
	return out, nil
}

// dropProposalsLocked removes the proposals of views up to view, in memory
// and then on disk. The caller holds propMu. The files are removed after
// the commit that makes them obsolete; one left by a crash is removed by
// Open, so a failure here is only logged.
func (s *Store) dropProposalsLocked(view uint64) {
	dir := filepath.Join(s.dir, proposalsDir)
	keep := s.props[:0]
	var drop []proposalEntry
	for _, e := range s.props {
		if uint64(e.view) <= view {
			drop = append(drop, e)
		} else {
			keep = append(keep, e)
		}
	}
	s.props = keep
	for _, e := range drop {
		p := filepath.Join(dir, e.name())
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.cfg.logger.Warn("storage-fs: could not remove a decided proposal (Open removes it)", "path", p, "err", err)
		}
	}
}

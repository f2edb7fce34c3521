package fs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gospresso/gospresso/storage"
)

// stateName is the file of the chain-state snapshot (storage.StateStore),
// kept in both modes.
const stateName = "chain_state"

// stateVersion is the first byte of the chain_state frame body.
const stateVersion = 1

// stateHeadLen is the body's bytes before the snapshot: version, height.
const stateHeadLen = 1 + 8

var _ storage.StateStore = (*Store)(nil)

// encodeStateFile returns the contents of the chain_state file: one frame
// (length, CRC-32C, body) whose body is the version, the height (8 bytes,
// big-endian) and data. The caller keeps data within maxStateData.
func encodeStateFile(height uint64, data []byte) []byte {
	raw := make([]byte, frameHeaderLen+stateHeadLen+len(data))
	body := raw[frameHeaderLen:]
	body[0] = stateVersion
	binary.BigEndian.PutUint64(body[1:], height)
	copy(body[stateHeadLen:], data)
	binary.BigEndian.PutUint32(raw[:4], uint32(len(body)))
	binary.BigEndian.PutUint32(raw[4:frameHeaderLen], frameSum(raw[:4], body))
	return raw
}

// maxStateData is the largest snapshot one frame holds.
const maxStateData = maxFrameBody - stateHeadLen

// decodeStateFile decodes what encodeStateFile produced; data is a
// sub-slice of raw. Anything else (a short or torn file, a bad checksum,
// another version, trailing bytes) is an error wrapping ErrCorrupt.
func decodeStateFile(raw []byte) (height uint64, data []byte, err error) {
	body, n, ferr := parseFrame(raw)
	switch {
	case ferr != nil:
		return 0, nil, fmt.Errorf("%w: %s", ErrCorrupt, ferr.reason)
	case n != len(raw):
		return 0, nil, fmt.Errorf("%w: %d bytes after the frame (want one frame)", ErrCorrupt, len(raw)-n)
	case len(body) < stateHeadLen:
		return 0, nil, fmt.Errorf("%w: frame body of %d bytes, want at least %d (version, height)", ErrCorrupt, len(body), stateHeadLen)
	case body[0] != stateVersion:
		return 0, nil, fmt.Errorf("%w: version %d, want %d", ErrCorrupt, body[0], stateVersion)
	}
	return binary.BigEndian.Uint64(body[1:stateHeadLen]), body[stateHeadLen:], nil
}

// readStateFile reads and decodes the chain_state file: found is false when
// there is none; a damaged file is an error wrapping ErrCorrupt that names
// it.
func (s *Store) readStateFile() (height uint64, data []byte, found bool, err error) {
	p := filepath.Join(s.dir, stateName)
	raw, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, fmt.Errorf("fs: read %s: %w", p, err)
	}
	height, data, err = decodeStateFile(raw)
	if err != nil {
		return 0, nil, false, fmt.Errorf("%s: %w", p, err)
	}
	return height, data, true, nil
}

// loadState removes a leftover chain_state.swp and learns the stored
// snapshot's height (Open, and after a write whose outcome is unknown). A
// damaged file does not fail Open: it is logged, LoadState reports it
// (ErrCorrupt) and the next SaveState replaces it. The caller holds stateMu
// or is Open.
func (s *Store) loadState() error {
	p := filepath.Join(s.dir, stateName)
	if err := removeStale(p + swpSuffix); err != nil {
		return err
	}
	height, _, found, err := s.readStateFile()
	s.stateHeight, s.hasState = height, found
	if errors.Is(err, ErrCorrupt) {
		s.cfg.logger.Warn("storage-fs: the chain-state snapshot is damaged; the next snapshot saved replaces it", "path", p, "err", err)
		return nil
	}
	return err
}

// SaveState implements storage.StateStore: unless the stored snapshot has
// a greater height, it replaces the chain_state file atomically (written
// to chain_state.swp, fsynced, renamed, directory fsynced). The snapshot is
// durable when it returns.
func (s *Store) SaveState(ctx context.Context, height uint64, data []byte) error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if uint64(len(data)) > maxStateData {
		return fmt.Errorf("fs: save state: %d bytes, want at most %d", len(data), uint64(maxStateData))
	}
	if s.hasState && height < s.stateHeight {
		return nil
	}
	renamed, err := writeFileAtomicStage(s.dir, stateName, encodeStateFile(height, data))
	if err != nil {
		if renamed {
			// The old or the new file may be in place: ask the disk.
			if lerr := s.loadState(); lerr != nil {
				s.hasState = false
			}
		}
		return fmt.Errorf("fs: save state: %w", err)
	}
	s.stateHeight, s.hasState = height, true
	return nil
}

// LoadState implements storage.StateStore. It reads the chain_state file
// and checks its checksum; a damaged file is an error wrapping ErrCorrupt
// that names it.
func (s *Store) LoadState(ctx context.Context) (uint64, []byte, error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if err := s.check(ctx); err != nil {
		return 0, nil, err
	}
	height, data, found, err := s.readStateFile()
	if err != nil {
		return 0, nil, err
	}
	if !found {
		return 0, nil, fmt.Errorf("fs: state snapshot: %w", storage.ErrNotFound)
	}
	return height, data, nil
}

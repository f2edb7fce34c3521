package fs

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gospresso/gospresso/storage"
)

// genesisName is the file holding the store's genesis identity
// (storage.GenesisBinder), kept in both modes: the genesis commitment in
// hex and a newline, written atomically like the mode file.
const genesisName = "genesis"

var _ storage.GenesisBinder = (*Store)(nil)

// readGenesis reads the genesis file: found is false when there is none; a
// file that does not hold one commitment is an error wrapping ErrCorrupt.
func (s *Store) readGenesis() (c [32]byte, found bool, err error) {
	p := filepath.Join(s.dir, genesisName)
	raw, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("fs: read %s: %w", p, err)
	}
	text := bytes.TrimSpace(raw)
	if n, err := hex.Decode(c[:], text); err != nil || n != len(c) || len(text) != 2*len(c) {
		return c, false, fmt.Errorf("%w: %s: %q is not a genesis commitment (want %d hex digits)", ErrCorrupt, p, text, 2*len(c))
	}
	return c, true, nil
}

// BindGenesis implements storage.GenesisBinder: the first call writes the
// genesis file (atomically, durable when it returns); later calls compare
// with it.
func (s *Store) BindGenesis(ctx context.Context, commitment [32]byte) error {
	s.genesisMu.Lock()
	defer s.genesisMu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	stored, found, err := s.readGenesis()
	if err != nil {
		return err
	}
	if found {
		if stored != commitment {
			return fmt.Errorf("fs: %w", &storage.GenesisMismatchError{Store: s.dir, Stored: stored, Want: commitment})
		}
		return nil
	}
	if err := writeFileAtomic(s.dir, genesisName, []byte(hex.EncodeToString(commitment[:])+"\n")); err != nil {
		return fmt.Errorf("fs: bind genesis: %w", err)
	}
	return nil
}

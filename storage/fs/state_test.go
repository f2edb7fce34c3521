package fs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

func TestStateReopen(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"full", nil}, {"consensus-only", []Option{WithConsensusOnly()}}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			storagetest.RunStateReopen(t, func(ctx context.Context) (storage.Store, error) {
				return Open(ctx, dir, mode.opts...)
			})
			if _, err := os.Stat(filepath.Join(dir, stateName)); err != nil {
				t.Errorf("no %s file: %v", stateName, err)
			}
		})
	}
}

// The chain_state file is one frame, the same framing as the logs.
func TestStateFileFormat(t *testing.T) {
	data := storagetest.Snapshot(7, 100)
	raw := encodeStateFile(1<<40+7, data)
	body := append([]byte{stateVersion, 0, 0, 1, 0, 0, 0, 0, 7}, data...)
	if want := appendFrame(nil, body); !bytes.Equal(raw, want) {
		t.Fatalf("encodeStateFile = %x..., want the frame %x...", raw[:24], want[:24])
	}
	h, got, err := decodeStateFile(raw)
	if err != nil || h != 1<<40+7 || !bytes.Equal(got, data) {
		t.Fatalf("decodeStateFile = %d, %d bytes, %v", h, len(got), err)
	}
	for _, c := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty", nil, "frame header"},
		{"torn", raw[:len(raw)-1], "only"},
		{"flipped bit", flip(raw, len(raw)-1), "checksum"},
		{"trailing bytes", append(bytes.Clone(raw), 0), "after the frame"},
		{"no height", appendFrame(nil, []byte{stateVersion, 1, 2}), "want at least 9"},
		{"version 2", appendFrame(nil, append([]byte{2}, raw[frameHeaderLen+1:]...)), "version 2"},
	} {
		if _, _, err := decodeStateFile(c.raw); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: decodeStateFile: %v, want ErrCorrupt saying %q", c.name, err, c.want)
		}
	}
}

func flip(p []byte, i int) []byte {
	p = bytes.Clone(p)
	p[i] ^= 0x10
	return p
}

// A damaged chain_state file does not stop the store from opening: LoadState
// reports it (ErrCorrupt, naming the file) and the next SaveState, at any
// height, replaces it. A leftover chain_state.swp is removed at open.
func TestStateCorrupt(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	p := filepath.Join(dir, stateName)
	st := openT(t, dir, WithConsensusOnly())
	if err := st.SaveDecided(ctx, storagetest.Chain(3, 2, 32)); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveState(ctx, 100, storagetest.Snapshot(100, 4096)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, damage := range []struct {
		name string
		f    func(raw []byte) []byte
	}{
		{"flipped bit", func(raw []byte) []byte { return flip(raw, 2000) }},
		{"torn", func(raw []byte) []byte { return raw[:len(raw)/2] }},
		{"empty", func([]byte) []byte { return nil }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			good := encodeStateFile(100, storagetest.Snapshot(100, 4096))
			if err := os.WriteFile(p, damage.f(good), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p+swpSuffix, []byte("leftover"), 0o644); err != nil {
				t.Fatal(err)
			}
			log, buf := logBuffer()
			st := openT(t, dir, WithConsensusOnly(), WithLogger(log))
			if _, err := os.Stat(p + swpSuffix); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("leftover %s%s not removed: %v", stateName, swpSuffix, err)
			}
			if !strings.Contains(buf.String(), "chain-state snapshot is damaged") {
				t.Errorf("no warning logged at open; log:\n%s", buf)
			}
			_, _, err := st.LoadState(ctx)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), p) {
				t.Fatalf("LoadState of a damaged file: %v, want ErrCorrupt naming %s", err, p)
			}
			// The consensus data is unaffected.
			if last, err := st.LastDecided(ctx); err != nil || last.Height() != 2 {
				t.Fatalf("LastDecided = %d, %v; want block 2", last.Height(), err)
			}
			// A lower height than the damaged file's replaces it: its height
			// cannot be trusted.
			if err := st.SaveState(ctx, 3, []byte("fresh")); err != nil {
				t.Fatal(err)
			}
			st = reopen(t, st, WithConsensusOnly())
			if h, data, err := st.LoadState(ctx); err != nil || h != 3 || string(data) != "fresh" {
				t.Fatalf("LoadState after replacing the damaged file = %d, %q, %v; want 3, \"fresh\"", h, data, err)
			}
			st.Close()
		})
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/storage/fs"
	"github.com/gospresso/gospresso/storage/sqlite"
	"github.com/gospresso/gospresso/types"
)

func TestResetStorage(t *testing.T) {
	dir := t.TempDir()
	// A file-system store and the SQLite default store under one --path.
	f, err := fs.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveSafety(t.Context(), types.SafetyState{View: 3, LastVotedView: 3}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db := filepath.Join(dir, "sqlite", "database")
	s, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSafety(t.Context(), types.SafetyState{View: 3, LastVotedView: 3}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	for _, tc := range []struct {
		args    []string
		env     map[string]string
		want    string // in stdout
		gone    string // path removed
		remains string // path kept
	}{
		{[]string{"reset-storage", "sequencer", "fs", "--path", dir}, nil,
			"removed " + filepath.Join(dir, "highest_voted_view") + "\n", filepath.Join(dir, "highest_voted_view"), db},
		{[]string{"reset-storage", "sql"}, map[string]string{"ESPRESSO_SEQUENCER_STORAGE_PATH": dir},
			"removed " + db + "\n", db, ""},
		{[]string{"reset-storage", "fs", "--path", dir}, nil, "nothing to remove: no store at file-system storage " + dir + "\n", "", ""},
	} {
		var out, errOut bytes.Buffer
		env := tc.env
		code := runEnv(t.Context(), tc.args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errOut)
		if code != 0 || errOut.Len() != 0 || !strings.Contains(out.String(), tc.want) {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out.String(), errOut.String())
		}
		if tc.gone != "" {
			if _, err := os.Stat(tc.gone); !os.IsNotExist(err) {
				t.Errorf("%v: %s still there (%v)", tc.args, tc.gone, err)
			}
		}
		if tc.remains != "" {
			if _, err := os.Stat(tc.remains); err != nil {
				t.Errorf("%v: %s removed: %v", tc.args, tc.remains, err)
			}
		}
	}

	var out, errOut bytes.Buffer
	if code := runEnv(t.Context(), []string{"reset-storage", "solver"}, nil, &out, &errOut); code != 2 ||
		!strings.HasPrefix(errOut.String(), "utils reset-storage: solver: ") {
		t.Errorf("solver: exit %d, %q", code, errOut.String())
	}
	out.Reset()
	if code := run([]string{"--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "reset-storage") {
		t.Errorf("usage lacks reset-storage: %q", out.String())
	}
}

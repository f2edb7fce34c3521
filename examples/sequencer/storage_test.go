package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/internal/shared"
	"github.com/gospresso/gospresso/storage/fs"
)

// noOrchestrator points the demo genesis (which has no stake table) at an
// orchestrator that is never there: a run opens its store, then waits for
// the orchestrator until its context ends.
const noOrchestrator = " --orchestrator-url http://127.0.0.1:1"

// runUntilStore runs the sequencer until its stdout has "store: opened",
// then cancels its context (a signal) and returns how it ended: exit status
// 1, one line on stderr starting "sequencer: " that says it was
// interrupted, with the store closed.
func runUntilStore(t *testing.T, args []string, env map[string]string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errOut)
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "store: opened") {
		select {
		case code := <-done:
			return code, out.String(), errOut.String()
		case <-deadline:
			t.Fatalf("no store opened within 30s:\n%s\n%s", out.String(), errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	select {
	case code := <-done:
		return code, out.String(), errOut.String()
	case <-time.After(30 * time.Second):
		t.Fatalf("the sequencer did not stop within 30s of the signal:\n%s\n%s", out.String(), errOut.String())
		return 0, "", ""
	}
}

// interrupted reports whether stderr ends with the one-line error of a run
// stopped by its context while waiting for the orchestrator.
func interrupted(errOut string) bool {
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	last := lines[len(lines)-1]
	return strings.HasPrefix(last, "sequencer: orchestrator ") && strings.Contains(last, "context canceled")
}

// The store the storage module selects is opened (and closed again) after
// the configuration, genesis and keys are checked.
func TestOpensStore(t *testing.T) {
	td := shared.Dir(t)
	_, keyFile := testKeys(t)
	base := "--key-file " + keyFile + " --genesis-file " + filepath.Join(td, "genesis", "demo.toml") + noOrchestrator
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		args  string
		env   map[string]string
		want  []string
		files []string // created below dir
	}{
		{"storage-fs", base + " -- storage-fs --path " + filepath.Join(dir, "fs"), nil,
			[]string{"store: opened storage-fs: file-system storage at " + filepath.Join(dir, "fs")}, []string{"fs/lock"}},
		{"sqlite default", base + " -- storage-sql --prune", map[string]string{"ESPRESSO_SEQUENCER_STORAGE_PATH": filepath.Join(dir, "sql")},
			[]string{"store: opened storage-sql: SQLite at " + filepath.Join(dir, "sql", "sqlite", "database") + ", pruning ("},
			[]string{"sql/sqlite/database"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runUntilStore(t, strings.Fields(tc.args), tc.env)
			if code != exitFailure || !interrupted(errOut) {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "no storage module") {
				t.Errorf("notice printed with a storage module:\n%s", out)
			}
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			// The store was closed: running again opens it again.
			if code, _, errOut := runUntilStore(t, strings.Fields(tc.args), tc.env); code != exitFailure || !interrupted(errOut) {
				t.Fatalf("second run: exit %d, %q", code, errOut)
			}
		})
	}
}

// Without a storage module the node keeps its consensus data in
// file-system storage at ./storage and says so.
func TestDefaultStore(t *testing.T) {
	td := shared.Dir(t)
	_, keyFile := testKeys(t)
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := runUntilStore(t, strings.Fields("--key-file "+keyFile+" --genesis-file "+filepath.Join(td, "genesis", "demo.toml")+noOrchestrator), nil)
	if code != exitFailure || !interrupted(errOut) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "\nno storage module: consensus data in file-system storage at ./storage\n") {
		t.Errorf("no notice:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "storage", "lock")); err != nil {
		t.Error(err)
	}
}

func TestStoreErrors(t *testing.T) {
	td := shared.Dir(t)
	_, keyFile := testKeys(t)
	base := []string{"--key-file", keyFile, "--genesis-file", filepath.Join(td, "genesis", "demo.toml")}
	dir := t.TempDir()

	// Pruning asked of file-system storage is a configuration error.
	args := append(base[:len(base):len(base)], "--", "storage-fs", "--path", dir)
	code, _, errOut := runWith(t, t.Context(), args, map[string]string{"ESPRESSO_SEQUENCER_POSTGRES_PRUNE": "true"})
	if code != exitUsage || !strings.HasPrefix(errOut, "sequencer: storage-fs: ESPRESSO_SEQUENCER_POSTGRES_PRUNE=true asks for pruning: "+
		strings.TrimSuffix(fs.ErrPruningUnsupported.Error(), ": "+"storage: not supported by this backend")) {
		t.Errorf("prune with fs: exit %d, %q", code, errOut)
	}

	// A store held by another process (here: this one) is refused.
	st, err := fs.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	code, _, errOut = runWith(t, t.Context(), args, nil)
	if code != exitFailure || !strings.HasPrefix(errOut, "sequencer: storage: open file-system storage "+dir+": ") ||
		!strings.Contains(errOut, "in use by another process") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("locked: exit %d, %q", code, errOut)
	}
}

package storeopen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runReset(t *testing.T, args []string, env map[string]string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := RunReset(t.Context(), "utils reset-storage", args, mapEnv(env), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunResetUsage(t *testing.T) {
	usage := fmt.Sprintf(ResetUsage, "utils reset-storage")
	for _, tc := range []struct {
		args    string
		code    int
		out     string // prefix of stdout
		errText string // prefix of stderr
	}{
		{"", 2, "", usage},
		{"sequencer", 2, "", usage},
		{"--help", 0, usage, ""},
		{"sequencer help", 0, usage, ""},
		{"solver", 2, "", "utils reset-storage: solver: the marketplace solver is not part of gospresso (want fs or sql)\n"},
		{"sequencer rocksdb", 2, "", "utils reset-storage: unknown storage \"rocksdb\" (want fs or sql)\n"},
		{"fs --help", 0, "Usage: utils reset-storage fs [OPTIONS]\n", ""},
		{"sequencer sql --help", 0, "Usage: utils reset-storage sql [OPTIONS] [URI]\n", ""},
		{"fs --prune", 2, "", "utils reset-storage: storage-fs: unknown option --prune"},
		{"sql mysql://x", 2, "", "utils reset-storage: storage-sql URI: \"mysql://x\": unsupported scheme"},
	} {
		code, out, errOut := runReset(t, strings.Fields(tc.args), nil)
		if code != tc.code || !strings.HasPrefix(out, tc.out) || !strings.HasPrefix(errOut, tc.errText) ||
			(tc.out == "" && out != "") || (tc.errText == "" && errOut != "") {
			t.Errorf("%q: exit %d, stdout %.80q, stderr %.120q", tc.args, code, out, errOut)
		}
	}
	// The module help lists the storage options with their variables.
	if _, out, _ := runReset(t, []string{"sql", "--help"}, nil); !strings.Contains(out, "ESPRESSO_SEQUENCER_POSTGRES_HOST") {
		t.Errorf("sql help lacks the options:\n%s", out)
	}
}

func TestRunResetFS(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, "-- storage-fs --path "+dir+withQuery, nil)
	st, _, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st, 3)
	// Refused while the store is open.
	code, out, errOut := runReset(t, []string{"sequencer", "fs", "--path", dir}, nil)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "utils reset-storage: reset file-system storage "+dir+": ") ||
		!strings.Contains(errOut, "held by another process") {
		t.Fatalf("while open: exit %d, %q, %q", code, out, errOut)
	}
	st.Close()
	// The path from the environment, as for the storage-fs module.
	code, out, errOut = runReset(t, []string{"fs"}, map[string]string{"ESPRESSO_SEQUENCER_STORAGE_PATH": dir})
	if code != 0 || errOut != "" || !strings.Contains(out, "removed "+filepath.Join(dir, "hotshot_data_source")+"\n") {
		t.Fatalf("reset: exit %d, %q, %q", code, out, errOut)
	}
	code, out, _ = runReset(t, []string{"sequencer", "fs", "--path", dir}, nil)
	if code != 0 || out != "nothing to remove: no store at file-system storage "+dir+"\n" {
		t.Fatalf("again: exit %d, %q", code, out)
	}
}

func TestRunResetSQL(t *testing.T) {
	dir := t.TempDir()
	st, _, err := Open(t.Context(), parse(t, "-- storage-sql --path "+dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st, 3)
	st.Close()
	db := filepath.Join(dir, "sqlite", "database")
	code, out, errOut := runReset(t, []string{"sequencer", "sql", "--path", dir}, nil)
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "removed "+db+"\n") || !strings.HasSuffix(out, "removed "+db+".lock\n") {
		t.Fatalf("reset: exit %d, %q, %q", code, out, errOut)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("database still there: %v", err)
	}
	// A sqlite:// URI.
	file := filepath.Join(dir, "x.db")
	code, out, _ = runReset(t, []string{"sql", "sqlite://" + file}, nil)
	if code != 0 || out != "nothing to remove: no store at SQLite "+file+"\n" {
		t.Fatalf("uri: exit %d, %q", code, out)
	}
}

func TestRunResetPostgresUnreachable(t *testing.T) {
	// Nothing listens on port 1: the reset fails with the connection error,
	// naming the server but never the password.
	code, out, errOut := runReset(t, []string{"sequencer", "sql", "postgres://alice:pw-123456@127.0.0.1:1/db"}, nil)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "utils reset-storage: reset Postgres alice@127.0.0.1:1/db schema public: ") ||
		strings.Contains(errOut, "pw-123456") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("exit %d, %q, %q", code, out, errOut)
	}
}

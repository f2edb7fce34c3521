// Package shared locates the shared test data (reference genesis files and
// JSON objects) that lives beside the repository in ../shared/testdata, on
// developer machines and in CI but not in a user's checkout. Only tests use
// it; runtime code never reads that directory.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// Find walks up from the working directory (a test's package directory) to
// the directory holding go.mod and returns ../shared/testdata beside it, if
// it exists.
func Find() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		return "", false
	}
	return td, true
}

// Dir returns the shared test data directory, or skips the test with a
// message saying where it was expected.
func Dir(tb testing.TB) string {
	tb.Helper()
	td, ok := Find()
	if !ok {
		tb.Skip("shared test data not found: expected ../shared/testdata beside the directory holding go.mod")
	}
	return td
}

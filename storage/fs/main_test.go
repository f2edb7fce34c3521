package fs

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

// consensusOnlyTarget is the last element of a crash-test directory whose
// store openTarget opens in consensus-only mode.
const consensusOnlyTarget = "consensus-only"

// openTarget opens the store in directory target, for the crash harness
// (in consensus-only mode when the directory is named consensusOnlyTarget).
func openTarget(ctx context.Context, target string) (storage.Store, error) {
	if filepath.Base(target) == consensusOnlyTarget {
		return Open(ctx, target, WithConsensusOnly())
	}
	return Open(ctx, target, WithSegmentSize(256<<10))
}

func TestMain(m *testing.M) {
	storagetest.CrashChild(openTarget)
	if dir := os.Getenv(lockChildEnv); dir != "" {
		os.Exit(lockChild(dir))
	}
	os.Exit(m.Run())
}

package fs

import (
	"context"
	"os"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

// openTarget opens the store in directory target, for the crash harness.
func openTarget(ctx context.Context, target string) (storage.Store, error) {
	return Open(ctx, target, WithSegmentSize(256<<10))
}

func TestMain(m *testing.M) {
	storagetest.CrashChild(openTarget)
	if dir := os.Getenv(lockChildEnv); dir != "" {
		os.Exit(lockChild(dir))
	}
	os.Exit(m.Run())
}

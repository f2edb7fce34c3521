package fs

import (
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		st, err := Open(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// TestConformanceSmallSegments runs the suite with segments small enough
// that most calls start a new one.
func TestConformanceSmallSegments(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the suite already ran with the default segment size")
	}
	storagetest.Run(t, func(t *testing.T) storage.Store {
		st, err := Open(t.Context(), t.TempDir(), WithSegmentSize(MinSegmentSize))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// TestCrash kills writer processes at random points (segments of 256 KiB,
// so that kills also land around segment changes) and checks the store
// after each.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test starts and kills 12 processes")
	}
	storagetest.RunCrash(t, storagetest.CrashConfig{
		Target:            t.TempDir(),
		Open:              openTarget,
		Kills:             12,
		ChildFromTestMain: true,
	})
}

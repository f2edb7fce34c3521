package filelock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gospresso/gospresso/storage"
)

// Lock opens (creating, mode 0600) the file name and takes an exclusive,
// non-blocking lock on it. Close the returned file to release the lock. A
// lock another process (or another open file in this one) holds is an error
// wrapping storage.ErrLocked.
func Lock(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock file %s is held by another process: %w", name, storage.ErrLocked)
		}
		return nil, fmt.Errorf("lock file %s: %w", name, err)
	}
	return f, nil
}

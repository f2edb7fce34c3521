// Package filelock takes the exclusive process lock that keeps two processes
// from using one store: flock(2) on a lock file, held until the file is
// closed. The kernel releases it when the process dies, so a crashed node
// never leaves a stale lock behind.
//
// The file-system and SQLite backends lock their stores with it (DIR/lock
// and PATH.lock), and so does the reset-storage command of the examples
// before it deletes a store, so that it never deletes one a running node
// holds. A lock held elsewhere is an error wrapping storage.ErrLocked.
package filelock

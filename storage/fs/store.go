package fs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/filelock"
	"github.com/gospresso/gospresso/types"
)

// Sentinel errors of the file-system backend.
var (
	// ErrCorrupt is returned when stored files hold something the store did
	// not write and cannot safely repair: a damaged index frame followed by
	// more data, an index entry that contradicts the others, a damaged
	// segment that is not the last, or a block that fails its checksum.
	ErrCorrupt = errors.New("fs: corrupt store")
	// ErrInvalidOption is returned by Open for a bad option or directory.
	ErrInvalidOption = errors.New("fs: invalid option")
	// ErrUnusable is returned by every write after a write to the index
	// failed: whether that call was committed is unknown until the store
	// is reopened.
	ErrUnusable = errors.New("fs: store unusable after a failed index write (reopen it)")
	// ErrPruningUnsupported is what to report when pruning is asked of the
	// file-system backend (for example --prune with storage-fs). It wraps
	// storage.ErrNotSupported.
	ErrPruningUnsupported = fmt.Errorf("fs: pruning of old data is not supported with filesystem storage (storage-fs), "+
		"so a DA node, which prunes, must use storage-sql (SQLite or Postgres): %w", storage.ErrNotSupported)
	// ErrModeMismatch is returned by Open when the store was created in the
	// other mode: a full store opened with WithConsensusOnly, or a
	// consensus-only store opened without it.
	ErrModeMismatch = fmt.Errorf("fs: %w", storage.ErrModeMismatch)
)

// File and directory names under the store directory (docs/storage.md,
// "File-system storage").
const (
	lockName      = "lock"
	safetyName    = "highest_voted_view"
	proposalsDir  = "quorum_proposals2"
	dataDir       = "hotshot_data_source"
	indexName     = "index"
	swpSuffix     = ".swp"
	proposalExt   = ".txt"
	segmentPrefix = "blocks-"
	segmentExt    = ".log"
	anchorName    = "anchor_leaf"
	modeName      = "mode"
)

// Store modes, as recorded in the mode file.
const (
	modeFull          = "full"
	modeConsensusOnly = "consensus-only"
)

// segmentName is the file name of segment id.
func segmentName(id uint32) string { return fmt.Sprintf("%s%08d%s", segmentPrefix, id, segmentExt) }

// parseSegmentName returns the id of a segment file name.
func parseSegmentName(name string) (uint32, bool) {
	digits, ok := strings.CutPrefix(name, segmentPrefix)
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, segmentExt)
	if !ok || len(digits) != 8 {
		return 0, false
	}
	id, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || id == 0 {
		return 0, false
	}
	return uint32(id), true
}

// Store is a storage.Store kept in files under one directory. It is safe
// for concurrent use.
type Store struct {
	dir  string
	cfg  settings
	lock *os.File

	// closed is set by Close while it holds every mutex below.
	closed atomic.Bool

	safetyMu sync.Mutex
	safety   *types.SafetyState

	propMu sync.Mutex
	props  []proposalEntry // sorted by (view, n)

	// stateMu serializes SaveState and LoadState; stateHeight is the
	// height of the stored chain-state snapshot, valid when hasState.
	stateMu     sync.Mutex
	stateHeight uint64
	hasState    bool

	// genesisMu serializes BindGenesis.
	genesisMu sync.Mutex

	// writeMu serializes SaveDecided; the fields after it belong to the
	// writer.
	writeMu  sync.Mutex
	unusable error
	index    *os.File
	indexEnd int64
	curID    uint32 // current segment; 0 before the first block
	curEnd   int64  // committed length of the current segment

	// mu guards what readers see: the chain tables and the segment files.
	// The writer changes them only while it also holds writeMu, so it may
	// read them without mu.
	mu    sync.RWMutex
	chain chain
	segs  []*os.File // segs[id-1] is segment id
	// anchor is the last decided block of a consensus-only store (nil
	// when none is stored, and always in a full store).
	anchor *anchorBlock
}

var _ storage.Store = (*Store)(nil)

// Open opens the store under dir, creating it if needed, and takes its
// exclusive lock: while the store is open, another Open of dir (from any
// process) fails with an error wrapping storage.ErrLocked. Open repairs
// what a crash can leave (see the package doc) and returns an error
// wrapping ErrCorrupt for damage it will not repair.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := defaultSettings()
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: option %d is nil", ErrInvalidOption, i)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: dir: empty path (want the store directory)", ErrInvalidOption)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fs: open %s: %w", dir, err)
	}
	lock, err := filelock.Lock(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("fs: open %s: %w", dir, err)
	}
	s := &Store{dir: dir, cfg: cfg, lock: lock}
	if err := s.load(ctx); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// load reads everything from disk, repairing a crash's leftovers.
func (s *Store) load(ctx context.Context) error {
	if err := s.checkMode(); err != nil {
		return err
	}
	dirs := []string{proposalsDir, dataDir}
	if s.cfg.consensusOnly {
		dirs = dirs[:1]
	}
	for _, d := range dirs {
		if err := mkdirDurable(s.dir, d); err != nil {
			return err
		}
	}
	if err := s.loadSafety(); err != nil {
		return err
	}
	if err := s.loadState(); err != nil {
		return err
	}
	if err := removeStale(filepath.Join(s.dir, genesisName) + swpSuffix); err != nil {
		return err
	}
	if s.cfg.consensusOnly {
		if err := s.loadAnchor(); err != nil {
			return err
		}
	} else if err := s.loadChain(ctx); err != nil {
		return err
	}
	return s.loadProposals()
}

// checkMode compares the mode the store was created in with the one asked
// for, and records the mode of a new store (or of a full store written
// before the mode file existed).
func (s *Store) checkMode() error {
	want := modeFull
	if s.cfg.consensusOnly {
		want = modeConsensusOnly
	}
	p := filepath.Join(s.dir, modeName)
	if err := removeStale(p + swpSuffix); err != nil {
		return err
	}
	data, err := os.ReadFile(p)
	switch {
	case err == nil:
		have := strings.TrimSpace(string(data))
		if have != modeFull && have != modeConsensusOnly {
			return fmt.Errorf("%w: %s: mode %q (want %q or %q)", ErrCorrupt, p, have, modeFull, modeConsensusOnly)
		}
		if have != want {
			return mismatch(s.dir, have, want)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("fs: read %s: %w", p, err)
	}
	// No mode file: infer the mode of an existing store from its files.
	have := ""
	if _, err := os.Stat(filepath.Join(s.dir, anchorName)); err == nil {
		have = modeConsensusOnly
	} else if _, err := os.Stat(filepath.Join(s.dir, dataDir)); err == nil {
		have = modeFull
	}
	if have != "" && have != want {
		return mismatch(s.dir, have, want)
	}
	return writeFileAtomic(s.dir, modeName, []byte(want+"\n"))
}

// mismatch is the error for a store opened in the other mode.
func mismatch(dir, have, want string) error {
	return fmt.Errorf("%w: %s holds a %s store, opened as %s (a consensus-only store cannot become a full one or the reverse: "+
		"use another directory, or reset this one)", ErrModeMismatch, dir, have, want)
}

// decidedView returns the view of the last decided block and whether one
// is stored. The caller holds mu, or is the writer or Open.
func (s *Store) decidedView() (uint64, bool) {
	if s.cfg.consensusOnly {
		if s.anchor == nil {
			return 0, false
		}
		return s.anchor.view, true
	}
	return s.chain.lastView, !s.chain.empty()
}

// mkdirDurable creates dir/name if missing and makes the entry durable.
func mkdirDurable(dir, name string) error {
	p := filepath.Join(dir, name)
	if err := os.Mkdir(p, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return fmt.Errorf("%w: %s is not a directory", ErrCorrupt, p)
			}
			return nil
		}
		return fmt.Errorf("fs: create %s: %w", p, err)
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory so that entries created, renamed or removed
// in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fs: sync directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fs: sync directory %s: %w", dir, err)
	}
	return nil
}

// writeFileAtomic replaces dir/name with data: it writes name.swp, fsyncs
// it, renames it over name and fsyncs dir.
func writeFileAtomic(dir, name string, data []byte) error {
	_, err := writeFileAtomicStage(dir, name, data)
	return err
}

// writeFileAtomicStage is writeFileAtomic that also reports whether the
// rename was attempted: after a failure with renamed set, whether the new
// file survives a crash is unknown.
func writeFileAtomicStage(dir, name string, data []byte) (renamed bool, _ error) {
	final := filepath.Join(dir, name)
	tmp := final + swpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return false, fmt.Errorf("fs: write %s: %w", final, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		renamed = true
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return renamed, fmt.Errorf("fs: write %s: %w", final, err)
	}
	return true, syncDir(dir)
}

// removeStale removes leftover temporary files of name under dir.
func removeStale(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fs: remove %s: %w", path, err)
	}
	return nil
}

// loadedBatch is one index frame read at Open.
type loadedBatch struct {
	off     int64 // offset of the frame in the index
	entries []indexEntry
}

// loadChain reads the index, checks it against the segments, repairs a
// torn tail and builds the in-memory tables.
func (s *Store) loadChain(ctx context.Context) error {
	data := filepath.Join(s.dir, dataDir)
	indexPath := filepath.Join(data, indexName)
	_, statErr := os.Stat(indexPath)
	idx, err := os.OpenFile(indexPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("fs: open %s: %w", indexPath, err)
	}
	s.index = idx
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(data); err != nil {
			return err
		}
	}
	batches, end, err := readIndex(ctx, idx, indexPath, s.cfg.logger)
	if err != nil {
		return err
	}
	segSizes, err := listSegments(data)
	if err != nil {
		return err
	}
	if err := checkLayout(batches, indexPath); err != nil {
		return err
	}
	keep, err := s.checkSegments(batches, segSizes)
	if err != nil {
		return err
	}
	if keep < len(batches) {
		end = batches[keep].off
		s.cfg.logger.Warn("storage-fs: dropped blocks whose segment data is missing or damaged",
			"path", data, "first_dropped_height", batches[keep].entries[0].height, "batches", len(batches)-keep)
		batches = batches[:keep]
	}
	if fi, err := idx.Stat(); err != nil {
		return fmt.Errorf("fs: stat %s: %w", indexPath, err)
	} else if fi.Size() != end {
		if err := idx.Truncate(end); err != nil {
			return fmt.Errorf("fs: truncate %s to %d: %w", indexPath, end, err)
		}
		if err := idx.Sync(); err != nil {
			return fmt.Errorf("fs: sync %s: %w", indexPath, err)
		}
	}
	s.indexEnd = end

	s.chain = newChain(batches)
	for _, b := range batches {
		s.chain.apply(b.entries)
	}
	// Segment ends: the last block of each segment.
	ends := make(map[uint32]int64)
	for _, b := range batches {
		last := &b.entries[len(b.entries)-1]
		ends[last.seg] = int64(last.end())
	}
	if len(batches) > 0 {
		last := &batches[len(batches)-1].entries[len(batches[len(batches)-1].entries)-1]
		s.curID, s.curEnd = last.seg, int64(last.end())
	}
	removed := false
	for id, size := range segSizes {
		p := filepath.Join(data, segmentName(id))
		if id > s.curID {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("fs: remove uncommitted segment %s: %w", p, err)
			}
			removed = true
			continue
		}
		if size > ends[id] {
			if err := truncateDurable(p, ends[id]); err != nil {
				return err
			}
		}
	}
	if removed {
		if err := syncDir(data); err != nil {
			return err
		}
	}
	for id := uint32(1); id <= s.curID; id++ {
		flag := os.O_RDONLY
		if id == s.curID {
			flag = os.O_RDWR
		}
		p := filepath.Join(data, segmentName(id))
		f, err := os.OpenFile(p, flag, 0)
		if err != nil {
			return fmt.Errorf("fs: open segment %s: %w", p, err)
		}
		s.segs = append(s.segs, f)
	}
	return nil
}

// truncateDurable truncates the file at path to size and fsyncs it.
func truncateDurable(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("fs: truncate %s: %w", path, err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fs: truncate %s to %d: %w", path, size, err)
	}
	return nil
}

// readIndex reads the index frames and returns them with the length of
// the valid prefix. A torn tail (a frame running past the end of the file,
// or a damaged frame with only zero bytes or nothing after it) ends the
// valid prefix and is logged; other damage is ErrCorrupt.
func readIndex(ctx context.Context, f *os.File, path string, log *slog.Logger) ([]loadedBatch, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("fs: stat %s: %w", path, err)
	}
	size := fi.Size()
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 1<<20)
	var (
		batches []loadedBatch
		off     int64
		hdr     [frameHeaderLen]byte
		buf     []byte
	)
	for off < size {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		if size-off < frameHeaderLen {
			return torn(batches, off, size, path, "frame header cut short", log)
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, 0, fmt.Errorf("fs: read %s at %d: %w", path, off, err)
		}
		n := int64(hdr[0])<<24 | int64(hdr[1])<<16 | int64(hdr[2])<<8 | int64(hdr[3])
		if off+frameHeaderLen+n > size {
			return torn(batches, off, size, path, fmt.Sprintf("frame of %d bytes runs past the end", n), log)
		}
		if cap(buf) < frameHeaderLen+int(n) {
			buf = make([]byte, frameHeaderLen+int(n))
		}
		buf = buf[:frameHeaderLen+int(n)]
		copy(buf, hdr[:])
		if _, err := io.ReadFull(r, buf[frameHeaderLen:]); err != nil {
			return nil, 0, fmt.Errorf("fs: read %s at %d: %w", path, off, err)
		}
		body, _, ferr := parseFrame(buf)
		if ferr != nil {
			zero, err := zeroFrom(f, off+frameHeaderLen+n, size, path)
			if err != nil {
				return nil, 0, err
			}
			if zero {
				return torn(batches, off, size, path, ferr.reason, log)
			}
			return nil, 0, fmt.Errorf("%w: %s: frame at offset %d: %s, and %d more bytes follow (not a torn tail)",
				ErrCorrupt, path, off, ferr.reason, size-off-frameHeaderLen-n)
		}
		entries, err := decodeIndexBatch(body)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: frame at offset %d: %w", path, off, err)
		}
		batches = append(batches, loadedBatch{off: off, entries: entries})
		off += frameHeaderLen + n
	}
	return batches, off, nil
}

// torn logs a torn index tail and returns the valid prefix.
func torn(batches []loadedBatch, off, size int64, path, reason string, log *slog.Logger) ([]loadedBatch, int64, error) {
	log.Warn("storage-fs: truncating a torn tail of the block index (an interrupted write)",
		"path", path, "offset", off, "bytes", size-off, "reason", reason)
	return batches, off, nil
}

// zeroFrom reports whether the file holds only zero bytes in [from, to).
func zeroFrom(f *os.File, from, to int64, path string) (bool, error) {
	buf := make([]byte, 64<<10)
	for from < to {
		n := int64(len(buf))
		if to-from < n {
			n = to - from
		}
		if _, err := f.ReadAt(buf[:n], from); err != nil {
			return false, fmt.Errorf("fs: read %s at %d: %w", path, from, err)
		}
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
		from += n
	}
	return true, nil
}

// listSegments returns the size of every segment file in dir.
func listSegments(dir string) (map[uint32]int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fs: list %s: %w", dir, err)
	}
	sizes := make(map[uint32]int64)
	for _, e := range ents {
		id, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("fs: stat %s: %w", filepath.Join(dir, e.Name()), err)
		}
		sizes[id] = fi.Size()
	}
	return sizes, nil
}

// checkLayout checks that the index describes one contiguous chain laid
// out back to back: heights consecutive from 0, segments numbered
// from 1 without holes, each block starting where the previous one ended
// (or at 0 in a new segment), and a frame never spanning two segments.
func checkLayout(batches []loadedBatch, path string) error {
	var prev *indexEntry
	for _, b := range batches {
		first := &b.entries[0]
		for i := range b.entries {
			e := &b.entries[i]
			var ok bool
			switch {
			case prev == nil:
				ok = e.height == 0 && e.seg == 1 && e.off == 0
			case e.seg == prev.seg:
				ok = e.height == prev.height+1 && e.off == prev.end()
			default:
				ok = e == first && e.height == prev.height+1 && e.seg == prev.seg+1 && e.off == 0
			}
			if !ok {
				return fmt.Errorf("%w: %s: frame at offset %d: block %d at segment %d offset %d does not follow the previous block",
					ErrCorrupt, path, b.off, e.height, e.seg, e.off)
			}
			prev = e
		}
	}
	return nil
}

// checkSegments returns how many batches have their blocks whole in the
// segments. Damage is only repaired in the last segment (a crash or a hand
// truncation of the tail); anywhere else it is ErrCorrupt.
func (s *Store) checkSegments(batches []loadedBatch, sizes map[uint32]int64) (int, error) {
	if len(batches) == 0 {
		return 0, nil
	}
	lastSeg := batches[len(batches)-1].entries[0].seg
	data := filepath.Join(s.dir, dataDir)
	keep := len(batches)
	for i, b := range batches {
		e := &b.entries[len(b.entries)-1]
		size, ok := sizes[e.seg]
		if ok && int64(e.end()) <= size {
			continue
		}
		if e.seg != lastSeg {
			return 0, fmt.Errorf("%w: segment %s: %d bytes, block %d needs %d", ErrCorrupt,
				filepath.Join(data, segmentName(e.seg)), size, e.height, e.end())
		}
		keep = i
		break
	}
	// The last kept block must read back whole; a tail overwritten by
	// something else drops its batch.
	for keep > 0 {
		b := batches[keep-1]
		e := &b.entries[len(b.entries)-1]
		if e.seg != lastSeg {
			break
		}
		if err := verifyBlock(filepath.Join(data, segmentName(e.seg)), e); err == nil {
			break
		} else {
			s.cfg.logger.Warn("storage-fs: last stored block fails its checksum", "height", e.height, "err", err)
		}
		keep--
	}
	return keep, nil
}

// verifyBlock reads the frames of e and checks their checksums.
func verifyBlock(path string, e *indexEntry) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, uint64(e.leafLen)+uint64(e.payLen))
	if _, err := f.ReadAt(buf, int64(e.off)); err != nil {
		return err
	}
	_, err = splitBlockFrames(buf, e.leafLen)
	return err
}

// closeFiles closes every file the store holds, releasing the lock last.
func (s *Store) closeFiles() error {
	var errs []error
	for _, f := range s.segs {
		errs = append(errs, f.Close())
	}
	s.segs = nil
	if s.index != nil {
		errs = append(errs, s.index.Close())
		s.index = nil
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
		s.lock = nil
	}
	return errors.Join(errs...)
}

// Close releases the store and its lock. It waits for calls in progress;
// later calls return storage.ErrClosed. Closing twice is a no-op.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.propMu.Lock()
	defer s.propMu.Unlock()
	s.safetyMu.Lock()
	defer s.safetyMu.Unlock()
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	s.genesisMu.Lock()
	defer s.genesisMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil
	}
	s.closed.Store(true)
	if err := s.closeFiles(); err != nil {
		return fmt.Errorf("fs: close %s: %w", s.dir, err)
	}
	return nil
}

// check returns ctx's error or ErrClosed.
func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return storage.ErrClosed
	}
	return nil
}

// proposalEntry is a stored proposal file.
type proposalEntry struct {
	view types.ViewNumber
	n    uint64
	sum  [32]byte // SHA-256 of the data, to spot identical re-saves
}

func (p *proposalEntry) name() string {
	return strconv.FormatUint(uint64(p.view), 10) + "-" + strconv.FormatUint(p.n, 10) + proposalExt
}

// parseProposalName parses "<view>-<n>.txt" (decimal, no leading zeros).
func parseProposalName(name string) (types.ViewNumber, uint64, bool) {
	stem, ok := strings.CutSuffix(name, proposalExt)
	if !ok {
		return 0, 0, false
	}
	v, n, ok := strings.Cut(stem, "-")
	if !ok {
		return 0, 0, false
	}
	view, ok1 := parseDecimal(v)
	seq, ok2 := parseDecimal(n)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return types.ViewNumber(view), seq, true
}

// parseDecimal parses a canonical unsigned decimal.
func parseDecimal(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// cmpProposal orders proposals by view, then by sequence number.
func cmpProposal(a, b proposalEntry) int {
	if a.view != b.view {
		if a.view < b.view {
			return -1
		}
		return 1
	}
	switch {
	case a.n < b.n:
		return -1
	case a.n > b.n:
		return 1
	}
	return 0
}

// sortProposals sorts entries in load order.
func sortProposals(ps []proposalEntry) { slices.SortFunc(ps, cmpProposal) }

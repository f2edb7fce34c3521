package storagetest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// logStore is a small file-backed store for testing the harnesses: a
// mem.Store whose writes are also appended to a log of framed records
// (u32 length, u32 CRC-32C, body), fsynced before the write returns, and
// replayed at open. A torn last record is cut off at open. With lossy set,
// records are written by a background flusher instead, so a kill loses
// acknowledged writes (what the crash harness must notice).
type logStore struct {
	*mem.Store
	mu     sync.Mutex
	f      *os.File
	lossy  bool
	buf    []byte
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

const (
	recSafety   = 1
	recProposal = 2
	recDecided  = 3
	recPrune    = 4
	recReset    = 5
	recState    = 6
)

var logTable = crc32.MakeTable(crc32.Castagnoli)

func openLogStore(ctx context.Context, dir string, lossy bool) (*logStore, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "log")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &logStore{Store: mem.New(), f: f, lossy: lossy}
	good, err := s.replay(ctx, data)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("log %s: %w", path, err)
	}
	if good < len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return nil, err
		}
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if lossy {
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.flusher()
	}
	return s, nil
}

// replay applies the records of data and returns the length of its valid
// prefix.
func (s *logStore) replay(ctx context.Context, data []byte) (int, error) {
	off := 0
	for len(data)-off >= 8 {
		n := int(binary.BigEndian.Uint32(data[off:]))
		sum := binary.BigEndian.Uint32(data[off+4:])
		if n < 1 || n > len(data)-off-8 {
			break // torn
		}
		body := data[off+8 : off+8+n]
		if crc32.Checksum(body, logTable) != sum {
			break // torn
		}
		if err := s.apply(ctx, body); err != nil {
			return off, fmt.Errorf("record at offset %d: %w", off, err)
		}
		off += 8 + n
	}
	return off, nil
}

func (s *logStore) apply(ctx context.Context, body []byte) error {
	p := body[1:]
	switch body[0] {
	case recSafety:
		st, err := storagecodec.DecodeSafety(p)
		if err != nil {
			return err
		}
		return s.Store.SaveSafety(ctx, st)
	case recProposal:
		if len(p) < 8 {
			return errors.New("short proposal record")
		}
		return s.Store.SaveProposal(ctx, storage.StoredProposal{View: types.ViewNumber(binary.BigEndian.Uint64(p)), Data: p[8:]})
	case recDecided:
		var blocks []types.Block
		for len(p) > 0 {
			if len(p) < 4 || int(binary.BigEndian.Uint32(p)) > len(p)-4 {
				return errors.New("short block in a decided record")
			}
			n := int(binary.BigEndian.Uint32(p))
			b, err := storagecodec.DecodeBlock(p[4 : 4+n])
			if err != nil {
				return err
			}
			blocks = append(blocks, b)
			p = p[4+n:]
		}
		return s.Store.SaveDecided(ctx, blocks)
	case recPrune:
		if len(p) != 8 {
			return errors.New("bad prune record")
		}
		return s.Store.PruneBefore(ctx, binary.BigEndian.Uint64(p))
	case recReset:
		return s.Store.ResetPrunedHeight(ctx)
	case recState:
		if len(p) < 8 {
			return errors.New("short state record")
		}
		return s.Store.SaveState(ctx, binary.BigEndian.Uint64(p), p[8:])
	}
	return fmt.Errorf("unknown record kind %d", body[0])
}

// log appends a record; the caller holds s.mu and has applied it.
func (s *logStore) log(body []byte) error {
	rec := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	rec = binary.BigEndian.AppendUint32(rec, crc32.Checksum(body, logTable))
	rec = append(rec, body...)
	if s.lossy {
		s.buf = append(s.buf, rec...)
		return nil
	}
	if _, err := s.f.Write(rec); err != nil {
		return err
	}
	return s.f.Sync()
}

func (s *logStore) flusher() {
	defer close(s.done)
	t := time.NewTicker(150 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			s.flush()
			return
		case <-t.C:
			s.flush()
		}
	}
}

func (s *logStore) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 {
		_, _ = s.f.Write(s.buf)
		s.buf = nil
	}
}

func (s *logStore) SaveSafety(ctx context.Context, st types.SafetyState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.SaveSafety(ctx, st); err != nil {
		return err
	}
	p, err := storagecodec.EncodeSafety(&st)
	if err != nil {
		return err
	}
	return s.log(append([]byte{recSafety}, p...))
}

func (s *logStore) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.SaveProposal(ctx, p); err != nil {
		return err
	}
	body := binary.BigEndian.AppendUint64([]byte{recProposal}, uint64(p.View))
	return s.log(append(body, p.Data...))
}

func (s *logStore) SaveDecided(ctx context.Context, blocks []types.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.SaveDecided(ctx, blocks); err != nil {
		return err
	}
	var body bytes.Buffer
	body.WriteByte(recDecided)
	for i := range blocks {
		p, err := storagecodec.EncodeBlock(&blocks[i])
		if err != nil {
			return err
		}
		body.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
		body.Write(p)
	}
	return s.log(body.Bytes())
}

func (s *logStore) PruneBefore(ctx context.Context, h uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.PruneBefore(ctx, h); err != nil {
		return err
	}
	return s.log(binary.BigEndian.AppendUint64([]byte{recPrune}, h))
}

func (s *logStore) ResetPrunedHeight(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.ResetPrunedHeight(ctx); err != nil {
		return err
	}
	return s.log([]byte{recReset})
}

func (s *logStore) SaveState(ctx context.Context, h uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.SaveState(ctx, h, data); err != nil {
		return err
	}
	body := binary.BigEndian.AppendUint64([]byte{recState}, h)
	return s.log(append(body, data...))
}

func (s *logStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.lossy {
		close(s.stop)
		<-s.done
	}
	_ = s.Store.Close()
	return s.f.Close()
}

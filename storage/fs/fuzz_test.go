package fs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// seedEntries returns realistic index entries.
func seedEntries() []indexEntry {
	blocks := storagetest.Chain(4, 3, 40)
	entries := make([]indexEntry, 0, len(blocks))
	off := uint64(0)
	for i := range blocks {
		p, err := prepare(&blocks[i], blocks[i].Leaf.Commit())
		if err != nil {
			panic(err)
		}
		p.entry.seg, p.entry.off = 1, off
		off = p.entry.end()
		entries = append(entries, p.entry)
	}
	return entries
}

func FuzzDecodeIndexBatch(f *testing.F) {
	entries := seedEntries()
	f.Add(encodeIndexBatch(entries))
	f.Add(encodeIndexBatch(entries[:1]))
	f.Add(encodeIndexBatch(entries[2:]))
	f.Add(encodeIndexBatch([]indexEntry{{height: 1<<64 - 1, seg: 1<<32 - 1, leafLen: 9, payLen: 9, namespaces: []uint32{1<<32 - 1}}}))
	f.Add([]byte{indexVersion, 0})
	f.Add([]byte{indexVersion, 0x80, 0})
	f.Add([]byte{2, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := decodeIndexBatch(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if got := encodeIndexBatch(entries); !bytes.Equal(got, b) {
			t.Fatalf("decode then encode changed the bytes:\n in %x\nout %x", b, got)
		}
	})
}

func FuzzDecodePayloadRecord(f *testing.F) {
	blocks := storagetest.Chain(3, 4, 30)
	for _, b := range blocks {
		ns := b.Leaf.Header.NsTable.Bytes
		f.Add(encodePayloadRecord(b.Payload, ns), ns)
		f.Add(encodePayloadRecord(b.Payload, nil), ns)
		f.Add(encodePayloadRecord(b.Payload, []byte{1, 2}), []byte{1, 2})
	}
	f.Add([]byte{payloadRecordVersion, 1, 0, 0, 0, 0}, []byte{})
	f.Add([]byte{payloadRecordVersion, 1, 0xff, 0xff, 0xff, 0xff}, []byte{})
	f.Add([]byte{payloadRecordVersion, 2}, []byte{})
	f.Add([]byte{9}, []byte{})
	f.Fuzz(func(t *testing.T, b, headerNs []byte) {
		p, err := decodePayloadRecord(b, headerNs)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if got := encodePayloadRecord(p, headerNs); !bytes.Equal(got, b) {
			t.Fatalf("decode then encode changed the bytes:\n in %x\nout %x", b, got)
		}
	})
}

func FuzzParseFrame(f *testing.F) {
	f.Add(appendFrame(nil, []byte("hello")))
	f.Add(appendFrame(appendFrame(nil, []byte{1}), []byte{2, 3}))
	f.Add(appendFrame(nil, []byte("hello"))[:7])
	f.Add(make([]byte, 16))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		body, n, ferr := parseFrame(p)
		if ferr != nil {
			return
		}
		if n > len(p) || len(body) == 0 {
			t.Fatalf("frame of %d bytes with a %d-byte body from %d bytes", n, len(body), len(p))
		}
		if got := appendFrame(nil, body); !bytes.Equal(got, p[:n]) {
			t.Fatalf("parse then append changed the frame:\n in %x\nout %x", p[:n], got)
		}
	})
}

func FuzzDecodeProposalFile(f *testing.F) {
	f.Add(encodeProposalFile([]byte("a proposal")))
	f.Add(encodeProposalFile(nil))
	f.Add(append(encodeProposalFile([]byte("x")), 0))
	f.Add(appendFrame(nil, []byte{7, 1, 2}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		data, err := decodeProposalFile(raw)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if got := encodeProposalFile(data); !bytes.Equal(got, raw) {
			t.Fatalf("decode then encode changed the file:\n in %x\nout %x", raw, got)
		}
	})
}

func FuzzParseProposalName(f *testing.F) {
	for _, s := range []string{"0-0.txt", "12-3.txt", "18446744073709551615-1.txt", "18446744073709551616-0.txt",
		"01-0.txt", "1-0.txt.swp", "-1.txt", "1-.txt", "+1-0.txt", "1-2-3.txt", "１-0.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		view, n, ok := parseProposalName(name)
		if !ok {
			return
		}
		e := proposalEntry{view: types.ViewNumber(view), n: n}
		if got := e.name(); got != name {
			t.Fatalf("parsed %q as view %d, n %d, which is named %q", name, view, n, got)
		}
	})
}

func FuzzParseSegmentName(f *testing.F) {
	for _, s := range []string{segmentName(1), segmentName(4294967295), "blocks-00000000.log", "blocks-1.log", "blocks-99999999999.log", "blocks-0000001a.log"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		id, ok := parseSegmentName(name)
		if ok && segmentName(id) != name {
			t.Fatalf("parsed %q as segment %d, which is named %q", name, id, segmentName(id))
		}
	})
}

// FuzzOpenIndex opens a store whose index file holds arbitrary bytes,
// beside a real segment: Open must fail cleanly or give a usable store.
func FuzzOpenIndex(f *testing.F) {
	blocks := storagetest.Chain(5, 2, 30)
	dir := f.TempDir()
	st, err := Open(f.Context(), dir)
	if err != nil {
		f.Fatal(err)
	}
	saveAll(f, st, blocks, 2)
	st.Close()
	seg, err := os.ReadFile(filepath.Join(dir, dataDir, segmentName(1)))
	if err != nil {
		f.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(dir, dataDir, indexName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(index)
	f.Add(index[:len(index)-5])
	f.Add(index[:len(index)/2])
	f.Add(append(bytes.Clone(index), 1, 2, 3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, index []byte) {
		dir := t.TempDir()
		data := filepath.Join(dir, dataDir)
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, segmentName(1)), seg, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, indexName), index, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := Open(t.Context(), dir)
		if err != nil {
			return
		}
		defer st.Close()
		h, err := st.BlockHeight(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// Every block the index kept reads back (or reports corruption).
		if _, err := st.BlockRange(t.Context(), 0, h, int(min(h, 100))); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("BlockRange after Open: %v", err)
		}
	})
}

func FuzzDecodeStateFile(f *testing.F) {
	f.Add(encodeStateFile(0, nil))
	f.Add(encodeStateFile(12, []byte("a snapshot")))
	f.Add(encodeStateFile(1<<64-1, storagetest.Snapshot(3, 300)))
	f.Add(appendFrame(nil, []byte{stateVersion}))
	f.Add(appendFrame(nil, []byte{2, 0, 0, 0, 0, 0, 0, 0, 1}))
	f.Add([]byte{0, 0, 0, 9})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, data, err := decodeStateFile(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if got := encodeStateFile(h, data); !bytes.Equal(got, b) {
			t.Fatalf("decode then encode changed the bytes:\n in %x\nout %x", b, got)
		}
	})
}

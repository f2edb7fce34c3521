package storagecodec_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gospresso/gospresso/storage/storagecodec"
)

// Each fuzz target decodes its input twice: as given (which mostly tests
// the checksum) and as an encoding body with a correct checksum appended
// (which lets the fuzzer reach the field decoders). Decoding must never
// panic, every failure must wrap ErrCorrupt, and whatever is accepted must
// encode back to exactly the same bytes.

func fuzzInputs(data []byte) [][]byte {
	return [][]byte{data, reseal(append(append([]byte(nil), data...), 0, 0, 0, 0))}
}

// addSeeds adds every sample encoding, as a whole and as a body.
func addSeeds(f *testing.F, encs [][]byte) {
	for _, p := range encs {
		f.Add(p)
		f.Add(p[:len(p)-4])
		f.Add(p[:len(p)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{storagecodec.Version})
}

func FuzzDecodeBlock(f *testing.F) {
	var encs [][]byte
	for _, b := range sampleBlocks(f) {
		p, err := storagecodec.EncodeBlock(&b)
		if err != nil {
			f.Fatal(err)
		}
		encs = append(encs, p)
	}
	addSeeds(f, encs)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range fuzzInputs(data) {
			b, err := storagecodec.DecodeBlock(in)
			if err != nil {
				if !errors.Is(err, storagecodec.ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			again, err := storagecodec.EncodeBlock(&b)
			if err != nil || !bytes.Equal(again, in) {
				t.Fatalf("accepted input does not re-encode to itself (err %v)", err)
			}
		}
	})
}

func FuzzDecodeLeaf(f *testing.F) {
	var encs [][]byte
	for _, b := range sampleBlocks(f) {
		p, err := storagecodec.EncodeLeaf(&b.Leaf, &b.QC)
		if err != nil {
			f.Fatal(err)
		}
		encs = append(encs, p)
	}
	addSeeds(f, encs)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range fuzzInputs(data) {
			l, qc, err := storagecodec.DecodeLeaf(in)
			if err != nil {
				if !errors.Is(err, storagecodec.ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			again, err := storagecodec.EncodeLeaf(&l, &qc)
			if err != nil || !bytes.Equal(again, in) {
				t.Fatalf("accepted input does not re-encode to itself (err %v)", err)
			}
		}
	})
}

func FuzzDecodeHeader(f *testing.F) {
	var encs [][]byte
	for _, h := range sampleHeaders(f) {
		p, err := storagecodec.EncodeHeader(&h)
		if err != nil {
			f.Fatal(err)
		}
		encs = append(encs, p)
	}
	addSeeds(f, encs)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range fuzzInputs(data) {
			h, err := storagecodec.DecodeHeader(in)
			if err != nil {
				if !errors.Is(err, storagecodec.ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			again, err := storagecodec.EncodeHeader(&h)
			if err != nil || !bytes.Equal(again, in) {
				t.Fatalf("accepted input does not re-encode to itself (err %v)", err)
			}
		}
	})
}

func FuzzDecodeSafety(f *testing.F) {
	var encs [][]byte
	for _, s := range sampleSafety(f) {
		p, err := storagecodec.EncodeSafety(&s)
		if err != nil {
			f.Fatal(err)
		}
		encs = append(encs, p)
	}
	addSeeds(f, encs)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range fuzzInputs(data) {
			s, err := storagecodec.DecodeSafety(in)
			if err != nil {
				if !errors.Is(err, storagecodec.ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			again, err := storagecodec.EncodeSafety(&s)
			if err != nil || !bytes.Equal(again, in) {
				t.Fatalf("accepted input does not re-encode to itself (err %v)", err)
			}
		}
	})
}

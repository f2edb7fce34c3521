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
// encode back to exactly the same bytes, or, for an input of an older
// format version, to a current-version encoding that itself round-trips.

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
	for _, name := range []string{"v1-block.hex", "v1-leaf.hex", "v1-header.hex", "v1-safety.hex"} {
		p := readHex(f, name)
		f.Add(p)
		f.Add(p[:len(p)-4])
	}
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
		roundTrip(t, data, func(in []byte) (func() ([]byte, error), error) {
			b, err := storagecodec.DecodeBlock(in)
			return func() ([]byte, error) { return storagecodec.EncodeBlock(&b) }, err
		})
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
		roundTrip(t, data, func(in []byte) (func() ([]byte, error), error) {
			l, qc, err := storagecodec.DecodeLeaf(in)
			return func() ([]byte, error) { return storagecodec.EncodeLeaf(&l, &qc) }, err
		})
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
		roundTrip(t, data, func(in []byte) (func() ([]byte, error), error) {
			h, err := storagecodec.DecodeHeader(in)
			return func() ([]byte, error) { return storagecodec.EncodeHeader(&h) }, err
		})
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
		roundTrip(t, data, func(in []byte) (func() ([]byte, error), error) {
			s, err := storagecodec.DecodeSafety(in)
			return func() ([]byte, error) { return storagecodec.EncodeSafety(&s) }, err
		})
	})
}

// roundTrip runs decode on every input derived from data: a decode
// error must wrap ErrCorrupt, and an accepted input must re-encode to
// itself (the encoding is canonical).
func roundTrip(t *testing.T, data []byte, decode func([]byte) (reencode func() ([]byte, error), err error)) {
	t.Helper()
	for _, in := range fuzzInputs(data) {
		reencode, err := decode(in)
		if err != nil {
			if !errors.Is(err, storagecodec.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			continue
		}
		again, err := reencode()
		if err != nil {
			t.Fatalf("accepted input does not re-encode: %v", err)
		}
		if in[0] == storagecodec.Version {
			if !bytes.Equal(again, in) {
				t.Fatal("accepted input does not re-encode to itself")
			}
			continue
		}
		// An older version re-encodes in the current one.
		if again[0] != storagecodec.Version {
			t.Fatalf("version %d input re-encoded in version %d", in[0], again[0])
		}
		reencode, err = decode(again)
		if err != nil {
			t.Fatalf("re-encoding of a version %d input does not decode: %v", in[0], err)
		}
		if third, err := reencode(); err != nil || !bytes.Equal(third, again) {
			t.Fatalf("re-encoding of a version %d input does not round-trip (err %v)", in[0], err)
		}
	}
}

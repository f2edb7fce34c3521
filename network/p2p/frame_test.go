package p2p

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/gospresso/gospresso/network"
)

type frameCase struct {
	topic string
	data  []byte
}

func encodeFrames(t testing.TB, chunk int, msgs ...frameCase) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range msgs {
		if err := writeMessage(&buf, m.topic, m.data, chunk); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestFrameRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000)
	msgs := []frameCase{
		{"", nil}, {"", []byte("x")}, {"topic", []byte("hello")}, {"", big}, {"gospresso/consensus", big[:1024]},
		{"t", big[:1025]}, {"", big[:3000]},
	}
	wire := encodeFrames(t, 1024, msgs...)
	fr := newFrameReader(bytes.NewReader(wire), 1024, network.MaxMessageSize)
	for i, want := range msgs {
		topic, data, err := fr.next()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if topic != want.topic || !bytes.Equal(data, want.data) {
			t.Fatalf("message %d: got (%q, %d bytes), want (%q, %d bytes)", i, topic, len(data), want.topic, len(want.data))
		}
	}
	if _, _, err := fr.next(); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
}

// frame builds one raw frame.
func frame(kind byte, rest ...[]byte) []byte {
	body := []byte{kind}
	for _, r := range rest {
		body = append(body, r...)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

func TestFrameErrors(t *testing.T) {
	const limit = 1024
	tests := []struct {
		name string
		wire []byte
		bad  bool // ErrBadFrame, else a stream error
	}{
		{"empty frame", u32(0), true},
		{"length over the limit", u32(limit + frameOverhead + 1), true},
		{"huge length", u32(1<<32 - 1), true},
		{"unknown kind", frame('X', u16(0)), true},
		{"short message frame", frame(frameMessage, []byte{0}), true},
		{"topic too long", frame(frameMessage, u16(maxTopicLen+1), make([]byte, maxTopicLen+1)), true},
		{"topic past the end", frame(frameMessage, u16(10), []byte("abc")), true},
		{"message data over the limit", frame(frameMessage, u16(0), make([]byte, limit+1)), true},
		{"lone next fragment", frame(frameNext, []byte("x")), true},
		{"first fragment too short", frame(frameFirst, []byte{1, 2}), true},
		{"total over the message limit", frame(frameFirst, u32(network.MaxMessageSize+1), u16(0), []byte("x")), true},
		{"first fragment holds everything", frame(frameFirst, u32(1), u16(0), []byte("x")), true},
		{"empty first fragment", frame(frameFirst, u32(10), u16(0)), true},
		{"message inside fragments", append(frame(frameFirst, u32(3), u16(0), []byte("x")), frame(frameMessage, u16(0))...), true},
		{"fragments past the total", append(frame(frameFirst, u32(3), u16(0), []byte("x")), frame(frameNext, []byte("yyy"))...), true},
		{"empty next fragment", append(frame(frameFirst, u32(3), u16(0), []byte("x")), frame(frameNext)...), true},
		{"truncated length", []byte{0, 0}, false},
		{"truncated body", u32(10), false},
		{"truncated fragments", frame(frameFirst, u32(3), u16(0), []byte("x")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := newFrameReader(bytes.NewReader(tc.wire), limit, network.MaxMessageSize).next()
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrBadFrame); got != tc.bad {
				t.Fatalf("error %v: ErrBadFrame = %v, want %v", err, got, tc.bad)
			}
			if !tc.bad && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

// FuzzFrame feeds arbitrary bytes to the frame decoder (it must never panic,
// and never return more than its limits allow), and checks that whatever
// writeMessage encodes decodes to the same message.
func FuzzFrame(f *testing.F) {
	f.Add([]byte{}, "", []byte{}, uint16(1))
	f.Add(frame(frameMessage, u16(1), []byte("tx")), "t", []byte("hello"), uint16(2))
	f.Add(append(frame(frameFirst, u32(3), u16(0), []byte("x")), frame(frameNext, []byte("yz"))...), "", bytes.Repeat([]byte{7}, 100), uint16(7))
	f.Add(u32(1<<31), "gospresso/consensus", []byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, raw []byte, topic string, data []byte, chunk uint16) {
		const maxChunk, maxMessage = 64, 4096
		fr := newFrameReader(bytes.NewReader(raw), maxChunk, maxMessage)
		for {
			tp, d, err := fr.next()
			if err != nil {
				break
			}
			if len(tp) > maxTopicLen || len(d) > maxMessage {
				t.Fatalf("decoded a message beyond the limits: topic %d bytes, data %d bytes", len(tp), len(d))
			}
		}
		if len(topic) > maxTopicLen || len(data) > maxMessage {
			return
		}
		c := int(chunk%maxChunk) + 1
		var buf bytes.Buffer
		if err := writeMessage(&buf, topic, data, c); err != nil {
			t.Fatal(err)
		}
		tp, d, err := newFrameReader(&buf, maxChunk, maxMessage).next()
		if err != nil {
			t.Fatalf("round trip (chunk %d): %v", c, err)
		}
		if tp != topic || !bytes.Equal(d, data) {
			t.Fatalf("round trip (chunk %d): got (%q, %x), want (%q, %x)", c, tp, d, topic, data)
		}
		if buf.Len() != 0 {
			t.Fatalf("%d bytes left after the message", buf.Len())
		}
	})
}

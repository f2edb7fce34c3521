package p2p

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Direct-stream framing (docs/network.md, "Direct messages"). Every frame is
// a 4-byte big-endian body length n (1 ≤ n ≤ limit) and n body bytes whose
// first byte is the frame kind:
//
//	'M' u16 topic length, topic, data          a whole message
//	'F' u32 total length, u16 topic length,    the first fragment of a
//	    topic, data                            message of total bytes
//	'N' data                                   the next fragment
//
// The topic is "" for a message sent with Send, and the broadcast topic for
// a broadcast that went direct. A message longer than the frame limit is
// sent as 'F' then 'N' frames, with nothing else between them on the
// stream; its total is at most network.MaxMessageSize.
const (
	frameMessage byte = 'M'
	frameFirst   byte = 'F'
	frameNext    byte = 'N'

	// maxTopicLen is the longest topic, in bytes.
	maxTopicLen = 1024
	// frameOverhead bounds the body bytes of a frame beyond its data.
	frameOverhead = 1 + 4 + 2 + maxTopicLen
)

// writeMessage writes one message as frames whose data parts are at most
// chunk bytes.
func writeMessage(w io.Writer, topic string, data []byte, chunk int) error {
	if len(topic) > maxTopicLen {
		return fmt.Errorf("%w: topic of %d bytes", ErrBadFrame, len(topic))
	}
	var hdr [4 + 1 + 4 + 2]byte
	if len(data) <= chunk {
		n := 1 + 2 + len(topic) + len(data)
		binary.BigEndian.PutUint32(hdr[0:], uint32(n))
		hdr[4] = frameMessage
		binary.BigEndian.PutUint16(hdr[5:], uint16(len(topic)))
		return writeAll(w, hdr[:7], []byte(topic), data)
	}
	first := data[:chunk]
	binary.BigEndian.PutUint32(hdr[0:], uint32(1+4+2+len(topic)+len(first)))
	hdr[4] = frameFirst
	binary.BigEndian.PutUint32(hdr[5:], uint32(len(data)))
	binary.BigEndian.PutUint16(hdr[9:], uint16(len(topic)))
	if err := writeAll(w, hdr[:11], []byte(topic), first); err != nil {
		return err
	}
	for rest := data[chunk:]; len(rest) > 0; {
		part := rest[:min(chunk, len(rest))]
		rest = rest[len(part):]
		binary.BigEndian.PutUint32(hdr[0:], uint32(1+len(part)))
		hdr[4] = frameNext
		if err := writeAll(w, hdr[:5], part); err != nil {
			return err
		}
	}
	return nil
}

func writeAll(w io.Writer, parts ...[]byte) error {
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// frameReader decodes the frames of one direct stream.
type frameReader struct {
	r io.Reader
	// maxChunk is the most data bytes one frame may carry (the receiver's
	// MaxDirectSize); a longer frame is refused before anything is
	// allocated for it.
	maxChunk int
	// maxMessage is the longest message reassembled from fragments.
	maxMessage int
	hdr        [4]byte
}

func newFrameReader(r io.Reader, maxChunk, maxMessage int) *frameReader {
	return &frameReader{r: r, maxChunk: maxChunk, maxMessage: maxMessage}
}

// badFrame returns an error wrapping ErrBadFrame.
func badFrame(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadFrame, fmt.Sprintf(format, args...))
}

// length reads a frame's length prefix and checks it.
func (fr *frameReader) length() (int, error) {
	if _, err := io.ReadFull(fr.r, fr.hdr[:]); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(fr.hdr[:])
	if n == 0 {
		return 0, badFrame("empty frame")
	}
	if uint64(n) > uint64(fr.maxChunk+frameOverhead) {
		return 0, badFrame("frame of %d bytes exceeds the limit of %d", n, fr.maxChunk+frameOverhead)
	}
	return int(n), nil
}

// next returns the next message of the stream. Errors wrapping ErrBadFrame
// mean the peer broke the framing rules; other errors come from the stream
// (io.EOF at a clean end between messages).
func (fr *frameReader) next() (topic string, data []byte, err error) {
	n, err := fr.length()
	if err != nil {
		return "", nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(fr.r, body); err != nil {
		return "", nil, unexpectedEOF(err)
	}
	switch body[0] {
	case frameMessage:
		topic, data, err := splitTopic(body[1:])
		if err != nil {
			return "", nil, err
		}
		if len(data) > fr.maxChunk {
			return "", nil, badFrame("message frame carries %d bytes, over the limit of %d", len(data), fr.maxChunk)
		}
		if len(data) == 0 {
			data = nil
		}
		return topic, data, nil
	case frameFirst:
		if len(body) < 5 {
			return "", nil, badFrame("short first fragment")
		}
		total := binary.BigEndian.Uint32(body[1:])
		topic, first, err := splitTopic(body[5:])
		if err != nil {
			return "", nil, err
		}
		switch {
		case uint64(total) > uint64(fr.maxMessage):
			return "", nil, badFrame("fragmented message of %d bytes exceeds the limit of %d", total, fr.maxMessage)
		case len(first) > fr.maxChunk:
			return "", nil, badFrame("fragment of %d bytes, over the limit of %d", len(first), fr.maxChunk)
		case len(first) == 0 || len(first) >= int(total):
			return "", nil, badFrame("first fragment of %d bytes for a message of %d", len(first), total)
		}
		// Memory grows with the bytes that actually arrive, never with what
		// the peer announced.
		data = slices.Clone(first)
		for len(data) < int(total) {
			n, err := fr.length()
			if err != nil {
				return "", nil, unexpectedEOF(err)
			}
			var kind [1]byte
			if _, err := io.ReadFull(fr.r, kind[:]); err != nil {
				return "", nil, unexpectedEOF(err)
			}
			part := n - 1
			switch {
			case kind[0] != frameNext:
				return "", nil, badFrame("frame kind %q inside a fragmented message", kind[0])
			case part == 0 || part > fr.maxChunk:
				return "", nil, badFrame("fragment of %d bytes (limit %d)", part, fr.maxChunk)
			case len(data)+part > int(total):
				return "", nil, badFrame("fragments exceed the announced %d bytes", total)
			}
			data = slices.Grow(data, part)
			if _, err := io.ReadFull(fr.r, data[len(data):len(data)+part]); err != nil {
				return "", nil, unexpectedEOF(err)
			}
			data = data[:len(data)+part]
		}
		return topic, data, nil
	case frameNext:
		return "", nil, badFrame("fragment without a first fragment")
	default:
		return "", nil, badFrame("unknown frame kind %q", body[0])
	}
}

// splitTopic splits "u16 topic length, topic, data".
func splitTopic(b []byte) (string, []byte, error) {
	if len(b) < 2 {
		return "", nil, badFrame("short frame")
	}
	tl := int(binary.BigEndian.Uint16(b))
	if tl > maxTopicLen || tl > len(b)-2 {
		return "", nil, badFrame("topic length %d (limit %d, %d bytes left)", tl, maxTopicLen, len(b)-2)
	}
	return string(b[2 : 2+tl]), b[2+tl:], nil
}

// unexpectedEOF turns a clean EOF inside a frame into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

package p2p

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Protocol IDs (docs/network.md, "Protocols").
const (
	helloProtocol  = "/gospresso/handshake/1"
	directProtocol = "/gospresso/direct/1"
	peersProtocol  = "/gospresso/peers/1"
)

// protocolVersion is the version of gospresso's wire protocol a hello
// announces; peers refuse another version.
const protocolVersion = 1

// handshakeDomain prefixes what a hello's signature covers.
const handshakeDomain = "gospresso/p2p/handshake/v1"

// Limits of a hello.
const (
	maxHelloSize  = 16 << 10
	maxHelloAddrs = 16
	maxAddrLen    = 256
	maxChainIDLen = 256
)

var helloMagic = [4]byte{'g', 's', 'p', 'h'}

// hello is what each side of a connection sends first (docs/network.md,
// "Handshake"):
//
//	"gsph" u16 version, genesis [32], u16 len + chain id,
//	u16 len + staking public key, u16 len + BLS signature over
//	(handshakeDomain ‖ genesis ‖ sender's peer ID), nonce [8],
//	u32 max frame data, u8 address count, each u16 len + multiaddr bytes
//
// The nonce is random per Transport, so a peer that restarted (a new nonce on
// the same peer ID) is told apart from a second connection to the same run.
type hello struct {
	version  uint16
	genesis  [32]byte
	chainID  string
	key      []byte
	sig      []byte
	nonce    [8]byte
	maxChunk uint32
	addrs    []ma.Multiaddr
}

// handshakeMessage is what a hello's signature covers.
func handshakeMessage(genesis [32]byte, id peer.ID) []byte {
	b := make([]byte, 0, len(handshakeDomain)+32+len(id))
	b = append(b, handshakeDomain...)
	b = append(b, genesis[:]...)
	return append(b, id...)
}

func (h *hello) marshal() []byte {
	b := append([]byte(nil), helloMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, h.version)
	b = append(b, h.genesis[:]...)
	b = appendShort(b, []byte(h.chainID))
	b = appendShort(b, h.key)
	b = appendShort(b, h.sig)
	b = append(b, h.nonce[:]...)
	b = binary.BigEndian.AppendUint32(b, h.maxChunk)
	addrs := h.addrs[:min(len(h.addrs), maxHelloAddrs)]
	b = append(b, byte(len(addrs)))
	for _, a := range addrs {
		b = appendShort(b, a.Bytes())
	}
	return b
}

func appendShort(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// parseHello decodes a hello. On an error after the network identity
// (version, genesis, chain id), the returned hello still holds those, so a
// refusal can name them.
func parseHello(b []byte) (hello, error) {
	var h hello
	r := reader{b: b}
	var magic [4]byte
	r.read(magic[:])
	if r.err != nil || magic != helloMagic {
		return h, fmt.Errorf("%w: not a gospresso handshake", ErrHandshake)
	}
	h.version = r.u16()
	r.read(h.genesis[:])
	h.chainID = string(r.short(maxChainIDLen))
	if r.err != nil {
		return h, fmt.Errorf("%w: %w", ErrHandshake, r.err)
	}
	h.key = r.short(256)
	h.sig = r.short(256)
	r.read(h.nonce[:])
	h.maxChunk = r.u32()
	n := int(r.u8())
	if n > maxHelloAddrs {
		return h, fmt.Errorf("%w: %d addresses (at most %d)", ErrHandshake, n, maxHelloAddrs)
	}
	for range n {
		a := r.short(maxAddrLen)
		if r.err != nil {
			break
		}
		m, err := ma.NewMultiaddrBytes(a)
		if err != nil {
			return h, fmt.Errorf("%w: address: %v", ErrHandshake, err)
		}
		h.addrs = append(h.addrs, m)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return h, fmt.Errorf("%w: %w", ErrHandshake, r.err)
	}
	return h, nil
}

// reader reads big-endian fields, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) read(dst []byte) {
	if r.err != nil {
		return
	}
	if len(r.b) < len(dst) {
		r.err = io.ErrUnexpectedEOF
		return
	}
	copy(dst, r.b)
	r.b = r.b[len(dst):]
}

func (r *reader) u8() uint8 {
	var b [1]byte
	r.read(b[:])
	return b[0]
}

func (r *reader) u16() uint16 {
	var b [2]byte
	r.read(b[:])
	return binary.BigEndian.Uint16(b[:])
}

func (r *reader) u32() uint32 {
	var b [4]byte
	r.read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// short reads a u16 length and that many bytes, at most limit.
func (r *reader) short(limit int) []byte {
	n := int(r.u16())
	if r.err != nil {
		return nil
	}
	if n > limit {
		r.err = fmt.Errorf("field of %d bytes (at most %d)", n, limit)
		return nil
	}
	if len(r.b) < n {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// readPrefixed reads a u32 length and that many bytes, at most limit.
func readPrefixed(rd io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(rd, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%d bytes (at most %d)", n, limit)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rd, b); err != nil {
		return nil, unexpectedEOF(err)
	}
	return b, nil
}

// writePrefixed writes a u32 length and b.
func writePrefixed(w io.Writer, b []byte) error {
	return writeAll(w, binary.BigEndian.AppendUint32(nil, uint32(len(b))), b)
}

// Peer announcements ("/gospresso/peers/1"): u16 count, then per peer a u8
// length and the peer ID's bytes, a u8 address count and each address as a
// u16 length and multiaddr bytes.
const (
	maxAnnounced     = 1024
	maxAnnounceBytes = 512 << 10
)

type announced struct {
	id    peer.ID
	addrs []ma.Multiaddr
}

func marshalAnnounce(list []announced) []byte {
	list = list[:min(len(list), maxAnnounced)]
	b := binary.BigEndian.AppendUint16(nil, uint16(len(list)))
	for _, a := range list {
		b = append(b, byte(len(a.id)))
		b = append(b, a.id...)
		addrs := a.addrs[:min(len(a.addrs), maxHelloAddrs)]
		b = append(b, byte(len(addrs)))
		for _, m := range addrs {
			b = appendShort(b, m.Bytes())
		}
	}
	return b
}

func parseAnnounce(b []byte) ([]announced, error) {
	r := reader{b: b}
	n := int(r.u16())
	if n > maxAnnounced {
		return nil, fmt.Errorf("%d peers announced (at most %d)", n, maxAnnounced)
	}
	var out []announced
	for range n {
		idLen := int(r.u8())
		idBytes := make([]byte, idLen)
		r.read(idBytes)
		k := int(r.u8())
		if r.err != nil {
			break
		}
		id, err := peer.IDFromBytes(idBytes)
		if err != nil {
			return nil, fmt.Errorf("peer id: %w", err)
		}
		if k > maxHelloAddrs {
			return nil, fmt.Errorf("%d addresses (at most %d)", k, maxHelloAddrs)
		}
		a := announced{id: id}
		for range k {
			ab := r.short(maxAddrLen)
			if r.err != nil {
				break
			}
			m, err := ma.NewMultiaddrBytes(ab)
			if err != nil {
				return nil, fmt.Errorf("address: %w", err)
			}
			a.addrs = append(a.addrs, m)
		}
		out = append(out, a)
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

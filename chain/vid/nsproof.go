package vid

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/gospresso/gospresso/types"
)

// NsProof proves one namespace's bytes against a payload commitment, so that
// a client holding only a header (commitment and namespace table) can check
// a rollup's transactions.
type NsProof struct {
	// Total and Recovery are the W and k the payload was dispersed with.
	Total, Recovery int
	// NsIndex is the namespace's position in the namespace table.
	NsIndex int
	// Bytes are the namespace's payload bytes.
	Bytes []byte
	// Path holds the sibling hashes from the namespace root up to the root
	// of the tree of namespace roots, lowest first.
	Path [][32]byte
}

// ProveNamespace returns the proof for the namespace at nsIndex in the
// payload's namespace table. It encodes every namespace of the payload, as
// Commit does.
func ProveNamespace(p Params, payload types.Payload, nsIndex int) (NsProof, error) {
	if err := p.valid(); err != nil {
		return NsProof{}, err
	}
	entries, err := payload.NsTable.Entries(len(payload.Raw))
	if err != nil {
		return NsProof{}, fmt.Errorf("vid: payload: %w", err)
	}
	if nsIndex < 0 || nsIndex >= len(entries) {
		return NsProof{}, fmt.Errorf("%w: namespace index %d out of range of %d namespaces", ErrNamespaceNotFound, nsIndex, len(entries))
	}
	roots, err := namespaceRoots(p.Total(), p.Recovery(), payload)
	if err != nil {
		return NsProof{}, err
	}
	e := entries[nsIndex]
	return NsProof{
		Total:    p.Total(),
		Recovery: p.Recovery(),
		NsIndex:  nsIndex,
		Bytes:    bytes.Clone(payload.Raw[e.Start:e.End]),
		Path:     merklePath(merkleLevels(roots), nsIndex),
	}, nil
}

// tableLen returns the payload length a namespace table implies: its last
// entry's end offset, or 0 when it has no entries or is malformed (Entries
// then reports the problem).
func tableLen(t types.NsTable) int {
	b := t.Bytes
	if len(b) < 12 || (len(b)-4)%8 != 0 {
		return 0
	}
	return int(binary.LittleEndian.Uint32(b[len(b)-4:]))
}

// VerifyNamespace checks proof for namespace ns against a header's payload
// commitment c and namespace table, and returns the namespace's bytes (the
// proof's Bytes, not a copy). The payload length is the table's last end
// offset, as the table covers the payload exactly. It fails with
// types.ErrInvalidNsTable (wrapped) for a malformed table,
// ErrNamespaceNotFound if ns is not in it, and ErrInvalidNsProof otherwise;
// any change to the namespace's bytes — a transaction added, dropped or
// moved — makes it fail.
func VerifyNamespace(c types.Commitment, nsTable types.NsTable, ns uint32, proof NsProof) ([]byte, error) {
	payloadLen := tableLen(nsTable)
	entries, err := nsTable.Entries(payloadLen)
	if err != nil {
		return nil, fmt.Errorf("vid: namespace table: %w", err)
	}
	idx := -1
	for i, e := range entries {
		if e.Namespace == ns {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%w: namespace %d, table has %d entries", ErrNamespaceNotFound, ns, len(entries))
	}
	if proof.NsIndex != idx {
		return nil, fmt.Errorf("%w: proof is for namespace index %d, namespace %d is at index %d", ErrInvalidNsProof, proof.NsIndex, ns, idx)
	}
	e := entries[idx]
	if want := int(e.End - e.Start); len(proof.Bytes) != want {
		return nil, fmt.Errorf("%w: namespace %d: %d bytes, table says %d", ErrInvalidNsProof, ns, len(proof.Bytes), want)
	}
	if err := checkTotals(proof.Total, proof.Recovery); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidNsProof, err)
	}
	cd, err := newCoder(proof.Total, proof.Recovery)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidNsProof, err)
	}
	root, err := cd.nsRoot(proof.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidNsProof, err)
	}
	top, err := climb(root, idx, len(entries), proof.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: namespace %d: %v", ErrInvalidNsProof, ns, err)
	}
	got := commitWithRoot(proof.Total, proof.Recovery, uint64(payloadLen), sha256.Sum256(nsTable.Bytes), top)
	if got != c {
		return nil, fmt.Errorf("%w: namespace %d: proof leads to commitment %x, want %x", ErrInvalidNsProof, ns, got[:], c[:])
	}
	return proof.Bytes, nil
}

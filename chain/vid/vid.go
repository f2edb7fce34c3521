package vid

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gospresso/gospresso/types"
)

// Common is what every node needs beside its own share to check it and, with
// enough shares, to recover the payload. It commits to the payload through
// Commit.
type Common struct {
	// Total is W, the number of shards per namespace.
	Total int
	// Recovery is k = W/3+1, the number of shards that recover a namespace.
	Recovery int
	// PayloadLen is the payload's byte length.
	PayloadLen int
	// NsTable is the namespace table's bytes (types.NsTable.Bytes).
	NsTable []byte
	// Roots holds the namespace roots R_j in namespace-table order.
	Roots [][32]byte
}

// Commit recomputes the payload commitment C from the common data (doc.go,
// "Commitment"). It does not check that the fields are consistent; VerifyShare
// and Recover do.
func (c Common) Commit() types.Commitment {
	return payloadCommitment(c.Total, c.Recovery, uint64(c.PayloadLen), c.NsTable, c.Roots)
}

// Shard is one erasure-coded shard with its Merkle proof.
type Shard struct {
	// Data is the shard's bytes.
	Data []byte
	// Proof holds the sibling hashes from the shard's leaf up to its
	// namespace root, lowest first; levels where the node is promoted
	// without a sibling contribute none.
	Proof [][32]byte
}

// Share is what one node receives: for each namespace, in namespace-table
// order, the node's shards. With first, count = Params.Shards(Node),
// Namespaces[j][t] is shard first+t of namespace j; the indices are implied,
// not stored.
type Share struct {
	// Node is the stake-table index of the node the share is for.
	Node int
	// Namespaces[j] holds the node's count shards of namespace j.
	Namespaces [][]Shard
}

// Disperse erasure-codes payload for the nodes of p and returns the payload
// commitment, the common data and one share per node (shares[i] is node
// i's). The shares' shard bytes are slices of shared buffers, not copies of
// payload. It fails with types.ErrInvalidNsTable (wrapped) if the namespace
// table does not describe the payload.
func Disperse(p Params, payload types.Payload) (types.Commitment, Common, []Share, error) {
	if err := p.valid(); err != nil {
		return types.Commitment{}, Common{}, nil, err
	}
	entries, err := payload.NsTable.Entries(len(payload.Raw))
	if err != nil {
		return types.Commitment{}, Common{}, nil, fmt.Errorf("vid: payload: %w", err)
	}
	cd, err := newCoder(p.Total(), p.Recovery())
	if err != nil {
		return types.Commitment{}, Common{}, nil, err
	}
	shares := make([]Share, p.Nodes())
	for i := range shares {
		shares[i] = Share{Node: i, Namespaces: make([][]Shard, len(entries))}
	}
	// One buffer holds every namespace's shards; the shares slice it.
	total := 0
	for _, e := range entries {
		total += p.Total() * shardSize(int(e.End-e.Start), p.Total(), p.Recovery())
	}
	buf := make([]byte, total)
	roots := make([][32]byte, len(entries))
	for j, e := range entries {
		data := payload.Raw[e.Start:e.End]
		n := p.Total() * shardSize(len(data), p.Total(), p.Recovery())
		shards, err := cd.encode(buf[:n:n], data)
		buf = buf[n:]
		if err != nil {
			return types.Commitment{}, Common{}, nil, err
		}
		levels := merkleLevels(cd.leaves(shards))
		roots[j] = levels[len(levels)-1][0]
		// All proofs of the namespace share one backing array.
		paths := make([][32]byte, 0, len(shards)*(len(levels)-1))
		for i := range shares {
			first, count := p.Shards(i)
			ss := make([]Shard, count)
			for t := range ss {
				start := len(paths)
				paths = appendPath(paths, levels, first+t)
				ss[t] = Shard{Data: shards[first+t], Proof: paths[start:len(paths):len(paths)]}
			}
			shares[i].Namespaces[j] = ss
		}
	}
	common := Common{
		Total:      p.Total(),
		Recovery:   p.Recovery(),
		PayloadLen: len(payload.Raw),
		NsTable:    bytes.Clone(payload.NsTable.Bytes),
		Roots:      roots,
	}
	return common.Commit(), common, shares, nil
}

// Commit returns the payload commitment Disperse would return, without
// building shares or proofs.
func Commit(p Params, payload types.Payload) (types.Commitment, error) {
	if err := p.valid(); err != nil {
		return types.Commitment{}, err
	}
	roots, err := namespaceRoots(p.Total(), p.Recovery(), payload)
	if err != nil {
		return types.Commitment{}, err
	}
	return payloadCommitment(p.Total(), p.Recovery(), uint64(len(payload.Raw)), payload.NsTable.Bytes, roots), nil
}

// CommonOf returns the common data Disperse would return, without building
// shares or proofs.
func CommonOf(p Params, payload types.Payload) (Common, error) {
	if err := p.valid(); err != nil {
		return Common{}, err
	}
	roots, err := namespaceRoots(p.Total(), p.Recovery(), payload)
	if err != nil {
		return Common{}, err
	}
	return Common{Total: p.Total(), Recovery: p.Recovery(), PayloadLen: len(payload.Raw),
		NsTable: slices.Clone(payload.NsTable.Bytes), Roots: roots}, nil
}

// namespaceRoots returns R_j for every namespace of payload.
func namespaceRoots(w, k int, payload types.Payload) ([][32]byte, error) {
	entries, err := payload.NsTable.Entries(len(payload.Raw))
	if err != nil {
		return nil, fmt.Errorf("vid: payload: %w", err)
	}
	cd, err := newCoder(w, k)
	if err != nil {
		return nil, err
	}
	roots := make([][32]byte, len(entries))
	for j, e := range entries {
		if roots[j], err = cd.nsRoot(payload.Raw[e.Start:e.End]); err != nil {
			return nil, err
		}
	}
	return roots, nil
}

// checkCommon checks common against the parameters and the commitment and
// returns its namespace entries.
func checkCommon(p Params, c types.Commitment, common Common) ([]types.NsEntry, error) {
	if common.Total != p.Total() || common.Recovery != p.Recovery() {
		return nil, fmt.Errorf("%w: common data has %d shards with recovery %d, parameters want %d with recovery %d",
			ErrCommonMismatch, common.Total, common.Recovery, p.Total(), p.Recovery())
	}
	if common.PayloadLen < 0 || int64(common.PayloadLen) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: payload length %d, want 0 to %d", ErrCommonMismatch, common.PayloadLen, uint32(math.MaxUint32))
	}
	entries, err := types.NsTable{Bytes: common.NsTable}.Entries(common.PayloadLen)
	if err != nil {
		return nil, fmt.Errorf("%w: namespace table: %w", ErrCommonMismatch, err)
	}
	if len(common.Roots) != len(entries) {
		return nil, fmt.Errorf("%w: %d namespace roots, namespace table has %d entries", ErrCommonMismatch, len(common.Roots), len(entries))
	}
	if got := common.Commit(); got != c {
		return nil, fmt.Errorf("%w: common data commits to %x, want %x", ErrCommonMismatch, got[:], c[:])
	}
	return entries, nil
}

// VerifyShare checks that common matches the commitment c and the
// parameters, and that s is node's share of it: one list of shards per
// namespace, each list holding the node's count shards, each of the
// namespace's shard size, each with a Merkle proof leading to its namespace
// root. It returns an error wrapping ErrCommonMismatch or ErrInvalidShare.
func VerifyShare(p Params, c types.Commitment, common Common, s Share, node int) error {
	if err := p.valid(); err != nil {
		return err
	}
	entries, err := checkCommon(p, c, common)
	if err != nil {
		return err
	}
	return verifyShare(p, common, entries, s, node, newLeafHasher())
}

func verifyShare(p Params, common Common, entries []types.NsEntry, s Share, node int, h *leafHasher) error {
	if s.Node != node {
		return fmt.Errorf("%w: share is for node %d, want node %d", ErrInvalidShare, s.Node, node)
	}
	if node < 0 || node >= p.Nodes() {
		return fmt.Errorf("%w: node %d out of range of %d nodes", ErrInvalidShare, node, p.Nodes())
	}
	if len(s.Namespaces) != len(entries) {
		return fmt.Errorf("%w: share for node %d: %d namespaces, want %d", ErrInvalidShare, node, len(s.Namespaces), len(entries))
	}
	w, k := p.Total(), p.Recovery()
	first, count := p.Shards(node)
	for j, e := range entries {
		shards := s.Namespaces[j]
		if len(shards) != count {
			return fmt.Errorf("%w: share for node %d: namespace %d: %d shards, want %d",
				ErrInvalidShare, node, j, len(shards), count)
		}
		size := shardSize(int(e.End-e.Start), w, k)
		for t, sh := range shards {
			idx := first + t
			if len(sh.Data) != size {
				return fmt.Errorf("%w: share for node %d: namespace %d shard %d: %d bytes, want %d",
					ErrInvalidShare, node, j, idx, len(sh.Data), size)
			}
			root, err := climb(h.leaf(idx, sh.Data), idx, w, sh.Proof)
			if err != nil {
				return fmt.Errorf("%w: share for node %d: namespace %d shard %d: %v", ErrInvalidShare, node, j, idx, err)
			}
			if root != common.Roots[j] {
				return fmt.Errorf("%w: share for node %d: namespace %d shard %d: merkle proof does not lead to the namespace root",
					ErrInvalidShare, node, j, idx)
			}
		}
	}
	return nil
}

// Recover rebuilds the payload from shares. It first checks common against
// c and p (failing with ErrCommonMismatch), then verifies every share with
// the checks of VerifyShare, node = Share.Node. Shares that fail are
// skipped; their nodes are returned as bad, sorted and without repeats,
// whether or not recovery succeeds. A repeated share of a node already used
// is ignored. If the remaining shares cover fewer than k distinct shard
// indices, Recover fails with ErrTooFewShares and the error also says why
// each bad share failed. Otherwise it reconstructs each namespace, re-encodes
// it from its bytes and checks the namespace root, failing with
// ErrInconsistentEncoding if the disperser's shards were not the encoding of
// any namespace bytes. On success the payload equals the dispersed one; it
// does not share memory with shares or common.
func Recover(p Params, c types.Commitment, common Common, shares []Share) (payload types.Payload, bad []int, err error) {
	if err := p.valid(); err != nil {
		return types.Payload{}, nil, err
	}
	entries, err := checkCommon(p, c, common)
	if err != nil {
		return types.Payload{}, nil, err
	}
	h := newLeafHasher()
	used := make([]bool, p.Nodes())
	var good []Share
	var failures []string
	covered := 0
	for _, s := range shares {
		if err := verifyShare(p, common, entries, s, s.Node, h); err != nil {
			if !slices.Contains(bad, s.Node) {
				bad = append(bad, s.Node)
			}
			failures = append(failures, err.Error())
			continue
		}
		if used[s.Node] {
			continue
		}
		used[s.Node] = true
		good = append(good, s)
		_, count := p.Shards(s.Node)
		covered += count
	}
	slices.Sort(bad)
	w, k := p.Total(), p.Recovery()
	if covered < k {
		msg := ""
		if len(failures) > 0 {
			msg = fmt.Sprintf("; shares of nodes %v failed verification: %s", bad, strings.Join(failures, "; "))
		}
		return types.Payload{}, bad, fmt.Errorf("%w: valid shares cover %d distinct shards, need %d%s", ErrTooFewShares, covered, k, msg)
	}
	cd, err := newCoder(w, k)
	if err != nil {
		return types.Payload{}, bad, err
	}
	raw := make([]byte, common.PayloadLen)
	shards := make([][]byte, w)
	for j, e := range entries {
		clear(shards)
		for _, s := range good {
			first, _ := p.Shards(s.Node)
			for t, sh := range s.Namespaces[j] {
				shards[first+t] = sh.Data
			}
		}
		root, err := cd.recoverNs(raw[e.Start:e.End], shards)
		if err != nil {
			return types.Payload{}, bad, fmt.Errorf("vid: namespace %d: %w", j, err)
		}
		if root != common.Roots[j] {
			return types.Payload{}, bad, fmt.Errorf("%w: namespace %d: re-encoded recovered bytes give root %x, committed root is %x",
				ErrInconsistentEncoding, j, root[:], common.Roots[j][:])
		}
	}
	payload = types.Payload{NsTable: types.NsTable{Bytes: bytes.Clone(common.NsTable)}}
	if len(raw) > 0 {
		payload.Raw = raw
	}
	return payload, bad, nil
}

package chain

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/gospresso/gospresso/chain/vid"
	"github.com/gospresso/gospresso/types"
)

// VIDScheme implements consensus.VID with package vid: a member's share, as
// the engine carries it, is the encoded common data followed by the
// member's encoded shards (EncodeVIDShare). It remembers the commitments
// it computed for the last few payloads, by their builder commitment (a
// SHA-256, a fraction of a dispersal's cost): a DA member checks a payload
// when its DA proposal arrives and again when its header does, and a
// leader commits to the block it builds and checks it as a proposal. It is
// safe for concurrent use.
type VIDScheme struct {
	params vid.Params

	mu    sync.Mutex
	memo  map[types.Commitment]types.Commitment // builder → payload commitment
	order []types.Commitment
	next  int
	// built is the dispersal of the payload Prepare was last given (by
	// its builder commitment), which Disperse hands out rather than
	// computing it again.
	built struct {
		payload types.Commitment
		commit  types.Commitment
		shares  [][]byte
	}
}

// vidMemoSize bounds the commitments a VIDScheme remembers: those of the
// payloads of the last few views.
const vidMemoSize = 16

func newVIDScheme(p vid.Params) *VIDScheme {
	return &VIDScheme{params: p, memo: make(map[types.Commitment]types.Commitment, vidMemoSize), order: make([]types.Commitment, vidMemoSize)}
}

// Commit implements consensus.VID: the payload commitment of p (the
// header's payload_commitment, tag AvidMCommit), remembered.
func (s *VIDScheme) Commit(p *types.Payload) (types.Commitment, error) {
	b := BuilderCommitment(p)
	s.mu.Lock()
	c, ok := s.memo[b]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := vid.Commit(s.params, *p)
	if err != nil {
		return types.Commitment{}, fmt.Errorf("chain: payload commitment: %w", err)
	}
	s.remember(b, c)
	return c, nil
}

// remember records c as the payload commitment of the payload whose
// builder commitment is b.
func (s *VIDScheme) remember(b, c types.Commitment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.memo[b]; ok {
		return
	}
	delete(s.memo, s.order[s.next])
	s.order[s.next] = b
	s.next = (s.next + 1) % len(s.order)
	s.memo[b] = c
}

// Prepare computes the payload commitment of a payload this node is about
// to propose, as Commit does, and keeps its dispersal: the Disperse that
// follows hands it out instead of encoding the payload a second time. It
// keeps one payload's shares (about three times the payload), until the
// next Prepare.
func (s *VIDScheme) Prepare(p *types.Payload) (types.Commitment, error) {
	c, shares, err := s.disperse(p)
	if err != nil {
		return types.Commitment{}, fmt.Errorf("chain: payload commitment: %w", err)
	}
	b := BuilderCommitment(p)
	s.remember(b, c)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.built.payload, s.built.commit, s.built.shares = b, c, shares
	return c, nil
}

// Disperse implements consensus.VID.
func (s *VIDScheme) Disperse(p *types.Payload) (types.Commitment, [][]byte, error) {
	s.mu.Lock()
	built := s.built
	s.mu.Unlock()
	if built.shares != nil && built.payload == BuilderCommitment(p) {
		return built.commit, built.shares, nil
	}
	return s.disperse(p)
}

func (s *VIDScheme) disperse(p *types.Payload) (types.Commitment, [][]byte, error) {
	c, common, shares, err := vid.Disperse(s.params, *p)
	if err != nil {
		return types.Commitment{}, nil, err
	}
	cb, err := vid.EncodeCommon(common)
	if err != nil {
		return types.Commitment{}, nil, err
	}
	out := make([][]byte, len(shares))
	for i, sh := range shares {
		if out[i], err = encodeVIDShare(cb, sh); err != nil {
			return types.Commitment{}, nil, err
		}
	}
	return c, out, nil
}

// VerifyShare implements consensus.VID.
func (s *VIDScheme) VerifyShare(c types.Commitment, member int, share []byte) error {
	common, sh, err := DecodeVIDShare(share)
	if err != nil {
		return err
	}
	return vid.VerifyShare(s.params, c, common, sh, member)
}

// EncodeVIDShare is the form a member's share travels and is stored in:
// u32 length of the encoded common data, the common data
// (vid.EncodeCommon), then the member's shards (vid.EncodeShare).
func EncodeVIDShare(common vid.Common, share vid.Share) ([]byte, error) {
	cb, err := vid.EncodeCommon(common)
	if err != nil {
		return nil, err
	}
	return encodeVIDShare(cb, share)
}

func encodeVIDShare(common []byte, share vid.Share) ([]byte, error) {
	sb, err := vid.EncodeShare(share)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 4+len(common)+len(sb))
	out = binary.BigEndian.AppendUint32(out, uint32(len(common)))
	out = append(out, common...)
	return append(out, sb...), nil
}

// DecodeVIDShare parses EncodeVIDShare's form.
func DecodeVIDShare(b []byte) (vid.Common, vid.Share, error) {
	if len(b) < 4 {
		return vid.Common{}, vid.Share{}, fmt.Errorf("%w: VID share of %d bytes, want at least 4", vid.ErrMalformed, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return vid.Common{}, vid.Share{}, fmt.Errorf("%w: VID share names %d bytes of common data, %d follow", vid.ErrMalformed, n, len(b)-4)
	}
	common, err := vid.DecodeCommon(b[4 : 4+n])
	if err != nil {
		return vid.Common{}, vid.Share{}, err
	}
	sh, err := vid.DecodeShare(b[4+n:])
	if err != nil {
		return vid.Common{}, vid.Share{}, err
	}
	return common, sh, nil
}

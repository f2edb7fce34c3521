package consensus

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// verifier checks signatures and certificates against one stake table and
// network, remembering the certificates it has already verified and those
// that failed (docs/protocol.md, "Bounds"). It is safe for concurrent use:
// the engine and a replica's verification workers (Verifier.Precheck)
// share one, so a message checked ahead of the engine is a cache hit there.
type verifier struct {
	table     *StakeTable
	genesis   [32]byte
	genesisQC types.QuorumCertificate
	// good and bad are the commitments of certificates that verified and
	// that failed their signature check.
	good, bad *fifo[types.Commitment, struct{}]
	// points are the messages recently hashed to G2, by what they sign:
	// a node hashes each vote message once, to sign it and to check the
	// certificate the votes form.
	points *fifo[pointKey, *keys.Point]
	// proposals holds the leaf of the first proposal that passed Precheck
	// for each recent view: it checks no other for that view, as the
	// engine takes only one.
	proposals *fifo[types.ViewNumber, types.Commitment]
	// checks counts the aggregate signature checks of certificates (each a
	// pairing product), for tests; singles the single signature checks.
	checks, singles atomic.Uint64
}

// pointKey names a signed message: its kind, view and data (the genesis
// is the verifier's).
type pointKey struct {
	kind kind
	view types.ViewNumber
	data types.Commitment
}

// pointCacheSize bounds the hashed messages a verifier keeps: those of
// the last few views, a handful each.
const pointCacheSize = 64

// point returns the message of kind k, view and data hashed to G2, from
// the cache when it was hashed recently.
func (v *verifier) point(k kind, view types.ViewNumber, data types.Commitment) *keys.Point {
	key := pointKey{k, view, data}
	if p, ok := v.points.get(key); ok {
		return p
	}
	p, _ := v.points.putNew(key, keys.HashMessage(digest(k, v.genesis, view, data)))
	return p
}

// sign signs the message of kind k, view and data with key, hashing it
// through the cache so that checking its certificate later hashes nothing.
func (v *verifier) sign(key keys.StakingKey, k kind, view types.ViewNumber, data types.Commitment) keys.Signature {
	return key.SignPoint(v.point(k, view, data))
}

// holds reports whether sig is the aggregate signature of every key in
// pubs over the message of kind k, view and data: one pairing check.
func (v *verifier) holds(pubs []keys.StakingPubKey, k kind, view types.ViewNumber, data types.Commitment, sig keys.Signature) bool {
	return keys.VerifyBatch([]keys.Check{{Pubs: pubs, Point: v.point(k, view, data), Sig: sig}})
}

// Sizes of the verifier's caches: verified certificates, certificates
// whose signature check failed, and views whose proposal Precheck checked.
const (
	verifiedCacheSize = 4096
	failedCacheSize   = 1024
	proposalCacheSize = 256
)

// errCheckRefused marks a certificate left unchecked because its sender is
// over its budget of checks (see Engine.certAllowance).
var errCheckRefused = errors.New("certificate check refused: sender over its budget")

func newVerifier(table *StakeTable, genesis [32]byte, genesisQC types.QuorumCertificate) *verifier {
	return &verifier{table: table, genesis: genesis, genesisQC: genesisQC,
		good: newFIFO[types.Commitment, struct{}](verifiedCacheSize), bad: newFIFO[types.Commitment, struct{}](failedCacheSize),
		points: newFIFO[pointKey, *keys.Point](pointCacheSize), proposals: newFIFO[types.ViewNumber, types.Commitment](proposalCacheSize)}
}

// fifo is a map bounded by first-in, first-out eviction, safe for
// concurrent use.
type fifo[K comparable, V any] struct {
	mu    sync.Mutex
	m     map[K]V
	order []K
	next  int
	full  bool
}

func newFIFO[K comparable, V any](n int) *fifo[K, V] {
	return &fifo[K, V]{m: make(map[K]V, n), order: make([]K, n)}
}

func (f *fifo[K, V]) get(k K) (V, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[k]
	return v, ok
}

func (f *fifo[K, V]) has(k K) bool {
	_, ok := f.get(k)
	return ok
}

// putNew stores v under k unless k is present, evicting the oldest key
// when full, and returns the value now stored under k and whether it is
// v.
func (f *fifo[K, V]) putNew(k K, v V) (V, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if have, ok := f.m[k]; ok {
		return have, false
	}
	if f.full {
		delete(f.m, f.order[f.next])
	}
	f.order[f.next] = k
	f.next = (f.next + 1) % len(f.order)
	f.full = f.full || f.next == 0
	f.m[k] = v
	return v, true
}

// add stores k (with the zero value) unless present.
func (f *fifo[K, V]) add(k K) {
	var zero V
	f.putNew(k, zero)
}

func (v *verifier) remember(c types.Commitment) { v.good.add(c) }

func (v *verifier) known(c types.Commitment) bool { return v.good.has(c) }

// spend asks allow (nil allows everything) for one expensive check.
func spend(allow func() bool) error {
	if allow != nil && !allow() {
		return fmt.Errorf("%w: %w", ErrInvalidCertificate, errCheckRefused)
	}
	return nil
}

// signer returns the key of member i, checking the index.
func (v *verifier) signer(i uint32) (keys.StakingPubKey, error) {
	if int64(i) >= int64(v.table.Len()) {
		return keys.StakingPubKey{}, fmt.Errorf("%w: signer %d not in the stake table of %d", ErrInvalidMessage, i, v.table.Len())
	}
	return v.table.Member(int(i)).Key, nil
}

// verifySingle checks one member's signature.
func (v *verifier) verifySingle(k kind, view types.ViewNumber, data types.Commitment, signer uint32, sig keys.Signature) error {
	key, err := v.signer(signer)
	if err != nil {
		return err
	}
	// A copy of a message already checked (a relayed, re-sent or replayed
	// proposal) costs a hash, not a pairing.
	c := singleCommit(k, view, data, signer, sig)
	if v.good.has(c) {
		return nil
	}
	if v.bad.has(c) {
		return fmt.Errorf("%w: bad signature from member %d on view %d (seen before)", ErrInvalidMessage, signer, view)
	}
	v.singles.Add(1)
	if !v.holds([]keys.StakingPubKey{key}, k, view, data, sig) {
		v.bad.add(c)
		return fmt.Errorf("%w: bad signature from member %d on view %d", ErrInvalidMessage, signer, view)
	}
	v.good.add(c)
	return nil
}

// singleCommit is what the verifier remembers a single signature by.
func singleCommit(k kind, view types.ViewNumber, data types.Commitment, signer uint32, sig keys.Signature) types.Commitment {
	return certCommit(func(w *writer) {
		w.u8(byte(k))
		w.view(view)
		w.fixed(data[:])
		w.u32(signer)
		w.fixed(sig.Bytes())
	})
}

// batchProposal checks a proposal's signature, its justify QC and the DA
// certificate it carries (nil for none) together, in one pairing product
// (keys.VerifyBatch), when at least two of them are new, and remembers
// them all when the batch holds: the separate checks that follow are then
// cache hits. When it fails, it remembers nothing, and the separate checks
// find which one is bad (so a bad proposal costs one batch more). tried
// reports whether it checked a batch, ok whether the batch held.
func (v *verifier) batchProposal(view types.ViewNumber, commit types.Commitment, leader uint32, sig keys.Signature, j *types.QuorumCertificate, dac *DACert) (tried, ok bool) {
	var checks []keys.Check
	var commits []types.Commitment
	sc := singleCommit(kindQuorumVote, view, commit, leader, sig)
	if key, err := v.signer(leader); err == nil && !v.good.has(sc) && !v.bad.has(sc) {
		checks = append(checks, keys.Check{Pubs: []keys.StakingPubKey{key}, Point: v.point(kindQuorumVote, view, commit), Sig: sig})
		commits = append(commits, sc)
	}
	if qc := j.Commit(); !j.IsGenesis() && !v.good.has(qc) && !v.bad.has(qc) && v.checkSigners(j.Signers, thresholdSuccess) == nil {
		if qsig, err := keys.SignatureFromBytes(j.Signature); err == nil {
			checks = append(checks, keys.Check{Pubs: v.keysOf(j.Signers), Point: v.point(kindQuorumVote, j.View, j.Leaf), Sig: qsig})
			commits = append(commits, qc)
		}
	}
	if dac != nil {
		if dc := dac.commit(); !v.good.has(dc) && !v.bad.has(dc) && v.checkDACSigners(dac.Signers) == nil {
			if dsig, err := keys.SignatureFromBytes(dac.Signature); err == nil {
				checks = append(checks, keys.Check{Pubs: v.keysOf(dac.Signers), Point: v.point(kindDAVote, dac.View, dac.Payload), Sig: dsig})
				commits = append(commits, dc)
			}
		}
	}
	if len(checks) < 2 {
		return false, false
	}
	v.checks.Add(1)
	if !keys.VerifyBatch(checks) {
		return true, false
	}
	for _, c := range commits {
		v.good.add(c)
	}
	return true, true
}

// verifyQC checks a quorum certificate: the genesis certificate by value,
// any other by signer set, stake and one aggregate signature check.
func (v *verifier) verifyQC(q *types.QuorumCertificate) error { return v.checkQC(q, nil) }

// checkQC is verifyQC asking allow before the signature check: a
// certificate already verified, or already failed, costs no check.
func (v *verifier) checkQC(q *types.QuorumCertificate, allow func() bool) error {
	if q.IsGenesis() {
		if q.Leaf != v.genesisQC.Leaf || len(q.Signers) != 0 {
			return fmt.Errorf("%w: unsigned certificate for view 0 is not the genesis certificate", ErrInvalidCertificate)
		}
		return nil
	}
	c := q.Commit()
	if v.known(c) {
		return nil
	}
	if v.bad.has(c) {
		return fmt.Errorf("%w: qc for view %d: failed its check before", ErrInvalidCertificate, q.View)
	}
	if err := v.checkSigners(q.Signers, thresholdSuccess); err != nil {
		return fmt.Errorf("qc for view %d: %w", q.View, err)
	}
	if err := spend(allow); err != nil {
		return fmt.Errorf("qc for view %d: %w", q.View, err)
	}
	sig, err := keys.SignatureFromBytes(q.Signature)
	if err != nil {
		v.bad.add(c)
		return fmt.Errorf("%w: qc for view %d: signature: %v", ErrInvalidCertificate, q.View, err)
	}
	pubs := v.keysOf(q.Signers)
	v.checks.Add(1)
	if !v.holds(pubs, kindQuorumVote, q.View, q.Leaf, sig) {
		v.bad.add(c)
		return fmt.Errorf("%w: qc for view %d: aggregate signature does not verify", ErrInvalidCertificate, q.View)
	}
	v.remember(c)
	return nil
}

func (v *verifier) checkSigners(signers types.Bitmap, thr threshold) error {
	if !signers.FitsSize(v.table.Len()) {
		return fmt.Errorf("%w: signer bitmap of %d bytes does not fit a stake table of %d", ErrInvalidCertificate, len(signers), v.table.Len())
	}
	if !v.table.reaches(signers, thr) {
		return fmt.Errorf("%w: signers' stake below the threshold", ErrInvalidCertificate)
	}
	return nil
}

func (v *verifier) keysOf(signers types.Bitmap) []keys.StakingPubKey {
	idx := signers.Indexes()
	pubs := make([]keys.StakingPubKey, len(idx))
	for j, i := range idx {
		pubs[j] = v.table.Member(i).Key
	}
	return pubs
}

// verifyHighViewCert checks a certificate whose signers each signed their
// own high-QC view (timeout and view-sync certificates): the signer set and
// stake, one aggregate check per distinct signed view, and that the carried
// QC verifies and has exactly the highest signed view.
// allow (nil allows everything) is asked before each signature check.
// errBadSig reports that the certificate's own signature failed (not its
// carried QC, nor a cheaper check).
func (v *verifier) verifyHighViewCert(k kind, view types.ViewNumber, signers types.Bitmap, highViews []types.ViewNumber,
	sigBytes []byte, highQC *types.QuorumCertificate, data func(types.ViewNumber) types.Commitment, thr threshold, allow func() bool) error {
	if err := v.checkSigners(signers, thr); err != nil {
		return err
	}
	idx := signers.Indexes()
	if len(highViews) != len(idx) {
		return fmt.Errorf("%w: %d high views for %d signers", ErrInvalidCertificate, len(highViews), len(idx))
	}
	if highQC.View != maxHighView(highViews) {
		return fmt.Errorf("%w: carried qc has view %d, highest signed view is %d", ErrInvalidCertificate, highQC.View, maxHighView(highViews))
	}
	for j, i := range idx {
		if highViews[j] >= view && k == kindTimeoutVote {
			return fmt.Errorf("%w: signer %d claims a high qc of view %d in a timeout of view %d", ErrInvalidCertificate, i, highViews[j], view)
		}
	}
	if err := v.checkQC(highQC, allow); err != nil {
		return err
	}
	if err := spend(allow); err != nil {
		return err
	}
	sig, err := keys.SignatureFromBytes(sigBytes)
	if err != nil {
		return fmt.Errorf("%w: %w: %v", ErrInvalidCertificate, errBadSig, err)
	}
	groups := make(map[types.ViewNumber][]keys.StakingPubKey)
	for j, i := range idx {
		groups[highViews[j]] = append(groups[highViews[j]], v.table.Member(i).Key)
	}
	views := make([]types.ViewNumber, 0, len(groups))
	for hv := range groups {
		views = append(views, hv)
	}
	slices.Sort(views)
	aggs := make([]keys.StakingPubKey, len(views))
	msgs := make([][]byte, len(views))
	for j, hv := range views {
		agg, err := keys.AggregatePubKeys(groups[hv])
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidCertificate, err)
		}
		aggs[j] = agg
		msgs[j] = digest(k, v.genesis, view, data(hv))
	}
	v.checks.Add(1)
	if !keys.VerifyAggregateDistinct(aggs, msgs, sig) {
		return fmt.Errorf("%w: %w: aggregate signature does not verify", ErrInvalidCertificate, errBadSig)
	}
	return nil
}

// errBadSig marks a timeout or view-sync certificate whose own signature
// failed, which the verifier remembers.
var errBadSig = errors.New("bad signature")

// verifyTC checks a timeout certificate, asking allow (nil allows
// everything) before each signature check. A certificate already
// verified, or whose signature already failed, costs no check.
func (v *verifier) verifyTC(tc *TimeoutCert, allow func() bool) error {
	c := certCommit(func(w *writer) { encodeTC(w, tc) })
	err := v.cachedCheck(c, func() error {
		return v.verifyHighViewCert(kindTimeoutVote, tc.View, tc.Signers, tc.HighViews, tc.Signature, &tc.HighQC, highViewData, thresholdSuccess, allow)
	})
	if err != nil {
		return fmt.Errorf("timeout certificate for view %d: %w", tc.View, err)
	}
	return nil
}

// verifyViewSync checks a view-sync certificate like verifyTC.
func (v *verifier) verifyViewSync(c *ViewSyncCert, allow func() bool) error {
	if c.Phase < PhasePreCommit || c.Phase > PhaseFinalize {
		return fmt.Errorf("%w: view-sync certificate phase %d", ErrInvalidCertificate, c.Phase)
	}
	data := func(hv types.ViewNumber) types.Commitment { return viewSyncData(c.Relay, hv) }
	cc := certCommit(func(w *writer) { encodeVSC(w, c) })
	err := v.cachedCheck(cc, func() error {
		return v.verifyHighViewCert(c.Phase.kind(), c.Round, c.Signers, c.HighViews, c.Signature, &c.HighQC, data, c.Phase.threshold(), allow)
	})
	if err != nil {
		return fmt.Errorf("view-sync %s certificate for round %d: %w", c.Phase, c.Round, err)
	}
	return nil
}

// cachedCheck runs check for the certificate committed to by c unless its
// outcome is remembered, and remembers a pass or a failed signature.
func (v *verifier) cachedCheck(c types.Commitment, check func() error) error {
	if v.good.has(c) {
		return nil
	}
	if v.bad.has(c) {
		return fmt.Errorf("%w: failed its check before", ErrInvalidCertificate)
	}
	err := check()
	switch {
	case err == nil:
		v.good.add(c)
	case errors.Is(err, errBadSig):
		v.bad.add(c)
	}
	return err
}

// certCommit is the commitment the verifier remembers a timeout or
// view-sync certificate by: a hash of its encoding.
func certCommit(encode func(w *writer)) types.Commitment {
	w := &writer{b: make([]byte, 0, 512)}
	w.fixed([]byte("gospresso/cert/v1"))
	encode(w)
	return types.Commitment(sha256.Sum256(w.b))
}

// Verifier checks the signatures and certificates of one network outside
// an engine: a node's API checking blocks fetched from peers, and a
// replica's verification workers checking messages before its engine
// takes them (Precheck; Params.Verifier shares one with the engine). It is
// safe for concurrent use and remembers what it verified.
type Verifier struct {
	v *verifier
}

// NewVerifier returns a verifier for the network with this stake table,
// genesis commitment and genesis leaf.
func NewVerifier(table *StakeTable, genesis [32]byte, genesisLeaf *types.Leaf) *Verifier {
	return &Verifier{v: newVerifier(table, genesis, types.GenesisQC(genesisLeaf))}
}

// VerifyQC checks a certificate: the genesis certificate by value, any
// other by the stake of its signers and one aggregate signature check.
// Errors wrap ErrInvalidCertificate.
func (v *Verifier) VerifyQC(q *types.QuorumCertificate) error { return v.v.verifyQC(q) }

// Precheck checks the signatures and certificates m carries, ahead of the
// engine, and remembers the outcome, so that the engine sharing this
// verifier (Params.Verifier) finds them checked and spends no pairing on
// them in its own goroutine (docs/protocol.md, "Signature checks"). A
// proposal's signature, justify QC and DA certificate are checked in one
// pairing product; a Certificates message's certificates one by one. Of
// the proposals of one view only the first that passes is checked: the
// engine takes no other, and refuses them unchecked. Other messages carry
// nothing to check ahead (votes are checked in
// aggregate by the engine) and cost nothing. It returns an error wrapping
// ErrInvalidMessage or ErrInvalidCertificate when a check fails; the
// engine, which takes the message anyway, then finds which part is bad
// and reports its sender. Precheck consults no per-member budget: the
// caller bounds what one member can make it check.
func (v *Verifier) Precheck(m Message) error {
	switch m := m.(type) {
	case *Proposal:
		return v.v.precheckProposal(m)
	case *Certificates:
		if m.QC != nil {
			if err := v.v.checkQC(m.QC, nil); err != nil {
				return err
			}
		}
		if m.DA != nil {
			if err := v.v.verifyDAC(m.DA, nil); err != nil {
				return err
			}
		}
		if m.TC != nil {
			if err := v.v.verifyTC(m.TC, nil); err != nil {
				return err
			}
		}
		if m.ViewSync != nil {
			return v.v.verifyViewSync(m.ViewSync, nil)
		}
	}
	return nil
}

// Views returns the views m is about, for a caller bounding prechecks to
// the views an engine still acts on: a proposal's view, and the lowest
// and highest views of a Certificates message's certificates. ok is false
// for a message Precheck does nothing for.
func Views(m Message) (lo, hi types.ViewNumber, ok bool) {
	switch m := m.(type) {
	case *Proposal:
		return m.Leaf.View, m.Leaf.View, true
	case *Certificates:
		first := true
		add := func(v types.ViewNumber) {
			if first || v < lo {
				lo = v
			}
			if first || v > hi {
				hi = v
			}
			first = false
		}
		if m.QC != nil {
			add(m.QC.View)
		}
		if m.DA != nil {
			add(m.DA.View)
		}
		if m.TC != nil {
			add(m.TC.View)
		}
		if m.ViewSync != nil {
			add(m.ViewSync.Round)
		}
		return lo, hi, !first
	}
	return 0, 0, false
}

// precheckProposal checks what a proposal carries: its signature, justify
// QC and DA certificate, in one product when two or more are new.
func (v *verifier) precheckProposal(p *Proposal) error {
	view, j := p.Leaf.View, &p.Leaf.JustifyQC
	if j.View >= view || p.Leaf.Parent != j.Leaf {
		return nil // malformed: the engine refuses it before any check
	}
	commit := p.Leaf.Commit()
	if first, ok := v.proposals.get(view); ok && first != commit {
		return nil // the engine takes one proposal per view, and refuses this one unchecked
	}
	leader := uint32(v.table.Leader(view))
	if tried, ok := v.batchProposal(view, commit, leader, p.Signature, j, p.DA); tried && !ok {
		return fmt.Errorf("%w: proposal for view %d: its signature and certificates do not verify together", ErrInvalidMessage, view)
	}
	if err := v.verifySingle(kindQuorumVote, view, commit, leader, p.Signature); err != nil {
		return err
	}
	if err := v.checkQC(j, nil); err != nil {
		return err
	}
	if p.DA != nil {
		if err := v.verifyDAC(p.DA, nil); err != nil {
			return err
		}
	}
	v.proposals.putNew(view, commit)
	return nil
}

// verifyDAC checks a DA certificate: its signers are DA committee members
// holding the DA threshold, and one aggregate signature check, asking
// allow (nil allows everything) before it. Outcomes are remembered like a
// timeout certificate's.
func (v *verifier) verifyDAC(c *DACert, allow func() bool) error {
	cc := c.commit()
	err := v.cachedCheck(cc, func() error {
		if err := v.checkDACSigners(c.Signers); err != nil {
			return err
		}
		if err := spend(allow); err != nil {
			return err
		}
		sig, err := keys.SignatureFromBytes(c.Signature)
		if err != nil {
			return fmt.Errorf("%w: %w: %v", ErrInvalidCertificate, errBadSig, err)
		}
		v.checks.Add(1)
		if !v.holds(v.keysOf(c.Signers), kindDAVote, c.View, c.Payload, sig) {
			return fmt.Errorf("%w: %w: aggregate signature does not verify", ErrInvalidCertificate, errBadSig)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("DA certificate for view %d: %w", c.View, err)
	}
	return nil
}

// checkDACSigners checks that a DA certificate's signers are DA committee
// members holding the DA threshold.
func (v *verifier) checkDACSigners(signers types.Bitmap) error {
	if err := v.checkSigners(signers, thresholdDA); err != nil {
		return err
	}
	if !v.table.onlyDA(signers) {
		return fmt.Errorf("%w: a signer is not in the DA committee", ErrInvalidCertificate)
	}
	return nil
}

// commit is what the verifier remembers a DA certificate by.
func (c *DACert) commit() types.Commitment { return certCommit(func(w *writer) { encodeDAC(w, c) }) }

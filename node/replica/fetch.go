package replica

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// FetchRate and FetchBurst bound the requests for missing leaves a replica
// answers per peer (each member, each configured observer): FetchRate a
// second on average, FetchBurst at once. A catching-up peer asks about once
// per fetch timeout per missing chain; a peer asking faster is refused and
// counted (docs/protocol.md, "Serving fetch requests").
const (
	FetchRate  = 20
	FetchBurst = 40
)

// MaxServedLeaves bounds the undecided leaves a FetchServer keeps to answer
// from; past it, the lowest views are dropped first. The engine normally
// holds a handful (a decide every few views).
const MaxServedLeaves = 1024

// Fetch refusals: why FetchServer.Admit turned a request away.
var (
	// ErrFetchNotAllowed refuses a sender that is neither a stake-table
	// member nor a configured observer (Config.FetchObservers).
	ErrFetchNotAllowed = errors.New("replica: fetch request from a peer that is neither a member nor an observer")
	// ErrFetchRate refuses a sender over FetchRate and FetchBurst.
	ErrFetchRate = errors.New("replica: fetch request over the peer's rate")
)

// FetchPeer names the sender of a fetch request.
type FetchPeer struct {
	// Member is the sender's stake-table index, or -1 outside the stake
	// table.
	Member int
	// ID is the sender's network identity. It decides whether a sender
	// outside the stake table is answered (a configured observer) and keys
	// its rate limit; members are keyed by Member.
	ID network.PeerID
}

// FetchStats are a FetchServer's counters.
type FetchStats struct {
	// Answered counts requests answered, and AnsweredBytes the bytes of the
	// answers (frames as sent).
	Answered, AnsweredBytes uint64
	// Refused counts requests not answered because of who sent them: over
	// the peer's rate (FetchRate, FetchBurst), or from a sender that is
	// neither a member nor an observer; NotAllowed counts the latter alone.
	Refused, NotAllowed uint64
}

// FetchServer answers requests for missing leaves (consensus.FetchRequest)
// from the undecided leaves the replica holds and from the decided chain in
// the store (docs/protocol.md, "Serving fetch requests"). Its methods are
// safe for concurrent use, so a driver may answer off the goroutine that
// drives the replica; the replica keeps its undecided leaves up to date.
type FetchServer struct {
	store     storage.BlockStore
	log       *slog.Logger
	observers map[network.PeerID]bool

	mu     sync.Mutex
	limits map[fetchKey]*rate.Limiter
	// leaves are the undecided leaves the engine holds, above the decided
	// height (floor) and not before the decided view.
	leaves     map[types.Commitment]consensus.FetchedLeaf
	floor      uint64
	floorView  types.ViewNumber
	answered   atomic.Uint64
	bytes      atomic.Uint64
	refused    atomic.Uint64
	notAllowed atomic.Uint64
}

// fetchKey is what a rate limit is kept for: a member by index, anyone
// else by identity.
type fetchKey struct {
	member int
	id     network.PeerID
}

// NewFetchServer returns a server that reads decided leaves from store,
// which must be safe for concurrent use (every backend of package storage
// is), and answers members and the given observers. A nil log discards.
func NewFetchServer(store storage.BlockStore, observers []network.PeerID, log *slog.Logger) *FetchServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &FetchServer{store: store, log: log, observers: make(map[network.PeerID]bool),
		limits: make(map[fetchKey]*rate.Limiter), leaves: make(map[types.Commitment]consensus.FetchedLeaf)}
	for _, id := range observers {
		s.observers[id] = true
	}
	return s
}

// Admit reports whether a request from peer at now is to be answered:
// peer must be a member or a configured observer (else ErrFetchNotAllowed)
// within its rate (else ErrFetchRate). Each refusal is counted.
func (s *FetchServer) Admit(peer FetchPeer, now time.Time) error {
	key := fetchKey{member: peer.Member}
	if peer.Member < 0 {
		if !s.observers[peer.ID] {
			s.refused.Add(1)
			s.notAllowed.Add(1)
			return ErrFetchNotAllowed
		}
		key = fetchKey{member: -1, id: peer.ID}
	}
	return s.allow(key, now)
}

// allow takes one request from key's rate limit.
func (s *FetchServer) allow(key fetchKey, now time.Time) error {
	s.mu.Lock()
	lim, ok := s.limits[key]
	if !ok {
		lim = rate.NewLimiter(FetchRate, FetchBurst)
		s.limits[key] = lim
	}
	s.mu.Unlock()
	if !lim.AllowN(now, 1) {
		s.refused.Add(1)
		return ErrFetchRate
	}
	return nil
}

// Serve answers req (a *consensus.FetchRequest or *consensus.HeaderRequest)
// from peer at now: Admit, then Answer. It returns nil when the request is
// refused or names a leaf the node does not hold and has not pruned.
func (s *FetchServer) Serve(ctx context.Context, peer FetchPeer, req consensus.Message, now time.Time) []byte {
	if s.Admit(peer, now) != nil {
		return nil
	}
	return s.Answer(ctx, req)
}

// Answer builds the answer to an admitted request: for a FetchRequest the
// frame of a consensus.FetchResponse (consensus.ServeFetch, so at most
// consensus.MaxFetchLeaves leaves and consensus.MaxFetchBytes of payload),
// for a HeaderRequest that of a consensus.HeaderResponse (at most
// consensus.MaxHeaderLeaves leaves, no payloads). A request for a leaf the
// node does not hold gets a consensus.FetchUnavailable naming the lowest
// height it keeps when its store has pruned (the requester then asks
// another peer at once), and nil otherwise.
func (s *FetchServer) Answer(ctx context.Context, req consensus.Message) []byte {
	var resp consensus.Message
	var id uint64
	switch req := req.(type) {
	case *consensus.FetchRequest:
		id = req.ID
		if r := consensus.ServeFetch(req, func(c types.Commitment) (consensus.FetchedLeaf, bool) { return s.lookup(ctx, c, nil) }); r != nil {
			resp = r
		}
	case *consensus.HeaderRequest:
		id = req.ID
		ahead := make(map[types.Commitment]consensus.FetchedLeaf)
		if r := consensus.ServeHeaders(req, func(c types.Commitment) (types.Leaf, bool) {
			l, ok := s.lookup(ctx, c, func(h uint64) { s.readAhead(ctx, h, req.StopHeight, ahead) })
			if !ok {
				l, ok = ahead[c]
			}
			return l.Leaf, ok
		}); r != nil {
			resp = r
		}
	default:
		return nil
	}
	if resp == nil {
		if p, ok := s.store.(storage.Pruner); ok {
			if first, pruned, err := p.PrunedHeight(ctx); err == nil && pruned {
				resp = &consensus.FetchUnavailable{ID: id, FirstHeight: first}
			}
		}
	}
	if resp == nil {
		return nil
	}
	data, err := EncodeMessage(resp)
	if err != nil {
		s.log.Error("encode fetch response", "err", err)
		return nil
	}
	s.answered.Add(1)
	s.bytes.Add(uint64(len(data)))
	return data
}

// lookup finds leaf c among the undecided leaves, then in the store. When
// the store has it and stored is set, stored is called with its height.
func (s *FetchServer) lookup(ctx context.Context, c types.Commitment, stored func(height uint64)) (consensus.FetchedLeaf, bool) {
	if l, ok := s.leaf(c); ok {
		return l, true
	}
	b, err := s.store.BlockByLeaf(ctx, c)
	if err != nil {
		return consensus.FetchedLeaf{}, false
	}
	if stored != nil {
		stored(b.Height())
	}
	return consensus.FetchedLeaf{Leaf: b.Leaf, Payload: b.Payload}, true
}

// readAhead loads, in one range query where the store can (a QueryStore),
// the stored leaves a header walk from height h down to stop will ask for
// next, into ahead by commitment (at most consensus.MaxHeaderLeaves).
func (s *FetchServer) readAhead(ctx context.Context, h, stop uint64, ahead map[types.Commitment]consensus.FetchedLeaf) {
	q, ok := s.store.(storage.QueryStore)
	if !ok || len(ahead) > 0 || h == 0 {
		return
	}
	from := max(stop+1, h-min(h, consensus.MaxHeaderLeaves))
	blocks, err := q.BlockRange(ctx, from, h, consensus.MaxHeaderLeaves)
	if err != nil {
		return
	}
	for _, b := range blocks {
		ahead[b.Leaf.Commit()] = consensus.FetchedLeaf{Leaf: b.Leaf}
	}
}

// Stats returns the server's counters.
func (s *FetchServer) Stats() FetchStats {
	return FetchStats{Answered: s.answered.Load(), AnsweredBytes: s.bytes.Load(),
		Refused: s.refused.Load(), NotAllowed: s.notAllowed.Load()}
}

func (s *FetchServer) leaf(c types.Commitment) (consensus.FetchedLeaf, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leaves[c]
	return l, ok
}

// hold adds undecided leaves the engine holds. Leaves at or below the
// decided height, or before the decided view, are not kept: the engine has
// dropped them, and the decided one is in the store.
func (s *FetchServer) hold(ls ...consensus.FetchedLeaf) {
	if len(ls) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range ls {
		if l.Leaf.Height() > s.floor && l.Leaf.View >= s.floorView {
			s.leaves[l.Leaf.Commit()] = l
		}
	}
	if over := len(s.leaves) - MaxServedLeaves; over > 0 {
		views := make([]types.ViewNumber, 0, len(s.leaves))
		for _, l := range s.leaves {
			views = append(views, l.Leaf.View)
		}
		slices.SortFunc(views, cmp.Compare)
		cut := views[over-1]
		for c, l := range s.leaves {
			if l.Leaf.View <= cut {
				delete(s.leaves, c)
			}
		}
	}
}

// decided drops the leaves at or below the decided leaf's height and before
// its view, as the engine does; the caller has stored the decided blocks.
func (s *FetchServer) decided(last *types.Leaf) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.floor, s.floorView = last.Height(), last.View
	for c, l := range s.leaves {
		if l.Leaf.Height() <= s.floor || l.Leaf.View < s.floorView {
			delete(s.leaves, c)
		}
	}
}

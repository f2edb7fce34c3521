package memnet

import (
	"sync"
	"time"

	"github.com/gospresso/gospresso/network"
)

// Fate is what a Filter decides for one envelope. The zero Fate delivers it
// at once.
type Fate struct {
	// Drop discards the envelope. It wins over the other fields.
	Drop bool
	// Duplicate delivers the envelope twice.
	Duplicate bool
	// Delay holds the envelope (and its duplicate) back for this long, in real
	// time, before delivering it; zero or less delivers at once. Different
	// delays reorder messages.
	Delay time.Duration
}

// Filter decides the Fate of one envelope: a message from one peer to one
// recipient (a broadcast is filtered once per recipient; topic is "" for
// direct messages). The hub calls it on the sender's goroutine, without
// holding any hub lock, so it may call the hub's methods; it must be safe for
// concurrent use, and it must neither modify nor keep data, which is the
// sender's buffer.
type Filter func(from, to network.PeerID, topic string, data []byte) Fate

// Chain returns a filter that asks each non-nil filter in turn and combines
// their answers: it drops if any drops (later filters are then not asked),
// duplicates if any duplicates, and delays by the sum of the positive delays.
func Chain(filters ...Filter) Filter {
	fs := make([]Filter, 0, len(filters))
	for _, f := range filters {
		if f != nil {
			fs = append(fs, f)
		}
	}
	return func(from, to network.PeerID, topic string, data []byte) Fate {
		var out Fate
		for _, f := range fs {
			fate := f(from, to, topic, data)
			if fate.Drop {
				return Fate{Drop: true}
			}
			out.Duplicate = out.Duplicate || fate.Duplicate
			if fate.Delay > 0 {
				out.Delay += fate.Delay
			}
		}
		return out
	}
}

// DropRate returns a filter that drops each envelope with probability p (p ≤ 0
// never drops, p ≥ 1 drops everything). Its choices are deterministic for a
// seed: the k-th envelope from one peer to another gets the same fate in every
// run, however goroutines interleave (see RandomDelay). Safe for concurrent
// use.
func DropRate(seed int64, p float64) Filter {
	r := newPairRand(seed, saltDrop)
	return func(from, to network.PeerID, _ string, _ []byte) Fate {
		return Fate{Drop: r.float(from, to) < p}
	}
}

// DuplicateRate returns a filter that duplicates each envelope with
// probability p (p ≤ 0 never, p ≥ 1 always), deterministically for a seed like
// DropRate. Safe for concurrent use.
func DuplicateRate(seed int64, p float64) Filter {
	r := newPairRand(seed, saltDuplicate)
	return func(from, to network.PeerID, _ string, _ []byte) Fate {
		return Fate{Duplicate: r.float(from, to) < p}
	}
}

// RandomDelay returns a filter that delays each envelope by a duration drawn
// uniformly from [lo, hi); if hi ≤ lo every envelope is delayed by lo (and a
// delay of zero or less means none). The draw for the k-th envelope from one
// peer to another depends only on the seed, the two ids and k, so a run whose
// senders each send from one goroutine sees the same delays every time,
// whatever the scheduling. Delays reorder messages. Safe for concurrent use.
func RandomDelay(seed int64, lo, hi time.Duration) Filter {
	r := newPairRand(seed, saltDelay)
	return func(from, to network.PeerID, _ string, _ []byte) Fate {
		if hi <= lo {
			return Fate{Delay: lo}
		}
		span := uint64(hi - lo)
		return Fate{Delay: lo + time.Duration(r.next(from, to)%span)}
	}
}

// Salts keep filters built from the same seed independent of each other.
const (
	saltDrop      = 0x6d656d6e65742d64 // "memnet-d"
	saltDuplicate = 0x6d656d6e65742d75 // "memnet-u"
	saltDelay     = 0x6d656d6e65742d6c // "memnet-l"
)

// pairRand draws pseudo-random numbers per (sender, recipient) pair: the k-th
// draw for a pair is a hash of the seed, the salt, both ids and k.
type pairRand struct {
	seed uint64

	mu     sync.Mutex
	counts map[[2]network.PeerID]uint64
}

func newPairRand(seed int64, salt uint64) *pairRand {
	return &pairRand{seed: mix64(uint64(seed) ^ salt), counts: make(map[[2]network.PeerID]uint64)}
}

// next returns the next 64 random bits for the pair from → to.
func (r *pairRand) next(from, to network.PeerID) uint64 {
	key := [2]network.PeerID{from, to}
	r.mu.Lock()
	k := r.counts[key]
	r.counts[key] = k + 1
	r.mu.Unlock()
	x := mix64(r.seed ^ fnv64(string(from)))
	x = mix64(x ^ fnv64(string(to)))
	return mix64(x ^ k)
}

// float returns the next number in [0, 1) for the pair from → to.
func (r *pairRand) float(from, to network.PeerID) float64 {
	return float64(r.next(from, to)>>11) / (1 << 53)
}

// mix64 is the SplitMix64 output function: a bijection that scatters its
// input's bits.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// fnv64 is the 64-bit FNV-1a hash of s.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

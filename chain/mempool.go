package chain

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/gospresso/gospresso/types"
)

// MempoolConfig bounds a mempool.
type MempoolConfig struct {
	// MaxCount is the most transactions held. Default 100000.
	MaxCount int
	// MaxBytes is the most payload bytes held. Default 256 MiB.
	MaxBytes int
	// TTL is how long a transaction may wait before it is dropped. Default 10m.
	TTL time.Duration
	// RecentWindow is how many decided transaction hashes are remembered so
	// that a re-submitted one is ignored. Default 100000.
	RecentWindow int
	// MaxBlockSize is the chain's max_block_size: a transaction that cannot
	// fit a block on its own (its payload and the 8 bytes of its
	// namespace's count and offset, above max_block_size) is refused with
	// ErrTransactionTooLarge, instead of waiting until it expires at the
	// head of the queue, where it would stop every block from taking the
	// transactions behind it. 0: no such bound.
	MaxBlockSize uint64
}

// txBlockBytes is how many bytes of a block payload a transaction of
// payloadLen bytes takes when it is alone in its namespace: its payload,
// its end offset and the namespace's transaction count (4 bytes each).
func txBlockBytes(payloadLen int) uint64 { return uint64(payloadLen) + 8 }

func (c MempoolConfig) withDefaults() MempoolConfig {
	if c.MaxCount <= 0 {
		c.MaxCount = 100000
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 256 << 20
	}
	if c.TTL <= 0 {
		c.TTL = 10 * time.Minute
	}
	if c.RecentWindow <= 0 {
		c.RecentWindow = 100000
	}
	return c
}

// Mempool holds transactions waiting to be sequenced, in arrival order. It is
// bounded in count and bytes, refuses (never blocks) when full, ignores a
// transaction already pending or recently decided, drops transactions once
// decided and expires stale ones. It is safe for concurrent use.
type Mempool struct {
	cfg MempoolConfig

	mu      sync.Mutex
	order   *list.List // of *pendingTx, oldest first
	pending map[TxKey]*list.Element
	bytes   int
	recent  map[TxKey]struct{}
	ring    []TxKey
	next    int
}

type pendingTx struct {
	tx     types.Transaction
	hash   TxKey
	expire time.Time
}

// TxKey identifies a transaction inside the mempool and the builder: a
// SHA-256 of its namespace and payload. It stands in for the transaction
// commitment (a Keccak hash, several times slower) wherever only identity
// matters; the commitment is computed where clients see it.
type TxKey [32]byte

// KeyOf returns tx's TxKey.
func KeyOf(tx *types.Transaction) TxKey {
	h := sha256.New()
	var ns [8]byte
	binary.BigEndian.PutUint64(ns[:], tx.Namespace)
	h.Write(ns[:])
	h.Write(tx.Payload)
	return TxKey(h.Sum(nil))
}

// NewMempool returns an empty mempool.
func NewMempool(cfg MempoolConfig) *Mempool {
	cfg = cfg.withDefaults()
	return &Mempool{
		cfg: cfg, order: list.New(),
		pending: make(map[TxKey]*list.Element),
		recent:  make(map[TxKey]struct{}),
		ring:    make([]TxKey, cfg.RecentWindow),
	}
}

// Add queues tx, received at now. It reports whether the transaction is new
// (false when it is already pending or was decided recently).
func (m *Mempool) Add(tx types.Transaction, now time.Time) (bool, error) {
	h := KeyOf(&tx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[h]; ok {
		return false, nil
	}
	if _, ok := m.recent[h]; ok {
		return false, nil
	}
	if n := txBlockBytes(len(tx.Payload)); m.cfg.MaxBlockSize > 0 && n > m.cfg.MaxBlockSize {
		return false, fmt.Errorf("%w: a transaction of %d bytes takes %d bytes of a block, above max_block_size %d",
			ErrTransactionTooLarge, len(tx.Payload), n, m.cfg.MaxBlockSize)
	}
	if len(tx.Payload) > m.cfg.MaxBytes {
		return false, fmt.Errorf("%w: %d bytes, the mempool holds at most %d", ErrTransactionTooLarge, len(tx.Payload), m.cfg.MaxBytes)
	}
	if m.order.Len() >= m.cfg.MaxCount || m.bytes+len(tx.Payload) > m.cfg.MaxBytes {
		return false, fmt.Errorf("%w: %d transactions, %d bytes pending (limits %d, %d)", ErrMempoolFull, m.order.Len(), m.bytes, m.cfg.MaxCount, m.cfg.MaxBytes)
	}
	m.pending[h] = m.order.PushBack(&pendingTx{tx: tx, hash: h, expire: now.Add(m.cfg.TTL)})
	m.bytes += len(tx.Payload)
	return true, nil
}

// Known reports whether tx is pending or was decided recently.
func (m *Mempool) Known(tx *types.Transaction) bool {
	h := KeyOf(tx)
	m.mu.Lock()
	defer m.mu.Unlock()
	_, pending := m.pending[h]
	_, recent := m.recent[h]
	return pending || recent
}

// Len returns the number of pending transactions.
func (m *Mempool) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}

// Bytes returns the payload bytes pending.
func (m *Mempool) Bytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Pending reports whether any transaction waits.
func (m *Mempool) Pending() bool { return m.Len() > 0 }

// Select returns pending transactions in arrival order, skipping those in
// exclude, until fit rejects one (fit sees each candidate and returns false
// when it would not fit; selection stops there, keeping arrival order fair).
// Expired transactions met on the way are dropped; being oldest first, they
// are met first. Selected transactions stay pending until Decided removes
// them.
func (m *Mempool) Select(now time.Time, exclude map[TxKey]struct{}, fit func(types.Transaction) bool) []types.Transaction {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []types.Transaction
	for e := m.order.Front(); e != nil; {
		p := e.Value.(*pendingTx)
		next := e.Next()
		if now.After(p.expire) {
			m.remove(e)
		} else if _, skip := exclude[p.hash]; !skip {
			if !fit(p.tx) {
				break
			}
			out = append(out, p.tx)
		}
		e = next
	}
	return out
}

func (m *Mempool) remove(e *list.Element) {
	p := m.order.Remove(e).(*pendingTx)
	delete(m.pending, p.hash)
	m.bytes -= len(p.tx.Payload)
}

// Decided removes decided transactions and remembers them, so that the same
// bytes submitted again soon are ignored.
func (m *Mempool) Decided(txs []types.Transaction) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range txs {
		h := KeyOf(&txs[i])
		if e, ok := m.pending[h]; ok {
			m.remove(e)
		}
		if _, ok := m.recent[h]; ok {
			continue
		}
		if old := m.ring[m.next]; old != (TxKey{}) {
			delete(m.recent, old)
		}
		m.ring[m.next] = h
		m.next = (m.next + 1) % len(m.ring)
		m.recent[h] = struct{}{}
	}
}

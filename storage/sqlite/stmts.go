package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// txBatchLevels is the number of prepared multi-row transaction inserts;
// insert i has txBatchSize(i) rows, and any count is inserted as a sum of
// them, largest first.
const txBatchLevels = 5

// txBatchSize is the row count of multi-row insert i: 256, 64, 16, 4, 1.
func txBatchSize(i int) int { return 256 >> (2 * i) }

// txColumns is the number of columns of one transactions row.
const txColumns = 6

// writeStmts are the writer connection's prepared statements.
type writeStmts struct {
	bounds          *sql.Stmt
	leafHashAt      *sql.Stmt
	aggregateAt     *sql.Stmt
	insertHeader    *sql.Stmt
	insertLeaf      *sql.Stmt
	insertPayload   *sql.Stmt
	insertAggregate *sql.Stmt
	insertNamespace *sql.Stmt
	insertTxs       [txBatchLevels]*sql.Stmt
	deleteProposals *sql.Stmt
	saveSafety      *sql.Stmt
	saveProposal    *sql.Stmt
	saveState       *sql.Stmt
	pruneHeaders    *sql.Stmt
	setPruned       *sql.Stmt
	resetPruned     *sql.Stmt
}

// blockColumns selects what decodeBlock needs, from leaf l and payload p.
const blockColumns = `l.height, l.data, p.ns_table, p.data`

// readStmts are prepared on the reader pool (database/sql prepares them on
// each connection as it is used).
type readStmts struct {
	loadSafety         *sql.Stmt
	loadProposals      *sql.Stmt
	loadState          *sql.Stmt
	blockByHeight      *sql.Stmt
	blockByLeaf        *sql.Stmt
	blockByHash        *sql.Stmt
	blockByPayloadHash *sql.Stmt
	lastBlock          *sql.Stmt
	blockRange         *sql.Stmt
	txByHash           *sql.Stmt
	txAt               *sql.Stmt
	payloadAt          *sql.Stmt
	bounds             *sql.Stmt
	prunedHeight       *sql.Stmt
	namespaceHeights   *sql.Stmt
	sums               *sql.Stmt
	headersIn          *sql.Stmt
	headerBefore       *sql.Stmt
	headerFrom         *sql.Stmt
	heightBefore       *sql.Stmt
	liveSize           *sql.Stmt
}

// boundsQuery returns the lowest and highest stored heights (NULL, NULL when
// empty); each subquery is a single index probe.
const boundsQuery = `SELECT (SELECT min(height) FROM header), (SELECT max(height) FROM header)`

// preparer prepares statements in turn, keeping the first error and the
// text of every query (tests check their plans).
type preparer struct {
	ctx     context.Context
	db      *sql.DB
	err     error
	done    []*sql.Stmt
	queries []string
}

func (p *preparer) prep(query string) *sql.Stmt {
	p.queries = append(p.queries, query)
	if p.err != nil {
		return nil
	}
	st, err := p.db.PrepareContext(p.ctx, query)
	if err != nil {
		p.err = fmt.Errorf("prepare %q: %w", firstLine(query), err)
		return nil
	}
	p.done = append(p.done, st)
	return st
}

// fail closes what was prepared and returns the error.
func (p *preparer) fail() error {
	for _, st := range p.done {
		st.Close()
	}
	return p.err
}

// firstLine shortens a query for messages: its first line, at most 80
// bytes.
func firstLine(q string) string {
	q = strings.TrimSpace(q)
	short := q
	if i := strings.IndexByte(short, '\n'); i >= 0 {
		short = short[:i]
	}
	if len(short) > 80 {
		short = short[:80]
	}
	if short != q {
		short += " ..."
	}
	return short
}

// insertTxsQuery is a multi-row insert of n transactions rows.
func insertTxsQuery(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR ROLLBACK INTO transactions (height, idx, hash, ns, offset, size) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?)")
	}
	return b.String()
}

// prepareWrite prepares the writer's statements with p; on error (p.err)
// the caller closes those prepared with p.fail.
func prepareWrite(p *preparer) *writeStmts {
	s := &writeStmts{
		bounds:      p.prep(boundsQuery),
		leafHashAt:  p.prep(`SELECT hash FROM leaf WHERE height = ?`),
		aggregateAt: p.prep(`SELECT cum_transactions, cum_payload_size FROM aggregate WHERE height = ?`),
		insertHeader: p.prep(`INSERT INTO header (height, hash, payload_hash, timestamp, data)
			VALUES (?, ?, ?, ?, ?)`),
		insertLeaf: p.prep(`INSERT INTO leaf (height, hash, view, data) VALUES (?, ?, ?, ?)`),
		insertPayload: p.prep(`INSERT INTO payload (height, size, num_transactions, ns_table, data)
			VALUES (?, ?, ?, ?, ?)`),
		insertAggregate: p.prep(`INSERT INTO aggregate
			(height, num_transactions, payload_size, cum_transactions, cum_payload_size)
			VALUES (?, ?, ?, ?, ?)`),
		insertNamespace: p.prep(`INSERT INTO namespace (ns, height) VALUES (?, ?)`),
		deleteProposals: p.prep(`DELETE FROM proposals WHERE view <= ?`),
		saveSafety: p.prep(`INSERT INTO safety (id, data) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data`),
		saveProposal: p.prep(`INSERT INTO proposals (view, digest, data) VALUES (?, ?, ?)
			ON CONFLICT (view, digest) DO NOTHING`),
		// A lower height than the stored snapshot's changes nothing.
		saveState: p.prep(`INSERT INTO chain_state (id, height, data) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET height = excluded.height, data = excluded.data
			WHERE excluded.height >= chain_state.height`),
		pruneHeaders: p.prep(`DELETE FROM header WHERE height < ?`),
		setPruned: p.prep(`INSERT INTO pruned_height (id, height) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET height = max(height, excluded.height)`),
		resetPruned: p.prep(`DELETE FROM pruned_height`),
	}
	for i := range txBatchLevels {
		s.insertTxs[i] = p.prep(insertTxsQuery(txBatchSize(i)))
	}
	return s
}

// prepareRead prepares the readers' statements with p, like prepareWrite.
func prepareRead(p *preparer) *readStmts {
	s := &readStmts{
		loadSafety:    p.prep(`SELECT data FROM safety WHERE id = 1`),
		loadProposals: p.prep(`SELECT view, data FROM proposals ORDER BY view, id`),
		loadState:     p.prep(`SELECT height, data FROM chain_state WHERE id = 1`),
		blockByHeight: p.prep(`SELECT ` + blockColumns + `
			FROM leaf l JOIN payload p ON p.height = l.height WHERE l.height = ?`),
		blockByLeaf: p.prep(`SELECT ` + blockColumns + `
			FROM leaf l JOIN payload p ON p.height = l.height WHERE l.hash = ?`),
		blockByHash: p.prep(`SELECT ` + blockColumns + `
			FROM header h JOIN leaf l ON l.height = h.height JOIN payload p ON p.height = h.height
			WHERE h.hash = ?`),
		blockByPayloadHash: p.prep(`SELECT ` + blockColumns + `
			FROM header h JOIN leaf l ON l.height = h.height JOIN payload p ON p.height = h.height
			WHERE h.payload_hash = ? ORDER BY h.height LIMIT 1`),
		lastBlock: p.prep(`SELECT ` + blockColumns + `
			FROM leaf l JOIN payload p ON p.height = l.height
			WHERE l.height = (SELECT max(height) FROM leaf)`),
		blockRange: p.prep(`SELECT ` + blockColumns + `
			FROM leaf l JOIN payload p ON p.height = l.height
			WHERE l.height >= ? AND l.height < ? ORDER BY l.height LIMIT ?`),
		txByHash: p.prep(`SELECT height, idx FROM transactions WHERE hash = ? ORDER BY height, idx LIMIT 1`),
		txAt: p.prep(`SELECT t.ns, t.offset,
				CASE WHEN t.offset >= 0 THEN substr(p.data, t.offset + 1, t.size) END
			FROM transactions t JOIN payload p ON p.height = t.height
			WHERE t.height = ? AND t.idx = ?`),
		payloadAt:        p.prep(`SELECT ns_table, data FROM payload WHERE height = ?`),
		bounds:           p.prep(boundsQuery),
		prunedHeight:     p.prep(`SELECT height FROM pruned_height WHERE id = 1`),
		namespaceHeights: p.prep(`SELECT height FROM namespace WHERE ns = ? AND height >= ? ORDER BY height LIMIT ?`),
		// The first block in [from, until) gives the running totals before
		// the range, the last block below until those at its end.
		sums: p.prep(`SELECT lo.height, lo.txs, lo.size, hi.txs, hi.size
			FROM (SELECT height, cum_transactions - num_transactions AS txs,
					cum_payload_size - payload_size AS size
				FROM aggregate WHERE height >= ?1 ORDER BY height LIMIT 1) AS lo,
			     (SELECT cum_transactions AS txs, cum_payload_size AS size
				FROM aggregate WHERE height < ?2 ORDER BY height DESC LIMIT 1) AS hi`),
		headersIn: p.prep(`SELECT data FROM header WHERE timestamp >= ? AND timestamp < ?
			ORDER BY timestamp, height LIMIT ?`),
		headerBefore: p.prep(`SELECT data FROM header WHERE timestamp < ?
			ORDER BY timestamp DESC, height DESC LIMIT 1`),
		headerFrom: p.prep(`SELECT data FROM header WHERE timestamp >= ?
			ORDER BY timestamp, height LIMIT 1`),
		heightBefore: p.prep(`SELECT height FROM header WHERE timestamp < ?
			ORDER BY timestamp DESC, height DESC LIMIT 1`),
		liveSize: p.prep(`SELECT (SELECT page_count FROM pragma_page_count()),
			(SELECT freelist_count FROM pragma_freelist_count()),
			(SELECT page_size FROM pragma_page_size())`),
	}
	return s
}

// closeStmts closes every statement, returning the first error.
func closeStmts(sts ...*sql.Stmt) error {
	var errs []error
	for _, st := range sts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

func (s *writeStmts) close() error {
	all := []*sql.Stmt{s.bounds, s.leafHashAt, s.aggregateAt, s.insertHeader, s.insertLeaf,
		s.insertPayload, s.insertAggregate, s.insertNamespace, s.deleteProposals, s.saveSafety,
		s.saveProposal, s.saveState, s.pruneHeaders, s.setPruned, s.resetPruned}
	all = append(all, s.insertTxs[:]...)
	return closeStmts(all...)
}

func (s *readStmts) close() error {
	return closeStmts(s.loadSafety, s.loadProposals, s.loadState, s.blockByHeight, s.blockByLeaf, s.blockByHash,
		s.blockByPayloadHash, s.lastBlock, s.blockRange, s.txByHash, s.txAt, s.payloadAt, s.bounds,
		s.prunedHeight, s.namespaceHeights, s.sums, s.headersIn, s.headerBefore, s.headerFrom, s.heightBefore, s.liveSize)
}

package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// blockColumns selects a whole block: leaf (with certificate), namespace
// table and payload, from header h joined with leaf l and payload p.
const blockColumns = "l.data, p.ns_table, p.data"

// blockJoin joins the tables of a block on the header's height.
const blockJoin = "header h JOIN leaf l ON l.height = h.height JOIN payload p ON p.height = h.height"

// lockHeld is an SQL condition true while the store's lock connection
// holds the schema lock ($1 its backend pid, $2 and $3 the key halves).
const lockHeld = `EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
	AND pid = $1 AND classid::bigint = $2 AND objid::bigint = $3 AND objsubid = 1)`

// rangeSumSQL sums column own of header over the stored part of [$1, $2)
// through its running total cum, and reads the pruned height.
func rangeSumSQL(own, cum string) string {
	return `WITH r AS (SELECT greatest($1::bigint, min(height)) AS a, least($2::bigint - 1, max(height)) AS b FROM header)
		SELECT (SELECT last_height FROM pruned_height WHERE id = 0), r.a, r.b,
			(SELECT ` + cum + ` - ` + own + ` FROM header WHERE height = r.a),
			(SELECT ` + cum + ` FROM header WHERE height = r.b)
		FROM r`
}

// pooled are the statements run on the pool, by name. They are prepared
// once per connection (database/sql re-prepares them on new connections),
// which saves parsing and planning and gets byte strings back in binary.
// The map is never modified.
var pooled = map[string]string{
	"load_safety": "SELECT data FROM safety WHERE id = 0",
	"save_safety": `WITH lock AS (SELECT ` + lockHeld + ` AS held),
		upsert AS (INSERT INTO safety (id, data) SELECT 0, $4 FROM lock WHERE held
			ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data RETURNING 1)
		SELECT held FROM lock`,
	"save_proposal": `WITH lock AS (SELECT ` + lockHeld + ` AS held),
		ins AS (INSERT INTO proposals (view_number, hash, data) SELECT $4, $5, $6 FROM lock WHERE held
			ON CONFLICT (view_number, hash) DO NOTHING RETURNING 1)
		SELECT held FROM lock`,
	"load_proposals": "SELECT view_number, data FROM proposals ORDER BY view_number, id",
	// A lower height than the stored snapshot's changes nothing.
	"save_state": `WITH lock AS (SELECT ` + lockHeld + ` AS held),
		upsert AS (INSERT INTO chain_state (id, height, data) SELECT 0, $4, $5 FROM lock WHERE held
			ON CONFLICT (id) DO UPDATE SET height = EXCLUDED.height, data = EXCLUDED.data
			WHERE chain_state.height <= EXCLUDED.height RETURNING 1)
		SELECT held FROM lock`,
	"load_state": "SELECT height, data FROM chain_state WHERE id = 0",

	"last_decided":          "SELECT " + blockColumns + " FROM " + blockJoin + " ORDER BY h.height DESC LIMIT 1",
	"block_by_height":       "SELECT " + blockColumns + " FROM " + blockJoin + " WHERE h.height = $1",
	"block_by_leaf":         "SELECT " + blockColumns + " FROM " + blockJoin + " WHERE l.hash = $1",
	"block_by_hash":         "SELECT " + blockColumns + " FROM " + blockJoin + " WHERE h.hash = $1",
	"block_by_payload_hash": "SELECT " + blockColumns + " FROM " + blockJoin + " WHERE h.payload_hash = $1 ORDER BY h.height LIMIT 1",
	"block_range":           "SELECT h.height, " + blockColumns + " FROM " + blockJoin + " WHERE h.height >= $1 AND h.height < $2 ORDER BY h.height LIMIT $3",
	"transaction_by_hash":   "SELECT height, idx FROM transactions WHERE hash = $1 ORDER BY height, idx LIMIT 1",
	"block_height":          "SELECT coalesce(max(height) + 1, 0) FROM header",
	"transaction_at": `SELECT t.namespace, t.tx_offset,
		CASE WHEN t.tx_offset IS NULL THEN NULL ELSE substring(p.data FROM (t.tx_offset + 1)::integer FOR t.tx_length::integer) END
		FROM transactions t JOIN payload p ON p.height = t.height WHERE t.height = $1 AND t.idx = $2`,
	"namespace_heights": "SELECT height FROM namespace WHERE namespace = $1 AND height >= $2 ORDER BY height LIMIT $3",
	"transaction_count": rangeSumSQL("num_transactions", "cum_transactions"),
	"payload_bytes":     rangeSumSQL("payload_size", "cum_payload_size"),
	"header_window": `SELECT kind, data FROM (
		(SELECT 0 AS kind, timestamp, height, data FROM header WHERE timestamp < $1 ORDER BY timestamp DESC, height DESC LIMIT 1)
		UNION ALL
		(SELECT 1, timestamp, height, data FROM header WHERE timestamp >= $1 AND timestamp < $2 ORDER BY timestamp, height LIMIT $3 + 1)
		UNION ALL
		(SELECT 2, timestamp, height, data FROM header WHERE timestamp >= greatest($1, $2) ORDER BY timestamp, height LIMIT 1)
		) w ORDER BY kind, timestamp, height`,

	"pruned_height": "SELECT last_height FROM pruned_height WHERE id = 0",
	"live_size": `SELECT (SELECT bytes FROM live_size WHERE id = 0)
		+ (SELECT coalesce(sum(octet_length(data) + 16 + 32), 0) FROM proposals)::bigint
		+ (SELECT coalesce(sum(octet_length(data)), 0) FROM safety)::bigint
		+ (SELECT coalesce(sum(octet_length(data) + 8), 0) FROM chain_state)::bigint`,
	"height_before": "SELECT height FROM header WHERE timestamp < $1 ORDER BY timestamp DESC, height DESC LIMIT 1",
	"first_height":  "SELECT min(height) FROM header",
}

// prepare prepares the pooled statements.
func (s *Store) prepare(ctx context.Context) error {
	s.stmts = make(map[string]*sql.Stmt, len(pooled))
	for name, q := range pooled {
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("postgres: prepare %s: %w", name, ctxErr(ctx, err))
		}
		s.stmts[name] = st
	}
	return nil
}

// poolRow runs the pooled statement name for one row and scans it;
// sql.ErrNoRows when there is none.
func (s *Store) poolRow(ctx context.Context, name string, args []any, dest ...any) error {
	defer s.timed(name, time.Now())
	return s.stmts[name].QueryRowContext(ctx, args...).Scan(dest...)
}

// poolRows runs the pooled statement name and calls row for every row.
func (s *Store) poolRows(ctx context.Context, name string, args []any, row func(*sql.Rows) error) error {
	defer s.timed(name, time.Now())
	rows, err := s.stmts[name].QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	return eachRow(rows, row)
}

// eachRow calls row for every row and closes rows.
func eachRow(rows *sql.Rows, row func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/storage/storagetest"
)

// queryPlan returns the EXPLAIN QUERY PLAN lines of query, with NULL for
// every parameter.
func queryPlan(ctx context.Context, t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	args := make([]any, strings.Count(query, "?"))
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %q: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestQueryPlans checks that every statement the store prepares reads
// through an index: no full table scan (except of the one-row tables and
// of all proposals, which LoadProposals returns in full) and no sort.
func TestQueryPlans(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.SaveDecided(ctx, storagetest.Chain(20, 3, 32)); err != nil {
		t.Fatal(err)
	}
	pw := &preparer{ctx: ctx, db: s.w}
	prepareWrite(pw)
	pr := &preparer{ctx: ctx, db: s.r}
	prepareRead(pr)
	for _, p := range []*preparer{pw, pr} {
		if p.err != nil {
			t.Fatal(p.err)
		}
		p.fail() // close the statements prepared for the test
	}
	allowedScans := []string{
		"SCAN CONSTANT ROW",
		"SCAN pragma_",       // page_count, freelist_count, page_size
		"SCAN pruned_height", // at most one row
		"SCAN proposals USING INDEX proposals_view",
		"SCAN lo", "SCAN hi", // the one-row subqueries of the sums
	}
	for _, q := range append(pw.queries, pr.queries...) {
		plan := queryPlan(ctx, t, s.r, q)
		t.Logf("%s\n\t%s", firstLine(q), strings.Join(plan, "\n\t"))
		for _, step := range plan {
			if strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%q sorts: %s", firstLine(q), step)
			}
			if !strings.HasPrefix(step, "SCAN ") {
				continue
			}
			ok := strings.HasSuffix(step, "-ROW VALUES CLAUSE") // the rows an INSERT inserts
			for _, a := range allowedScans {
				ok = ok || strings.HasPrefix(step, a)
			}
			if !ok {
				t.Errorf("%q scans: %s", firstLine(q), step)
			}
		}
	}
	// The main lookups use the index meant for them.
	main := []struct {
		query string
		want  string
	}{
		{`SELECT ` + blockColumns + ` FROM leaf l JOIN payload p ON p.height = l.height WHERE l.height = ?`, "SEARCH l USING INTEGER PRIMARY KEY"},
		{`SELECT ` + blockColumns + ` FROM leaf l JOIN payload p ON p.height = l.height WHERE l.hash = ?`, "SEARCH l USING INDEX sqlite_autoindex_leaf_1 (hash=?)"},
		{`SELECT height, idx FROM transactions WHERE hash = ? ORDER BY height, idx LIMIT 1`, "SEARCH transactions USING COVERING INDEX transactions_hash (hash=?)"},
		{`SELECT height FROM namespace WHERE ns = ? AND height >= ? ORDER BY height LIMIT ?`, "SEARCH namespace USING PRIMARY KEY (ns=? AND height>?)"},
		{`SELECT data FROM header WHERE timestamp >= ? AND timestamp < ? ORDER BY timestamp, height LIMIT ?`, "SEARCH header USING INDEX header_timestamp (timestamp>? AND timestamp<?)"},
	}
	for _, m := range main {
		if !containsQuery(pr.queries, m.query) {
			t.Errorf("the store does not prepare %q", m.query)
			continue
		}
		plan := strings.Join(queryPlan(ctx, t, s.r, m.query), "\n")
		if !strings.Contains(plan, m.want) {
			t.Errorf("plan of %q:\n%s\nwant %s", m.query, plan, m.want)
		}
	}
}

// containsQuery reports whether queries holds q, ignoring whitespace.
func containsQuery(queries []string, q string) bool {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, x := range queries {
		if norm(x) == norm(q) {
			return true
		}
	}
	return false
}

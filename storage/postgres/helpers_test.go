package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/internal/pgtest"

	"github.com/lib/pq"
)

// The environment the Postgres tests read.
const (
	envURI     = pgtest.EnvURI
	envRequire = pgtest.EnvRequire
	exampleURI = pgtest.ExampleURI
)

// testURI returns the server URI, skipping or failing the test as
// postgresEnv says. An unreachable server fails the test: whoever set the
// variable wants the tests run.
func testURI(tb testing.TB) string {
	tb.Helper()
	return pgtest.URI(tb)
}

// adminDB connects to the test server outside any store.
func adminDB(tb testing.TB, uri string) *sql.DB {
	tb.Helper()
	c, err := pq.NewConnector(uri)
	if err != nil {
		tb.Fatalf("%s: %v", envURI, err)
	}
	db := sql.OpenDB(c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		tb.Fatalf("Postgres at %s=%s is unreachable: %v", envURI, RedactURI(uri), err)
	}
	return db
}

// testConfig returns a Config for a new schema of the test server, dropped
// when the test ends (after the stores opened later are closed).
func testConfig(tb testing.TB) Config {
	tb.Helper()
	uri := testURI(tb)
	admin := adminDB(tb, uri)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "gospresso_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pq.QuoteIdentifier(schema)+" CASCADE"); err != nil {
			tb.Errorf("drop test schema %s: %v", schema, err)
		}
		admin.Close()
	})
	return Config{URI: uri, Schema: schema, MaxConnections: 8}
}

// openStore opens cfg and closes the store when the test ends.
func openStore(tb testing.TB, cfg Config, opts ...Option) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, cfg, opts...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresEnv(t *testing.T) {
	tests := []struct {
		name              string
		env               map[string]string
		uri, skip, fail   bool
		skipMentionsHowTo bool
	}{
		{"unset", map[string]string{}, false, true, false, true},
		{"unset, required", map[string]string{envRequire: "1"}, false, false, true, false},
		{"set", map[string]string{envURI: exampleURI}, true, false, false, false},
		{"set, required", map[string]string{envURI: exampleURI, envRequire: "1"}, true, false, false, false},
		{"required is not 1", map[string]string{envRequire: "0"}, false, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri, skip, fail := pgtest.Env(func(k string) string { return tt.env[k] })
			if (uri != "") != tt.uri || (skip != "") != tt.skip || (fail != "") != tt.fail {
				t.Fatalf("got uri %q skip %q fail %q", uri, skip, fail)
			}
			if tt.skipMentionsHowTo && !(strings.Contains(skip, envURI) && strings.Contains(skip, exampleURI)) {
				t.Errorf("skip message %q does not say how to run the tests", skip)
			}
			if tt.fail && !strings.Contains(fail, envURI) {
				t.Errorf("failure message %q does not name %s", fail, envURI)
			}
		})
	}
}

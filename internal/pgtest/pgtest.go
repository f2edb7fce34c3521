// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by GOSPRESSO_TEST_POSTGRES. Without the variable the test is
// skipped with a message saying how to run it, unless
// GOSPRESSO_REQUIRE_POSTGRES=1 (CI), where the missing server fails it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/lib/pq"
)

// The environment the Postgres tests read.
const (
	EnvURI     = "GOSPRESSO_TEST_POSTGRES"
	EnvRequire = "GOSPRESSO_REQUIRE_POSTGRES"
	ExampleURI = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// Env decides from the environment whether the Postgres tests run: the URI
// to use, or a skip message, or (when they are mandatory) a failure message.
func Env(getenv func(string) string) (uri, skip, fail string) {
	uri = getenv(EnvURI)
	switch {
	case uri != "":
		return uri, "", ""
	case getenv(EnvRequire) == "1":
		return "", "", fmt.Sprintf("%s=1 but %s is not set: the Postgres tests are mandatory here (set it to a server URI such as %s)", EnvRequire, EnvURI, ExampleURI)
	}
	return "", fmt.Sprintf("Postgres tests skipped: set %s to a server URI to run them, e.g. %s=%s go test ./...", EnvURI, EnvURI, ExampleURI), ""
}

// URI returns the server URI, skipping or failing tb as Env says.
func URI(tb testing.TB) string {
	tb.Helper()
	uri, skip, fail := Env(os.Getenv)
	switch {
	case fail != "":
		tb.Fatal(fail)
	case skip != "":
		tb.Skip(skip)
	}
	return uri
}

// Schema returns the server URI and the name of a fresh schema (prefix plus
// random hex) that is dropped when the test ends, after the stores the test
// opened are closed. The schema itself is created by whoever opens it.
func Schema(tb testing.TB, prefix string) (uri, schema string) {
	tb.Helper()
	uri = URI(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema = prefix + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		connector, err := pq.NewConnector(uri)
		if err != nil {
			tb.Errorf("cleanup: %v", err)
			return
		}
		db := sql.OpenDB(connector)
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pq.QuoteIdentifier(schema)+" CASCADE"); err != nil {
			tb.Errorf("cleanup: drop schema %s: %v", schema, err)
		}
	})
	return uri, schema
}

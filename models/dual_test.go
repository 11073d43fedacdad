package models

import (
	"context"
	"sync"
	"testing"

	"lectern/internal/pgtest"
)

// The store tests run on SQLite, and on PostgreSQL too with LECTERN_TEST_STORE=postgres
// (one server for the binary, the template migrated once, a fresh database per test).
func TestMain(m *testing.M) {
	pgtest.Main(m, func(ctx context.Context, templateURL string) error {
		s, err := OpenURL(ctx, templateURL, "")
		if err != nil {
			return err
		}
		return s.Close()
	})
}

// testDBs maps a test's data directory to its PostgreSQL database, so that opening the same
// directory again (a restart, a second process) opens the same database.
var testDBs sync.Map

// testOpen opens the store of dir: its SQLite file, or under PostgreSQL the database that
// stands for dir.
func testOpen(t testing.TB, ctx context.Context, dir string) (*Store, error) {
	t.Helper()
	if !pgtest.Enabled() {
		return Open(ctx, dir)
	}
	u, ok := testDBs.Load(dir)
	if !ok {
		u, _ = testDBs.LoadOrStore(dir, pgtest.NewDatabase(t))
	}
	return OpenURL(ctx, u.(string), dir)
}

// sqliteOnly skips a test of SQLite's own behaviour (its file, its pragmas) under PostgreSQL.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if pgtest.Enabled() {
		t.Skip("tests SQLite's file and pragmas")
	}
}

package pgtest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) { Main(m, nil) }

// A database from NewDatabase is fresh (what one test writes, the next does not see) and
// reachable at the URL given; Stop (by Main) removes the server's directory.
func TestNewDatabaseIsFresh(t *testing.T) {
	if !Enabled() {
		if _, err := os.Stat(filepath.Join(Bin, "initdb")); err != nil {
			t.Skip("no PostgreSQL installed (Debian's postgresql package)")
		}
		t.Skip("needs " + EnvStore + "=postgres")
	}
	ctx := context.Background()
	for i := range 2 {
		db, err := sql.Open("pgx", NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'marker'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("database %d: %d marker tables %v, want a fresh database", i, n, err)
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE marker (x int)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

// Start and Stop on their own: the server runs as the postgres user when root, and its
// temporary directory is gone afterwards.
func TestStartStop(t *testing.T) {
	if !Enabled() {
		t.Skip("needs " + EnvStore + "=postgres")
	}
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := s.dir
	if err := s.exec(context.Background(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("server directory %s left behind: %v", dir, err)
	}
	if s.cmd.ProcessState == nil {
		t.Fatal("Stop returned before the server exited")
	}
}

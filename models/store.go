// Package models holds Lectern's domain types and its store: an SQLite file in the data
// directory by default, or PostgreSQL when several nodes share one. It is the only package
// that speaks SQL.
package models

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// The migrations of each engine, with the same file names: a migration is recorded under
// "migrations/NAME" whichever engine ran it (the name SQLite stores recorded before there
// were two directories, so they are not migrated again).
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Store is the database: the SQLite file in the data directory, or PostgreSQL.
type Store struct {
	db *pool
}

// IsPostgresURL reports whether store names a PostgreSQL database rather than the SQLite
// file in the data directory.
func IsPostgresURL(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// OpenURL opens the store named by store: "" or "sqlite" is the SQLite file in dir (as
// Open), a postgres:// URL is that PostgreSQL database. Pending migrations are applied.
func OpenURL(ctx context.Context, store, dir string) (*Store, error) {
	switch {
	case store == "" || store == "sqlite":
		return Open(ctx, dir)
	case IsPostgresURL(store):
		return openPostgres(ctx, store)
	}
	return nil, fmt.Errorf("store %q: want sqlite or a postgres:// URL", store)
}

// openPostgres opens a PostgreSQL store. Nodes of a cluster may start together: migrations
// run under an advisory lock, so one node applies them and the others find them done.
func openPostgres(ctx context.Context, url string) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{db: newPool(db, postgresDialect)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Dialect names the engine behind the store: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.db.dialect.String() }

// DBFile is the database's file name inside the data directory.
const DBFile = "lectern.db"

// Open opens (creating if needed) the store in dir and applies pending migrations.
// Several processes may open the same directory at once (the server and the admin CLI):
// WAL mode and a busy timeout let them take turns instead of failing. At most MaxConns
// connections are open (see pool).
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	dsn := "file:" + filepath.Join(dir, DBFile) +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{db: newPool(db, sqliteDialect)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// migrationLock is the PostgreSQL advisory lock key that serialises migrations across
// nodes (any constant; "lect" in ASCII).
const migrationLock = 0x6c656374

// migrate applies, in name order, every embedded migration of the store's engine not yet
// recorded.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if err := s.lockMigrations(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/"+s.db.dialect.String()+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, file := range files {
		if err := s.applyMigration(ctx, file); err != nil {
			return fmt.Errorf("migrate %s: %w", file, err)
		}
	}
	return nil
}

// lockMigrations makes the other PostgreSQL nodes wait until tx ends (SQLite's immediate
// transactions already run one at a time).
func (s *Store) lockMigrations(ctx context.Context, tx *txn) error {
	if s.db.dialect != postgresDialect {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, file string) error {
	body, err := migrations.ReadFile(file)
	if err != nil {
		return err
	}
	name := "migrations/" + path.Base(file)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.lockMigrations(ctx, tx); err != nil {
		return err
	}
	var seen int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&seen); err != nil {
		return err
	}
	if seen > 0 {
		return nil
	}
	for _, stmt := range strings.Split(string(body), ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		// Statements go to the engine as written: a migration has no placeholders.
		if _, err := tx.tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)`, name, time.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// Package pgtest starts a throwaway PostgreSQL server for tests, from Debian's postgresql
// package, in a temporary directory: one server per test binary (Main), one fresh database
// per test (NewDatabase). Tests run against it when LECTERN_TEST_STORE=postgres.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvStore is the environment variable that selects the store the tests run against.
const EnvStore = "LECTERN_TEST_STORE"

// Bin is where Debian's postgresql package installs the server's programs
// (/usr/lib/postgresql/VERSION/bin; the newest version installed).
var Bin = newestBin()

func newestBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVersion := "/usr/lib/postgresql/15/bin", 0
	for _, d := range dirs {
		if v, err := strconv.Atoi(filepath.Base(filepath.Dir(d))); err == nil && v > bestVersion {
			best, bestVersion = d, v
		}
	}
	return best
}

// Enabled reports whether the tests should run against PostgreSQL.
func Enabled() bool { return os.Getenv(EnvStore) == "postgres" }

// Server is a running PostgreSQL server listening on a unix socket in its own directory
// (no TCP port to collide with another test binary's).
type Server struct {
	dir  string
	cmd  *exec.Cmd
	done chan error
	n    atomic.Int64
}

// templateDB is the database every NewDatabase copies; Main's prepare may fill it.
const templateDB = "lectern_template"

// Start initialises a cluster in a temporary directory and starts a server on it. When run
// as root it runs as the postgres user (initdb refuses root), owning the directory.
func Start(ctx context.Context) (*Server, error) {
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, err
	}
	attr, err := procAttr(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(Bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = attr(false)
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	// Durability is not wanted in a test: no fsync makes a database per test cheap.
	cmd := exec.Command(filepath.Join(Bin, "postgres"), "-D", data, "-k", dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.SysProcAttr = attr(true)
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s := &Server{dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.ready(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.exec(ctx, "CREATE DATABASE "+templateDB); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// ready waits until the server accepts connections (a loaded machine may take seconds).
func (s *Server) ready(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := s.exec(ctx, "SELECT 1")
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
			return fmt.Errorf("pgtest: postgres exited: %v\n%s", werr, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres not ready after 60s: %w", err)
		}
	}
}

// URL is the connection URL of database db on this server.
func (s *Server) URL(db string) string {
	q := url.Values{"host": {s.dir}, "sslmode": {"disable"}}
	return "postgres://postgres@/" + db + "?" + q.Encode()
}

// exec runs one statement in the postgres database.
func (s *Server) exec(ctx context.Context, stmt string) error {
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// NewDatabase creates a fresh database copied from the template and returns its URL.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.n.Add(1))
	if err := s.exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateDB); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return s.URL(name), nil
}

// DropDatabase drops a database made by NewDatabase, closing whatever still uses it.
func (s *Server) DropDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	return s.exec(ctx, "DROP DATABASE IF EXISTS "+u.Path[1:]+" WITH (FORCE)")
}

// Stop ends the server by its PID (a fast shutdown) and removes its directory.
func (s *Server) Stop() error {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	return os.RemoveAll(s.dir)
}

// shared is the server of this test binary, started by Main when Enabled.
var shared *Server

// Main runs a test binary's tests; with LECTERN_TEST_STORE=postgres it starts one server
// first, calls prepare (when not nil) with the template database's URL so it can be
// migrated once, and stops the server afterwards. Call it from TestMain.
func Main(m *testing.M, prepare func(ctx context.Context, templateURL string) error) {
	if !Enabled() {
		os.Exit(m.Run())
	}
	ctx := context.Background()
	s, err := Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if prepare != nil {
		if err := prepare(ctx, s.URL(templateDB)); err != nil {
			s.Stop()
			fmt.Fprintln(os.Stderr, "pgtest: prepare the template:", err)
			os.Exit(1)
		}
	}
	shared = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// ErrNotStarted is returned by NewDatabase when Main did not start a server.
var ErrNotStarted = errors.New("pgtest: no server: run the tests with " + EnvStore + "=postgres and pgtest.Main in TestMain")

// NewDatabase returns the URL of a fresh database on the test binary's server, dropped when
// the test ends (after the test's own cleanups, registered later, have closed its stores).
func NewDatabase(t testing.TB) string {
	t.Helper()
	if shared == nil {
		t.Fatal(ErrNotStarted)
	}
	u, err := shared.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.DropDatabase(context.Background(), u) })
	return u
}

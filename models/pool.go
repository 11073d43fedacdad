package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// MaxConns bounds the store's connections (SQLite's, or PostgreSQL's per node), and with
	// SQLite its open files: each
	// connection holds the database and its WAL open. SQLite runs one writer at a time
	// anyway (the others wait on busy_timeout), and WAL readers need no more than a few on
	// a small machine; unbounded, a burst of requests opened thousands and ran out of files.
	MaxConns = 8
	// ConnWait is how long a query may queue for a free connection before the store sheds
	// it with ErrBusy (the API answers 503 with Retry-After).
	ConnWait = 3 * time.Second
)

// ErrBusy is returned when the store cannot take more work right now: no connection freed
// within ConnWait, or SQLite's write lock stayed taken past its busy timeout. Retrying later
// may succeed; nothing was changed.
var ErrBusy = errors.New("store busy")

// ErrStorage is returned when the disk refused a write (full, I/O error, read-only). Nothing
// was changed; the store is degraded until a write succeeds again (see Health).
var ErrStorage = errors.New("storage unavailable")

// pool is the store's bounded connection pool. Every statement first takes a connection
// with a bounded wait, so overload becomes ErrBusy instead of an unbounded queue or a
// descriptor leak. Its methods mirror *sql.DB's so the queries read the same.
type pool struct {
	db      *sql.DB
	dialect dialect
	wait    time.Duration
	health  health
}

func newPool(db *sql.DB, d dialect) *pool {
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns) // kept open: closing and reopening churns descriptors
	return &pool{db: db, dialect: d, wait: ConnWait}
}

// conn takes a connection, waiting at most p.wait. The caller closes it.
func (p *pool) conn(ctx context.Context) (*sql.Conn, error) {
	wctx, cancel := context.WithTimeout(ctx, p.wait)
	defer cancel()
	c, err := p.db.Conn(wctx)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		p.health.busy.Add(1)
		return nil, fmt.Errorf("%w: no database connection free within %s", ErrBusy, p.wait)
	}
	return c, err
}

// release returns c to the pool once the rows, row or transaction using it are done:
// sql.Conn.Close waits for them, so it runs on its own goroutine.
func release(c *sql.Conn) { go c.Close() }

// A connection PostgreSQL dropped (a restart, a failover) fails its next statement with
// driver.ErrBadConn before sending it; database/sql retries that on a fresh connection only
// for statements it picks the connection for, so the pool, which pins one, retries once.

// ExecContext runs a statement; its outcome tells the store's health whether storage works.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = p.dialect.rebind(query), p.dialect.args(args)
	for retry := true; ; retry = false {
		c, err := p.conn(ctx)
		if err != nil {
			return nil, p.health.observe(err)
		}
		res, err := c.ExecContext(ctx, query, args...)
		c.Close()
		if retry && errors.Is(err, driver.ErrBadConn) {
			continue
		}
		return res, p.health.observe(err)
	}
}

// QueryContext runs a query; the connection returns to the pool when the rows are closed.
func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = p.dialect.rebind(query), p.dialect.args(args)
	for retry := true; ; retry = false {
		c, err := p.conn(ctx)
		if err != nil {
			return nil, err
		}
		rows, err := c.QueryContext(ctx, query, args...)
		release(c)
		if retry && errors.Is(err, driver.ErrBadConn) {
			continue
		}
		return rows, busyErr(err)
	}
}

// row is a query for one row, run when Scan is called (sql.Row cannot carry ErrBusy).
type row struct {
	p     *pool
	ctx   context.Context
	query string
	args  []any
}

// Scan runs the query, reads the row and returns its connection to the pool.
func (r *row) Scan(dest ...any) error {
	for retry := true; ; retry = false {
		c, err := r.p.conn(r.ctx)
		if err != nil {
			return err
		}
		err = c.QueryRowContext(r.ctx, r.query, r.args...).Scan(dest...)
		c.Close()
		if retry && errors.Is(err, driver.ErrBadConn) {
			continue
		}
		return busyErr(err)
	}
}

// QueryRowContext prepares a query for one row; call Scan on the result, always.
func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *row {
	return &row{p: p, ctx: ctx, query: p.dialect.rebind(query), args: p.dialect.args(args)}
}

// BeginTx starts a transaction; its connection returns to the pool when it ends.
func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.BeginTx(ctx, opts)
	if err != nil {
		c.Close()
		return nil, p.health.observe(err)
	}
	release(c)
	t := &txn{tx: tx, dialect: p.dialect}
	if err := t.serialize(ctx); err != nil {
		tx.Rollback()
		return nil, busyErr(err)
	}
	return t, nil
}

// writeLock is the PostgreSQL advisory lock key every store transaction takes ("lecw").
const writeLock = 0x6c656377

// serialize makes PostgreSQL run the store's transactions one at a time, as SQLite's
// immediate transactions do: several read before they write (keep an admin, place a
// presenter session after the last one), and under READ COMMITTED two nodes could both
// pass the check. Transactions are few and short (admin changes, registrations, sessions).
func (t *txn) serialize(ctx context.Context) error {
	if t.dialect != postgresDialect {
		return nil
	}
	_, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock)
	return err
}

// txn is a transaction whose statements are written like the pool's (`?` placeholders).
type txn struct {
	tx      *sql.Tx
	dialect dialect
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.dialect.rebind(query), t.dialect.args(args)...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.dialect.rebind(query), t.dialect.args(args)...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.dialect.rebind(query), t.dialect.args(args)...)
}

// Commit commits the transaction.
func (t *txn) Commit() error { return t.tx.Commit() }

// Rollback aborts the transaction (a no-op after Commit).
func (t *txn) Rollback() error { return t.tx.Rollback() }

// Close closes every connection.
func (p *pool) Close() error { return p.db.Close() }

// busyErr marks a lock that stayed taken past busy_timeout (SQLite) or a lock timeout,
// deadlock or full connection table (PostgreSQL) as ErrBusy (a 503, not a 500).
func busyErr(err error) error {
	if classify(err) == errBusy {
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	return err
}

// health remembers whether the last write reached the disk. A full disk, an I/O error or a
// read-only file makes the store degraded until a write succeeds again.
type health struct {
	writeErrors atomic.Uint64 // writes refused by storage
	busy        atomic.Uint64 // statements shed with ErrBusy

	mu    sync.Mutex
	err   string // "" when healthy
	since time.Time
}

// observe records a write's outcome and returns err, marked ErrBusy where it is one.
func (h *health) observe(err error) error {
	switch c := classify(err); {
	case err == nil:
		h.mu.Lock()
		h.err = ""
		h.mu.Unlock()
	case c == errStorage:
		h.writeErrors.Add(1)
		h.mu.Lock()
		if h.err == "" {
			h.since = time.Now()
		}
		h.err = err.Error()
		h.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrStorage, err)
	case c == errBusy:
		h.busy.Add(1)
		return busyErr(err)
	}
	return err
}

// StorageHealth says whether the store can write, for /healthz, /api/status and metrics.
type StorageHealth struct {
	OK          bool      `json:"ok"`
	Error       string    `json:"error,omitempty"` // the last storage error while degraded
	Since       time.Time `json:"since,omitzero"`  // when it became degraded
	WriteErrors uint64    `json:"write_errors"`    // since start
	Busy        uint64    `json:"busy"`            // statements shed since start
}

// Health reports whether the last write to the database succeeded.
func (s *Store) Health() StorageHealth {
	h := &s.db.health
	h.mu.Lock()
	defer h.mu.Unlock()
	return StorageHealth{OK: h.err == "", Error: h.err, Since: h.since,
		WriteErrors: h.writeErrors.Load(), Busy: h.busy.Load()}
}

package models

import (
	"database/sql/driver"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// dialect is the SQL the store's database speaks. The queries are written once, in the
// subset both engines share (ON CONFLICT, RETURNING, octet_length, greatest), with SQLite's
// `?` placeholders; for PostgreSQL the pool rewrites those to `$n` and turns Go booleans
// into the integers the schema keeps them as.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

func (d dialect) String() string {
	if d == postgresDialect {
		return "postgres"
	}
	return "sqlite"
}

// rebind rewrites q's `?` placeholders to PostgreSQL's `$1, $2, ...`, leaving question marks
// inside quoted strings, quoted identifiers and comments alone.
func (d dialect) rebind(q string) string {
	if d != postgresDialect || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+1])
			i += end
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// args adapts query arguments to PostgreSQL: the schema keeps flags as integers (SQLite has
// no boolean) and PostgreSQL refuses a Go bool for a bigint parameter; and its text refuses
// NUL and invalid UTF-8, which SQLite stores as given. Text fed by the network (a browser's
// User-Agent, a name) may hold either, and must not turn a sign-in into a 500 on one engine
// only, so they become U+FFFD, as encoding/json does with invalid UTF-8.
func (d dialect) args(args []any) []any {
	if d != postgresDialect {
		return args
	}
	var out []any
	set := func(i int, v any) {
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = v
	}
	for i, a := range args {
		switch v := a.(type) {
		case bool:
			set(i, boolInt(v))
		case string:
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				set(i, postgresText(v))
			}
		}
	}
	if out == nil {
		return args
	}
	return out
}

// postgresText is s as PostgreSQL text can hold it.
func postgresText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// Error classes both engines report, by SQLite result code or PostgreSQL SQLSTATE.
type errClass int

const (
	errOther      errClass = iota
	errUnique              // a UNIQUE or PRIMARY KEY constraint failed
	errForeignKey          // a FOREIGN KEY constraint failed
	errBusy                // a lock stayed taken; retrying later may succeed
	errStorage             // the disk refused: full, I/O error, read-only
)

// SQLite result codes (primary, the low byte of the extended code) that matter here.
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14

	sqliteConstraintForeignKey = 787
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// classify says which of the error classes err is, whichever engine it came from.
func classify(err error) errClass {
	if err == nil {
		return errOther
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return classifySQLite(se.Code())
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return classifyPostgres(pe.Code)
	}
	// PostgreSQL unreachable, or the connection lost again after a retry: for this node the
	// store is down, as with a failed disk.
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) {
		return errStorage
	}
	return errOther
}

func classifySQLite(code int) errClass {
	switch code {
	case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
		return errUnique
	case sqliteConstraintForeignKey:
		return errForeignKey
	}
	switch code & 0xff {
	case sqliteBusy, sqliteLocked:
		return errBusy
	case sqliteFull, sqliteIOErr, sqliteReadOnly, sqliteCantOpen:
		return errStorage
	}
	return errOther
}

// classifyPostgres maps SQLSTATEs (PostgreSQL manual, appendix A) to the same classes.
func classifyPostgres(state string) errClass {
	switch state {
	case "23505": // unique_violation
		return errUnique
	case "23503": // foreign_key_violation
		return errForeignKey
	case "55P03", "40001", "40P01", "53300", "57P03": // lock_not_available, serialization_failure, deadlock, too_many_connections, cannot_connect_now
		return errBusy
	case "53100", "58030", "25006": // disk_full, io_error, read_only_sql_transaction
		return errStorage
	}
	if strings.HasPrefix(state, "08") || strings.HasPrefix(state, "57P") { // connection_exception, operator_intervention (shutdown)
		return errStorage
	}
	return errOther
}

// isUnique reports a UNIQUE or PRIMARY KEY constraint failure.
func isUnique(err error) bool { return classify(err) == errUnique }

// greatest is SQLite's missing GREATEST (its scalar max returns NULL when any argument is
// NULL; PostgreSQL's GREATEST ignores NULLs, and so does this).
func greatest(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	var best driver.Value
	for _, a := range args {
		if a == nil {
			continue
		}
		if best == nil || less(best, a) {
			best = a
		}
	}
	return best, nil
}

// less orders the integers, reals and texts greatest is given.
func less(a, b driver.Value) bool {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return x < y
		case float64:
			return float64(x) < y
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return x < float64(y)
		case float64:
			return x < y
		}
	case string:
		if y, ok := b.(string); ok {
			return x < y
		}
	}
	return false
}

func init() {
	if err := sqlite.RegisterDeterministicScalarFunction("greatest", -1, greatest); err != nil {
		panic("models: register greatest: " + err.Error())
	}
}

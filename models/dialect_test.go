package models

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lectern/captions"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`},
		{`SELECT '?' || ? FROM "we?ird" WHERE x = ?`, `SELECT '?' || $1 FROM "we?ird" WHERE x = $2`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`SELECT 'unterminated ?`, `SELECT 'unterminated ?`},
	} {
		if got := postgresDialect.rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := sqliteDialect.rebind(c.in); got != c.in {
			t.Errorf("sqlite rebind(%q) changed it to %q", c.in, got)
		}
	}
}

func TestArgsTurnBoolsIntoIntegersForPostgres(t *testing.T) {
	in := []any{"a", true, int64(3), false}
	got := postgresDialect.args(in)
	if fmt.Sprint(got) != "[a 1 3 0]" || fmt.Sprint(in) != "[a true 3 false]" {
		t.Fatalf("args %v (input now %v)", got, in)
	}
	if got := sqliteDialect.args(in); &got[0] != &in[0] {
		t.Fatal("sqlite args were copied")
	}
}

func TestGreatestIgnoresNulls(t *testing.T) {
	s, _ := openTest(t)
	var n int64
	if err := s.db.QueryRowContext(context.Background(), `SELECT greatest(3, NULL, 7, 5)`).Scan(&n); err != nil || n != 7 {
		t.Fatalf("greatest = %d %v, want 7", n, err)
	}
}

func TestOpenURLRefusesAnUnknownStore(t *testing.T) {
	if _, err := OpenURL(context.Background(), "mysql://x", t.TempDir()); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("OpenURL(mysql) = %v", err)
	}
}

// SQLite stores made before the migrations moved to migrations/sqlite/ recorded them as
// "migrations/NAME"; both engines keep recording that name, or every existing install would
// be migrated again.
func TestMigrationsAreRecordedUnderTheirOldNames(t *testing.T) {
	s, _ := openTest(t)
	rows, err := s.db.QueryContext(context.Background(), `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	if len(names) < 15 || names[0] != "migrations/0001_webinars.sql" || names[14] != "migrations/0015_site_secret.sql" {
		t.Fatalf("recorded migrations %v", names)
	}
}

// Nodes starting together each ask for the secret: all get the one that was stored first,
// and it stays the same afterwards (a second store on the same database sees it too).
func TestLoadOrCreateSecretIsSharedAndStable(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	const n = 8
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = s.LoadOrCreateSecret(ctx)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || len(got[i]) != SecretLen || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("caller %d: %x %v, want the same %d bytes as %x", i, got[i], errs[i], SecretLen, got[0])
		}
	}
	other, err := testOpen(t, ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	again, err := other.LoadOrCreateSecret(ctx)
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("second store: %x %v, want %x", again, err, got[0])
	}
}

// StorageUsage's size estimate is the same SQL on both engines (octet_length, sum).
func TestStorageUsageCountsRows(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "Sized"})
	if err != nil {
		t.Fatal(err)
	}
	before := usageOf(t, s, w.ID)
	text := strings.Repeat("é", 500) // 1000 bytes in UTF-8
	if err := s.SaveSegment(ctx, Segment{Webinar: w.ID, Session: "s", Caption: captions.Caption{ID: "c1", Seq: 1, Text: text, Lang: "en"}}); err != nil {
		t.Fatal(err)
	}
	after := usageOf(t, s, w.ID)
	if grew := after - before; grew < 1000 || grew > 1200 {
		t.Fatalf("a 1000-byte caption grew the estimate by %d bytes (from %d)", grew, before)
	}
}

func usageOf(t *testing.T, s *Store, id string) int64 {
	t.Helper()
	us, err := s.StorageUsage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.ID == id {
			return u.DBBytes
		}
	}
	t.Fatalf("webinar %s not in the usage", id)
	return 0
}

// Transactions that check before they write run one at a time on both engines: admins
// disabling each other at once (from several nodes) cannot leave the site without one.
func TestConcurrentDisablesKeepAnAdmin(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	other, err := testOpen(t, ctx, dir) // a second node
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const n = 6
	ids := make([]string, n)
	for i := range n {
		u := mustUser(t, s, fmt.Sprintf("admin%d@example.org", i))
		if err := s.SetUserAdmin(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := []*Store{s, other}[i%2]
			node.DisableUserKeepingAdmin(ctx, id, "test")
		}()
	}
	wg.Wait()
	var left int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE admin = 1 AND disabled = 0`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 1 {
		t.Fatalf("%d enabled admins left, want exactly 1", left)
	}
}

// A User-Agent with invalid UTF-8 and a NUL is stored on both engines (PostgreSQL's text
// refuses both; the store replaces them there rather than failing a sign-in).
func TestTextFromTheNetworkIsStored(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u := mustUser(t, s, "agent@example.org")
	ua := "Mozilla\xff\x00/5.0"
	err := s.CreateAuthSession(ctx, AuthSession{IDHash: "h", UserID: u.ID, CreatedAt: time.Now(), LastSeenAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour), CSRFToken: "c", UserAgent: ua})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.AuthSession(ctx, "h")
	if err != nil || !strings.HasPrefix(got.UserAgent, "Mozilla") || !strings.HasSuffix(got.UserAgent, "/5.0") {
		t.Fatalf("session %+v %v", got, err)
	}
	if got := postgresDialect.args([]any{ua})[0]; got != "Mozilla\uFFFD\uFFFD/5.0" {
		t.Fatalf("postgres text %q", got)
	}
}

// FuzzRebind: numbering placeholders changes nothing else; turning every $n back into ? gives
// the query again (for queries without $ of their own, nor a digit right after a ?, which
// SQL never has), and the numbers count up from 1.
func FuzzRebind(f *testing.F) {
	for _, q := range []string{`SELECT ? FROM t WHERE a = '?' AND b = ?`, "SELECT ? -- ?\n, \"?\"", `'`, `?'?'?`, "--?"} {
		f.Add(q)
	}
	placeholder := regexp.MustCompile(`\$[0-9]+`)
	digitAfterMark := regexp.MustCompile(`\?[0-9]`)
	f.Fuzz(func(t *testing.T, q string) {
		if strings.Contains(q, "$") || digitAfterMark.MatchString(q) {
			return
		}
		got := postgresDialect.rebind(q)
		if back := placeholder.ReplaceAllString(got, "?"); back != q {
			t.Fatalf("rebind(%q) = %q, which does not map back", q, got)
		}
		for i, m := range placeholder.FindAllString(got, -1) {
			if m != "$"+strconv.Itoa(i+1) {
				t.Fatalf("rebind(%q) = %q: placeholder %d is %s", q, got, i+1, m)
			}
		}
	})
}

package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestPoolShedsWithErrBusy: with every connection taken, a query waits ConnWait and then
// fails with ErrBusy, and works again once a connection is free.
func TestPoolShedsWithErrBusy(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "Busy"})
	if err != nil {
		t.Fatal(err)
	}
	s.db.wait = 100 * time.Millisecond
	var held []*sql.Rows
	for range MaxConns {
		rows, err := s.db.QueryContext(ctx, `SELECT 1`)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, rows)
	}
	if _, err := s.Webinar(ctx, w.ID); !errors.Is(err, ErrBusy) {
		t.Fatalf("with the pool full: err = %v, want ErrBusy", err)
	}
	if _, err := s.Webinars(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("list with the pool full: err = %v, want ErrBusy", err)
	}
	if err := s.Audit(ctx, AuditEvent{Action: "x"}); !errors.Is(err, ErrBusy) {
		t.Fatalf("write with the pool full: err = %v, want ErrBusy", err)
	}
	if h := s.Health(); h.Busy != 3 || !h.OK {
		t.Fatalf("health %+v, want 3 busy and still ok", h)
	}
	for _, r := range held {
		r.Close()
	}
	if _, err := s.Webinar(ctx, w.ID); err != nil {
		t.Fatalf("after the pool freed: %v", err)
	}
}

// TestFullDatabaseDegradesHealth: a write refused with SQLITE_FULL (a real one: the
// database may not grow) makes the store degraded and is counted; the first write that
// succeeds afterwards makes it healthy again.
func TestFullDatabaseDegradesHealth(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	s, _ := openTest(t)
	s.db.db.SetMaxOpenConns(1) // the page limit is per connection
	if _, err := s.db.ExecContext(ctx, `PRAGMA max_page_count = 1`); err != nil {
		t.Fatal(err)
	}
	big, _ := json.Marshal(map[string]string{"pad": strings.Repeat("x", 64<<10)})
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = s.Audit(ctx, AuditEvent{Action: "fill", Detail: big})
	}
	if err == nil || classify(err) != errStorage {
		t.Fatalf("filling the database: err = %v, want SQLITE_FULL", err)
	}
	h := s.Health()
	if h.OK || h.WriteErrors == 0 || !strings.Contains(h.Error, "full") || h.Since.IsZero() {
		t.Fatalf("health after a full disk: %+v", h)
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA max_page_count = 1000000`); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, AuditEvent{Action: "fits"}); err != nil {
		t.Fatal(err)
	}
	if h := s.Health(); !h.OK || h.Error != "" {
		t.Fatalf("health after space returned: %+v", h)
	}
}

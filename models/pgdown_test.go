package models

import (
	"context"
	"errors"
	"testing"

	"lectern/internal/pgtest"
)

// A PostgreSQL server that goes away makes the store degraded (as a failed disk does for
// SQLite), with ErrStorage for the writes it refuses, so /healthz tells the load balancer.
func TestPostgresDownDegradesHealth(t *testing.T) {
	if !pgtest.Enabled() {
		t.Skip("needs " + pgtest.EnvStore + "=postgres")
	}
	ctx := context.Background()
	srv, err := pgtest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.Stop()
		}
	}()
	u, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenURL(ctx, u, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Audit(ctx, AuditEvent{Action: "before"}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	stopped = true
	err = s.Audit(ctx, AuditEvent{Action: "after"})
	if !errors.Is(err, ErrStorage) {
		t.Fatalf("write with the server gone: %v, want ErrStorage", err)
	}
	if h := s.Health(); h.OK || h.WriteErrors == 0 {
		t.Fatalf("health with the server gone: %+v", h)
	}
}

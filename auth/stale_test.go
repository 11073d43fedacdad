package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestDisableStale(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	idle := mustUser(t, store, "idle@example.org")
	active := mustUser(t, store, "active@example.org")
	later := time.Now().Add(91 * 24 * time.Hour)
	if err := store.RecordLogin(ctx, active.ID, later.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ids, err := DisableStaleAt(ctx, store, 90*24*time.Hour, time.Now()); err != nil || len(ids) != 0 {
		t.Fatalf("new accounts disabled today: %v %v", ids, err)
	}
	ids, err := DisableStaleAt(ctx, store, 90*24*time.Hour, later)
	if err != nil || len(ids) != 1 || ids[0] != idle.ID {
		t.Fatalf("91 days on: disabled %v, %v; want only %s", ids, err, idle.ID)
	}
	u, _ := store.User(ctx, idle.ID)
	if !u.Disabled || !strings.Contains(u.DisabledReason, "90 days") || !strings.Contains(u.DisabledReason, "administrator") {
		t.Errorf("idle account: disabled=%v reason=%q", u.Disabled, u.DisabledReason)
	}
	if u, _ := store.User(ctx, active.ID); u.Disabled {
		t.Error("active account disabled")
	}
	events, _ := store.AuditEvents(ctx, modelsFilter(EventAccountDisabled))
	if len(events) != 1 || events[0].Target != idle.ID || events[0].ActorID != "" {
		t.Errorf("audit: %+v", events)
	}
	// Running again changes nothing.
	if ids, _ := DisableStaleAt(ctx, store, 90*24*time.Hour, later); len(ids) != 0 {
		t.Errorf("second run disabled %v", ids)
	}
	if _, err := DisableStale(ctx, store, time.Hour); err == nil {
		t.Error("a one-hour retention was accepted")
	}
}

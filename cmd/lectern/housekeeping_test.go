package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"testing"
	"time"

	"lectern/models"
)

// TestHousekeepingPrunesAuditLog: audit events older than the retention are deleted by the
// housekeeping loop when it starts; newer ones stay (issue 8, item 14).
func TestHousekeepingPrunesAuditLog(t *testing.T) {
	ctx := context.Background()
	store, err := openTestStore(t, ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	for _, at := range []time.Time{now.Add(-400 * 24 * time.Hour), now.Add(-366 * 24 * time.Hour), now.Add(-time.Hour)} {
		if err := store.Audit(ctx, models.AuditEvent{At: at, Action: "signin.success"}); err != nil {
			t.Fatal(err)
		}
	}
	stop := startHousekeeping(store, 0, days(365), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	deadline := time.Now().Add(20 * time.Second)
	var left []models.AuditEvent
	for time.Now().Before(deadline) {
		if left, err = store.AuditEvents(ctx, models.AuditFilter{}); err != nil {
			t.Fatal(err)
		}
		if len(left) == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if len(left) != 1 || now.Sub(left[0].At) > 2*time.Hour {
		t.Fatalf("after housekeeping the audit log holds %+v, want only the recent event", left)
	}
}

// TestAuditRetentionFlag: a year by default, settable by flag or environment.
func TestAuditRetentionFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want int
	}{
		{nil, "", 365},
		{[]string{"--audit-retention-days", "30"}, "", 30},
		{nil, "90", 90},
	} {
		if tc.env != "" {
			t.Setenv("LECTERN_AUDIT_RETENTION_DAYS", tc.env)
		}
		cfg := defaultConfig()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		bindServeFlags(fs, &cfg)
		if err := parseFlags(fs, tc.args); err != nil {
			t.Fatal(err)
		}
		if cfg.Auth.AuditRetentionDays != tc.want {
			t.Errorf("args %v env %q: retention %d days, want %d", tc.args, tc.env, cfg.Auth.AuditRetentionDays, tc.want)
		}
	}
}

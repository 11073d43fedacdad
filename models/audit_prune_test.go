package models

import (
	"context"
	"testing"
	"time"
)

// TestPruneAudit deletes exactly the events older than the cut-off, across batches.
func TestPruneAudit(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	cut := time.Unix(1_800_000_000, 0)
	old := pruneBatch + 7             // more than one batch
	tx, err := s.db.BeginTx(ctx, nil) // one transaction: thousands of commits are slow
	if err != nil {
		t.Fatal(err)
	}
	for i := range old {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log(at, actor_id, action, target, ip, detail) VALUES (?, '', 'old', '', '', '{}')`,
			cut.Add(-time.Duration(i+1)*time.Second).Unix()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{cut, cut.Add(time.Hour)} {
		if err := s.Audit(ctx, AuditEvent{At: at, Action: "kept"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneAudit(ctx, cut)
	if err != nil || n != int64(old) {
		t.Fatalf("pruned %d (%v), want %d", n, err, old)
	}
	left, err := s.AuditEvents(ctx, AuditFilter{Limit: 1000})
	if err != nil || len(left) != 2 || left[0].Action != "kept" || left[1].Action != "kept" {
		t.Fatalf("left %+v %v, want the 2 kept events", left, err)
	}
	if n, err := s.PruneAudit(ctx, cut); err != nil || n != 0 {
		t.Fatalf("second prune: %d %v", n, err)
	}
}

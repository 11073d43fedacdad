package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AuditEvent is one security-relevant event. Action names are constants in package auth.
// Detail is a JSON object; it must never hold secrets (passwords, tokens, TOTP codes).
type AuditEvent struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	ActorID string          `json:"actor_id,omitempty"` // "" for anonymous (e.g. a failed sign-in)
	Action  string          `json:"action"`
	Target  string          `json:"target,omitempty"` // what was acted on: a user, webinar or token id, an email
	IP      string          `json:"ip,omitempty"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

// AuditFilter selects events; zero fields match everything. Limit defaults to 100, at most 1000.
type AuditFilter struct {
	Action  string
	ActorID string
	Target  string
	User    string    // the actor or the target
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	Limit   int
}

// Audit appends an event. A zero At means now; a nil Detail is stored as {}.
func (s *Store) Audit(ctx context.Context, e AuditEvent) error {
	if e.Action == "" {
		return fmt.Errorf("audit: empty action")
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	detail := "{}"
	if len(e.Detail) > 0 {
		if !json.Valid(e.Detail) {
			return fmt.Errorf("audit %s: detail is not JSON", e.Action)
		}
		detail = string(e.Detail)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_log(at, actor_id, action, target, ip, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		e.At.Unix(), e.ActorID, e.Action, e.Target, e.IP, detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditEvents lists events matching f, newest first.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.User != "" {
		where, args = append(where, "(actor_id = ? OR target = ?)"), append(args, f.User, f.User)
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.Unix())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.Unix())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT id, at, actor_id, action, target, ip, detail FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	rows, err := s.db.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var at int64
		var detail string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Action, &e.Target, &e.IP, &detail); err != nil {
			return nil, err
		}
		e.At, e.Detail = time.Unix(at, 0).UTC(), json.RawMessage(detail)
		out = append(out, e)
	}
	return out, rows.Err()
}

// pruneBatch bounds one DELETE, so pruning a large log never holds the write lock long.
const pruneBatch = 5000

// PruneAudit deletes events older than before, in batches, and says how many went. The
// housekeeping loop calls it with the configured retention.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN
			(SELECT id FROM audit_log WHERE at < ? LIMIT ?)`, before.Unix(), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune audit log: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune audit log: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

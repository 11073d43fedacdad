package models

import (
	"context"
	"fmt"
	"time"
)

// StartCount records that the webinar's duration count starts at at, unless one is already
// running, and returns the running count's start.
func (s *Store) StartCount(ctx context.Context, webinar string, at time.Time) (time.Time, error) {
	var ms int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO duration_counts(webinar_id, started_at_ms) VALUES (?, ?)
		ON CONFLICT(webinar_id) DO UPDATE SET started_at_ms = duration_counts.started_at_ms RETURNING started_at_ms`,
		webinar, at.UnixMilli()).Scan(&ms)
	if err != nil {
		return time.Time{}, fmt.Errorf("start duration count of %s: %w", webinar, notFoundOnFK(err))
	}
	return time.UnixMilli(ms), nil
}

// EndCount forgets the webinar's duration count (the webinar ended).
func (s *Store) EndCount(ctx context.Context, webinar string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM duration_counts WHERE webinar_id = ?`, webinar); err != nil {
		return fmt.Errorf("end duration count of %s: %w", webinar, err)
	}
	return nil
}

// Counts returns every running duration count's start, by webinar.
func (s *Store) Counts(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT webinar_id, started_at_ms FROM duration_counts`)
	if err != nil {
		return nil, fmt.Errorf("duration counts: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			return nil, fmt.Errorf("duration counts: %w", err)
		}
		out[id] = time.UnixMilli(ms)
	}
	return out, rows.Err()
}

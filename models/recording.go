package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Recording is one WebM recording of a webinar.
type Recording struct {
	ID        string
	WebinarID string
	StartedAt time.Time
	Duration  time.Duration
	Bytes     int64
}

// AddRecording stores a recording that has just started.
func (s *Store) AddRecording(ctx context.Context, webinar, id string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO recordings(id, webinar_id, started_at_ms) VALUES (?, ?, ?)`,
		id, webinar, at.UnixMilli()); err != nil {
		return fmt.Errorf("add recording %s of %s: %w", id, webinar, err)
	}
	return nil
}

// FinishRecording stores a stopped recording's duration and size.
func (s *Store) FinishRecording(ctx context.Context, id string, d time.Duration, bytes int64) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE recordings SET duration_ms = ?, bytes = ? WHERE id = ?`,
		d.Milliseconds(), bytes, id); err != nil {
		return fmt.Errorf("finish recording %s: %w", id, err)
	}
	return nil
}

// Recordings lists a webinar's recordings, oldest first.
func (s *Store) Recordings(ctx context.Context, webinar string) ([]Recording, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, webinar_id, started_at_ms, duration_ms, bytes
		FROM recordings WHERE webinar_id = ? ORDER BY started_at_ms, id`, webinar)
	if err != nil {
		return nil, fmt.Errorf("recordings of %s: %w", webinar, err)
	}
	defer rows.Close()
	out := []Recording{}
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("recordings of %s: %w", webinar, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecordingOf returns one recording of a webinar, or ErrNotFound.
func (s *Store) RecordingOf(ctx context.Context, webinar, id string) (Recording, error) {
	r, err := scanRecording(s.db.QueryRowContext(ctx, `SELECT id, webinar_id, started_at_ms, duration_ms, bytes
		FROM recordings WHERE webinar_id = ? AND id = ?`, webinar, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Recording{}, fmt.Errorf("recording %s of %s: %w", id, webinar, ErrNotFound)
	}
	if err != nil {
		return Recording{}, fmt.Errorf("recording %s of %s: %w", id, webinar, err)
	}
	return r, nil
}

func scanRecording(row interface{ Scan(...any) error }) (Recording, error) {
	var r Recording
	var startMS, durMS int64
	if err := row.Scan(&r.ID, &r.WebinarID, &startMS, &durMS, &r.Bytes); err != nil {
		return Recording{}, err
	}
	r.StartedAt = time.UnixMilli(startMS).UTC()
	r.Duration = time.Duration(durMS) * time.Millisecond
	return r, nil
}

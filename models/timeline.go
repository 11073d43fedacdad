package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PresenterSession is one presenter connection's place on its webinar's timeline. A webinar's
// captions are timed in ms since its first audio (the timeline's origin, kept in the store so
// it survives a restart), gaps between sessions included; a session's own clock starts at 0.
type PresenterSession struct {
	ID        string    `json:"id"`
	StartMS   int64     `json:"start_ms"`   // on the webinar's timeline
	StartedAt time.Time `json:"started_at"` // wall clock of its first audio
}

// StartSession places a presenter session that began (its first audio) at wall time at on the
// webinar's timeline and returns its start there, in ms. The first session of a webinar sets
// the origin. A later one starts at its wall-clock distance from the origin, but never before
// the end of a stored final: a clock stepped back, or a server restarted with an origin
// derived from older data, must not make sessions overlap. Asking again for a known session
// returns its recorded start.
func (s *Store) StartSession(ctx context.Context, webinar, session string, at time.Time) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("start session %s: %w", session, err)
	}
	defer tx.Rollback()
	start, err := placeSession(ctx, tx, webinar, session, at.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("start session %s: %w", session, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("start session %s: %w", session, err)
	}
	return start, nil
}

func placeSession(ctx context.Context, tx *txn, webinar, session string, atMS int64) (int64, error) {
	var start int64
	err := tx.QueryRowContext(ctx, `SELECT start_ms FROM presenter_sessions WHERE webinar_id = ? AND id = ?`,
		webinar, session).Scan(&start)
	if err == nil {
		return start, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	var origin sql.NullInt64
	var lastEnd int64
	err = tx.QueryRowContext(ctx, `SELECT first_audio_ms,
		(SELECT coalesce(max(end_ms), 0) FROM segments WHERE webinar_id = webinars.id)
		FROM webinars WHERE id = ?`, webinar).Scan(&origin, &lastEnd)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("webinar %q: %w", webinar, ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	if !origin.Valid {
		// The webinar's first audio. Finals stored without an origin (none, normally) end
		// at lastEnd: this session follows them.
		origin = sql.NullInt64{Int64: atMS - lastEnd, Valid: true}
		if _, err := tx.ExecContext(ctx, `UPDATE webinars SET first_audio_ms = ? WHERE id = ?`, origin.Int64, webinar); err != nil {
			return 0, err
		}
	}
	start = max(atMS-origin.Int64, lastEnd)
	_, err = tx.ExecContext(ctx, `INSERT INTO presenter_sessions(webinar_id, id, start_ms, started_at_ms)
		VALUES (?, ?, ?, ?)`, webinar, session, start, atMS)
	return start, err
}

// PresenterSessions lists a webinar's presenter sessions in timeline order.
func (s *Store) PresenterSessions(ctx context.Context, webinar string) ([]PresenterSession, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, start_ms, started_at_ms FROM presenter_sessions
		WHERE webinar_id = ? ORDER BY start_ms, started_at_ms, id`, webinar)
	if err != nil {
		return nil, fmt.Errorf("presenter sessions: %w", err)
	}
	defer rows.Close()
	var out []PresenterSession
	for rows.Next() {
		var p PresenterSession
		var at int64
		if err := rows.Scan(&p.ID, &p.StartMS, &at); err != nil {
			return nil, fmt.Errorf("presenter sessions: %w", err)
		}
		p.StartedAt = time.UnixMilli(at).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

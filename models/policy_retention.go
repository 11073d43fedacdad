package models

import (
	"context"
	"fmt"
	"time"
)

// A webinar's content (its transcript with translations, chat, Q&A and recordings) is kept
// or deleted as one: a transcript is exported whole, and a class's chat makes sense only
// beside its transcript. Its age is its last activity, the latest of: a stored caption, a
// chat message, a question, the end of a recording, a presenter session starting. Editing
// the webinar's title or schedule is not activity; the webinar itself (settings, members,
// links) stays, only its content goes.
const lastActivityMS = `greatest(
	coalesce((SELECT max(created_at) * 1000 FROM segments WHERE webinar_id = w.id), 0),
	coalesce((SELECT max(at_ms) FROM chat_messages WHERE webinar_id = w.id), 0),
	coalesce((SELECT max(at_ms) FROM questions WHERE webinar_id = w.id), 0),
	coalesce((SELECT max(started_at_ms + duration_ms) FROM recordings WHERE webinar_id = w.id), 0),
	coalesce((SELECT max(started_at_ms) FROM presenter_sessions WHERE webinar_id = w.id), 0))`

// hasContent is true for a webinar with anything retention deletes.
const hasContent = `(EXISTS (SELECT 1 FROM segments WHERE webinar_id = w.id)
	OR EXISTS (SELECT 1 FROM chat_messages WHERE webinar_id = w.id)
	OR EXISTS (SELECT 1 FROM questions WHERE webinar_id = w.id)
	OR EXISTS (SELECT 1 FROM recordings WHERE webinar_id = w.id))`

// StaleWebinars lists the webinars with content whose last activity is before cut-off.
func (s *Store) StaleWebinars(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT w.id FROM webinars w WHERE `+hasContent+` AND `+lastActivityMS+` < ?
		ORDER BY w.id`, before.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("stale webinars: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("stale webinars: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ContentDeleted counts the rows DeleteContent removed.
type ContentDeleted struct {
	Segments, Chat, Questions, Recordings, Versions int64
}

// DeleteContent deletes a webinar's transcript (segments and, by cascade, translations;
// re-transcribed and edited versions too, and the default download goes back to live), chat, questions (and their votes) and recording rows in one transaction. The recording
// files are the caller's: delete them first, so no row is left without its file's fate known.
// The presenter sessions stay: they are the webinar's timeline, not content.
func (s *Store) DeleteContent(ctx context.Context, webinar string) (ContentDeleted, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ContentDeleted{}, fmt.Errorf("delete content of %s: %w", webinar, err)
	}
	defer tx.Rollback()
	var d ContentDeleted
	for _, t := range []struct {
		table string
		n     *int64
	}{{"segments", &d.Segments}, {"chat_messages", &d.Chat}, {"questions", &d.Questions}, {"recordings", &d.Recordings},
		{"transcript_versions", &d.Versions}} {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+t.table+` WHERE webinar_id = ?`, webinar)
		if err != nil {
			return ContentDeleted{}, fmt.Errorf("delete %s of %s: %w", t.table, webinar, err)
		}
		*t.n, _ = res.RowsAffected()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webinars SET default_transcript = '' WHERE id = ?`, webinar); err != nil {
		return ContentDeleted{}, fmt.Errorf("reset default transcript of %s: %w", webinar, err)
	}
	if err := tx.Commit(); err != nil {
		return ContentDeleted{}, fmt.Errorf("delete content of %s: %w", webinar, err)
	}
	return d, nil
}

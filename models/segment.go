package models

import (
	"context"
	"fmt"
	"time"

	"lectern/captions"
)

// Segment is a stored final caption: one utterance of a presenter session.
type Segment struct {
	captions.Caption
	Webinar string
	Session string
	Engine  string
	Failed  bool // the engine could not transcribe this time range; Text is empty
}

// SaveSegment stores a final. It is called before the final is sent to anyone, so a caption a
// viewer has seen is always in the transcript. Saving the same id twice is a no-op.
func (s *Store) SaveSegment(ctx context.Context, seg Segment) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO segments
		(id, webinar_id, session_id, seq, start_ms, end_ms, speaker, text, lang, engine, failed, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(webinar_id, id) DO NOTHING`,
		seg.ID, seg.Webinar, seg.Session, seg.Seq, seg.StartMS, seg.EndMS, seg.Speaker, seg.Text,
		seg.Lang, seg.Engine, seg.Failed, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("save segment %s: %w", seg.ID, err)
	}
	return nil
}

// MaxSeq is the highest caption sequence number stored for a webinar (0 when none), so a
// restarted server continues the sequence instead of reusing numbers viewers have seen.
func (s *Store) MaxSeq(ctx context.Context, webinar string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM segments WHERE webinar_id = ?`, webinar).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("max seq: %w", err)
	}
	return n, nil
}

// Finals returns a webinar's stored finals with seq > after, in order, in the spoken language.
// Failed segments are left out: they have no text to show.
func (s *Store) Finals(ctx context.Context, webinar string, after int64) ([]captions.Caption, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, seq, start_ms, end_ms, text, lang, speaker
		FROM segments WHERE webinar_id = ? AND seq > ? AND failed = 0 ORDER BY seq`, webinar, after)
	if err != nil {
		return nil, fmt.Errorf("finals: %w", err)
	}
	defer rows.Close()
	var out []captions.Caption
	for rows.Next() {
		c := captions.Caption{Final: true}
		if err := rows.Scan(&c.ID, &c.Seq, &c.StartMS, &c.EndMS, &c.Text, &c.Lang, &c.Speaker); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FailedSegments counts segments the engine could not transcribe, for status pages and tests.
func (s *Store) FailedSegments(ctx context.Context, webinar string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM segments WHERE webinar_id = ? AND failed = 1`, webinar).Scan(&n)
	return n, err
}

package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"lectern/captions"
)

// SaveTranslation stores a translated final: same ID and Seq as its source segment, Lang the
// target language. A second translation of the same segment into the same language replaces
// the first (a better translator may have come back).
func (s *Store) SaveTranslation(ctx context.Context, webinar string, c captions.Caption) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO translations(webinar_id, segment_id, lang, text, pivot, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(webinar_id, segment_id, lang) DO UPDATE SET text = excluded.text, pivot = excluded.pivot`,
		webinar, c.ID, c.Lang, c.Text, c.Pivot, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("save translation %s/%s: %w", c.ID, c.Lang, err)
	}
	return nil
}

// Translations returns the stored translations into lang of the given segment ids, keyed by
// id, with the source segment's timing and sequence number.
func (s *Store) Translations(ctx context.Context, webinar, lang string, ids []string) (map[string]captions.Caption, error) {
	out := make(map[string]captions.Caption, len(ids))
	// SQLite limits bound parameters; chunk long exports.
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		args := []any{webinar, lang}
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.seq, s.start_ms, s.end_ms, t.text, t.lang, s.speaker, t.pivot
			FROM translations t JOIN segments s ON s.webinar_id = t.webinar_id AND s.id = t.segment_id
			WHERE t.webinar_id = ? AND t.lang = ? AND t.segment_id IN (?`+strings.Repeat(",?", n-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("translations: %w", err)
		}
		for rows.Next() {
			c, err := scanTranslated(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[c.ID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// TranslatedFinals returns a webinar's finals with seq > after that have a stored translation
// into lang, in order: what a viewer of that language resumes from.
func (s *Store) TranslatedFinals(ctx context.Context, webinar, lang string, after int64) ([]captions.Caption, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.seq, s.start_ms, s.end_ms, t.text, t.lang, s.speaker, t.pivot
		FROM translations t JOIN segments s ON s.webinar_id = t.webinar_id AND s.id = t.segment_id
		WHERE t.webinar_id = ? AND t.lang = ? AND s.seq > ? ORDER BY s.seq`, webinar, lang, after)
	if err != nil {
		return nil, fmt.Errorf("translated finals: %w", err)
	}
	defer rows.Close()
	var out []captions.Caption
	for rows.Next() {
		c, err := scanTranslated(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanTranslated(r scanner) (captions.Caption, error) {
	c := captions.Caption{Final: true}
	err := r.Scan(&c.ID, &c.Seq, &c.StartMS, &c.EndMS, &c.Text, &c.Lang, &c.Speaker, &c.Pivot)
	return c, err
}

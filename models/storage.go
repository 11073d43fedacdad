package models

import (
	"context"
	"fmt"
	"strings"
)

// WebinarUsage is what one webinar keeps: an estimate of its database rows and its recordings
// (whose files package record owns; the caller sizes them).
type WebinarUsage struct {
	ID         string
	Title      string
	DBBytes    int64 // the bytes of its rows' values plus rowOverhead a row; indexes and free pages not counted
	Recordings []Recording
}

// rowOverhead is a row's integers, header and key in a table B-tree, roughly: enough to make
// a webinar with a hundred thousand short captions count for what it costs.
const rowOverhead = 32

// webinarTables are the tables whose rows belong to one webinar (column webinar_id), with
// their text columns. A table a later migration adds counts once it is listed here.
var webinarTables = []struct {
	name string
	text []string
}{
	{"webinars", []string{"id", "title", "stream_key", "language"}},
	{"segments", []string{"id", "session_id", "speaker", "text", "lang", "engine"}},
	{"translations", []string{"segment_id", "lang", "text", "pivot", "translator"}},
	{"presenter_sessions", []string{"id"}},
	{"participants", []string{"id", "name", "role", "state"}},
	{"chat_messages", []string{"sender_id", "name", "role", "body"}},
	{"questions", []string{"asker_id", "name", "body", "answer", "answered_by"}},
	{"registrations", []string{"id", "name", "email", "role", "token_hash"}},
	{"webinar_members", []string{"user_id", "role"}},
	{"recordings", []string{"id"}},
}

// StorageUsage estimates, for every webinar (newest first), the bytes its rows take and lists
// its recordings.
func (s *Store) StorageUsage(ctx context.Context) ([]WebinarUsage, error) {
	ws, err := s.Webinars(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]WebinarUsage, 0, len(ws))
	index := make(map[string]int, len(ws))
	for _, w := range ws {
		index[w.ID] = len(out)
		out = append(out, WebinarUsage{ID: w.ID, Title: w.Title, Recordings: []Recording{}})
	}
	for _, t := range webinarTables {
		if err := s.addTableBytes(ctx, t.name, t.text, out, index); err != nil {
			return nil, err
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, webinar_id, started_at_ms, duration_ms, bytes FROM recordings ORDER BY started_at_ms, id`)
	if err != nil {
		return nil, fmt.Errorf("storage: recordings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: recordings: %w", err)
		}
		if i, ok := index[r.WebinarID]; ok {
			out[i].Recordings = append(out[i].Recordings, r)
		}
	}
	return out, rows.Err()
}

func (s *Store) addTableBytes(ctx context.Context, table string, text []string, out []WebinarUsage, index map[string]int) error {
	key := "webinar_id"
	if table == "webinars" {
		key = "id"
	}
	sizes := make([]string, len(text))
	for i, c := range text {
		sizes[i] = "octet_length(" + c + ")"
	}
	q := fmt.Sprintf(`SELECT %s, sum(%s + %d) FROM %s GROUP BY %s`, key, strings.Join(sizes, " + "), rowOverhead, table, key)
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("storage: %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return fmt.Errorf("storage: %s: %w", table, err)
		}
		if i, ok := index[id]; ok {
			out[i].DBBytes += n
		}
	}
	return rows.Err()
}

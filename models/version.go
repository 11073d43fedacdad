package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"lectern/captions"
)

// Transcript version kinds and states. The live transcript is the version LiveTranscript.
const (
	LiveTranscript    = "live"
	KindRetranscribed = "retranscription"
	KindEdit          = "edit"

	VersionRunning = "running"
	VersionDone    = "done"
	VersionFailed  = "failed"
)

// TranscriptVersion is a transcript of a webinar other than the live one.
type TranscriptVersion struct {
	ID        string    `json:"id"`
	Webinar   string    `json:"-"`
	Kind      string    `json:"kind"`
	Source    string    `json:"source,omitempty"`
	Engine    string    `json:"engine,omitempty"`
	State     string    `json:"state"`
	Progress  float64   `json:"progress"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Cues      int       `json:"cues"`
}

// AddTranscriptVersion stores a new version with its cues (none yet for a running one) and
// returns it with its id.
func (s *Store) AddTranscriptVersion(ctx context.Context, v TranscriptVersion, cues []captions.Caption) (TranscriptVersion, error) {
	b, err := json.Marshal(nonNil(cues))
	if err != nil {
		return v, err
	}
	v.ID, v.CreatedAt, v.Cues = "v"+newID(), time.Now().UTC().Truncate(time.Millisecond), len(cues)
	if v.State == VersionDone {
		v.Progress = 1
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO transcript_versions
		(id, webinar_id, kind, source, engine, state, progress, created_at_ms, cues) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.Webinar, v.Kind, v.Source, v.Engine, v.State, v.Progress, v.CreatedAt.UnixMilli(), string(b))
	if err != nil {
		return v, fmt.Errorf("add transcript version of %s: %w", v.Webinar, notFoundOnFK(err))
	}
	return v, nil
}

// SetVersionProgress records how far a running version is (0..1).
func (s *Store) SetVersionProgress(ctx context.Context, id string, p float64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE transcript_versions SET progress = ? WHERE id = ? AND state = ?`, p, id, VersionRunning)
	return err
}

// FinishVersion stores a running version's cues, or why it failed.
func (s *Store) FinishVersion(ctx context.Context, id string, cues []captions.Caption, failure error) error {
	if failure != nil {
		_, err := s.db.ExecContext(ctx, `UPDATE transcript_versions SET state = ?, error = ? WHERE id = ?`,
			VersionFailed, failure.Error(), id)
		return err
	}
	b, err := json.Marshal(nonNil(cues))
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE transcript_versions SET state = ?, progress = 1, cues = ? WHERE id = ?`,
		VersionDone, string(b), id)
	return err
}

// FailInterruptedVersions marks versions left running by a stopped server as failed.
func (s *Store) FailInterruptedVersions(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE transcript_versions SET state = ?, error = 'interrupted: the server stopped; start it again'
		WHERE state = ?`, VersionFailed, VersionRunning)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TranscriptVersions lists a webinar's versions, oldest first.
func (s *Store) TranscriptVersions(ctx context.Context, webinar string) ([]TranscriptVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, webinar_id, kind, source, engine, state, progress, error, created_at_ms,
		json_array_length(cues) FROM transcript_versions WHERE webinar_id = ? ORDER BY created_at_ms, id`, webinar)
	if err != nil {
		return nil, fmt.Errorf("transcript versions of %s: %w", webinar, err)
	}
	defer rows.Close()
	out := []TranscriptVersion{}
	for rows.Next() {
		var v TranscriptVersion
		var at int64
		if err := rows.Scan(&v.ID, &v.Webinar, &v.Kind, &v.Source, &v.Engine, &v.State, &v.Progress, &v.Error, &at, &v.Cues); err != nil {
			return nil, err
		}
		v.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// VersionCues returns the cues of a finished version of webinar, or ErrNotFound.
func (s *Store) VersionCues(ctx context.Context, webinar, id string) ([]captions.Caption, error) {
	var state, body string
	err := s.db.QueryRowContext(ctx, `SELECT state, cues FROM transcript_versions WHERE webinar_id = ? AND id = ?`,
		webinar, id).Scan(&state, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("transcript version %s of %s: %w", id, webinar, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("transcript version %s: %w", id, err)
	}
	if state != VersionDone {
		return nil, fmt.Errorf("transcript version %s is %s: %w", id, state, ErrNotReady)
	}
	var cues []captions.Caption
	if err := json.Unmarshal([]byte(body), &cues); err != nil {
		return nil, fmt.Errorf("transcript version %s: %w", id, err)
	}
	return cues, nil
}

// ErrNotReady is a transcript version still running or failed.
var ErrNotReady = errors.New("not ready")

// DefaultTranscript is the version downloaded by default: LiveTranscript or a version id.
func (s *Store) DefaultTranscript(ctx context.Context, webinar string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT default_transcript FROM webinars WHERE id = ?`, webinar).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("webinar %q: %w", webinar, ErrNotFound)
	}
	if id == "" {
		id = LiveTranscript
	}
	return id, err
}

// SetDefaultTranscript chooses the version downloaded by default (LiveTranscript or a
// finished version of this webinar).
func (s *Store) SetDefaultTranscript(ctx context.Context, webinar, id string) error {
	if id != LiveTranscript {
		if _, err := s.VersionCues(ctx, webinar, id); err != nil {
			return err
		}
	} else {
		id = ""
	}
	res, err := s.db.ExecContext(ctx, `UPDATE webinars SET default_transcript = ? WHERE id = ?`, id, webinar)
	if err != nil {
		return fmt.Errorf("default transcript of %s: %w", webinar, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webinar %q: %w", webinar, ErrNotFound)
	}
	return nil
}

func nonNil(c []captions.Caption) []captions.Caption {
	if c == nil {
		return []captions.Caption{}
	}
	return c
}

package models

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Webinar is one broadcast: a presenter streams into it with its stream key, viewers watch it.
type Webinar struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	StreamKey string    `json:"stream_key,omitempty"`
	Language  string    `json:"language"` // spoken language, BCP-47 primary tag
	Regions   []string  `json:"regions"`  // processing regions it allows; empty: any the policy allows
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// KeyMatches reports, in constant time, whether key is the webinar's stream key.
func (w Webinar) KeyMatches(key string) bool {
	return key != "" && subtle.ConstantTimeCompare([]byte(key), []byte(w.StreamKey)) == 1
}

// NewWebinar is what a caller chooses when creating a webinar.
type NewWebinar struct {
	Title    string
	Language string
}

const maxTitle = 200

// CreateWebinar stores a new webinar with a fresh id and a random 192-bit stream key.
func (s *Store) CreateWebinar(ctx context.Context, in NewWebinar) (Webinar, error) {
	title := strings.TrimSpace(in.Title)
	if title == "" || len(title) > maxTitle {
		return Webinar{}, fmt.Errorf("title must be 1-%d characters", maxTitle)
	}
	lang := in.Language
	if lang == "" {
		lang = "en"
	}
	now := time.Now().UTC().Truncate(time.Second)
	w := Webinar{ID: newID(), Title: title, StreamKey: newSecret(24), Language: lang, CreatedAt: now, UpdatedAt: now}
	_, err := s.db.ExecContext(ctx, `INSERT INTO webinars(id, title, stream_key, language, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, w.ID, w.Title, w.StreamKey, w.Language, now.Unix(), now.Unix())
	if err != nil {
		return Webinar{}, fmt.Errorf("create webinar: %w", err)
	}
	return w, nil
}

// Webinar returns the webinar with this id, or ErrNotFound.
func (s *Store) Webinar(ctx context.Context, id string) (Webinar, error) {
	row := s.db.QueryRowContext(ctx, `SELECT id, title, stream_key, language, regions, created_at, updated_at
		FROM webinars WHERE id = ?`, id)
	w, err := scanWebinar(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Webinar{}, fmt.Errorf("webinar %q: %w", id, ErrNotFound)
	}
	return w, err
}

// Webinars lists every webinar, newest first.
func (s *Store) Webinars(ctx context.Context) ([]Webinar, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, title, stream_key, language, regions, created_at, updated_at
		FROM webinars ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list webinars: %w", err)
	}
	defer rows.Close()
	var out []Webinar
	for rows.Next() {
		w, err := scanWebinar(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanWebinar(r scanner) (Webinar, error) {
	var w Webinar
	var created, updated int64
	var regions string
	if err := r.Scan(&w.ID, &w.Title, &w.StreamKey, &w.Language, &regions, &created, &updated); err != nil {
		return Webinar{}, err
	}
	w.Regions = splitRegions(regions)
	w.CreatedAt, w.UpdatedAt = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
	return w, nil
}

// newID is a short, URL-safe, unguessable-enough public identifier (80 bits).
func newID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// newSecret returns n random bytes as URL-safe base64, for stream keys and tokens.
func newSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// UpdateWebinar changes a webinar's title and spoken language (empty arguments keep the old
// values) and returns the result.
func (s *Store) UpdateWebinar(ctx context.Context, id, title, language string) (Webinar, error) {
	w, err := s.Webinar(ctx, id)
	if err != nil {
		return Webinar{}, err
	}
	if t := strings.TrimSpace(title); t != "" {
		if len(t) > maxTitle {
			return Webinar{}, fmt.Errorf("title must be 1-%d characters", maxTitle)
		}
		w.Title = t
	}
	if language != "" {
		w.Language = language
	}
	w.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	_, err = s.db.ExecContext(ctx, `UPDATE webinars SET title = ?, language = ?, updated_at = ? WHERE id = ?`,
		w.Title, w.Language, w.UpdatedAt.Unix(), id)
	if err != nil {
		return Webinar{}, fmt.Errorf("update webinar %q: %w", id, err)
	}
	return w, nil
}

// RotateStreamKey gives a webinar a fresh random stream key; the old one stops working at once.
func (s *Store) RotateStreamKey(ctx context.Context, id string) (Webinar, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE webinars SET stream_key = ?, updated_at = ? WHERE id = ?`,
		newSecret(24), time.Now().Unix(), id)
	if err != nil {
		return Webinar{}, fmt.Errorf("rotate stream key %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Webinar{}, fmt.Errorf("webinar %q: %w", id, ErrNotFound)
	}
	return s.Webinar(ctx, id)
}

// DeleteWebinar deletes a webinar with its transcript, settings, members and registrations.
func (s *Store) DeleteWebinar(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webinars WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete webinar %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webinar %q: %w", id, ErrNotFound)
	}
	return nil
}

// SiteSetting returns an admin policy value, or def when it was never set.
func (s *Store) SiteSetting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM site_settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return "", fmt.Errorf("site setting %q: %w", key, err)
	}
	return v, nil
}

// SetSiteSetting stores an admin policy value.
func (s *Store) SetSiteSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO site_settings(key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("set site setting %q: %w", key, err)
	}
	return nil
}

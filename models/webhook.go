package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Webhook is one registered endpoint. WebinarID "" means account-wide (an admin's); else the
// endpoint hears only that webinar's events. Secret signs every delivery; it is never listed.
type Webhook struct {
	ID          string    `json:"id"`
	WebinarID   string    `json:"webinar_id,omitempty"`
	URL         string    `json:"url"`
	Secret      string    `json:"-"`
	Events      []string  `json:"events"`
	Format      string    `json:"format"`
	Description string    `json:"description,omitempty"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Wants reports whether the endpoint subscribed to event type typ.
func (h Webhook) Wants(typ string) bool {
	for _, e := range h.Events {
		if e == typ {
			return true
		}
	}
	return false
}

// WebhookDelivery is one attempt to deliver an event to an endpoint. Status 0: no HTTP answer.
type WebhookDelivery struct {
	ID         int64     `json:"id"`
	WebhookID  string    `json:"webhook_id"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	WebinarID  string    `json:"webinar_id,omitempty"`
	Attempt    int       `json:"attempt"`
	Status     int       `json:"status"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	At         time.Time `json:"at"`
}

// webhookLogKeep is how many delivery attempts are kept per endpoint: the log is for
// debugging a receiver, not an archive, and a failing endpoint must not fill the disk.
const webhookLogKeep = 500

// CreateWebhook stores a new endpoint with a fresh id; h.ID and h.CreatedAt are set.
func (s *Store) CreateWebhook(ctx context.Context, h Webhook) (Webhook, error) {
	h.ID = newID()
	if h.CreatedAt.IsZero() {
		h.CreatedAt = time.Now().UTC()
	}
	var webinar any
	if h.WebinarID != "" {
		webinar = h.WebinarID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO webhooks(id, webinar_id, url, secret, events, format, description, created_by, created_at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.ID, webinar, h.URL, h.Secret, strings.Join(h.Events, ","), h.Format,
		h.Description, h.CreatedBy, h.CreatedAt.UnixMilli())
	if err != nil {
		return Webhook{}, fmt.Errorf("create webhook for %q: %w", h.WebinarID, err)
	}
	return h, nil
}

const webhookColumns = `id, COALESCE(webinar_id, ''), url, secret, events, format, description, created_by, created_at_ms`

// Webhooks lists endpoints, oldest first: every one when all is true, else those of webinar
// (webinar "" = the account-wide ones).
func (s *Store) Webhooks(ctx context.Context, webinar string, all bool) ([]Webhook, error) {
	q, args := `SELECT `+webhookColumns+` FROM webhooks WHERE COALESCE(webinar_id, '') = ? ORDER BY created_at_ms, id`, []any{webinar}
	if all {
		q, args = `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at_ms, id`, nil
	}
	return s.queryWebhooks(ctx, q, args...)
}

// WebhookTargets lists the endpoints that hear event typ of webinar: the account-wide ones
// and the webinar's own.
func (s *Store) WebhookTargets(ctx context.Context, webinar, typ string) ([]Webhook, error) {
	hs, err := s.queryWebhooks(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE webinar_id IS NULL OR webinar_id = ? ORDER BY created_at_ms, id`, webinar)
	if err != nil {
		return nil, err
	}
	out := hs[:0]
	for _, h := range hs {
		if h.Wants(typ) {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *Store) queryWebhooks(ctx context.Context, q string, args ...any) ([]Webhook, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		h, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Webhook returns one endpoint, or ErrNotFound.
func (s *Store) Webhook(ctx context.Context, id string) (Webhook, error) {
	h, err := scanWebhook(s.db.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Webhook{}, fmt.Errorf("webhook %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Webhook{}, fmt.Errorf("webhook %s: %w", id, err)
	}
	return h, nil
}

// DeleteWebhook removes an endpoint and its delivery log, or says ErrNotFound.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete webhook %s: %w", id, ErrNotFound)
	}
	return nil
}

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var h Webhook
	var events string
	var created int64
	if err := row.Scan(&h.ID, &h.WebinarID, &h.URL, &h.Secret, &events, &h.Format, &h.Description, &h.CreatedBy, &created); err != nil {
		return Webhook{}, err
	}
	h.Events = strings.Split(events, ",")
	h.CreatedAt = time.UnixMilli(created).UTC()
	return h, nil
}

// AddWebhookDelivery logs one delivery attempt and trims the endpoint's log to the newest
// webhookLogKeep attempts. An attempt for an endpoint deleted meanwhile is not logged.
func (s *Store) AddWebhookDelivery(ctx context.Context, d WebhookDelivery) error {
	if d.At.IsZero() {
		d.At = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO webhook_deliveries(webhook_id, event_id, event_type, webinar_id, attempt, status, error, duration_ms, at_ms)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?)`,
		d.WebhookID, d.EventID, d.EventType, d.WebinarID, d.Attempt, d.Status, d.Error, d.DurationMS, d.At.UnixMilli(), d.WebhookID)
	if err != nil {
		return fmt.Errorf("log webhook delivery %s to %s: %w", d.EventID, d.WebhookID, err)
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND id <= (
		SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
		d.WebhookID, d.WebhookID, webhookLogKeep)
	if err != nil {
		return fmt.Errorf("trim webhook log of %s: %w", d.WebhookID, err)
	}
	return nil
}

// WebhookDeliveries lists an endpoint's newest delivery attempts first, at most limit.
func (s *Store) WebhookDeliveries(ctx context.Context, webhook string, limit int) ([]WebhookDelivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, webhook_id, event_id, event_type, webinar_id, attempt, status, error, duration_ms, at_ms
		FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, webhook, limit)
	if err != nil {
		return nil, fmt.Errorf("deliveries of webhook %s: %w", webhook, err)
	}
	defer rows.Close()
	out := []WebhookDelivery{}
	for rows.Next() {
		var d WebhookDelivery
		var at int64
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.WebinarID, &d.Attempt, &d.Status, &d.Error, &d.DurationMS, &at); err != nil {
			return nil, fmt.Errorf("deliveries of webhook %s: %w", webhook, err)
		}
		d.At = time.UnixMilli(at).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

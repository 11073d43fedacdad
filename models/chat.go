package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ChatSetting is who attendees may chat with (issue 9).
type ChatSetting string

const (
	ChatEveryone ChatSetting = "everyone"
	ChatHosts    ChatSetting = "hosts" // attendees write to the hosts only
	ChatOff      ChatSetting = "off"
)

// Valid reports whether c is a known setting.
func (c ChatSetting) Valid() bool { return c == ChatEveryone || c == ChatHosts || c == ChatOff }

// ChatMessage is one stored chat message. To is "everyone" or "hosts".
type ChatMessage struct {
	ID        int64     `json:"id"`
	WebinarID string    `json:"-"`
	From      string    `json:"from"` // participant id
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	To        string    `json:"to"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
}

// ToHosts reports whether only the hosts (and the sender) may see m.
func (m ChatMessage) ToHosts() bool { return m.To == string(ChatHosts) }

// AddChat stores m and returns it with its id.
func (s *Store) AddChat(ctx context.Context, m ChatMessage) (ChatMessage, error) {
	err := s.db.QueryRowContext(ctx, `INSERT INTO chat_messages(webinar_id, sender_id, name, role, to_hosts, body, at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, m.WebinarID, m.From, m.Name, m.Role, m.ToHosts(), m.Text, m.At.UnixMilli()).Scan(&m.ID)
	if err != nil {
		return ChatMessage{}, fmt.Errorf("add chat message: %w", err)
	}
	return m, nil
}

// Chat returns webinar id's messages with an id above after, oldest first.
func (s *Store) Chat(ctx context.Context, webinarID string, after int64) ([]ChatMessage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, sender_id, name, role, to_hosts, body, at_ms FROM chat_messages
		WHERE webinar_id = ? AND id > ? ORDER BY id`, webinarID, after)
	if err != nil {
		return nil, fmt.Errorf("chat of %q: %w", webinarID, err)
	}
	defer rows.Close()
	out := []ChatMessage{}
	for rows.Next() {
		m := ChatMessage{WebinarID: webinarID, To: string(ChatEveryone)}
		var toHosts bool
		var at int64
		if err := rows.Scan(&m.ID, &m.From, &m.Name, &m.Role, &toHosts, &m.Text, &at); err != nil {
			return nil, fmt.Errorf("chat of %q: %w", webinarID, err)
		}
		if toHosts {
			m.To = string(ChatHosts)
		}
		m.At = time.UnixMilli(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteChat deletes message id of a webinar and returns who sent it to whom (so the deletion
// reaches the same audience); ErrNotFound when there is none.
func (s *Store) DeleteChat(ctx context.Context, webinarID string, id int64) (ChatMessage, error) {
	m := ChatMessage{ID: id, WebinarID: webinarID, To: string(ChatEveryone)}
	var toHosts bool
	err := s.db.QueryRowContext(ctx, `DELETE FROM chat_messages WHERE webinar_id = ? AND id = ? RETURNING sender_id, to_hosts`,
		webinarID, id).Scan(&m.From, &toHosts)
	if errors.Is(err, sql.ErrNoRows) {
		return ChatMessage{}, fmt.Errorf("chat message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return ChatMessage{}, fmt.Errorf("delete chat message %d: %w", id, err)
	}
	if toHosts {
		m.To = string(ChatHosts)
	}
	return m, nil
}

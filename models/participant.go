package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ParticipantState is where a participant stands in a webinar's room.
type ParticipantState string

const (
	StateAdmitted ParticipantState = "admitted"
	StateWaiting  ParticipantState = "waiting"
	StateDenied   ParticipantState = "denied"
	StateRemoved  ParticipantState = "removed"
	StateLeft     ParticipantState = "left"
)

// Participant is someone in a webinar. Implicit participants (a signed-in member, a stream
// key) have no row: their id is derived from the account or the key.
type Participant struct {
	ID       string           `json:"id"`
	Webinar  string           `json:"-"`
	Name     string           `json:"name"`
	Role     Role             `json:"role"`
	State    ParticipantState `json:"state"`
	JoinedAt time.Time        `json:"joined_at"`
	Implicit bool             `json:"-"`
	// Registration is the registration whose link the participant joined with ("" for
	// none): revoking it removes the participant.
	Registration string `json:"-"`
}

// Moderates reports whether p acts on the room as a host: host and co-host.
func (p Participant) Moderates() bool { return p.Role == RoleHost || p.Role == RoleCohost }

// CreateParticipant stores a new participant; ID and JoinedAt are set here.
func (s *Store) CreateParticipant(ctx context.Context, p Participant) (Participant, error) {
	p.ID, p.JoinedAt = newID(), time.Now().UTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO participants(id, webinar_id, name, role, state, joined_at, registration_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, p.ID, p.Webinar, p.Name, string(p.Role), string(p.State), p.JoinedAt.UnixNano(), p.Registration)
	if err != nil {
		return Participant{}, fmt.Errorf("create participant: %w", err)
	}
	return p, nil
}

const participantCols = `id, webinar_id, name, role, state, joined_at, registration_id`

func scanParticipant(r interface{ Scan(...any) error }) (Participant, error) {
	var p Participant
	var joined int64
	if err := r.Scan(&p.ID, &p.Webinar, &p.Name, &p.Role, &p.State, &joined, &p.Registration); err != nil {
		return Participant{}, err
	}
	p.JoinedAt = time.Unix(0, joined).UTC()
	return p, nil
}

// Participant loads one participant of a webinar.
func (s *Store) Participant(ctx context.Context, webinarID, id string) (Participant, error) {
	p, err := scanParticipant(s.db.QueryRowContext(ctx,
		`SELECT `+participantCols+` FROM participants WHERE id = ? AND webinar_id = ?`, id, webinarID))
	if errors.Is(err, sql.ErrNoRows) {
		return Participant{}, fmt.Errorf("participant %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Participant{}, fmt.Errorf("participant %q: %w", id, err)
	}
	return p, nil
}

// Participants lists a webinar's participants, in the order they joined.
func (s *Store) Participants(ctx context.Context, webinarID string) ([]Participant, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+participantCols+` FROM participants WHERE webinar_id = ? ORDER BY joined_at, id`, webinarID)
	if err != nil {
		return nil, fmt.Errorf("participants: %w", err)
	}
	defer rows.Close()
	out := []Participant{}
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, fmt.Errorf("participants: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetParticipantState moves a participant to st. A removed or denied participant stays so.
func (s *Store) SetParticipantState(ctx context.Context, webinarID, id string, st ParticipantState) (Participant, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE participants SET state = ?
		WHERE id = ? AND webinar_id = ? AND state NOT IN ('removed', 'denied')`, string(st), id, webinarID)
	if err != nil {
		return Participant{}, fmt.Errorf("participant state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Participant(ctx, webinarID, id); err != nil {
			return Participant{}, err
		}
		return Participant{}, fmt.Errorf("participant %q was denied or removed: %w", id, ErrConflict)
	}
	return s.Participant(ctx, webinarID, id)
}

// SetParticipantRole makes an admitted participant attendee or panelist (promote, demote).
// A participant in any other state gives ErrConflict: only someone in the room takes a role.
func (s *Store) SetParticipantRole(ctx context.Context, webinarID, id string, role Role) (Participant, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE participants SET role = ? WHERE id = ? AND webinar_id = ? AND state = 'admitted'`,
		string(role), id, webinarID)
	if err != nil {
		return Participant{}, fmt.Errorf("participant role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Participant(ctx, webinarID, id); err != nil {
			return Participant{}, err
		}
		return Participant{}, fmt.Errorf("participant %q is not in the room: %w", id, ErrConflict)
	}
	return s.Participant(ctx, webinarID, id)
}

// RemoveRegistrationParticipants removes, for good, every participant who joined with the
// registration's link and returns the ones it removed (those not removed or denied already).
func (s *Store) RemoveRegistrationParticipants(ctx context.Context, webinarID, registrationID string) ([]Participant, error) {
	rows, err := s.db.QueryContext(ctx, `UPDATE participants SET state = 'removed'
		WHERE webinar_id = ? AND registration_id = ? AND registration_id <> '' AND state NOT IN ('removed', 'denied')
		RETURNING `+participantCols, webinarID, registrationID)
	if err != nil {
		return nil, fmt.Errorf("remove participants of registration %q: %w", registrationID, err)
	}
	defer rows.Close()
	var out []Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, fmt.Errorf("remove participants of registration %q: %w", registrationID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RoomEnded returns when the host ended the webinar for everyone; zero when it is not ended
// (never ended, or reopened).
func (s *Store) RoomEnded(ctx context.Context, webinarID string) (time.Time, error) {
	var ms int64
	err := s.db.QueryRowContext(ctx, `SELECT ended_at FROM room_settings WHERE webinar_id = ?`, webinarID).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && ms == 0) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("room ended %q: %w", webinarID, err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// SetRoomEnded records that the webinar ended for everyone at t; the zero t reopens it.
func (s *Store) SetRoomEnded(ctx context.Context, webinarID string, t time.Time) error {
	var ms int64
	if !t.IsZero() {
		ms = t.UnixMilli()
	}
	d := DefaultRoomSettings
	_, err := s.db.ExecContext(ctx, `INSERT INTO room_settings(webinar_id, waiting_room, locked, chat, qa, ended_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(webinar_id) DO UPDATE SET ended_at = excluded.ended_at`,
		webinarID, d.WaitingRoom, d.Locked, d.Chat, d.QA, ms)
	if err != nil {
		return fmt.Errorf("room ended %q: %w", webinarID, notFoundOnFK(err))
	}
	return nil
}

// RoomSettings are a webinar's room switches: admission and interaction.
type RoomSettings struct {
	WaitingRoom bool        `json:"waiting_room"`
	Locked      bool        `json:"locked"`
	Chat        ChatSetting `json:"chat"`
	QA          bool        `json:"qa"`
}

// DefaultRoomSettings apply to a webinar whose host never changed them.
var DefaultRoomSettings = RoomSettings{Chat: ChatEveryone, QA: true}

// RoomSettings returns a webinar's room switches, the defaults when never set.
func (s *Store) RoomSettings(ctx context.Context, webinarID string) (RoomSettings, error) {
	var r RoomSettings
	err := s.db.QueryRowContext(ctx, `SELECT waiting_room, locked, chat, qa FROM room_settings WHERE webinar_id = ?`,
		webinarID).Scan(&r.WaitingRoom, &r.Locked, &r.Chat, &r.QA)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRoomSettings, nil
	}
	if err != nil {
		return RoomSettings{}, fmt.Errorf("room settings %q: %w", webinarID, err)
	}
	return r, nil
}

// SaveRoomSettings stores a webinar's room switches, all of them: callers read, change and
// save.
func (s *Store) SaveRoomSettings(ctx context.Context, webinarID string, r RoomSettings) error {
	if !r.Chat.Valid() {
		return fmt.Errorf("chat setting %q: must be everyone, hosts or off", r.Chat)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO room_settings(webinar_id, waiting_room, locked, chat, qa) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(webinar_id) DO UPDATE SET waiting_room = excluded.waiting_room, locked = excluded.locked,
		chat = excluded.chat, qa = excluded.qa`,
		webinarID, r.WaitingRoom, r.Locked, r.Chat, r.QA)
	if err != nil {
		return fmt.Errorf("save room settings %q: %w", webinarID, notFoundOnFK(err))
	}
	return nil
}

package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is what an account (or a join token) may be in one webinar. What each role may do is
// decided in one place, auth.Can.
type Role string

const (
	RoleHost     Role = "host" // the owner
	RoleCohost   Role = "cohost"
	RolePanelist Role = "panelist" // may publish
	RoleAttendee Role = "attendee"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleHost, RoleCohost, RolePanelist, RoleAttendee:
		return true
	}
	return false
}

// Visibility says who may watch a webinar.
type Visibility string

const (
	VisibilityPublic       Visibility = "public"       // anyone
	VisibilityLink         Visibility = "link"         // anyone holding a join token (the link)
	VisibilityRegistration Visibility = "registration" // a join token obtained by registering
)

// Valid reports whether v is one of the three visibilities.
func (v Visibility) Valid() bool {
	return v == VisibilityPublic || v == VisibilityLink || v == VisibilityRegistration
}

// WebinarSettings is a webinar's ownership and access policy, kept apart from the webinars table.
type WebinarSettings struct {
	WebinarID    string     `json:"webinar_id"`
	OwnerID      string     `json:"owner_id"` // "" when unowned (created before accounts existed)
	Visibility   Visibility `json:"visibility"`
	PasscodeHash string     `json:"-"` // argon2id PHC string, "" for no passcode
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       time.Time  `json:"ends_at"`
	// LinkEpoch is the generation of the webinar's shared links (RotateLink); saving settings
	// never changes it.
	LinkEpoch int64 `json:"-"`
}

// HasPasscode reports whether joining needs a passcode.
func (w WebinarSettings) HasPasscode() bool { return w.PasscodeHash != "" }

// WebinarSettings returns a webinar's settings, or ErrNotFound when none were saved (the caller
// decides what that means; the schema default is public).
func (s *Store) WebinarSettings(ctx context.Context, webinarID string) (WebinarSettings, error) {
	var w WebinarSettings
	var owner sql.NullString
	var vis string
	var starts, ends int64
	err := s.db.QueryRowContext(ctx, `SELECT webinar_id, owner_id, visibility, passcode_hash, starts_at, ends_at, link_epoch
		FROM webinar_settings WHERE webinar_id = ?`, webinarID).Scan(&w.WebinarID, &owner, &vis, &w.PasscodeHash, &starts, &ends, &w.LinkEpoch)
	if errors.Is(err, sql.ErrNoRows) {
		return WebinarSettings{}, fmt.Errorf("settings of webinar %q: %w", webinarID, ErrNotFound)
	}
	if err != nil {
		return WebinarSettings{}, fmt.Errorf("webinar settings: %w", err)
	}
	w.OwnerID, w.Visibility, w.StartsAt, w.EndsAt = owner.String, Visibility(vis), unixTime(starts), unixTime(ends)
	return w, nil
}

// SaveWebinarSettings creates or replaces a webinar's settings. When OwnerID is set, the owner
// also becomes the webinar's host member, in the same transaction, so ownership and the role
// table never disagree.
func (s *Store) SaveWebinarSettings(ctx context.Context, w WebinarSettings) error {
	if w.Visibility == "" {
		w.Visibility = VisibilityPublic
	}
	if !w.Visibility.Valid() {
		return fmt.Errorf("visibility %q: must be public, link or registration", w.Visibility)
	}
	if !w.EndsAt.IsZero() && !w.StartsAt.IsZero() && w.EndsAt.Before(w.StartsAt) {
		return fmt.Errorf("webinar ends before it starts")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	owner := sql.NullString{String: w.OwnerID, Valid: w.OwnerID != ""}
	_, err = tx.ExecContext(ctx, `INSERT INTO webinar_settings(webinar_id, owner_id, visibility, passcode_hash, starts_at, ends_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(webinar_id) DO UPDATE SET owner_id = excluded.owner_id,
		visibility = excluded.visibility, passcode_hash = excluded.passcode_hash,
		starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
		w.WebinarID, owner, string(w.Visibility), w.PasscodeHash, unixOrZero(w.StartsAt), unixOrZero(w.EndsAt))
	if err != nil {
		return fmt.Errorf("save webinar settings %q: %w", w.WebinarID, notFoundOnFK(err))
	}
	if w.OwnerID != "" {
		if err := setMember(ctx, tx, w.WebinarID, w.OwnerID, RoleHost); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// RotateLink starts a new generation of the webinar's shared links and returns it: join
// tokens of earlier generations stop working. A webinar without settings gets default ones.
func (s *Store) RotateLink(ctx context.Context, webinarID string) (int64, error) {
	var epoch int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO webinar_settings(webinar_id, link_epoch) VALUES (?, 1)
		ON CONFLICT(webinar_id) DO UPDATE SET link_epoch = webinar_settings.link_epoch + 1 RETURNING link_epoch`, webinarID).Scan(&epoch)
	if err != nil {
		return 0, fmt.Errorf("rotate link of %q: %w", webinarID, notFoundOnFK(err))
	}
	return epoch, nil
}

// Member is an account's role in a webinar.
type Member struct {
	WebinarID string `json:"webinar_id"`
	UserID    string `json:"user_id"`
	Role      Role   `json:"role"`
}

// SetMember gives userID the role in webinarID (replacing any earlier role).
func (s *Store) SetMember(ctx context.Context, webinarID, userID string, role Role) error {
	return setMember(ctx, s.db, webinarID, userID, role)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func setMember(ctx context.Context, db execer, webinarID, userID string, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("role %q: must be host, cohost, panelist or attendee", role)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO webinar_members(webinar_id, user_id, role) VALUES (?, ?, ?)
		ON CONFLICT(webinar_id, user_id) DO UPDATE SET role = excluded.role`, webinarID, userID, string(role))
	if err != nil {
		return fmt.Errorf("set member %s/%s: %w", webinarID, userID, notFoundOnFK(err))
	}
	return nil
}

// RemoveMember takes userID's role in webinarID away. The owner cannot be removed (transfer
// ownership with SaveWebinarSettings first).
func (s *Store) RemoveMember(ctx context.Context, webinarID, userID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webinar_members WHERE webinar_id = ? AND user_id = ?
		AND NOT EXISTS (SELECT 1 FROM webinar_settings WHERE webinar_id = ? AND owner_id = ?)`, webinarID, userID, webinarID, userID)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("member %s/%s (or the owner): %w", webinarID, userID, ErrNotFound)
	}
	return nil
}

// MemberRole returns userID's role in webinarID, or ErrNotFound when it has none.
func (s *Store) MemberRole(ctx context.Context, webinarID, userID string) (Role, error) {
	var r string
	err := s.db.QueryRowContext(ctx, `SELECT role FROM webinar_members WHERE webinar_id = ? AND user_id = ?`, webinarID, userID).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("member %s/%s: %w", webinarID, userID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("member role: %w", err)
	}
	return Role(r), nil
}

// Members lists a webinar's members, hosts first.
func (s *Store) Members(ctx context.Context, webinarID string) ([]Member, error) {
	return s.members(ctx, `SELECT webinar_id, user_id, role FROM webinar_members WHERE webinar_id = ?
		ORDER BY CASE role WHEN 'host' THEN 0 WHEN 'cohost' THEN 1 WHEN 'panelist' THEN 2 ELSE 3 END, user_id`, webinarID)
}

// Memberships lists the webinars userID has a role in (for a host dashboard).
func (s *Store) Memberships(ctx context.Context, userID string) ([]Member, error) {
	return s.members(ctx, `SELECT webinar_id, user_id, role FROM webinar_members WHERE user_id = ? ORDER BY webinar_id`, userID)
}

func (s *Store) members(ctx context.Context, q string, arg string) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.WebinarID, &m.UserID, &m.Role); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Registration is a person signed up for a webinar; their join token's hash is kept so that it
// can be revoked or replaced.
type Registration struct {
	ID        string    `json:"id"`
	WebinarID string    `json:"webinar_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	TokenHash string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at"` // zero: live
}

// NewRegistration is what a person gives when registering (Role defaults to attendee; hosts
// may invite panelists the same way).
type NewRegistration struct {
	WebinarID string
	Name      string
	Email     string
	Role      Role
}

// CreateRegistration stores a registration. The same email twice for a webinar gives ErrConflict;
// an unknown webinar gives ErrNotFound.
func (s *Store) CreateRegistration(ctx context.Context, in NewRegistration) (Registration, error) {
	name, email := strings.TrimSpace(in.Name), NormalizeEmail(in.Email)
	if name == "" || len(name) > maxTitle {
		return Registration{}, fmt.Errorf("name must be 1-%d characters", maxTitle)
	}
	if email == "" || len(email) > maxEmail || !strings.Contains(email, "@") {
		return Registration{}, fmt.Errorf("invalid email")
	}
	if in.Role == "" {
		in.Role = RoleAttendee
	}
	if !in.Role.Valid() {
		return Registration{}, fmt.Errorf("role %q: invalid", in.Role)
	}
	now := time.Now().UTC().Truncate(time.Second)
	r := Registration{ID: newID(), WebinarID: in.WebinarID, Name: name, Email: email, Role: in.Role, CreatedAt: now}
	_, err := s.db.ExecContext(ctx, `INSERT INTO registrations(id, webinar_id, name, email, role, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.WebinarID, r.Name, r.Email, string(r.Role), now.Unix())
	if isUnique(err) {
		return Registration{}, fmt.Errorf("registration %q: %w", email, ErrConflict)
	}
	if err != nil {
		return Registration{}, fmt.Errorf("create registration: %w", notFoundOnFK(err))
	}
	return r, nil
}

// SetRegistrationToken records the hash of the join token just issued for a registration; any
// token issued before stops working.
func (s *Store) SetRegistrationToken(ctx context.Context, id, tokenHash string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE registrations SET token_hash = ? WHERE id = ? AND revoked_at = 0`, tokenHash, id)
	if err != nil {
		return fmt.Errorf("registration token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("live registration %q: %w", id, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM registration_tokens WHERE registration_id = ?`, id); err != nil {
		return fmt.Errorf("registration token: %w", err)
	}
	if err := addRegistrationToken(ctx, tx, id, tokenHash); err != nil {
		return err
	}
	return tx.Commit()
}

// maxRegistrationTokens bounds the live tokens of one registration: registering again and
// again with one email keeps only the newest few.
const maxRegistrationTokens = 5

// AddRegistrationToken records one more live token for a registration (the earlier ones keep
// working, but only the newest maxRegistrationTokens are kept).
func (s *Store) AddRegistrationToken(ctx context.Context, id, tokenHash string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var live int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM registrations WHERE id = ? AND revoked_at = 0`, id).Scan(&live); err != nil {
		return fmt.Errorf("registration token: %w", err)
	}
	if live == 0 {
		return fmt.Errorf("live registration %q: %w", id, ErrNotFound)
	}
	if err := addRegistrationToken(ctx, tx, id, tokenHash); err != nil {
		return err
	}
	return tx.Commit()
}

func addRegistrationToken(ctx context.Context, tx *txn, id, tokenHash string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO registration_tokens(registration_id, token_hash, created_at) VALUES (?, ?, ?)`,
		id, tokenHash, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("registration token: %w", err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM registration_tokens WHERE registration_id = ? AND token_hash NOT IN
		(SELECT token_hash FROM registration_tokens WHERE registration_id = ? ORDER BY created_at DESC LIMIT ?)`,
		id, id, maxRegistrationTokens)
	if err != nil {
		return fmt.Errorf("registration token: %w", err)
	}
	return nil
}

// RegistrationTokenLive reports whether tokenHash is a live token of a live registration.
func (s *Store) RegistrationTokenLive(ctx context.Context, id, tokenHash string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM registration_tokens t JOIN registrations r ON r.id = t.registration_id
		WHERE t.registration_id = ? AND t.token_hash = ? AND r.revoked_at = 0`, id, tokenHash).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("registration token: %w", err)
	}
	return n > 0, nil
}

// RegistrationByEmail returns the webinar's registration for email (revoked ones too), or ErrNotFound.
func (s *Store) RegistrationByEmail(ctx context.Context, webinarID, email string) (Registration, error) {
	r, err := scanRegistration(s.db.QueryRowContext(ctx, `SELECT `+regCols+` FROM registrations WHERE webinar_id = ? AND email = ?`,
		webinarID, NormalizeEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return Registration{}, fmt.Errorf("registration %q: %w", email, ErrNotFound)
	}
	return r, err
}

// Registration returns a registration (revoked ones too), or ErrNotFound.
func (s *Store) Registration(ctx context.Context, id string) (Registration, error) {
	r, err := scanRegistration(s.db.QueryRowContext(ctx, `SELECT `+regCols+` FROM registrations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Registration{}, fmt.Errorf("registration %q: %w", id, ErrNotFound)
	}
	return r, err
}

// Registrations lists a webinar's registrations, oldest first.
func (s *Store) Registrations(ctx context.Context, webinarID string) ([]Registration, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+regCols+` FROM registrations WHERE webinar_id = ? ORDER BY created_at, id`, webinarID)
	if err != nil {
		return nil, fmt.Errorf("registrations: %w", err)
	}
	defer rows.Close()
	var out []Registration
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RevokeRegistration revokes a registration of webinarID: its join token stops working.
func (s *Store) RevokeRegistration(ctx context.Context, webinarID, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE registrations SET revoked_at = ? WHERE id = ? AND webinar_id = ? AND revoked_at = 0`,
		time.Now().Unix(), id, webinarID)
	if err != nil {
		return fmt.Errorf("revoke registration: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("live registration %q: %w", id, ErrNotFound)
	}
	return nil
}

const regCols = `id, webinar_id, name, email, role, token_hash, created_at, revoked_at`

func scanRegistration(r scanner) (Registration, error) {
	var g Registration
	var created, revoked int64
	if err := r.Scan(&g.ID, &g.WebinarID, &g.Name, &g.Email, &g.Role, &g.TokenHash, &created, &revoked); err != nil {
		return Registration{}, err
	}
	g.CreatedAt, g.RevokedAt = unixTime(created), unixTime(revoked)
	return g, nil
}

// notFoundOnFK turns a foreign-key failure (an unknown webinar or user id) into ErrNotFound.
func notFoundOnFK(err error) error {
	if classify(err) == errForeignKey {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

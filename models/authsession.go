package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AuthSession is a signed-in browser. The cookie holds a random token; only its hash (IDHash,
// see HashToken) is stored. Policy (idle and absolute timeouts) is package auth's business.
type AuthSession struct {
	IDHash     string
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end, whatever the activity
	RevokedAt  time.Time // zero: not revoked
	MFAPending bool      // password checked, second factor not yet: may do nothing but finish 2FA
	CSRFToken  string
	IP         string
	UserAgent  string
}

// Revoked reports whether the session was signed out or revoked by an admin.
func (a AuthSession) Revoked() bool { return !a.RevokedAt.IsZero() }

const sessionCols = `id_hash, user_id, created_at, last_seen_at, expires_at, revoked_at, mfa_pending, csrf_token, ip, user_agent`

// CreateAuthSession stores a new session; IDHash, UserID and ExpiresAt must be set.
func (s *Store) CreateAuthSession(ctx context.Context, a AuthSession) error {
	if a.IDHash == "" || a.UserID == "" || a.ExpiresAt.IsZero() {
		return fmt.Errorf("create session: id hash, user and expiry are required")
	}
	if len(a.UserAgent) > 512 {
		a.UserAgent = a.UserAgent[:512]
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO auth_sessions(`+sessionCols+`) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
		a.IDHash, a.UserID, a.CreatedAt.Unix(), a.LastSeenAt.Unix(), a.ExpiresAt.Unix(), a.MFAPending, a.CSRFToken, a.IP, a.UserAgent)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func scanSession(r scanner) (AuthSession, error) {
	var a AuthSession
	var created, seen, expires, revoked int64
	err := r.Scan(&a.IDHash, &a.UserID, &created, &seen, &expires, &revoked, &a.MFAPending, &a.CSRFToken, &a.IP, &a.UserAgent)
	if err != nil {
		return AuthSession{}, err
	}
	a.CreatedAt, a.LastSeenAt, a.ExpiresAt, a.RevokedAt = unixTime(created), unixTime(seen), unixTime(expires), unixTime(revoked)
	return a, nil
}

// AuthSession returns the session with this id hash (revoked or expired ones too: the caller
// applies policy), or ErrNotFound.
func (s *Store) AuthSession(ctx context.Context, idHash string) (AuthSession, error) {
	a, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM auth_sessions WHERE id_hash = ?`, idHash))
	if errors.Is(err, sql.ErrNoRows) {
		return AuthSession{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	return a, err
}

// UserSessions lists an account's live (not revoked, not expired at now) sessions, newest first,
// for a "signed-in devices" page.
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]AuthSession, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionCols+` FROM auth_sessions
		WHERE user_id = ? AND revoked_at = 0 AND expires_at > ? ORDER BY created_at DESC`, userID, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("user sessions: %w", err)
	}
	defer rows.Close()
	var out []AuthSession
	for rows.Next() {
		a, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// TouchAuthSession records activity on a session (for the idle timeout).
func (s *Store) TouchAuthSession(ctx context.Context, idHash string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE auth_sessions SET last_seen_at = greatest(last_seen_at, ?) WHERE id_hash = ?`, at.Unix(), idHash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// RevokeAuthSession signs one session out. Revoking an unknown or revoked session is not an error.
func (s *Store) RevokeAuthSession(ctx context.Context, idHash string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE auth_sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at = 0`, at.Unix(), idHash)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokeUserSessions signs an account out everywhere (after a password change, 2FA change or
// disabling) except the session with hash keep ("" keeps none), and returns how many it revoked.
func (s *Store) RevokeUserSessions(ctx context.Context, userID, keep string, at time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0 AND id_hash != ?`,
		at.Unix(), userID, keep)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeleteDeadSessions removes sessions that expired or were revoked before the given time
// (housekeeping; the audit log keeps the history).
func (s *Store) DeleteDeadSessions(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires_at < ? OR (revoked_at != 0 AND revoked_at < ?)`,
		before.Unix(), before.Unix())
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

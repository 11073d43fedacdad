package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Invite is a one-time link with which a person sets the password of an account an admin
// created for them. Only the hash of the link's secret is stored.
type Invite struct {
	UserID    string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AddInvite stores a new invite for userID and withdraws the account's earlier unused ones, so
// only the link handed out last works.
func (s *Store) AddInvite(ctx context.Context, tokenHash string, in Invite) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := in.CreatedAt.Unix()
	if _, err := tx.ExecContext(ctx, `UPDATE invites SET used_at = ? WHERE user_id = ? AND used_at = 0`, now, in.UserID); err != nil {
		return fmt.Errorf("add invite: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO invites(token_hash, user_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		tokenHash, in.UserID, in.CreatedBy, now, in.ExpiresAt.Unix())
	if err != nil {
		return fmt.Errorf("add invite: %w", err)
	}
	return tx.Commit()
}

// OpenInvite returns the unused invite with this hash that is still valid at now, and its
// account; anything else (unknown, used, expired) gives ErrNotFound.
func (s *Store) OpenInvite(ctx context.Context, tokenHash string, now time.Time) (Invite, User, error) {
	var in Invite
	var created, expires int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, created_by, created_at, expires_at FROM invites
		WHERE token_hash = ? AND used_at = 0 AND expires_at > ?`, tokenHash, now.Unix()).
		Scan(&in.UserID, &in.CreatedBy, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Invite{}, User{}, fmt.Errorf("invite: %w", ErrNotFound)
	}
	if err != nil {
		return Invite{}, User{}, fmt.Errorf("invite: %w", err)
	}
	in.CreatedAt, in.ExpiresAt = unixTime(created), unixTime(expires)
	u, err := s.User(ctx, in.UserID)
	return in, u, err
}

// RedeemInvite spends the invite with this hash and sets its account's password hash, in one
// transaction: of two requests with the same link, exactly one sets the password. An unknown,
// used or expired invite gives ErrNotFound and changes nothing.
func (s *Store) RedeemInvite(ctx context.Context, tokenHash, passwordHash string, now time.Time) (User, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return User{}, err
	}
	defer tx.Rollback()
	var userID string
	err = tx.QueryRowContext(ctx, `UPDATE invites SET used_at = ? WHERE token_hash = ? AND used_at = 0 AND expires_at > ?
		RETURNING user_id`, now.Unix(), tokenHash, now.Unix()).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("invite: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("redeem invite: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID); err != nil {
		return User{}, fmt.Errorf("redeem invite: %w", err)
	}
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, userID))
	if err != nil {
		return User{}, fmt.Errorf("redeem invite: %w", err)
	}
	return u, tx.Commit()
}

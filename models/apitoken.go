package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// APIToken is a personal token for scripts (`Authorization: Bearer lct_...`). Only its hash is
// stored; the plaintext is returned once, by CreateAPIToken.
type APIToken struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"` // zero: never
	RevokedAt  time.Time `json:"revoked_at"`   // zero: live
}

// APITokenPrefix starts every API token, so leaked tokens are easy to recognise and grep for
// (secret scanners) and never confused with a session cookie or a stream key.
const APITokenPrefix = "lct_"

// CreateAPIToken makes a new 256-bit token for userID and returns it with its plaintext, which
// is not stored anywhere and cannot be shown again.
func (s *Store) CreateAPIToken(ctx context.Context, userID, name string) (APIToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return APIToken{}, "", fmt.Errorf("token name must be 1-100 characters")
	}
	plain := APITokenPrefix + newSecret(32)
	now := time.Now().UTC().Truncate(time.Second)
	t := APIToken{ID: newID(), UserID: userID, Name: name, CreatedAt: now}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens(id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		t.ID, t.UserID, t.Name, HashToken(plain), now.Unix())
	if err != nil {
		return APIToken{}, "", fmt.Errorf("create api token: %w", err)
	}
	return t, plain, nil
}

const tokenCols = `t.id, t.user_id, t.name, t.created_at, t.last_used_at, t.revoked_at`

func scanToken(dst *APIToken, extra ...any) []any {
	return append([]any{&dst.ID, &dst.UserID, &dst.Name}, extra...)
}

// APITokenUser returns the live token whose plaintext is token and the account it belongs to,
// or ErrNotFound (unknown or revoked). It records the use. Whether a disabled account may use
// it is the caller's policy (package auth refuses).
func (s *Store) APITokenUser(ctx context.Context, token string, now time.Time) (APIToken, User, error) {
	var t APIToken
	var created, used, revoked int64
	dst := scanToken(&t, &created, &used, &revoked)
	var u User
	var ucreated, login, seen int64
	dst = append(dst, &u.ID, &u.Email, &u.DisplayName, &u.PasswordHash, &u.Admin, &u.Disabled, &u.DisabledReason,
		&u.TOTPSecret, &u.TOTPEnabled, &ucreated, &login, &seen)
	err := s.db.QueryRowContext(ctx, `SELECT `+tokenCols+`, `+prefixed("u.", userCols)+` FROM api_tokens t
		JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked_at = 0`, HashToken(token)).Scan(dst...)
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, User{}, fmt.Errorf("api token: %w", ErrNotFound)
	}
	if err != nil {
		return APIToken{}, User{}, fmt.Errorf("api token: %w", err)
	}
	t.CreatedAt, t.LastUsedAt = unixTime(created), unixTime(used)
	u.CreatedAt, u.LastLoginAt, u.LastSeenAt = unixTime(ucreated), unixTime(login), unixTime(seen)
	// One write a minute at most: a script polling every second should not turn reads into writes.
	if now.Unix()-used >= 60 {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now.Unix(), t.ID); err != nil {
			return APIToken{}, User{}, fmt.Errorf("api token: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE users SET last_seen_at = greatest(last_seen_at, ?) WHERE id = ?`, now.Unix(), u.ID); err != nil {
			return APIToken{}, User{}, fmt.Errorf("api token: %w", err)
		}
		t.LastUsedAt = now.UTC().Truncate(time.Second)
	}
	return t, u, nil
}

// APITokens lists an account's tokens (revoked ones too), newest first.
func (s *Store) APITokens(ctx context.Context, userID string) ([]APIToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens t WHERE t.user_id = ? ORDER BY t.created_at DESC, t.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var created, used, revoked int64
		if err := rows.Scan(scanToken(&t, &created, &used, &revoked)...); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = unixTime(created), unixTime(used), unixTime(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken revokes token tokenID of account userID. Asking for another account's token
// gives ErrNotFound, so a caller cannot revoke (or learn of) tokens that are not theirs.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, tokenID string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at = 0`,
		time.Now().Unix(), tokenID, userID)
	if err != nil {
		return fmt.Errorf("revoke api token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("api token %q: %w", tokenID, ErrNotFound)
	}
	return nil
}

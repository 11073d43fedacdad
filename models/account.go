package models

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// ErrConflict is returned when a unique value (an email, an OIDC subject) is already taken.
var ErrConflict = errors.New("already exists")

// User is an account. PasswordHash and TOTPSecret never leave the server: they are kept out of
// JSON and out of logs (see LogValue).
type User struct {
	ID             string    `json:"id"`
	Email          string    `json:"email"`
	DisplayName    string    `json:"display_name"`
	PasswordHash   string    `json:"-"` // argon2id PHC string, "" for SSO-only accounts
	Admin          bool      `json:"admin"`
	Disabled       bool      `json:"disabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	TOTPSecret     string    `json:"-"` // sealed by package auth, "" when not enrolled
	TOTPEnabled    bool      `json:"totp_enabled"`
	CreatedAt      time.Time `json:"created_at"`
	LastLoginAt    time.Time `json:"last_login_at"` // zero: never
	LastSeenAt     time.Time `json:"last_seen_at"`  // zero: never
}

// LogValue keeps secrets out of structured logs even when a whole User is logged.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("email", u.Email))
}

// NewUser is what an admin (or SSO sign-up) chooses when creating an account.
type NewUser struct {
	Email        string
	DisplayName  string
	PasswordHash string
	Admin        bool
}

// NormalizeEmail is the one form in which emails are stored and compared.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// HashToken is how every bearer secret (session cookie, API token, join token) is stored:
// SHA-256, hex. The secrets are 256-bit random values, so a fast hash is enough; what matters
// is that a copy of the database cannot be replayed as credentials.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

const maxEmail = 254

// CreateUser stores a new account. A taken email gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, in NewUser) (User, error) {
	email := NormalizeEmail(in.Email)
	if email == "" || len(email) > maxEmail || !strings.Contains(email, "@") {
		return User{}, fmt.Errorf("create user: invalid email")
	}
	name := strings.TrimSpace(in.DisplayName)
	if len(name) > maxTitle {
		return User{}, fmt.Errorf("create user: display name longer than %d", maxTitle)
	}
	now := time.Now().UTC().Truncate(time.Second)
	u := User{ID: newID(), Email: email, DisplayName: name, PasswordHash: in.PasswordHash, Admin: in.Admin, CreatedAt: now}
	_, err := s.db.ExecContext(ctx, `INSERT INTO users(id, email, display_name, password_hash, admin, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, u.ID, u.Email, u.DisplayName, u.PasswordHash, u.Admin, now.Unix())
	if isUnique(err) {
		return User{}, fmt.Errorf("user %q: %w", email, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

const userCols = `id, email, display_name, password_hash, admin, disabled, disabled_reason,
	totp_secret, totp_enabled, created_at, last_login_at, last_seen_at`

func scanUser(r scanner) (User, error) {
	var u User
	var created, login, seen int64
	err := r.Scan(&u.ID, &u.Email, &u.DisplayName, &u.PasswordHash, &u.Admin, &u.Disabled, &u.DisabledReason,
		&u.TOTPSecret, &u.TOTPEnabled, &created, &login, &seen)
	if err != nil {
		return User{}, err
	}
	u.CreatedAt, u.LastLoginAt, u.LastSeenAt = unixTime(created), unixTime(login), unixTime(seen)
	return u, nil
}

// User returns the account with this id, or ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	return u, err
}

// UserByEmail returns the account with this email (any case), or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	email = NormalizeEmail(email)
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", email, ErrNotFound)
	}
	return u, err
}

// Users lists every account by email.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetPasswordHash replaces an account's password hash (a change, or a rehash with new parameters).
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	return s.updateUser(ctx, userID, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
}

// SetUserAdmin grants or withdraws the admin flag.
func (s *Store) SetUserAdmin(ctx context.Context, userID string, admin bool) error {
	return s.updateUser(ctx, userID, `UPDATE users SET admin = ? WHERE id = ?`, admin, userID)
}

// SetDisplayName changes the name shown to others.
func (s *Store) SetDisplayName(ctx context.Context, userID, name string) error {
	name = strings.TrimSpace(name)
	if len(name) > maxTitle {
		return fmt.Errorf("display name longer than %d", maxTitle)
	}
	return s.updateUser(ctx, userID, `UPDATE users SET display_name = ? WHERE id = ?`, name, userID)
}

// SetUserDisabled disables an account (with a reason shown at sign-in) or enables it again.
// Enabling also counts as activity, so the stale-account sweep does not disable it again at once.
// Disabling revokes the account's sessions in the same transaction.
func (s *Store) SetUserDisabled(ctx context.Context, userID string, disabled bool, reason string) error {
	now := time.Now().Unix()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if disabled {
		err = disableInTx(ctx, tx, userID, reason, now)
	} else {
		var res sql.Result
		res, err = tx.ExecContext(ctx, `UPDATE users SET disabled = 0, disabled_reason = '', last_seen_at = ? WHERE id = ?`, now, userID)
		if n, _ := res.RowsAffected(); err == nil && n == 0 {
			err = fmt.Errorf("user %q: %w", userID, ErrNotFound)
		}
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

// disableInTx disables an account and revokes its sessions.
func disableInTx(ctx context.Context, tx *txn, userID, reason string, now int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 1, disabled_reason = ? WHERE id = ?`, reason, userID)
	if err == nil {
		_, err = tx.ExecContext(ctx, `UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, now, userID)
	}
	if err != nil {
		return fmt.Errorf("disable user %q: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	return nil
}

// RecordLogin notes a successful sign-in (it also counts as activity).
func (s *Store) RecordLogin(ctx context.Context, userID string, at time.Time) error {
	return s.updateUser(ctx, userID, `UPDATE users SET last_login_at = ?, last_seen_at = ? WHERE id = ?`,
		at.Unix(), at.Unix(), userID)
}

// TouchUser notes activity by a signed-in account (session or API token use).
func (s *Store) TouchUser(ctx context.Context, userID string, at time.Time) error {
	return s.updateUser(ctx, userID, `UPDATE users SET last_seen_at = greatest(last_seen_at, ?) WHERE id = ?`, at.Unix(), userID)
}

// DisableInactiveUsers disables every enabled account with no sign-in or activity since before
// (an account never used counts from its creation), sets reason, revokes their sessions and
// returns their ids.
func (s *Store) DisableInactiveUsers(ctx context.Context, before time.Time, reason string) ([]string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE disabled = 0
		AND greatest(created_at, last_login_at, last_seen_at) < ? ORDER BY id`, before.Unix())
	if err != nil {
		return nil, fmt.Errorf("stale users: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 1, disabled_reason = ? WHERE id = ?`, reason, id); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, now, id); err != nil {
			return nil, err
		}
	}
	return ids, tx.Commit()
}

// LinkOIDC records that (issuer, subject) signs in as userID. A pair already linked to any
// account gives ErrConflict.
func (s *Store) LinkOIDC(ctx context.Context, userID, issuer, subject string) error {
	if issuer == "" || subject == "" {
		return fmt.Errorf("link oidc: empty issuer or subject")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_links(issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)`,
		issuer, subject, userID, time.Now().Unix())
	if isUnique(err) {
		return fmt.Errorf("oidc %s %s: %w", issuer, subject, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("link oidc: %w", err)
	}
	return nil
}

// UserByOIDC returns the account linked to (issuer, subject), or ErrNotFound.
func (s *Store) UserByOIDC(ctx context.Context, issuer, subject string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+prefixed("u.", userCols)+` FROM oidc_links l
		JOIN users u ON u.id = l.user_id WHERE l.issuer = ? AND l.subject = ?`, issuer, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("oidc %s %s: %w", issuer, subject, ErrNotFound)
	}
	return u, err
}

// OIDCSubject returns the subject linked to userID at issuer, or ErrNotFound.
func (s *Store) OIDCSubject(ctx context.Context, userID, issuer string) (string, error) {
	var sub string
	err := s.db.QueryRowContext(ctx, `SELECT subject FROM oidc_links WHERE user_id = ? AND issuer = ? ORDER BY created_at LIMIT 1`,
		userID, issuer).Scan(&sub)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("oidc link of %q at %s: %w", userID, issuer, ErrNotFound)
	}
	return sub, err
}

func (s *Store) updateUser(ctx context.Context, userID, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("update user %q: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	return nil
}

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// SetTOTPSecret stores a sealed TOTP secret for an enrolment in progress: two-factor stays off
// (and recovery codes are unchanged) until EnableTOTP confirms that the user's app works.
// An account whose two-factor is on gives ErrConflict: switching it off (DisableTOTP) is a
// separate, deliberate step, never a side effect of starting a new enrolment.
func (s *Store) SetTOTPSecret(ctx context.Context, userID, sealed string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET totp_secret = ?, totp_last_step = 0 WHERE id = ? AND totp_enabled = 0`,
		sealed, userID)
	if err != nil {
		return fmt.Errorf("set totp secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.User(ctx, userID); err != nil {
			return err
		}
		return fmt.Errorf("user %q has two-factor on: %w", userID, ErrConflict)
	}
	return nil
}

// EnableTOTP turns two-factor on, remembers the time step of the confirming code (so it cannot
// be replayed) and replaces the recovery codes with codeHashes, all at once.
func (s *Store) EnableTOTP(ctx context.Context, userID string, step int64, codeHashes []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET totp_enabled = 1, totp_last_step = ? WHERE id = ? AND totp_secret != ''`, step, userID)
	if err != nil {
		return fmt.Errorf("enable totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %q with pending totp: %w", userID, ErrNotFound)
	}
	if err := replaceRecoveryCodes(ctx, tx, userID, codeHashes); err != nil {
		return err
	}
	return tx.Commit()
}

// DisableTOTP turns two-factor off and forgets the secret and the recovery codes.
func (s *Store) DisableTOTP(ctx context.Context, userID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = '', totp_enabled = 0, totp_last_step = 0 WHERE id = ?`, userID)
	if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	return tx.Commit()
}

// UseTOTPStep records that the code of time step step was used, and reports false when that
// step (or a later one) was already used: a TOTP code is good once. The check and the update
// are one statement, so two concurrent sign-ins with the same code cannot both pass.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, userID, step)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReplaceRecoveryCodes throws away an account's recovery codes and stores new ones (hashes only).
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codeHashes []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := replaceRecoveryCodes(ctx, tx, userID, codeHashes); err != nil {
		return err
	}
	return tx.Commit()
}

func replaceRecoveryCodes(ctx context.Context, tx *txn, userID string, codeHashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("recovery codes: %w", err)
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes(user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
			return fmt.Errorf("recovery codes: %w", err)
		}
	}
	return nil
}

// UseRecoveryCode spends the recovery code with this hash, reporting false when there is no
// such unused code. Check and update are one statement: a code works exactly once.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, codeHash string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at = 0`,
		time.Now().Unix(), userID, codeHash)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecoveryCodesLeft counts an account's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at = 0`, userID).Scan(&n)
	return n, err
}

package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrLastAdmin: the change would leave the site without an enabled admin, and so without
// anyone who can reach the admin console.
var ErrLastAdmin = errors.New("the last enabled admin")

// otherAdmins counts the enabled admins other than userID. It runs inside the write
// transaction of the change it guards, so two admins demoting each other at once cannot both
// pass (transactions take the write lock when they begin: _txlock=immediate).
func otherAdmins(ctx context.Context, tx *txn, userID string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE admin = 1 AND disabled = 0 AND id != ?`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// keepsAnAdmin fails with ErrLastAdmin when userID is an enabled admin and no other is.
func keepsAnAdmin(ctx context.Context, tx *txn, userID string) error {
	var admin, disabled bool
	err := tx.QueryRowContext(ctx, `SELECT admin, disabled FROM users WHERE id = ?`, userID).Scan(&admin, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("user %q: %w", userID, err)
	}
	if !admin || disabled {
		return nil
	}
	n, err := otherAdmins(ctx, tx, userID)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("user %q: %w", userID, ErrLastAdmin)
	}
	return nil
}

// SetUserAdminKeepingOne grants or withdraws the admin flag, refusing (ErrLastAdmin) to
// withdraw it from the last enabled admin. The admin console uses it; the CLI, which someone
// with a shell on the server runs, may do anything.
func (s *Store) SetUserAdminKeepingOne(ctx context.Context, userID string, admin bool) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !admin {
		if err := keepsAnAdmin(ctx, tx, userID); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET admin = ? WHERE id = ?`, admin, userID)
	if err != nil {
		return fmt.Errorf("update user %q: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	return tx.Commit()
}

// DisableUserKeepingAdmin is SetUserDisabled(userID, true, reason) that refuses (ErrLastAdmin)
// to disable the last enabled admin.
func (s *Store) DisableUserKeepingAdmin(ctx context.Context, userID, reason string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := keepsAnAdmin(ctx, tx, userID); err != nil {
		return err
	}
	if err := disableInTx(ctx, tx, userID, reason, time.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

package auth

import (
	"context"

	"lectern/models"
)

// Event2FAReset: an admin turned an account's two-factor sign-in off (a lost phone).
const Event2FAReset = "2fa.reset"

// The admin console's account operations, each audited. Unlike the CLI's, they never leave
// the site without an enabled admin (models.ErrLastAdmin).

// DisableAccount disables an account with a reason shown at sign-in; its sessions end and its
// API tokens stop working at once.
func DisableAccount(ctx context.Context, store *models.Store, actorID, userID, reason, ip string) error {
	if err := store.DisableUserKeepingAdmin(ctx, userID, reason); err != nil {
		return err
	}
	return Record(ctx, store, EventAccountDisabled, actorID, userID, ip, map[string]any{"reason": reason})
}

// SetAdmin grants or withdraws the site admin flag.
func SetAdmin(ctx context.Context, store *models.Store, actorID, userID string, admin bool, ip string) error {
	if err := store.SetUserAdminKeepingOne(ctx, userID, admin); err != nil {
		return err
	}
	return Record(ctx, store, EventAdminChanged, actorID, userID, ip, map[string]any{"admin": admin})
}

// Reset2FA turns an account's two-factor sign-in off and forgets its recovery codes, for a
// person who lost their device: the password alone signs them in again, and where the policy
// requires two-factor they must set it up anew.
func Reset2FA(ctx context.Context, store *models.Store, actorID, userID, ip string) error {
	if err := store.DisableTOTP(ctx, userID); err != nil {
		return err
	}
	return Record(ctx, store, Event2FAReset, actorID, userID, ip, nil)
}

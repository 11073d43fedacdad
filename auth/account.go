package auth

import (
	"context"
	"time"

	"lectern/models"
)

// Account operations that the API and the CLI share, each with its policy check and its audit
// event, so `lectern user add` and the admin page cannot drift apart.

// NewAccount is an account to create with a password.
type NewAccount struct {
	Email    string
	Name     string
	Password string
	Admin    bool
}

// CreateAccount checks the password policy, hashes the password and stores the account.
// actorID is the admin doing it ("" for the CLI).
func CreateAccount(ctx context.Context, store *models.Store, in NewAccount, actorID, ip string) (models.User, error) {
	if err := CheckPasswordPolicy(in.Password, in.Email); err != nil {
		return models.User{}, err
	}
	h, err := HashPassword(in.Password)
	if err != nil {
		return models.User{}, err
	}
	return createUser(ctx, store, models.NewUser{Email: in.Email, DisplayName: in.Name, PasswordHash: h, Admin: in.Admin}, actorID, ip)
}

// createUser stores an account and records who created it.
func createUser(ctx context.Context, store *models.Store, in models.NewUser, actorID, ip string) (models.User, error) {
	u, err := store.CreateUser(ctx, in)
	if err != nil {
		return models.User{}, err
	}
	return u, Record(ctx, store, EventUserCreated, actorID, u.ID, ip, map[string]any{"admin": u.Admin, "email": u.Email, "invited": in.PasswordHash == ""})
}

// ChangePassword sets a new password (policy-checked) and signs the account out everywhere
// except the session with hash keepSession (the one making the change; "" for none).
func ChangePassword(ctx context.Context, store *models.Store, u models.User, newPassword, keepSession, ip string) error {
	if err := CheckPasswordPolicy(newPassword, u.Email); err != nil {
		return err
	}
	h, err := HashPassword(newPassword)
	if err != nil {
		return err
	}
	if err := store.SetPasswordHash(ctx, u.ID, h); err != nil {
		return err
	}
	n, err := store.RevokeUserSessions(ctx, u.ID, keepSession, time.Now())
	if err != nil {
		return err
	}
	return Record(ctx, store, EventPasswordChanged, u.ID, u.ID, ip, map[string]any{"sessions_revoked": n})
}

// IssueAPIToken creates a personal API token and returns its plaintext (show it once).
func IssueAPIToken(ctx context.Context, store *models.Store, userID, name, ip string) (models.APIToken, string, error) {
	t, plain, err := store.CreateAPIToken(ctx, userID, name)
	if err != nil {
		return models.APIToken{}, "", err
	}
	return t, plain, Record(ctx, store, EventTokenCreated, userID, t.ID, ip, map[string]any{"name": t.Name})
}

// RevokeAPIToken revokes one of userID's tokens.
func RevokeAPIToken(ctx context.Context, store *models.Store, userID, tokenID, ip string) error {
	if err := store.RevokeAPIToken(ctx, userID, tokenID); err != nil {
		return err
	}
	return Record(ctx, store, EventTokenRevoked, userID, tokenID, ip, nil)
}

// SetDisabled disables (revoking every session) or enables an account, audited.
func SetDisabled(ctx context.Context, store *models.Store, actorID, userID string, disabled bool, reason, ip string) error {
	if err := store.SetUserDisabled(ctx, userID, disabled, reason); err != nil {
		return err
	}
	ev := EventAccountEnabled
	if disabled {
		ev = EventAccountDisabled
	}
	return Record(ctx, store, ev, actorID, userID, ip, map[string]any{"reason": reason})
}

package auth

import (
	"context"
	"errors"
	"time"

	"lectern/models"
)

// InviteTTL is how long an invite link works: long enough for someone who reads their mail
// once a week, short enough that a forgotten link in an inbox does not open the account later.
const InviteTTL = 7 * 24 * time.Hour

// Audit events of invitations.
const (
	EventInviteIssued   = "user.invited"
	EventInviteAccepted = "user.invite_accepted"
)

// Invitee is an account an admin adds without a password: the person chooses it through the
// invite link.
type Invitee struct {
	Email string
	Name  string
	Admin bool
}

// InviteAccount creates an account with no password (nobody can sign in to it by password
// until the invite is accepted) and returns it with its invite link's secret.
func InviteAccount(ctx context.Context, store *models.Store, in Invitee, actorID, ip string, now time.Time) (models.User, string, time.Time, error) {
	u, err := createUser(ctx, store, models.NewUser{Email: in.Email, DisplayName: in.Name, Admin: in.Admin}, actorID, ip)
	if err != nil {
		return models.User{}, "", time.Time{}, err
	}
	tok, exp, err := IssueInvite(ctx, store, u.ID, actorID, ip, now)
	return u, tok, exp, err
}

// IssueInvite makes a new invite link secret for userID, valid for InviteTTL; the account's
// earlier links stop working. Accepting it sets the password, so it also serves as a reset
// link for someone who forgot theirs.
func IssueInvite(ctx context.Context, store *models.Store, userID, actorID, ip string, now time.Time) (string, time.Time, error) {
	tok := NewToken()
	now = now.UTC().Truncate(time.Second)
	exp := now.Add(InviteTTL)
	if err := store.AddInvite(ctx, models.HashToken(tok), models.Invite{UserID: userID, CreatedBy: actorID, CreatedAt: now, ExpiresAt: exp}); err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, Record(ctx, store, EventInviteIssued, actorID, userID, ip, map[string]any{"expires_at": exp})
}

// OpenInvite returns a usable invite and its account. Malformed, unknown, used and expired
// secrets all give ErrInvalidToken, and so does a disabled account's invite.
func OpenInvite(ctx context.Context, store *models.Store, token string, now time.Time) (models.Invite, models.User, error) {
	if _, err := ParseToken(token); err != nil {
		return models.Invite{}, models.User{}, err
	}
	in, u, err := store.OpenInvite(ctx, models.HashToken(token), now)
	if errors.Is(err, models.ErrNotFound) {
		return models.Invite{}, models.User{}, ErrInvalidToken
	}
	if err != nil {
		return models.Invite{}, models.User{}, err
	}
	if u.Disabled {
		return models.Invite{}, models.User{}, ErrInvalidToken
	}
	return in, u, nil
}

// AcceptInvite sets the invited account's password (policy-checked) and spends the invite, so
// the link works once. Sessions the account had end (the link may be a reset). p zero means
// DefaultArgon2.
func AcceptInvite(ctx context.Context, store *models.Store, token, password, ip string, now time.Time, p Argon2Params) (models.User, error) {
	// The cheap checks first: a dead link costs no hashing.
	_, u, err := OpenInvite(ctx, store, token, now)
	if err != nil {
		return models.User{}, err
	}
	if err := CheckPasswordPolicy(password, u.Email); err != nil {
		return models.User{}, err
	}
	if p == (Argon2Params{}) {
		p = DefaultArgon2
	}
	h, err := HashPasswordWith(password, p)
	if err != nil {
		return models.User{}, err
	}
	u, err = store.RedeemInvite(ctx, models.HashToken(token), h, now)
	if errors.Is(err, models.ErrNotFound) { // spent by a concurrent request meanwhile
		return models.User{}, ErrInvalidToken
	}
	if err != nil {
		return models.User{}, err
	}
	n, err := store.RevokeUserSessions(ctx, u.ID, "", now)
	if err != nil {
		return models.User{}, err
	}
	return u, Record(ctx, store, EventInviteAccepted, u.ID, u.ID, ip, map[string]any{"sessions_revoked": n})
}

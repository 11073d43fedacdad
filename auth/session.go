package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"lectern/models"
)

// TokenBytes is the entropy of session tokens: 256 bits, beyond guessing.
const TokenBytes = 32

// tokenLen is the length of a token in unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

// NewToken returns a fresh random 256-bit token in base64url (43 characters).
func NewToken() string {
	b := make([]byte, TokenBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseToken checks that s has the exact shape NewToken produces, so odd cookie values are
// refused before they reach the database.
func ParseToken(s string) (string, error) {
	if len(s) != tokenLen {
		return "", ErrInvalidToken
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != TokenBytes {
		return "", ErrInvalidToken
	}
	return s, nil
}

// SessionPolicy is how long a browser stays signed in.
type SessionPolicy struct {
	CookieName string
	// Idle: a session unused this long is dead (a forgotten classroom computer).
	Idle time.Duration
	// Absolute: a session ends this long after sign-in, however active, so a stolen cookie
	// does not live forever.
	Absolute time.Duration
	// MFAPending: how long the half-signed-in state between password and 2FA code lasts.
	MFAPending time.Duration
	// TouchEvery: last-seen is written at most this often, so reads do not all become writes.
	TouchEvery time.Duration
}

// DefaultSessionPolicy: 8 hours idle covers a school day and a long webinar; a week absolute
// means hosts sign in once a week at most; 5 minutes to type a TOTP code.
func DefaultSessionPolicy() SessionPolicy {
	return SessionPolicy{
		CookieName: "lectern_session",
		Idle:       8 * time.Hour,
		Absolute:   7 * 24 * time.Hour,
		MFAPending: 5 * time.Minute,
		TouchEvery: time.Minute,
	}
}

// ErrMFARequired is returned by Sessions.Lookup for a session that passed the password but not
// yet the second factor: it may only be used to finish 2FA (Sessions.LookupPending).
var ErrMFARequired = errors.New("second factor required")

// Sessions creates, checks and revokes browser sessions. A sign-in always makes a new session
// (a new id), never upgrades an old one, so a session id planted before sign-in is useless.
type Sessions struct {
	Store  *models.Store
	Policy SessionPolicy
	Clock  Clock
}

// NewSessions uses DefaultSessionPolicy.
func NewSessions(store *models.Store) *Sessions {
	return &Sessions{Store: store, Policy: DefaultSessionPolicy()}
}

// Create starts a session for userID and returns its cookie token (to send once, in a cookie).
// mfaPending marks the half-way state after the password of an account with 2FA.
func (m *Sessions) Create(ctx context.Context, userID string, mfaPending bool, ip, userAgent string) (string, models.AuthSession, error) {
	now := m.Clock.now().UTC().Truncate(time.Second)
	life := m.Policy.Absolute
	if mfaPending {
		life = m.Policy.MFAPending
	}
	token := NewToken()
	s := models.AuthSession{
		IDHash: models.HashToken(token), UserID: userID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(life), MFAPending: mfaPending, CSRFToken: CSRFToken(token),
		IP: ip, UserAgent: userAgent,
	}
	if err := m.Store.CreateAuthSession(ctx, s); err != nil {
		return "", models.AuthSession{}, err
	}
	return token, s, nil
}

// Lookup returns the fully signed-in session and account for a cookie token. It refuses (with
// ErrInvalidToken) malformed, unknown, revoked, idle or expired sessions, refuses disabled
// accounts with ErrAccountDisabled, and pending-2FA sessions with ErrMFARequired.
func (m *Sessions) Lookup(ctx context.Context, token string) (models.AuthSession, models.User, error) {
	s, u, err := m.lookup(ctx, token)
	if err == nil && s.MFAPending {
		return models.AuthSession{}, models.User{}, ErrMFARequired
	}
	return s, u, err
}

// LookupPending returns a pending-2FA session (and only such a session), for the 2FA step.
func (m *Sessions) LookupPending(ctx context.Context, token string) (models.AuthSession, models.User, error) {
	s, u, err := m.lookup(ctx, token)
	if err == nil && !s.MFAPending {
		return models.AuthSession{}, models.User{}, ErrInvalidToken
	}
	return s, u, err
}

func (m *Sessions) lookup(ctx context.Context, token string) (models.AuthSession, models.User, error) {
	if _, err := ParseToken(token); err != nil {
		return models.AuthSession{}, models.User{}, err
	}
	s, err := m.Store.AuthSession(ctx, models.HashToken(token))
	if errors.Is(err, models.ErrNotFound) {
		return models.AuthSession{}, models.User{}, ErrInvalidToken
	}
	if err != nil {
		return models.AuthSession{}, models.User{}, err
	}
	now := m.Clock.now()
	if s.Revoked() || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= m.Policy.Idle {
		return models.AuthSession{}, models.User{}, ErrInvalidToken
	}
	u, err := m.Store.User(ctx, s.UserID)
	if errors.Is(err, models.ErrNotFound) {
		return models.AuthSession{}, models.User{}, ErrInvalidToken
	}
	if err != nil {
		return models.AuthSession{}, models.User{}, err
	}
	if u.Disabled {
		return models.AuthSession{}, models.User{}, ErrAccountDisabled
	}
	if now.Sub(s.LastSeenAt) >= m.Policy.TouchEvery {
		if err := m.Store.TouchAuthSession(ctx, s.IDHash, now); err != nil {
			return models.AuthSession{}, models.User{}, err
		}
		if err := m.Store.TouchUser(ctx, u.ID, now); err != nil {
			return models.AuthSession{}, models.User{}, err
		}
		s.LastSeenAt = now.UTC().Truncate(time.Second)
	}
	return s, u, nil
}

// Revoke signs the session with this cookie token out (sign-out). Unknown tokens are ignored.
func (m *Sessions) Revoke(ctx context.Context, token string) error {
	if _, err := ParseToken(token); err != nil {
		return nil
	}
	return m.Store.RevokeAuthSession(ctx, models.HashToken(token), m.Clock.now())
}

// Cookie is the Set-Cookie for a new session token. secure must be true whenever the request
// came over TLS (or through a TLS-terminating proxy); the cookie expires with the session.
func (m *Sessions) Cookie(token string, s models.AuthSession, secure bool) *http.Cookie {
	return &http.Cookie{
		Name: m.Policy.CookieName, Value: token, Path: "/", Expires: s.ExpiresAt,
		MaxAge: max(1, int(s.ExpiresAt.Sub(m.Clock.now()).Seconds())), HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// ClearCookie deletes the session cookie in the browser (sign-out).
func (m *Sessions) ClearCookie(secure bool) *http.Cookie {
	return &http.Cookie{Name: m.Policy.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode}
}

// TokenFromRequest returns the session token from the request's cookie, or "" when there is
// none or it is malformed.
func (m *Sessions) TokenFromRequest(r *http.Request) string {
	c, err := r.Cookie(m.Policy.CookieName)
	if err != nil {
		return ""
	}
	t, err := ParseToken(c.Value)
	if err != nil {
		return ""
	}
	return t
}

// IsTLS reports whether r came over TLS. X-Forwarded-Proto is honoured only when the caller
// says the proxy is trusted; otherwise anyone could claim https.
func IsTLS(r *http.Request, trustProxy bool) bool {
	if r.TLS != nil {
		return true
	}
	return trustProxy && r.Header.Get("X-Forwarded-Proto") == "https"
}

// BearerToken extracts the token of an "Authorization: Bearer ..." header ("" when absent).
func BearerToken(h string) string {
	const p = "bearer "
	if len(h) <= len(p) || len(h) > 512 || !equalFoldASCII(h[:len(p)], p) {
		return ""
	}
	return h[len(p):]
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// APIUser authenticates a personal API token (as from BearerToken) and returns the token and
// its account; disabled accounts and revoked tokens are refused.
func APIUser(ctx context.Context, store *models.Store, token string, clock Clock) (models.APIToken, models.User, error) {
	if len(token) != len(models.APITokenPrefix)+tokenLen || token[:len(models.APITokenPrefix)] != models.APITokenPrefix {
		return models.APIToken{}, models.User{}, ErrInvalidToken
	}
	t, u, err := store.APITokenUser(ctx, token, clock.now())
	if errors.Is(err, models.ErrNotFound) {
		return models.APIToken{}, models.User{}, ErrInvalidToken
	}
	if err != nil {
		return models.APIToken{}, models.User{}, fmt.Errorf("api token: %w", err)
	}
	if u.Disabled {
		return models.APIToken{}, models.User{}, ErrAccountDisabled
	}
	return t, u, nil
}

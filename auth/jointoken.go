package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"lectern/models"
)

// JoinClaims is what an attendee (or panelist) join link carries.
type JoinClaims struct {
	Webinar      string      `json:"w"`
	Role         models.Role `json:"r"`
	Registration string      `json:"g,omitempty"` // "" for a token not backed by a registration (not revocable one by one)
	Expires      int64       `json:"e"`           // unix seconds
	ID           string      `json:"i"`           // random, set by Issue: two tokens are never equal
	// Epoch is the webinar's link generation a token without a registration was issued under
	// (models.WebinarSettings.LinkEpoch): rotating the link ends every earlier one.
	Epoch int64 `json:"k,omitempty"`
}

// joinPrefix versions the format, so it can change without old tokens being misread.
const joinPrefix = "j1."

// MaxJoinTokenLen bounds what Verify will look at (URLs carry these; anything longer is junk).
const MaxJoinTokenLen = 1024

// JoinTokens signs and checks join tokens with HMAC-SHA256 under a key derived from the server
// secret. A token is j1.<base64url JSON claims>.<base64url MAC>.
type JoinTokens struct {
	key   []byte
	Clock Clock
}

// NewJoinTokens derives the signing key from the server secret.
func NewJoinTokens(serverSecret []byte) *JoinTokens {
	return &JoinTokens{key: DeriveKey(serverSecret, "join-token")}
}

func (j *JoinTokens) mac(signed string) []byte {
	m := hmac.New(sha256.New, j.key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// Issue signs claims. Expires must be in the future and Role valid.
func (j *JoinTokens) Issue(c JoinClaims) (string, error) {
	if c.Webinar == "" || !c.Role.Valid() || c.Expires <= j.Clock.now().Unix() {
		return "", fmt.Errorf("join token: need a webinar, a valid role and a future expiry")
	}
	if c.ID == "" {
		c.ID = tokenID(12)
	}
	tok, err := seal(joinPrefix, c, j.mac, MaxJoinTokenLen)
	if err != nil {
		return "", fmt.Errorf("join token: %w", err)
	}
	return tok, nil
}

// Verify checks a token's signature (in constant time) and expiry and returns its claims. It
// does not consult the store: use VerifyActive for revocation.
func (j *JoinTokens) Verify(token string) (JoinClaims, error) {
	var c JoinClaims
	if err := unseal(token, joinPrefix, MaxJoinTokenLen, j.mac, &c); err != nil || c.Webinar == "" || !c.Role.Valid() {
		return JoinClaims{}, ErrInvalidToken
	}
	if j.Clock.now().Unix() >= c.Expires {
		return JoinClaims{}, ErrInvalidToken
	}
	return c, nil
}

// IssueForRegistration issues a token for a registration and records its hash, so that the
// registration's earlier tokens (if any) stop working and revoking the registration revokes it.
func (j *JoinTokens) IssueForRegistration(ctx context.Context, store *models.Store, r models.Registration, ttl time.Duration) (string, error) {
	tok, err := j.issueFor(r, ttl)
	if err != nil {
		return "", err
	}
	if err := store.SetRegistrationToken(ctx, r.ID, models.HashToken(tok)); err != nil {
		return "", err
	}
	return tok, nil
}

// AddForRegistration issues one more token for a registration, leaving its earlier tokens
// working: the answer to someone registering again with the same email, which must neither
// tell them the email was registered nor cut off whoever registered first.
func (j *JoinTokens) AddForRegistration(ctx context.Context, store *models.Store, r models.Registration, ttl time.Duration) (string, error) {
	tok, err := j.issueFor(r, ttl)
	if err != nil {
		return "", err
	}
	if err := store.AddRegistrationToken(ctx, r.ID, models.HashToken(tok)); err != nil {
		return "", err
	}
	return tok, nil
}

func (j *JoinTokens) issueFor(r models.Registration, ttl time.Duration) (string, error) {
	return j.Issue(JoinClaims{Webinar: r.WebinarID, Role: r.Role, Registration: r.ID, Expires: j.Clock.now().Add(ttl).Unix()})
}

// VerifyActive is Verify for the given webinar plus revocation: a token naming a registration
// must be one of that live registration's current tokens; one without a registration is
// accepted only when allowUnregistered (link-only webinars, passcode joins) and when it is of
// the webinar's current link generation.
func (j *JoinTokens) VerifyActive(ctx context.Context, store *models.Store, token, webinarID string, allowUnregistered bool) (JoinClaims, error) {
	c, err := j.Verify(token)
	if err != nil {
		return JoinClaims{}, err
	}
	if c.Webinar != webinarID {
		return JoinClaims{}, ErrInvalidToken
	}
	if c.Registration == "" {
		if !allowUnregistered {
			return JoinClaims{}, ErrInvalidToken
		}
		if err := checkEpoch(ctx, store, c); err != nil {
			return JoinClaims{}, err
		}
		return c, nil
	}
	r, err := store.Registration(ctx, c.Registration)
	if errors.Is(err, models.ErrNotFound) {
		return JoinClaims{}, ErrInvalidToken
	}
	if err != nil {
		return JoinClaims{}, err
	}
	if !r.RevokedAt.IsZero() || r.WebinarID != c.Webinar || r.Role != c.Role {
		return JoinClaims{}, ErrInvalidToken
	}
	live, err := store.RegistrationTokenLive(ctx, r.ID, models.HashToken(token))
	if err != nil {
		return JoinClaims{}, err
	}
	if !live {
		return JoinClaims{}, ErrInvalidToken
	}
	return c, nil
}

// checkEpoch refuses a link token of an earlier link generation.
func checkEpoch(ctx context.Context, store *models.Store, c JoinClaims) error {
	set, err := store.WebinarSettings(ctx, c.Webinar)
	if errors.Is(err, models.ErrNotFound) {
		set.LinkEpoch = 0 // a webinar without settings was never rotated
	} else if err != nil {
		return err
	}
	if c.Epoch != set.LinkEpoch {
		return ErrInvalidToken
	}
	return nil
}

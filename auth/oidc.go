package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"lectern/models"
)

// OIDCConfig configures single sign-on with one OpenID Connect provider (Google, Okta,
// Keycloak, Entra ID, ...).
type OIDCConfig struct {
	Issuer       string // e.g. https://accounts.google.com
	ClientID     string
	ClientSecret string
	RedirectURL  string // https://lectern.example/auth/oidc/callback, registered at the provider
	// AllowedDomains, when not empty, admits only these email domains (case-insensitive).
	AllowedDomains []string
	// SSOOnly: password sign-in is refused for everyone but admins (break-glass access when the
	// provider is down). The API enforces it with PasswordAllowed.
	SSOOnly bool
	// CreateAccounts: a verified email with no account gets one (otherwise an admin must
	// create the account first and the first SSO sign-in links it).
	CreateAccounts bool
	// TrustProviderMFA: an ID token whose amr claim says "mfa" or "otp" stands in for the
	// account's own TOTP. Off (the default), an account with TOTP enrolled must pass it after
	// single sign-on too.
	TrustProviderMFA bool
	HTTPClient       *http.Client // nil: a client with a 10 s timeout
}

// OIDCStateCookie carries state, nonce and PKCE verifier between AuthURL and Exchange,
// sealed (encrypted and authenticated) so the browser can neither read nor alter it.
const OIDCStateCookie = "lectern_oidc"

// oidcStateTTL is how long a user may take at the provider's sign-in page.
const oidcStateTTL = 10 * time.Minute

// Errors of the SSO flow.
var (
	ErrOIDCState       = errors.New("sso: state missing, expired or mismatched")
	ErrEmailNotAllowed = errors.New("sso: email not verified or domain not allowed")
	ErrNoAccount       = errors.New("sso: no account for this email")
	// ErrSSOSubjectMismatch: the email's account is linked to another identity at this provider.
	ErrSSOSubjectMismatch = errors.New("sso: account already linked to another identity")
)

// OIDC runs the authorization-code flow with PKCE (S256), state and nonce.
type OIDC struct {
	cfg      OIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	sealer   *Sealer
	client   *http.Client
	Clock    Clock
}

// NewOIDC discovers the provider (/.well-known/openid-configuration) and prepares the flow.
// The state cookie key is derived from the server secret.
func NewOIDC(ctx context.Context, cfg OIDCConfig, serverSecret []byte) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, fmt.Errorf("sso: issuer, client id and redirect URL are required")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	o := &OIDC{cfg: cfg, client: client}
	cctx := oidc.ClientContext(ctx, client)
	provider, err := oidc.NewProvider(cctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sso discovery %s: %w", cfg.Issuer, err)
	}
	o.oauth = oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	// The key set is fetched lazily for the server's lifetime, not for this call's ctx.
	o.verifier = provider.VerifierContext(oidc.ClientContext(context.Background(), client),
		&oidc.Config{ClientID: cfg.ClientID, Now: func() time.Time { return o.Clock.now() }})
	if o.sealer, err = NewSealer(DeriveKey(serverSecret, "oidc-state")); err != nil {
		return nil, err
	}
	return o, nil
}

// SSOOnly reports the "SSO only" policy.
func (o *OIDC) SSOOnly() bool { return o.cfg.SSOOnly }

// PasswordAllowed says whether u may sign in with a password under cfg's policy.
func PasswordAllowed(cfg OIDCConfig, u models.User) bool { return !cfg.SSOOnly || u.Admin }

type oidcState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

// AuthURL starts a sign-in: it returns the provider URL to redirect the browser to and the
// cookie to set with it (secure: the request came over TLS).
func (o *OIDC) AuthURL(secure bool) (string, *http.Cookie, error) {
	st := oidcState{State: NewToken(), Nonce: NewToken(), Verifier: oauth2.GenerateVerifier(),
		Expires: o.Clock.now().Add(oidcStateTTL).Unix()}
	b, err := json.Marshal(st)
	if err != nil {
		return "", nil, err
	}
	u := o.oauth.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	// SameSite=Lax: the provider's redirect back is a top-level GET, which Lax lets through.
	c := &http.Cookie{Name: OIDCStateCookie, Value: o.sealer.Seal(b, "oidc-state"), Path: "/",
		MaxAge: int(oidcStateTTL.Seconds()), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	return u, c, nil
}

// ClearStateCookie deletes the state cookie; send it with the callback's response whatever
// the outcome, so a state is used once.
func ClearStateCookie(secure bool) *http.Cookie {
	return &http.Cookie{Name: OIDCStateCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode}
}

// Identity is a person the provider vouched for, with a verified email.
type Identity struct {
	Issuer  string
	Subject string
	Email   string
	Name    string
	AMR     []string // authentication methods the provider says it used (RFC 8176), e.g. pwd, otp, mfa
}

// SecondFactorDone reports whether this sign-in may skip the account's own TOTP: only when the
// configuration trusts the provider's word and the provider asserts a second factor.
func (o *OIDC) SecondFactorDone(id Identity) bool {
	return o.cfg.TrustProviderMFA && (slices.Contains(id.AMR, "mfa") || slices.Contains(id.AMR, "otp"))
}

// Exchange finishes a sign-in at the callback: it checks state against the cookie, redeems
// the code with the PKCE verifier, verifies the ID token (signature, issuer, audience,
// expiry, nonce) and returns the identity when its email is verified and allowed.
func (o *OIDC) Exchange(ctx context.Context, r *http.Request) (Identity, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return Identity{}, fmt.Errorf("sso: provider refused: %.100s", e)
	}
	c, err := r.Cookie(OIDCStateCookie)
	if err != nil {
		return Identity{}, ErrOIDCState
	}
	plain, err := o.sealer.Open(c.Value, "oidc-state")
	if err != nil {
		return Identity{}, ErrOIDCState
	}
	var st oidcState
	if err := json.Unmarshal(plain, &st); err != nil || o.Clock.now().Unix() >= st.Expires ||
		subtle.ConstantTimeCompare([]byte(st.State), []byte(q.Get("state"))) != 1 {
		return Identity{}, ErrOIDCState
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		return Identity{}, fmt.Errorf("sso: no code in callback")
	}
	tok, err := o.oauth.Exchange(oidc.ClientContext(ctx, o.client), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("sso: code exchange: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, fmt.Errorf("sso: no id_token in token response")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("sso: id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return Identity{}, fmt.Errorf("sso: id token nonce mismatch")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"` // bool, or "true" from some providers
		Name          string `json:"name"`
		AZP           string `json:"azp"`
		AMR           []any  `json:"amr"` // strings; anything else is ignored
	}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("sso: id token claims: %w", err)
	}
	// With several audiences the token must have been issued to us (OIDC Core 3.1.3.7).
	if len(idt.Audience) > 1 && claims.AZP != o.cfg.ClientID {
		return Identity{}, fmt.Errorf("sso: id token issued to another party")
	}
	email := models.NormalizeEmail(claims.Email)
	if !isTrue(claims.EmailVerified) || !o.domainAllowed(email) {
		return Identity{}, ErrEmailNotAllowed
	}
	id := Identity{Issuer: idt.Issuer, Subject: idt.Subject, Email: email, Name: claims.Name}
	for _, m := range claims.AMR {
		if m, ok := m.(string); ok && len(id.AMR) < 16 {
			id.AMR = append(id.AMR, m)
		}
	}
	return id, nil
}

func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

func (o *OIDC) domainAllowed(email string) bool {
	_, domain, ok := strings.Cut(email, "@")
	if !ok || domain == "" || strings.Contains(domain, "@") {
		return false
	}
	if len(o.cfg.AllowedDomains) == 0 {
		return true
	}
	return slices.ContainsFunc(o.cfg.AllowedDomains, func(d string) bool { return strings.EqualFold(d, domain) })
}

// SignIn maps an identity to an account: the account already linked to (issuer, subject);
// else the account with the same (verified) email, which gets linked; else a new account
// when CreateAccounts, else ErrNoAccount. Disabled accounts give ErrAccountDisabled.
func (o *OIDC) SignIn(ctx context.Context, store *models.Store, id Identity, ip string) (models.User, error) {
	u, err := store.UserByOIDC(ctx, id.Issuer, id.Subject)
	if errors.Is(err, models.ErrNotFound) {
		u, err = o.link(ctx, store, id, ip)
	}
	if err != nil {
		return models.User{}, err
	}
	if u.Disabled {
		return models.User{}, ErrAccountDisabled
	}
	return u, nil
}

func (o *OIDC) link(ctx context.Context, store *models.Store, id Identity, ip string) (models.User, error) {
	u, err := store.UserByEmail(ctx, id.Email)
	if errors.Is(err, models.ErrNotFound) {
		if !o.cfg.CreateAccounts {
			return models.User{}, ErrNoAccount
		}
		u, err = store.CreateUser(ctx, models.NewUser{Email: id.Email, DisplayName: id.Name})
		if err == nil {
			err = Record(ctx, store, EventUserCreated, u.ID, u.ID, ip, map[string]any{"via": "sso", "issuer": id.Issuer})
		}
	}
	if err != nil {
		return models.User{}, err
	}
	// The account is already linked to another person at this provider: the email was
	// probably recycled (a leaver's address given to a newcomer). Refuse rather than merge.
	if sub, err := store.OIDCSubject(ctx, u.ID, id.Issuer); err == nil && sub != id.Subject {
		Record(ctx, store, EventSSORefused, "", u.ID, ip, map[string]any{"issuer": id.Issuer, "subject": id.Subject, "reason": "account linked to another subject"})
		return models.User{}, ErrSSOSubjectMismatch
	} else if err != nil && !errors.Is(err, models.ErrNotFound) {
		return models.User{}, err
	}
	if err := store.LinkOIDC(ctx, u.ID, id.Issuer, id.Subject); err != nil {
		return models.User{}, err
	}
	if err := Record(ctx, store, EventSSOLinked, u.ID, u.ID, ip, map[string]any{"issuer": id.Issuer, "subject": id.Subject}); err != nil {
		return models.User{}, err
	}
	return u, nil
}

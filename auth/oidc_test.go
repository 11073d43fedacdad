package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"lectern/models"
)

// testIDP is an in-process OpenID Connect provider: discovery, JWKS, an authorization
// endpoint that signs the user in at once, and a token endpoint that checks the client
// secret, the redirect URI and the PKCE verifier and returns a real RS256-signed ID token.
type testIDP struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey // published in the JWKS
	rogue    *rsa.PrivateKey // same kid, not published: a forged signature
	clientID string
	secret   string

	mu     sync.Mutex
	codes  map[string]authRequest
	claims map[string]any // the next ID token's claims (set by the test; nil: defaults)
	signer *rsa.PrivateKey
	clock  *fakeClock
}

type authRequest struct{ challenge, nonce, redirect string }

var (
	idpKeysOnce        sync.Once
	idpKey, idpRogue   *rsa.PrivateKey
	errIDPKeyGenFailed error
)

func newTestIDP(t *testing.T, clk *fakeClock) *testIDP {
	idpKeysOnce.Do(func() {
		if idpKey, errIDPKeyGenFailed = rsa.GenerateKey(rand.Reader, 2048); errIDPKeyGenFailed == nil {
			idpRogue, errIDPKeyGenFailed = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if errIDPKeyGenFailed != nil {
		t.Fatal(errIDPKeyGenFailed)
	}
	p := &testIDP{key: idpKey, rogue: idpRogue, clientID: "lectern-test", secret: "s3cret",
		codes: map[string]authRequest{}, clock: clk}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/jwks",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported":      []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testIDP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := NewToken()
	p.mu.Lock()
	p.codes[code] = authRequest{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
	p.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
}

func (p *testIDP) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	req, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // codes are single use
	claims, signer := p.claims, p.signer
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if id != p.clientID || secret != p.secret || !found || r.PostForm.Get("grant_type") != "authorization_code" ||
		r.PostForm.Get("redirect_uri") != req.redirect || base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	now := p.clock.Now()
	c := map[string]any{"iss": p.srv.URL, "sub": "user-123", "aud": p.clientID, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "nonce": req.nonce, "email": "Ada@School.example",
		"email_verified": true, "name": "Ada"}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	if signer == nil {
		signer = p.key
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: signer, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	payload, _ := json.Marshal(c)
	jws, err := s.Sign(payload)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	idToken, _ := jws.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func (p *testIDP) set(claims map[string]any, signer *rsa.PrivateKey) {
	p.mu.Lock()
	p.claims, p.signer = claims, signer
	p.mu.Unlock()
}

func newTestOIDC(t *testing.T, p *testIDP, domains ...string) *OIDC {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := NewOIDC(ctx, OIDCConfig{Issuer: p.srv.URL, ClientID: p.clientID, ClientSecret: p.secret,
		RedirectURL: "http://127.0.0.1/auth/oidc/callback", AllowedDomains: domains,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}}, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	o.Clock = p.clock.Now
	return o
}

// callback runs the browser's part: start at AuthURL, sign in at the provider, and come back
// to the callback with the state cookie; edit may change the callback request.
func callback(t *testing.T, o *OIDC, edit func(r *http.Request, c *http.Cookie)) (Identity, error) {
	t.Helper()
	authURL, cookie, err := o.AuthURL(false)
	if err != nil {
		t.Fatal(err)
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge != 600 {
		t.Errorf("state cookie %+v", cookie)
	}
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: %s %v", resp.Status, err)
	}
	r := httptest.NewRequest("GET", "/auth/oidc/callback?"+loc.RawQuery, nil)
	if edit != nil {
		edit(r, cookie)
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return o.Exchange(ctx, r)
}

func TestOIDCRefusals(t *testing.T) {
	clk := newFakeClock()
	p := newTestIDP(t, clk)
	o := newTestOIDC(t, p)
	setQuery := func(k, v string) func(*http.Request, *http.Cookie) {
		return func(r *http.Request, _ *http.Cookie) {
			q := r.URL.Query()
			q.Set(k, v)
			r.URL.RawQuery = q.Encode()
		}
	}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		signer *rsa.PrivateKey
		edit   func(*http.Request, *http.Cookie)
		ok     bool
	}{
		{name: "happy path", ok: true},
		{name: "email_verified as a string", claims: map[string]any{"email_verified": "true"}, ok: true},
		{name: "wrong audience", claims: map[string]any{"aud": "someone-else"}},
		{name: "audiences without azp", claims: map[string]any{"aud": []string{"lectern-test", "someone-else"}}},
		{name: "audiences with our azp", claims: map[string]any{"aud": []string{"lectern-test", "someone-else"}, "azp": "lectern-test"}, ok: true},
		{name: "expired token", claims: map[string]any{"exp": clk.Now().Add(-time.Minute).Unix(), "iat": clk.Now().Add(-time.Hour).Unix()}},
		{name: "bad signature", signer: p.rogue},
		{name: "nonce mismatch", claims: map[string]any{"nonce": "not-the-nonce"}},
		{name: "no nonce", claims: map[string]any{"nonce": nil}},
		{name: "wrong issuer", claims: map[string]any{"iss": "https://evil.example"}},
		{name: "unverified email", claims: map[string]any{"email_verified": false}},
		{name: "email_verified missing", claims: map[string]any{"email_verified": nil}},
		{name: "no email", claims: map[string]any{"email": nil}},
		{name: "state mismatch", edit: setQuery("state", NewToken())},
		{name: "code replaced", edit: setQuery("code", NewToken())},
		{name: "provider error", edit: setQuery("error", "access_denied")},
		{name: "no state cookie", edit: func(r *http.Request, c *http.Cookie) { c.Name = "other" }},
		{name: "tampered state cookie", edit: func(r *http.Request, c *http.Cookie) { c.Value = c.Value[:len(c.Value)-3] + "AAA" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.set(tc.claims, tc.signer)
			id, err := callback(t, o, tc.edit)
			if tc.ok {
				if err != nil || id.Email != "ada@school.example" || id.Subject != "user-123" || id.Issuer != p.srv.URL || id.Name != "Ada" {
					t.Fatalf("Exchange = %+v, %v", id, err)
				}
			} else if err == nil {
				t.Fatalf("accepted: %+v", id)
			}
		})
	}
	// The state cookie expires: a callback 11 minutes after AuthURL is refused.
	p.set(nil, nil)
	_, err := callback(t, o, func(*http.Request, *http.Cookie) { clk.Add(11 * time.Minute) })
	if !errors.Is(err, ErrOIDCState) {
		t.Errorf("stale state: %v", err)
	}
}

func TestOIDCAllowedDomains(t *testing.T) {
	clk := newFakeClock()
	p := newTestIDP(t, clk)
	o := newTestOIDC(t, p, "other.example")
	if _, err := callback(t, o, nil); !errors.Is(err, ErrEmailNotAllowed) {
		t.Errorf("email outside the allowed domains: %v", err)
	}
	o = newTestOIDC(t, p, "SCHOOL.example")
	if _, err := callback(t, o, nil); err != nil {
		t.Errorf("allowed domain (other case): %v", err)
	}
}

func TestOIDCSignInLinksByVerifiedEmail(t *testing.T) {
	clk := newFakeClock()
	p := newTestIDP(t, clk)
	o := newTestOIDC(t, p)
	store := openStore(t)
	ctx := context.Background()
	id, err := callback(t, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.SignIn(ctx, store, id, "192.0.2.1"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("no account, no auto-create: %v", err)
	}
	ada := mustUser(t, store, "ada@school.example")
	u, err := o.SignIn(ctx, store, id, "192.0.2.1")
	if err != nil || u.ID != ada.ID {
		t.Fatalf("link by email: %v %v", u.ID, err)
	}
	if linked, err := store.UserByOIDC(ctx, id.Issuer, id.Subject); err != nil || linked.ID != ada.ID {
		t.Errorf("link not stored: %v", err)
	}
	if ev, _ := store.AuditEvents(ctx, models.AuditFilter{Action: EventSSOLinked}); len(ev) != 1 {
		t.Errorf("link not audited: %+v", ev)
	}
	// Once linked, the subject signs in even if the provider's email changes.
	id.Email = "ada.lovelace@school.example"
	if u, err := o.SignIn(ctx, store, id, ""); err != nil || u.ID != ada.ID {
		t.Errorf("linked subject: %v %v", u.ID, err)
	}
	// Another person at the provider with Ada's (recycled) email is not merged into her account.
	recycled := Identity{Issuer: id.Issuer, Subject: "user-999", Email: "ada@school.example"}
	if _, err := o.SignIn(ctx, store, recycled, ""); !errors.Is(err, ErrSSOSubjectMismatch) {
		t.Errorf("second subject for a linked account: %v", err)
	}
	store.SetUserDisabled(ctx, ada.ID, true, "left")
	if _, err := o.SignIn(ctx, store, id, ""); !errors.Is(err, ErrAccountDisabled) {
		t.Errorf("disabled account signed in by SSO: %v", err)
	}
	o.cfg.CreateAccounts = true
	u, err = o.SignIn(ctx, store, Identity{Issuer: id.Issuer, Subject: "new-1", Email: "grace@school.example", Name: "Grace"}, "")
	if err != nil || u.Email != "grace@school.example" || u.PasswordHash != "" {
		t.Errorf("auto-created account: %+v %v", u, err)
	}
}

func TestPasswordAllowed(t *testing.T) {
	cfg := OIDCConfig{SSOOnly: true}
	if PasswordAllowed(cfg, models.User{}) || !PasswordAllowed(cfg, models.User{Admin: true}) || !PasswordAllowed(OIDCConfig{}, models.User{}) {
		t.Error("SSO-only policy wrong")
	}
}

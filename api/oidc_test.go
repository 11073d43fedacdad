package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"lectern/auth"
)

// idp is an in-process OpenID Connect provider (discovery, JWKS, authorize, token) that signs
// real RS256 ID tokens; claims and signer can be changed to forge bad ones.
type idp struct {
	srv           *httptest.Server
	key, rogue    *rsa.PrivateKey
	clock         *testClock
	mu            sync.Mutex
	codes         map[string][2]string // code → challenge, nonce
	claims        map[string]any
	signWithRogue bool
}

func newIDP(t *testing.T, clk *testClock) *idp {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{key: key, rogue: rogue, clock: clk, codes: map[string][2]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := auth.NewToken()
		p.mu.Lock()
		p.codes[code] = [2]string{q.Get("code_challenge"), q.Get("nonce")}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		req, ok := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		claims, rogueSign := p.claims, p.signWithRogue
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != req[0] {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		now := p.clock.Now()
		c := map[string]any{"iss": p.srv.URL, "sub": "sub-1", "aud": "lectern", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
			"nonce": req[1], "email": "ada@school.example", "email_verified": true, "name": "Ada"}
		for k, v := range claims {
			c[k] = v
		}
		key := p.key
		if rogueSign {
			key = p.rogue
		}
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
		payload, _ := json.Marshal(c)
		jws, _ := signer.Sign(payload)
		tok, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": tok})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) set(claims map[string]any, rogue bool) {
	p.mu.Lock()
	p.claims, p.signWithRogue = claims, rogue
	p.mu.Unlock()
}

// TestOIDCSignIn runs the browser's round trip through HTTP: /auth/oidc/login, the provider,
// and back to /auth/oidc/callback; a good token signs Ada in, forged ones do not.
func TestOIDCSignIn(t *testing.T) {
	clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	p := newIDP(t, clk)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	o, err := auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: p.srv.URL, ClientID: "lectern", ClientSecret: "s3cret",
		RedirectURL: "http://lectern.test/auth/oidc/callback", HTTPClient: &http.Client{Timeout: 5 * time.Second}}, secret)
	if err != nil {
		t.Fatal(err)
	}
	o.Clock = clk.Now
	s := newAuthServer(t, func(d *Deps) { d.OIDC, d.Secret = o, secret })
	ada := s.user(t, "ada@school.example", false)
	if r := s.call(t, creds{}, "GET", "/api/login", "", ""); r.body != "{\"sso\":true,\"sso_only\":false}\n" {
		t.Errorf("login options: %s", r.body)
	}

	roundTrip := func() reply {
		t.Helper()
		r := s.call(t, creds{}, "GET", "/auth/oidc/login", "", "")
		if r.status != 302 {
			t.Fatalf("oidc login: %d %s", r.status, r.body)
		}
		var state *http.Cookie
		for _, c := range r.res.Cookies() {
			if c.Name == auth.OIDCStateCookie {
				state = c
			}
		}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := noFollow.Get(r.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		back, err := url.Parse(res.Header.Get("Location"))
		if err != nil || state == nil {
			t.Fatalf("provider answer %q, state cookie %v", res.Header.Get("Location"), state)
		}
		req, _ := http.NewRequest("GET", s.URL+"/auth/oidc/callback?"+back.RawQuery, nil)
		req.AddCookie(state)
		res, err = noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return reply{status: res.StatusCode, header: res.Header, res: res}
	}

	for _, tc := range []struct {
		name   string
		claims map[string]any
		rogue  bool
	}{
		{name: "wrong audience", claims: map[string]any{"aud": "someone-else"}},
		{name: "expired token", claims: map[string]any{"exp": clk.Now().Add(-time.Minute).Unix(), "iat": clk.Now().Add(-time.Hour).Unix()}},
		{name: "bad signature", rogue: true},
		{name: "nonce mismatch", claims: map[string]any{"nonce": "not-the-nonce"}},
	} {
		p.set(tc.claims, tc.rogue)
		r := roundTrip()
		if r.status != 401 {
			t.Errorf("%s: %d", tc.name, r.status)
		}
		for _, c := range r.res.Cookies() {
			if c.Name == "lectern_session" && c.Value != "" {
				t.Errorf("%s: a session cookie was set", tc.name)
			}
		}
	}
	p.set(nil, false)
	r := roundTrip()
	if r.status != 303 || r.header.Get("Location") != "/dashboard" {
		t.Fatalf("good sign-in: %d %q", r.status, r.header.Get("Location"))
	}
	sess := sessionCookie(t, r)
	r = s.call(t, creds{session: sess}, "GET", "/api/me", "", "")
	var m me
	r.json(t, &m)
	if m.User.ID != ada.ID {
		t.Fatalf("signed in as %+v", m.User)
	}
}

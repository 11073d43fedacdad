package api

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"lectern/auth"
)

// ssoRoundTrip runs /auth/oidc/login → provider → /auth/oidc/callback and returns the callback's answer.
func ssoRoundTrip(t *testing.T, s *authServer) reply {
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
	if res, err = noFollow.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return reply{status: res.StatusCode, header: res.Header, res: res}
}

// TestSSOSignInOwesTOTP (issue 8, item 21): an account with TOTP enrolled, signing in over
// OIDC, gets only a pending session and must pass its own TOTP, unless the provider asserts
// MFA in amr ("mfa" or "otp") AND the configuration trusts that.
func TestSSOSignInOwesTOTP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trust   bool
		amr     []string
		skipped bool // the account's TOTP was not asked for
	}{
		{name: "no amr", trust: false},
		{name: "amr mfa, not trusted", trust: false, amr: []string{"pwd", "mfa"}},
		{name: "trusted, amr pwd only", trust: true, amr: []string{"pwd"}},
		{name: "trusted, amr mfa", trust: true, amr: []string{"pwd", "mfa"}, skipped: true},
		{name: "trusted, amr otp", trust: true, amr: []string{"otp"}, skipped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
			p := newIDP(t, clk)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			secret := []byte("0123456789abcdef0123456789abcdef")
			o, err := auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: p.srv.URL, ClientID: "lectern", ClientSecret: "s3cret",
				RedirectURL: "http://lectern.test/auth/oidc/callback", TrustProviderMFA: tc.trust,
				HTTPClient: &http.Client{Timeout: 5 * time.Second}}, secret)
			if err != nil {
				t.Fatal(err)
			}
			o.Clock = clk.Now
			s := newAuthServer(t, func(d *Deps) { d.OIDC, d.Secret, d.Clock = o, secret, clk.Now })
			ada := s.user(t, "ada@school.example", false)
			en, err := s.api.auth.twoFactor.Begin(ctx, ada)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.api.auth.twoFactor.Confirm(ctx, ada.ID, totpCode(t, en.Secret, clk.Now())); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Minute) // the enrolment's code is spent
			claims := map[string]any{}
			if tc.amr != nil {
				claims["amr"] = tc.amr
			}
			p.set(claims, false)
			r := ssoRoundTrip(t, s)
			sess := sessionCookie(t, r)
			me := s.call(t, creds{session: sess}, "GET", "/api/me", "", "")
			if tc.skipped {
				if r.status != 303 || r.header.Get("Location") != "/dashboard" || me.status != 200 {
					t.Fatalf("trusted provider MFA: %d %q, /api/me %d", r.status, r.header.Get("Location"), me.status)
				}
				return
			}
			if r.status != 303 || r.header.Get("Location") != "/login?mfa=1" {
				t.Fatalf("callback: %d %q, want 303 to /login?mfa=1", r.status, r.header.Get("Location"))
			}
			if me.status != 401 {
				t.Fatalf("SSO without the account's TOTP reached /api/me: %d", me.status)
			}
			if r := s.call(t, creds{session: sess}, "GET", "/api/webinars", "", ""); r.status != 401 {
				t.Errorf("pending SSO session listed webinars: %d", r.status)
			}
			r = s.postJSON(t, creds{session: sess}, "/api/login/totp", codeRequest{Code: totpCode(t, en.Secret, clk.Now())})
			if r.status != 200 {
				t.Fatalf("TOTP after SSO: %d %s", r.status, r.body)
			}
			if me := s.call(t, creds{session: sessionCookie(t, r)}, "GET", "/api/me", "", ""); me.status != 200 {
				t.Errorf("after TOTP: /api/me %d", me.status)
			}
		})
	}
}

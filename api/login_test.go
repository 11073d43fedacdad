package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func sessionCookie(t *testing.T, r reply) string {
	t.Helper()
	for _, c := range r.res.Cookies() {
		if c.Name == "lectern_session" && c.MaxAge >= 0 && c.Value != "" {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("session cookie attributes: %+v", c)
			}
			return c.Value
		}
	}
	t.Fatalf("no session cookie in %d %s", r.status, r.body)
	return ""
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestPasswordAndTwoFactorSignIn(t *testing.T) {
	s := newAuthServer(t, nil)
	u := s.user(t, "ada@school.example", false)
	login := map[string]string{"email": "Ada@School.example", "password": testPassword}

	if r := s.postJSON(t, creds{}, "/api/login", map[string]string{"email": u.Email, "password": "wrong password!"}); r.status != 401 {
		t.Fatalf("wrong password: %d %s", r.status, r.body)
	}
	r := s.postJSON(t, creds{}, "/api/login", login)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	sess := sessionCookie(t, r)
	var m me
	r.json(t, &m)
	if m.User.ID != u.ID || m.CSRFToken == "" || strings.Contains(r.body, "argon2") {
		t.Fatalf("login answer: %s", r.body)
	}

	// CSRF: a cookie-authenticated write without the token is refused and changes nothing.
	if r := s.call(t, creds{session: sess, noCSRF: true}, "POST", "/api/account/totp", "", ""); r.status != 403 {
		t.Fatalf("write without CSRF token: %d", r.status)
	}
	// Enrol 2FA at a fixed time.
	r = s.call(t, creds{session: sess}, "POST", "/api/account/totp", "", "")
	var en struct{ Secret, URL, QR string }
	r.json(t, &en)
	if r.status != 200 || en.Secret == "" || !strings.HasPrefix(en.QR, "data:image/png;base64,") || !strings.HasPrefix(en.URL, "otpauth://totp/") {
		t.Fatalf("enrol: %d %s", r.status, r.body)
	}
	if r := s.postJSON(t, creds{session: sess}, "/api/account/totp/confirm", codeRequest{Code: "000000"}); r.status != 400 {
		t.Fatalf("confirm with a wrong code: %d", r.status)
	}
	r = s.postJSON(t, creds{session: sess}, "/api/account/totp/confirm", codeRequest{Code: totpCode(t, en.Secret, s.clock.Now())})
	var rc struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.json(t, &rc)
	if r.status != 200 || len(rc.RecoveryCodes) != 10 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{session: sess}, "POST", "/api/logout", "", ""); r.status != 204 {
		t.Fatalf("logout: %d", r.status)
	}
	if r := s.call(t, creds{session: sess}, "GET", "/api/me", "", ""); r.status != 401 {
		t.Fatalf("revoked session still works: %d", r.status)
	}

	// Password, then the second step; the pending session is good for nothing else.
	s.clock.Add(time.Minute)
	r = s.postJSON(t, creds{}, "/api/login", login)
	if r.status != 200 || !strings.Contains(r.body, `"mfa_required":true`) {
		t.Fatalf("password step with 2FA on: %d %s", r.status, r.body)
	}
	pending := sessionCookie(t, r)
	if r := s.call(t, creds{session: pending}, "GET", "/api/me", "", ""); r.status != 401 {
		t.Fatalf("pending session reached /api/me: %d", r.status)
	}
	if r := s.postJSON(t, creds{session: pending}, "/api/login/totp", codeRequest{Code: "123456"}); r.status != 401 {
		t.Fatalf("wrong TOTP: %d", r.status)
	}
	code := totpCode(t, en.Secret, s.clock.Now())
	r = s.postJSON(t, creds{session: pending}, "/api/login/totp", codeRequest{Code: code})
	if r.status != 200 {
		t.Fatalf("TOTP step: %d %s", r.status, r.body)
	}
	full := sessionCookie(t, r)
	if full == pending {
		t.Fatal("the session id did not change at the second step")
	}
	if r := s.call(t, creds{session: full}, "GET", "/api/me", "", ""); r.status != 200 {
		t.Fatalf("full session: %d", r.status)
	}
	// The same code again (a replay) is refused; a recovery code works once.
	r = s.postJSON(t, creds{}, "/api/login", login)
	pending = sessionCookie(t, r)
	if r := s.postJSON(t, creds{session: pending}, "/api/login/totp", codeRequest{Code: code}); r.status != 401 {
		t.Fatalf("replayed TOTP code: %d", r.status)
	}
	if r := s.postJSON(t, creds{session: pending}, "/api/login/totp", codeRequest{Code: rc.RecoveryCodes[0]}); r.status != 200 {
		t.Fatalf("recovery code: %d %s", r.status, r.body)
	}
	r = s.postJSON(t, creds{}, "/api/login", login)
	pending = sessionCookie(t, r)
	if r := s.postJSON(t, creds{session: pending}, "/api/login/totp", codeRequest{Code: rc.RecoveryCodes[0]}); r.status != 401 {
		t.Fatalf("recovery code used twice: %d", r.status)
	}

	// Turning 2FA off needs the password (or a code), not just the session.
	if r := s.call(t, creds{session: full}, "DELETE", "/api/account/totp", js, `{"password":"guess guess guess"}`); r.status != 403 {
		t.Fatalf("disable 2FA with a wrong password: %d", r.status)
	}
	if r := s.call(t, creds{session: full}, "DELETE", "/api/account/totp", js, `{"password":"`+testPassword+`"}`); r.status != 204 {
		t.Fatalf("disable 2FA: %d %s", r.status, r.body)
	}
	ev, _ := s.store.AuditEvents(t.Context(), auditFilter("2fa.enabled"))
	if len(ev) != 1 {
		t.Errorf("2FA enrolment not audited: %+v", ev)
	}
}

func TestAdminCanRequireTwoFactor(t *testing.T) {
	s := newAuthServer(t, nil)
	adm := s.session(t, s.user(t, "root@school.example", true))
	bob := s.session(t, s.user(t, "bob@school.example", false))
	if r := s.call(t, creds{session: adm}, "PUT", "/api/admin/policy", js, `{"require_2fa":true}`); r.status != 200 {
		t.Fatalf("policy: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{session: bob}, "GET", "/api/webinars", "", ""); r.status != 403 {
		t.Fatalf("account without 2FA under the policy: %d", r.status)
	}
	// Still a viewer of what anyone may watch, and the pages load.
	legacy, _ := s.store.CreateWebinar(t.Context(), newLegacy())
	for _, p := range []string{"/api/webinars/" + legacy.ID, "/dashboard", "/account"} {
		if r := s.call(t, creds{session: bob}, "GET", p, "", ""); r.status != 200 {
			t.Fatalf("%s under the policy: %d", p, r.status)
		}
	}
	r := s.call(t, creds{session: bob}, "GET", "/api/me", "", "")
	if r.status != 200 || !strings.Contains(r.body, `"must_enrol_2fa":true`) {
		t.Fatalf("/api/me under the policy: %d %s", r.status, r.body)
	}
	r = s.call(t, creds{session: bob}, "POST", "/api/account/totp", "", "")
	var en struct{ Secret string }
	r.json(t, &en)
	if r := s.postJSON(t, creds{session: bob}, "/api/account/totp/confirm", codeRequest{Code: totpCode(t, en.Secret, s.clock.Now())}); r.status != 200 {
		t.Fatalf("enrol under the policy: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{session: bob}, "GET", "/api/webinars", "", ""); r.status != 200 {
		t.Fatalf("after enrolling: %d", r.status)
	}
}

// The 6th wrong password within a minute gets 429 with Retry-After, even with the right
// password; after the window it works. 20 failures in a row lock the account for 15 minutes.
func TestSignInRateLimitAndLockout(t *testing.T) {
	s := newAuthServer(t, nil)
	s.user(t, "ada@school.example", false)
	wrong := map[string]string{"email": "ada@school.example", "password": "not the password"}
	right := map[string]string{"email": "ada@school.example", "password": testPassword}
	for i := 1; i <= 5; i++ {
		if r := s.postJSON(t, creds{}, "/api/login", wrong); r.status != 401 {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	r := s.postJSON(t, creds{}, "/api/login", wrong)
	if r.status != 429 {
		t.Fatalf("6th wrong password: %d %s", r.status, r.body)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if r := s.postJSON(t, creds{}, "/api/login", right); r.status != 429 {
		t.Fatalf("right password while limited: %d", r.status)
	}
	s.clock.Add(61 * time.Second)
	if r := s.postJSON(t, creds{}, "/api/login", right); r.status != 200 {
		t.Fatalf("after the window: %d %s", r.status, r.body)
	}

	// Lockout: 20 failures in a row, paced under the per-minute limit. A fresh server, since
	// this address's failures above count towards its own lockout too.
	s = newAuthServer(t, nil)
	s.user(t, "ada@school.example", false)
	for i := 0; i < 20; i++ {
		if i > 0 && i%5 == 0 {
			s.clock.Add(61 * time.Second)
		}
		if r := s.postJSON(t, creds{}, "/api/login", wrong); r.status != 401 {
			t.Fatalf("lockout attempt %d: %d", i, r.status)
		}
	}
	s.clock.Add(61 * time.Second)
	r = s.postJSON(t, creds{}, "/api/login", right)
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); r.status != 429 || ra < 600 {
		t.Fatalf("locked account: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	s.clock.Add(15 * time.Minute)
	if r := s.postJSON(t, creds{}, "/api/login", right); r.status != 200 {
		t.Fatalf("lockout did not lift: %d %s", r.status, r.body)
	}
}

func TestDisabledAccountIsToldAndLosesSessions(t *testing.T) {
	s := newAuthServer(t, nil)
	adm := s.session(t, s.user(t, "root@school.example", true))
	u := s.user(t, "bob@school.example", false)
	bob := s.session(t, u)
	if r := s.call(t, creds{session: adm}, "POST", "/api/admin/users/"+u.ID+"/disable", js, `{"reason":"left the school"}`); r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{session: bob}, "GET", "/api/me", "", ""); r.status != 401 {
		t.Fatalf("disabled account's session: %d", r.status)
	}
	r := s.postJSON(t, creds{}, "/api/login", map[string]string{"email": u.Email, "password": testPassword})
	if r.status != 403 || !strings.Contains(r.body, "left the school") {
		t.Fatalf("disabled sign-in: %d %s", r.status, r.body)
	}
	r = s.call(t, creds{session: adm}, "GET", "/api/admin/audit?action=user.disabled", "", "")
	if r.status != 200 || !strings.Contains(r.body, u.ID) {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
}

func TestSSOOnlyKeepsPasswordsForAdmins(t *testing.T) {
	s := newAuthServer(t, func(d *Deps) { d.SSOOnly = true })
	s.user(t, "bob@school.example", false)
	s.user(t, "root@school.example", true)
	if r := s.postJSON(t, creds{}, "/api/login", map[string]string{"email": "bob@school.example", "password": testPassword}); r.status != 403 || !strings.Contains(r.body, "single sign-on") {
		t.Errorf("password sign-in under SSO-only: %d %s", r.status, r.body)
	}
	if r := s.postJSON(t, creds{}, "/api/login", map[string]string{"email": "root@school.example", "password": testPassword}); r.status != 200 {
		t.Errorf("admin break-glass password sign-in: %d %s", r.status, r.body)
	}
}

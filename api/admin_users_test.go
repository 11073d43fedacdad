package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"lectern/auth"
	"lectern/models"
)

// invite is the answer of POST /api/admin/users and .../invite.
type invite struct {
	ID        string    `json:"id"`
	InviteURL string    `json:"invite_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// token is the link's secret: its fragment.
func (i invite) token(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(i.InviteURL)
	if err != nil || u.Path != "/invite" || u.Fragment == "" || u.RawQuery != "" {
		t.Fatalf("invite url %q: want /invite#secret", i.InviteURL)
	}
	return u.Fragment
}

func (s *authServer) addUser(t *testing.T, adm creds, body string) invite {
	t.Helper()
	r := s.call(t, adm, "POST", "/api/admin/users", js, body)
	if r.status != 201 {
		t.Fatalf("add user %s: %d %s", body, r.status, r.body)
	}
	var in invite
	r.json(t, &in)
	return in
}

func (s *authServer) audited(t *testing.T, action, target string) []models.AuditEvent {
	t.Helper()
	ev, err := s.store.AuditEvents(context.Background(), models.AuditFilter{Action: action, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (s *authServer) login(t *testing.T, email, password string) reply {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return s.call(t, creds{}, "POST", "/api/login", js, string(b))
}

// TestAdminInviteFlow: an admin adds a person; the link says whose it is, refuses a weak
// password without being spent, sets a good one once, and the person signs in with it.
func TestAdminInviteFlow(t *testing.T) {
	s := newAuthServer(t, nil)
	adm := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	in := s.addUser(t, adm, `{"email":"New.Teacher@School.example","name":"Ada Lovelace"}`)
	tok := in.token(t)
	if !strings.HasPrefix(in.InviteURL, s.URL+"/invite#") || in.ExpiresAt.Sub(s.clock.Now()) != auth.InviteTTL {
		t.Errorf("invite %+v: want a link on this server valid %v", in, auth.InviteTTL)
	}
	u, err := s.store.User(context.Background(), in.ID)
	if err != nil || u.Email != "new.teacher@school.example" || u.DisplayName != "Ada Lovelace" || u.Admin || u.PasswordHash != "" {
		t.Fatalf("created account %+v %v", u, err)
	}
	if len(s.audited(t, auth.EventUserCreated, u.ID)) != 1 || len(s.audited(t, auth.EventInviteIssued, u.ID)) != 1 {
		t.Error("adding by invite is not audited")
	}
	// No password yet: nothing signs in.
	if r := s.login(t, u.Email, ""); r.status == 200 {
		t.Fatal("an invited account signed in with an empty password")
	}

	body := func(pw string) string {
		b, _ := json.Marshal(inviteRequest{Token: tok, Password: pw})
		return string(b)
	}
	r := s.call(t, creds{}, "POST", "/api/invite", js, body(""))
	var info inviteInfoAnswer
	r.json(t, &info)
	if r.status != 200 || info.Email != u.Email || info.Name != "Ada Lovelace" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("invite info: %d %s", r.status, r.body)
	}
	for _, weak := range []string{"short", "password123", "new.teacher"} {
		if r := s.call(t, creds{}, "POST", "/api/invite/accept", js, body(weak)); r.status != 400 || !strings.Contains(r.body, "password") {
			t.Errorf("weak password %q: %d %s", weak, r.status, r.body)
		}
	}
	// Someone else's session in the same browser neither blocks the link (no CSRF token) nor
	// decides whose password is set.
	other := creds{session: s.session(t, s.user(t, "other@school.example", false)), noCSRF: true}
	if r := s.call(t, other, "POST", "/api/invite/accept", js, body(testPassword)); r.status != 200 || !strings.Contains(r.body, u.Email) {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	if r := s.login(t, u.Email, testPassword); r.status != 200 {
		t.Fatalf("the invited person cannot sign in with the password they chose: %d %s", r.status, r.body)
	}
	// Single use: neither the lookup nor a second password works.
	for _, path := range []string{"/api/invite", "/api/invite/accept"} {
		if r := s.call(t, creds{}, "POST", path, js, body("another good passphrase")); r.status != 404 || !strings.Contains(r.body, "does not work any more") {
			t.Errorf("%s with a spent link: %d %s", path, r.status, r.body)
		}
	}
	if r := s.login(t, u.Email, "another good passphrase"); r.status == 200 {
		t.Error("a spent link changed the password")
	}
	if len(s.audited(t, auth.EventInviteAccepted, u.ID)) != 1 {
		t.Error("accepting the invite is not audited")
	}
}

// TestInviteExpiresAndIsReplaced: a link dies after InviteTTL, and a new link kills the old.
func TestInviteExpiresAndIsReplaced(t *testing.T) {
	s := newAuthServer(t, nil)
	adm := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	first := s.addUser(t, adm, `{"email":"late@school.example","role":"admin"}`)
	accept := func(tok string) reply {
		b, _ := json.Marshal(inviteRequest{Token: tok, Password: testPassword})
		return s.call(t, creds{}, "POST", "/api/invite/accept", js, string(b))
	}
	s.clock.Add(auth.InviteTTL - time.Second)
	if r := s.call(t, creds{}, "POST", "/api/invite", js, `{"token":"`+first.token(t)+`"}`); r.status != 200 {
		t.Fatalf("a link about to expire: %d %s", r.status, r.body)
	}
	s.clock.Add(2 * time.Second)
	if r := accept(first.token(t)); r.status != 404 {
		t.Fatalf("expired link: %d %s", r.status, r.body)
	}
	adm = creds{session: s.session(t, s.user(t, "admin2@school.example", true))} // the first session timed out
	r := s.call(t, adm, "POST", "/api/admin/users/"+first.ID+"/invite", "", "")
	if r.status != 201 {
		t.Fatalf("new link: %d %s", r.status, r.body)
	}
	var second invite
	r.json(t, &second)
	third := invite{}
	s.call(t, adm, "POST", "/api/admin/users/"+first.ID+"/invite", "", "").json(t, &third)
	if r := accept(second.token(t)); r.status != 404 {
		t.Errorf("a replaced link still works: %d %s", r.status, r.body)
	}
	if r := accept(third.token(t)); r.status != 200 {
		t.Fatalf("the newest link: %d %s", r.status, r.body)
	}
	u, _ := s.store.User(context.Background(), first.ID)
	if !u.Admin {
		t.Error(`role "admin" did not make an admin`)
	}
	// A disabled account gets no link, and its outstanding link stops working.
	fourth := invite{}
	s.call(t, adm, "POST", "/api/admin/users/"+first.ID+"/invite", "", "").json(t, &fourth)
	if r := s.call(t, adm, "POST", "/api/admin/users/"+first.ID+"/disable", js, `{"reason":"left"}`); r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if r := accept(fourth.token(t)); r.status != 404 {
		t.Errorf("a disabled account's link works: %d", r.status)
	}
	if r := s.call(t, adm, "POST", "/api/admin/users/"+first.ID+"/invite", "", ""); r.status != 409 {
		t.Errorf("link for a disabled account: %d %s", r.status, r.body)
	}
}

// TestAdminAddUserBadInput: each bad request is a clear 4xx and adds nobody.
func TestAdminAddUserBadInput(t *testing.T) {
	s := newAuthServer(t, nil)
	adm := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	s.addUser(t, adm, `{"email":"taken@school.example"}`)
	cases := []struct {
		ctype, body string
		want        int
		says        string
	}{
		{js, `{"email":"not-an-address"}`, 400, "email"},
		{js, `{"email":"@school.example"}`, 400, "email"},
		{js, `{"email":"a b@school.example"}`, 400, "email"},
		{js, `{"email":""}`, 400, "email"},
		{js, `{"email":"x@school.example","name":"` + strings.Repeat("n", 201) + `"}`, 400, "name"},
		{js, `{"email":"x@school.example","role":"root"}`, 400, "role"},
		{js, `{"email":"x@school.example","admin":true}`, 400, "unknown field"},
		{js, `{"email":"x@school.example"`, 400, "invalid JSON"},
		{"text/plain", `{"email":"x@school.example"}`, 415, "application/json"},
		{js, `{"email":"TAKEN@school.example"}`, 409, "already exists"},
	}
	before := s.snapshot(t)
	for _, c := range cases {
		r := s.call(t, adm, "POST", "/api/admin/users", c.ctype, c.body)
		var e apiError
		if r.status != c.want || json.Unmarshal([]byte(r.body), &e) != nil || !strings.Contains(e.Error, c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.body, r.status, r.body, c.want, c.says)
		}
	}
	if after := s.snapshot(t); after != before {
		t.Errorf("refused requests changed the accounts:\n%s\n%s", before, after)
	}
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/admin", `{}`}, {"PUT", "/admin", `{"admin":"yes"}`}, {"POST", "/disable", `{"reason":"` + strings.Repeat("r", 201) + `"}`},
	} {
		u := s.user(t, fmt.Sprintf("bad%d@school.example", len(c.body)), false)
		before := s.snapshot(t, u.ID)
		if r := s.call(t, adm, c.method, "/api/admin/users/"+u.ID+c.path, js, c.body); r.status != 400 {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, r.status, r.body)
		}
		if s.snapshot(t, u.ID) != before {
			t.Errorf("%s %s %s changed the account", c.method, c.path, c.body)
		}
	}
	for _, p := range []string{"/enable", "/reset-2fa", "/invite", "/disable"} {
		body := ""
		if p == "/disable" {
			body = `{}`
		}
		if r := s.call(t, adm, "POST", "/api/admin/users/nosuch"+p, js, body); r.status != 404 {
			t.Errorf("%s of a missing account: %d %s", p, r.status, r.body)
		}
	}
}

// TestAdminRoutesRefuseNonAdmins: every new route is 401 signed out and 403 for a host, and
// changes nothing (the authorization matrix checks the same across all principals).
func TestAdminRoutesRefuseNonAdmins(t *testing.T) {
	s := newAuthServer(t, nil)
	s.user(t, "admin@school.example", true)
	victim := s.user(t, "victim@school.example", false)
	host := creds{session: s.session(t, s.user(t, "host@school.example", false))}
	routes := []struct{ method, path, body string }{
		{"POST", "/api/admin/users", `{"email":"new@school.example"}`},
		{"POST", "/api/admin/users/" + victim.ID + "/invite", ``},
		{"POST", "/api/admin/users/" + victim.ID + "/disable", `{"reason":"x"}`},
		{"POST", "/api/admin/users/" + victim.ID + "/enable", ``},
		{"POST", "/api/admin/users/" + victim.ID + "/reset-2fa", ``},
		{"PUT", "/api/admin/users/" + victim.ID + "/admin", `{"admin":true}`},
		{"GET", "/api/admin/storage", ``},
	}
	for _, r := range routes {
		before := s.snapshot(t, victim.ID)
		for c, want := range map[*creds]int{{}: 401, &host: 403} {
			if got := s.call(t, *c, r.method, r.path, js, r.body); got.status != want {
				t.Errorf("%s %s: %d, want %d", r.method, r.path, got.status, want)
			}
		}
		if s.snapshot(t, victim.ID) != before {
			t.Errorf("%s %s refused but changed state", r.method, r.path)
		}
	}
}

// TestLastAdminStays: no admin can disable themselves, and the site always keeps one enabled
// admin (a disabled admin does not count).
func TestLastAdminStays(t *testing.T) {
	s := newAuthServer(t, nil)
	a := s.user(t, "a@school.example", true)
	b := s.user(t, "b@school.example", false)
	ca, cb := creds{session: s.session(t, a)}, creds{session: s.session(t, b)}
	setAdmin := func(c creds, u models.User, admin bool) reply {
		return s.call(t, c, "PUT", "/api/admin/users/"+u.ID+"/admin", js, fmt.Sprintf(`{"admin":%v}`, admin))
	}
	if r := setAdmin(ca, a, false); r.status != 409 || !strings.Contains(r.body, "last enabled admin") {
		t.Fatalf("the only admin unmade themselves: %d %s", r.status, r.body)
	}
	if r := s.call(t, ca, "POST", "/api/admin/users/"+a.ID+"/disable", js, `{}`); r.status != 400 || !strings.Contains(r.body, "your own") {
		t.Fatalf("an admin disabled themselves: %d %s", r.status, r.body)
	}
	if r := setAdmin(ca, b, true); r.status != 200 || !strings.Contains(r.body, `"admin":true`) {
		t.Fatalf("make admin: %d %s", r.status, r.body)
	}
	// With b an admin, a may step down; then b is the last one.
	if r := setAdmin(ca, a, false); r.status != 200 {
		t.Fatalf("stepping down with another admin left: %d %s", r.status, r.body)
	}
	if r := setAdmin(cb, b, false); r.status != 409 {
		t.Fatalf("the last admin unmade themselves: %d %s", r.status, r.body)
	}
	// A disabled admin does not count: with a an admin again but disabled, b is still the last.
	if r := setAdmin(cb, a, true); r.status != 200 {
		t.Fatal(r.body)
	}
	if r := s.call(t, cb, "POST", "/api/admin/users/"+a.ID+"/disable", js, `{"reason":"on leave"}`); r.status != 200 {
		t.Fatalf("disable another admin: %d %s", r.status, r.body)
	}
	if r := setAdmin(cb, b, false); r.status != 409 {
		t.Errorf("unmade the last enabled admin while a disabled one remained: %d %s", r.status, r.body)
	}
	// The store refuses too, whoever asks: disabling the last enabled admin.
	if err := s.store.DisableUserKeepingAdmin(context.Background(), b.ID, "x"); err == nil {
		t.Error("the store disabled the last enabled admin")
	}
	if n := len(s.audited(t, auth.EventAdminChanged, "")); n != 3 {
		t.Errorf("%d admin changes audited, want 3 (refusals change nothing)", n)
	}
}

// TestDisabledUserSessionAndTokenRefused: disabling ends the account's sessions and API
// tokens at once, with the reason at sign-in; enabling lets it sign in again.
func TestDisabledUserSessionAndTokenRefused(t *testing.T) {
	s := newAuthServer(t, nil)
	adm := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	u := s.user(t, "leaver@school.example", false)
	sess := creds{session: s.session(t, u)}
	_, tok, err := auth.IssueAPIToken(context.Background(), s.store, u.ID, "script", "")
	if err != nil {
		t.Fatal(err)
	}
	bearer := creds{bearer: tok}
	for _, c := range []creds{sess, bearer} {
		if r := s.call(t, c, "GET", "/api/me", "", ""); r.status != 200 {
			t.Fatalf("before: %d", r.status)
		}
	}
	r := s.call(t, adm, "POST", "/api/admin/users/"+u.ID+"/disable", js, `{"reason":"  left the school  "}`)
	if r.status != 200 || !strings.Contains(r.body, `"disabled":true`) || !strings.Contains(r.body, `"disabled_reason":"left the school"`) {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	for name, c := range map[string]creds{"session": sess, "API token": bearer} {
		if r := s.call(t, c, "GET", "/api/me", "", ""); r.status != 401 {
			t.Errorf("a disabled account's %s still works: %d", name, r.status)
		}
		if r := s.call(t, c, "POST", "/api/webinars", js, `{"title":"After leaving"}`); r.status != 401 {
			t.Errorf("a disabled account's %s created a webinar: %d", name, r.status)
		}
	}
	if r := s.login(t, u.Email, testPassword); r.status != 403 || !strings.Contains(r.body, "left the school") {
		t.Errorf("sign-in of a disabled account: %d %s", r.status, r.body)
	}
	ev := s.audited(t, auth.EventAccountDisabled, u.ID)
	if len(ev) != 1 || !strings.Contains(string(ev[0].Detail), "left the school") {
		t.Errorf("disable audit: %+v", ev)
	}
	if r := s.call(t, adm, "POST", "/api/admin/users/"+u.ID+"/enable", "", ""); r.status != 200 || !strings.Contains(r.body, `"disabled":false`) {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	if r := s.login(t, u.Email, testPassword); r.status != 200 {
		t.Errorf("sign-in after enabling: %d %s", r.status, r.body)
	}
	if r := s.call(t, bearer, "GET", "/api/me", "", ""); r.status != 200 {
		t.Errorf("the API token after enabling: %d", r.status)
	}
	if r := s.call(t, sess, "GET", "/api/me", "", ""); r.status != 401 {
		t.Errorf("a session ended by disabling came back: %d", r.status)
	}
	if len(s.audited(t, auth.EventAccountEnabled, u.ID)) != 1 {
		t.Error("enable not audited")
	}
}

// TestAdminReset2FA: a person who lost their phone signs in with the password alone again.
func TestAdminReset2FA(t *testing.T) {
	s := newAuthServer(t, nil)
	ctx := context.Background()
	adm := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	u := s.user(t, "phoneless@school.example", false)
	if err := s.store.SetTOTPSecret(ctx, u.ID, "sealed"); err != nil {
		t.Fatal(err)
	}
	if err := s.store.EnableTOTP(ctx, u.ID, 1, []string{"h1", "h2"}); err != nil {
		t.Fatal(err)
	}
	if r := s.login(t, u.Email, testPassword); r.status != 200 || !strings.Contains(r.body, `"mfa_required":true`) {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	r := s.call(t, adm, "POST", "/api/admin/users/"+u.ID+"/reset-2fa", "", "")
	if r.status != 200 || !strings.Contains(r.body, `"totp_enabled":false`) {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if left, _ := s.store.RecoveryCodesLeft(ctx, u.ID); left != 0 {
		t.Errorf("%d recovery codes survive the reset", left)
	}
	if r := s.login(t, u.Email, testPassword); r.status != 200 || strings.Contains(r.body, `"mfa_required":true`) {
		t.Errorf("after: %d %s", r.status, r.body)
	}
	if len(s.audited(t, auth.Event2FAReset, u.ID)) != 1 {
		t.Error("reset not audited")
	}
}

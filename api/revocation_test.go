package api

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"lectern/models"
)

// linkToken is the ?t= of a watch URL.
func linkToken(t *testing.T, watchURL string) string {
	t.Helper()
	u, err := url.Parse(watchURL)
	if err != nil || u.Query().Get("t") == "" {
		t.Fatalf("watch URL %q has no token", watchURL)
	}
	return u.Query().Get("t")
}

// TestRotateLinkEndsOldLinks (issue 8, item 17): after a rotation, every link token handed out
// before and every passcode join token stop working; the new link works.
func TestRotateLinkEndsOldLinks(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityLink, "")
	hc := creds{session: s.session(t, host)}
	var v webinarView
	s.call(t, hc, "GET", "/api/webinars/"+w.ID, "", "").json(t, &v)
	old := linkToken(t, v.WatchURL)
	if r := s.call(t, creds{bearer: old}, "GET", "/api/webinars/"+w.ID, "", ""); r.status != 200 {
		t.Fatalf("link before rotation: %d %s", r.status, r.body)
	}
	// A passcode webinar's join token is a link of the same generation.
	pw := s.webinar(t, host, models.VisibilityPublic, "4321")
	var joined joinAnswer
	s.postJSON(t, creds{}, "/api/webinars/"+pw.ID+"/join", joinRequest{Passcode: "4321"}).json(t, &joined)

	r := s.call(t, hc, "POST", "/api/webinars/"+w.ID+"/link/rotate", "", "")
	if r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	var rotated webinarView
	r.json(t, &rotated)
	if r := s.call(t, creds{bearer: old}, "GET", "/api/webinars/"+w.ID, "", ""); r.status != 401 {
		t.Errorf("old link after rotation: %d, want 401", r.status)
	}
	if r := s.call(t, creds{}, "GET", "/api/webinars/"+w.ID+"/captions?t="+url.QueryEscape(old), "", ""); r.status != 401 {
		t.Errorf("old link's caption stream after rotation: %d, want 401", r.status)
	}
	if r := s.call(t, creds{bearer: linkToken(t, rotated.WatchURL)}, "GET", "/api/webinars/"+w.ID, "", ""); r.status != 200 {
		t.Errorf("new link: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: joined.Token}, "GET", "/api/webinars/"+pw.ID, "", ""); r.status != 200 {
		t.Fatalf("passcode token before rotation: %d %s", r.status, r.body)
	}
	if r := s.call(t, hc, "POST", "/api/webinars/"+pw.ID+"/link/rotate", "", ""); r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: joined.Token}, "GET", "/api/webinars/"+pw.ID, "", ""); r.status != 401 {
		t.Errorf("passcode token after rotation: %d, want 401", r.status)
	}
}

// TestRevokeRegistration (item 17): the host lists registrations and revokes one; its link
// stops working, and registering again with the email does not bring it back.
func TestRevokeRegistration(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityRegistration, "")
	hc := creds{session: s.session(t, host)}
	var reg joinAnswer
	s.postJSON(t, creds{}, "/api/webinars/"+w.ID+"/register", registerRequest{Name: "Bo", Email: "bo@home.example"}).json(t, &reg)
	var list []models.Registration
	s.call(t, hc, "GET", "/api/webinars/"+w.ID+"/registrations", "", "").json(t, &list)
	if len(list) != 1 || list[0].Email != "bo@home.example" || !list[0].RevokedAt.IsZero() {
		t.Fatalf("registrations %+v", list)
	}
	if strings.Contains(s.call(t, hc, "GET", "/api/webinars/"+w.ID+"/registrations", "", "").body, "token") {
		t.Error("the list shows token hashes")
	}
	if r := s.call(t, hc, "DELETE", "/api/webinars/"+w.ID+"/registrations/"+list[0].ID, "", ""); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: reg.Token}, "GET", "/api/webinars/"+w.ID, "", ""); r.status != 401 {
		t.Errorf("revoked registration's link: %d, want 401", r.status)
	}
	if r := s.call(t, hc, "DELETE", "/api/webinars/"+w.ID+"/registrations/"+list[0].ID, "", ""); r.status != 404 {
		t.Errorf("revoking twice: %d, want 404", r.status)
	}
	again := s.postJSON(t, creds{}, "/api/webinars/"+w.ID+"/register", registerRequest{Name: "Bo", Email: "bo@home.example"})
	var reg2 joinAnswer
	again.json(t, &reg2)
	if again.status != 201 {
		t.Errorf("registering again after revocation: %d", again.status)
	}
	if r := s.call(t, creds{bearer: reg2.Token}, "GET", "/api/webinars/"+w.ID, "", ""); r.status != 401 {
		t.Errorf("re-registering revived a revoked registration: %d", r.status)
	}
	// Another webinar's host cannot revoke here, nor see who registered.
	other := s.user(t, "other@school.example", false)
	oc := creds{session: s.session(t, other)}
	if r := s.call(t, oc, "GET", "/api/webinars/"+w.ID+"/registrations", "", ""); r.status != 403 {
		t.Errorf("other host lists: %d, want 403", r.status)
	}
}

// TestDuplicateRegistrationLooksNew (item 17): registering an email twice answers exactly like
// the first time (status and fields), and the first registrant's link keeps working.
func TestDuplicateRegistrationLooksNew(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityRegistration, "")
	first := s.postJSON(t, creds{}, "/api/webinars/"+w.ID+"/register", registerRequest{Name: "Bo", Email: "bo@home.example"})
	second := s.postJSON(t, creds{}, "/api/webinars/"+w.ID+"/register", registerRequest{Name: "Someone", Email: "BO@home.example"})
	if first.status != 201 || second.status != 201 {
		t.Fatalf("statuses %d then %d, want 201 both", first.status, second.status)
	}
	var a, b map[string]any
	first.json(t, &a)
	second.json(t, &b)
	if len(a) != len(b) || fmt.Sprint(keys(a)) != fmt.Sprint(keys(b)) || second.header.Get("Cache-Control") != first.header.Get("Cache-Control") {
		t.Errorf("answers differ in shape: %v / %v", a, b)
	}
	for i, tok := range []any{a["token"], b["token"]} {
		if r := s.call(t, creds{bearer: tok.(string)}, "GET", "/api/webinars/"+w.ID, "", ""); r.status != 200 {
			t.Errorf("token %d: %d %s", i, r.status, r.body)
		}
	}
	var list []models.Registration
	s.call(t, creds{session: s.session(t, host)}, "GET", "/api/webinars/"+w.ID+"/registrations", "", "").json(t, &list)
	if len(list) != 1 || list[0].Name != "Bo" {
		t.Errorf("registrations %+v, want Bo's only", list)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRegistrationLimits (issue 8, item 14): registrations are limited per client address and
// per webinar, with 429 and Retry-After, and a refused one stores nothing.
func TestRegistrationLimits(t *testing.T) {
	s := newAuthServer(t, behindProxy)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityRegistration, "")
	path := "/api/webinars/" + w.ID + "/register"
	reg := func(ip string, i int) (int, http.Header) {
		st, h, _ := fromAddr(t, s, ip, "", path, registerRequest{Name: "N", Email: fmt.Sprintf("p%d-%s@home.example", i, ip)})
		return st, h
	}
	for i := range 20 {
		if st, _ := reg("192.0.2.1", i); st != 201 {
			t.Fatalf("registration %d from one address: %d", i, st)
		}
	}
	if st, h := reg("192.0.2.1", 20); st != 429 || h.Get("Retry-After") == "" {
		t.Errorf("21st registration from one address: %d (Retry-After %q), want 429", st, h.Get("Retry-After"))
	}
	// Per webinar: 120 a minute from everywhere (20 taken above, one refused).
	for i := range 100 {
		if st, _ := reg(fmt.Sprintf("203.0.113.%d", i+1), i); st != 201 {
			t.Fatalf("registration from address %d: %d", i, st)
		}
	}
	if st, h := reg("198.51.100.1", 0); st != 429 || h.Get("Retry-After") == "" {
		t.Errorf("registration past the webinar's limit: %d, want 429", st)
	}
	rs, err := s.store.Registrations(t.Context(), w.ID)
	if err != nil || len(rs) != 120 {
		t.Errorf("%d registrations stored (%v), want 120", len(rs), err)
	}
}

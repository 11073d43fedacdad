package api

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"lectern/captions/subtitle"
	"lectern/models"
	"lectern/web"
)

// browserAccept is what Chromium sends when it navigates to a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

type pageReply struct {
	status        int
	ctype, body   string
	location, ttl string
}

// fetchPage GETs path as a browser would (Accept text/html) or as a script, with an optional
// session cookie, without following redirects.
func (s *authServer) fetchPage(t *testing.T, path, accept, session string) pageReply {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "lectern_session", Value: session})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return pageReply{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), body: string(b),
		location: res.Header.Get("Location"), ttl: res.Header.Get("Cache-Control")}
}

// errorTitle is the error page's heading, "" when the body is not the error page.
var errorTitle = regexp.MustCompile(`<h2 id="error-title">([^<]*)</h2>`)

func titleOf(body string) string {
	if m := errorTitle.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// TestWebinarPageAccess (issue 9 item 8): /dashboard/{id} is the webinar's page for those who
// may change its settings; a browser anyone else points there gets a page that says why and
// where to go (sign in, ask the host, no such webinar), never raw JSON.
func TestWebinarPageAccess(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityLink, "")
	cohost, attendee, stranger := s.user(t, "co@school.example", false), s.user(t, "pupil@school.example", false), s.user(t, "other@school.example", false)
	for u, role := range map[string]models.Role{cohost.ID: models.RoleCohost, attendee.ID: models.RoleAttendee} {
		if err := s.store.SetMember(t.Context(), w.ID, u, role); err != nil {
			t.Fatal(err)
		}
	}
	admin := s.user(t, "admin@school.example", true)
	page := "/dashboard/" + w.ID

	for who, u := range map[string]models.User{"host": host, "co-host": cohost, "admin": admin} {
		r := s.fetchPage(t, page, browserAccept, s.session(t, u))
		if r.status != 200 || !strings.HasPrefix(r.ctype, "text/html") || !strings.Contains(r.body, `src="/static/js/webinar.js"`) {
			t.Errorf("%s: %s: %d %s %q", who, page, r.status, r.ctype, titleOf(r.body))
		}
	}
	cases := []struct {
		who, session, path string
		status             int
		title, action      string
	}{
		{"signed out", "", page, 401, "Sign in to continue", `href="/login?next=%2Fdashboard%2F` + w.ID + `"`},
		{"attendee", s.session(t, attendee), page, 403, "You cannot open this page", "your role in this webinar does not allow this"},
		{"stranger", s.session(t, stranger), page, 403, "You cannot open this page", `href="/login?next=`},
		{"host, no such webinar", s.session(t, host), "/dashboard/nosuch", 404, "No such webinar", `href="/dashboard"`},
	}
	for _, c := range cases {
		r := s.fetchPage(t, c.path, browserAccept, c.session)
		if r.status != c.status || !strings.HasPrefix(r.ctype, "text/html") || titleOf(r.body) != c.title || !strings.Contains(r.body, c.action) ||
			strings.Contains(r.body, "<script") || r.ttl != "no-store" {
			t.Errorf("%s: browser GET %s: %d %s %q, want %d %q with %s", c.who, c.path, r.status, r.ctype, r.body, c.status, c.title, c.action)
		}
		// A script asking for the same page keeps the JSON error.
		if r := s.fetchPage(t, c.path, "application/json", c.session); r.status != c.status || !strings.HasPrefix(r.ctype, "application/json") || !strings.Contains(r.body, `"error"`) {
			t.Errorf("%s: script GET %s: %d %s %q", c.who, c.path, r.status, r.ctype, r.body)
		}
	}
	// The API behind the page answers JSON to a browser's Accept header too.
	for _, path := range []string{"/api/webinars/" + w.ID + "/members", "/api/webinars/" + w.ID + "/recordings"} {
		for who, session := range map[string]string{"signed out": "", "attendee": s.session(t, attendee)} {
			if r := s.fetchPage(t, path, browserAccept, session); (r.status != 401 && r.status != 403) || !strings.HasPrefix(r.ctype, "application/json") {
				t.Errorf("%s: browser GET %s: %d %s %q", who, path, r.status, r.ctype, r.body)
			}
		}
	}
}

// TestErrorPagesByStatus: every failure a page route can meet has its own plain-words page
// with a way forward; /api, WHIP and WHEP keep {"error": ...} whatever the browser accepts.
func TestErrorPagesByStatus(t *testing.T) {
	s := newAuthServer(t, nil)
	// Routes that fail as real handlers do, on page paths and on API paths. Added before the
	// first request, so the router is not written while it serves.
	fail := map[string]error{
		"gone":   echo.NewHTTPError(http.StatusGone, "the webinar has ended"),
		"broken": errors.New("disk on fire at /var/lib/lectern"),
		"busy":   models.ErrBusy,
		"limit":  echo.NewHTTPError(http.StatusTooManyRequests, "too many requests"),
	}
	for name, err := range fail {
		s.api.echo.GET("/watch/x/"+name, func(echo.Context) error { return err })
		s.api.echo.GET("/api/test/"+name, func(echo.Context) error { return err })
	}
	s.api.echo.GET("/admin/x/forbidden", func(echo.Context) error { return echo.NewHTTPError(http.StatusForbidden, "admins only") })
	cases := []struct {
		name   string
		status int
		title  string
		detail string
	}{
		{"gone", 410, "No longer available", "the webinar has ended"},
		{"broken", 500, "Something went wrong", "Try again in a moment"},
		{"busy", 503, "The server is busy", "Reload this page in a minute"},
		{"limit", 429, "Too many requests", "Wait a minute"},
	}
	for _, c := range cases {
		r := s.fetchPage(t, "/watch/x/"+c.name, browserAccept, "")
		if r.status != c.status || !strings.HasPrefix(r.ctype, "text/html") || titleOf(r.body) != c.title || !strings.Contains(r.body, c.detail) ||
			!strings.Contains(r.body, `href="/dashboard"`) || !strings.Contains(r.body, `href="/static/css/lectern.css"`) {
			t.Errorf("browser GET %s: %d %s %q", c.name, r.status, r.ctype, r.body)
		}
		if strings.Contains(r.body, "disk on fire") {
			t.Errorf("%s: the error page shows an internal error's detail: %q", c.name, r.body)
		}
		r = s.fetchPage(t, "/api/test/"+c.name, browserAccept, "")
		if r.status != c.status || !strings.HasPrefix(r.ctype, "application/json") || !strings.Contains(r.body, `"error"`) {
			t.Errorf("browser GET /api/test/%s: %d %s %q", c.name, r.status, r.ctype, r.body)
		}
	}
	// A refusal outside a webinar's pages sends the reader to the server's administrator.
	if r := s.fetchPage(t, "/admin/x/forbidden", browserAccept, ""); r.status != 403 || titleOf(r.body) != "You cannot open this page" ||
		!strings.Contains(r.body, "admins only") || !strings.Contains(r.body, "administrator") {
		t.Errorf("browser GET /admin/x/forbidden: %d %q", r.status, r.body)
	}
	// Media endpoints and the live channel stay JSON for browsers.
	w := s.webinar(t, s.user(t, "host@school.example", false), models.VisibilityLink, "")
	for _, path := range []string{"/whep/" + w.ID, "/whip/" + w.ID, "/api/webinars/" + w.ID + "/channel", "/api/webinars/" + w.ID + "/transcript.srt"} {
		if r := s.fetchPage(t, path, browserAccept, ""); r.status < 400 || !strings.HasPrefix(r.ctype, "application/json") {
			t.Errorf("browser GET %s: %d %s %q", path, r.status, r.ctype, r.body)
		}
	}
	// An anonymous browser on an account page of the site (not an API) that needs a sign-in
	// is sent on by its script; unknown paths under those get the not-found page.
	for _, path := range []string{"/account/nosuch", "/admin/nosuch", "/dashboard/x/y"} {
		if r := s.fetchPage(t, path, browserAccept, ""); r.status != 404 || titleOf(r.body) == "" {
			t.Errorf("browser GET %s: %d %q", path, r.status, r.body)
		}
	}
}

// TestErrorPageSignInLinkStaysOnSite: the sign-in link carries the page's own path, escaped,
// so a crafted path cannot break out of the href or point elsewhere.
func TestErrorPageSignInLinkStaysOnSite(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityLink, "")
	r := s.fetchPage(t, "/dashboard/"+w.ID+`?x="><script>alert(1)</script>`, browserAccept, "")
	m := regexp.MustCompile(`id="error-action" class="button" href="([^"]*)"`).FindStringSubmatch(r.body)
	if r.status != 401 || m == nil || strings.Contains(r.body, "<script") {
		t.Fatalf("%d %q", r.status, r.body)
	}
	u, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil || u.Host != "" || u.Path != "/login" || !strings.HasPrefix(u.Query().Get("next"), "/dashboard/"+w.ID+"?") {
		t.Errorf("sign-in link %q", m[1])
	}
}

// TestWebinarPageOffersEveryFormat: the page's transcript downloads list exactly the formats
// the export route serves, and the page loads no inline script or style (CSP).
func TestWebinarPageOffersEveryFormat(t *testing.T) {
	js, err := fs.ReadFile(web.Static, "js/webinar.js")
	if err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(`\['([a-z]+)', '[^']*\(\.[a-z]+\)`).FindAllStringSubmatch(string(js), -1)
	var formats []string
	for _, m := range got {
		formats = append(formats, m[1])
	}
	if strings.Join(formats, ",") != strings.Join(subtitle.Formats, ",") {
		t.Errorf("webinar.js offers %v, the export serves %v", formats, subtitle.Formats)
	}
	for _, name := range []string{"webinar.html", "dashboard.html"} {
		page, err := fs.ReadFile(web.Static, name)
		if err != nil {
			t.Fatal(err)
		}
		html := string(page)
		if regexp.MustCompile(`<script(?:[^>]*)>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`).MatchString(html) || !strings.Contains(html, `href="/static/css/dashboard.css"`) {
			t.Errorf("%s has inline script or style, or misses dashboard.css", name)
		}
	}
}

package api

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"lectern/models"
	"lectern/web"
)

// TestTranscriptEditorPageAccess (issue 11 item 2): the cue editor
// /dashboard/{id}/transcripts/{vid} is for those who may open the webinar's page (host,
// co-host, admin); anyone else gets the plain-words error page, and the page itself carries
// no inline script or style.
func TestTranscriptEditorPageAccess(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityLink, "")
	cohost, attendee := s.user(t, "co@school.example", false), s.user(t, "pupil@school.example", false)
	for u, role := range map[string]models.Role{cohost.ID: models.RoleCohost, attendee.ID: models.RoleAttendee} {
		if err := s.store.SetMember(t.Context(), w.ID, u, role); err != nil {
			t.Fatal(err)
		}
	}
	admin := s.user(t, "admin@school.example", true)
	page := "/dashboard/" + w.ID + "/transcripts/live"
	for who, u := range map[string]models.User{"host": host, "co-host": cohost, "admin": admin} {
		r := s.fetchPage(t, page, browserAccept, s.session(t, u))
		if r.status != 200 || !strings.HasPrefix(r.ctype, "text/html") || !strings.Contains(r.body, `src="/static/js/transcript.js"`) {
			t.Errorf("%s: %s: %d %s %q", who, page, r.status, r.ctype, titleOf(r.body))
		}
	}
	cases := []struct {
		who, session, path string
		status             int
		title              string
	}{
		{"signed out", "", page, 401, "Sign in to continue"},
		{"attendee", s.session(t, attendee), page, 403, "You cannot open this page"},
		{"host, no such webinar", s.session(t, host), "/dashboard/nosuch/transcripts/live", 404, "No such webinar"},
	}
	for _, c := range cases {
		if r := s.fetchPage(t, c.path, browserAccept, c.session); r.status != c.status || titleOf(r.body) != c.title || strings.Contains(r.body, "<script") {
			t.Errorf("%s: browser GET %s: %d %q, want %d %q", c.who, c.path, r.status, titleOf(r.body), c.status, c.title)
		}
	}

	html, err := fs.ReadFile(web.Static, "transcript.html")
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`<script(?:[^>]*)>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`).Match(html) || !strings.Contains(string(html), `href="/static/css/dashboard.css"`) {
		t.Error("transcript.html has inline script or style, or misses dashboard.css")
	}
}

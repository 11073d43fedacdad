package api

import (
	"net/http"
	"strings"
	"testing"

	"lectern/models"
)

// A webinar's spoken language must be one the speech engine transcribes: PocketSphinx's model
// is English only, so creating or changing a webinar to Spanish is refused with a clear
// error naming what is supported, and changes nothing. The languages viewers may read
// captions in are not affected.
func TestSpokenLanguageMustSuitTheEngine(t *testing.T) {
	s := newAuthServer(t, func(d *Deps) { d.EngineName, d.SpokenLanguages = "sphinx", []string{"en"} })
	host := s.user(t, "host@example.com", false)
	w := s.webinar(t, host, models.VisibilityPublic, "")
	hostCreds := creds{session: s.session(t, host)}
	before := s.snapshot(t, w.ID)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/webinars", `{"title":"Clase","language":"es"}`},
		{"PATCH", "/api/webinars/" + w.ID, `{"language":"es"}`},
		{"PATCH", "/api/webinars/" + w.ID, `{"language":"pt-BR","title":"Renamed"}`},
	} {
		r := s.call(t, hostCreds, tc.method, tc.path, "application/json", tc.body)
		var e struct{ Error string }
		r.json(t, &e)
		if r.status != http.StatusBadRequest || !strings.Contains(e.Error, "supported: en") {
			t.Errorf("%s %s %s: %d %q, want 400 naming the supported languages", tc.method, tc.path, tc.body, r.status, e.Error)
		}
	}
	if after := s.snapshot(t, w.ID); after != before {
		t.Errorf("a refused language changed something:\n%s\n%s", before, after)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/webinars", `{"title":"Class","language":"en"}`},
		{"PATCH", "/api/webinars/" + w.ID, `{"language":"en-GB"}`},
		{"POST", "/api/webinars", `{"title":"Default language"}`},
	} {
		if r := s.call(t, hostCreds, tc.method, tc.path, "application/json", tc.body); r.status >= 300 {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, r.status, r.body)
		}
	}
	var langs struct{ Spoken string }
	r := s.call(t, creds{}, "GET", "/api/webinars/"+w.ID+"/languages", "", "")
	if r.json(t, &langs); r.status != 200 || langs.Spoken != "en-GB" {
		t.Errorf("languages: %d %s", r.status, r.body)
	}
}

// An engine that does not say which languages it knows accepts any well-formed tag.
func TestSpokenLanguageUnknownEngineAcceptsAny(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@example.com", false)
	if r := s.call(t, creds{session: s.session(t, host)}, "POST", "/api/webinars", "application/json", `{"title":"Clase","language":"es"}`); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
}

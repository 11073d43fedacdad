package api

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"lectern/models"
)

// TestWatchLinkForPresenters (issue 8 item 6): the studio's watch link carries a token that
// lets its holder watch a link-only, registration or passcode webinar; only someone who may
// publish gets one.
func TestWatchLinkForPresenters(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "host@school.example", false)
	host := creds{session: s.session(t, h)}
	recv := validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)
	cases := []struct {
		vis      models.Visibility
		passcode string
	}{{models.VisibilityLink, ""}, {models.VisibilityLink, "2468"}, {models.VisibilityRegistration, ""}, {models.VisibilityRegistration, "2468"}, {models.VisibilityPublic, "2468"}}
	for _, tc := range cases {
		w := s.webinar(t, h, tc.vis, tc.passcode)
		// After a rotation the studio's link is of the new generation, so it still works.
		if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/link/rotate", "", ""); r.status != 200 {
			t.Fatalf("rotate %s: %d %s", tc.vis, r.status, r.body)
		}
		for who, c := range map[string]creds{"host": host, "key": {bearer: w.StreamKey}} {
			r := s.call(t, c, "GET", "/api/webinars/"+w.ID+"/watch-link", "", "")
			var a watchLinkAnswer
			r.json(t, &a)
			u, err := url.Parse(a.WatchURL)
			if r.status != 200 || err != nil || a.Token == "" || u.Query().Get("t") != a.Token || u.Path != "/watch/"+w.ID {
				t.Fatalf("%s %s/%q: watch-link %d %s", who, tc.vis, tc.passcode, r.status, r.body)
			}
			viewer := creds{bearer: a.Token}
			if r := s.call(t, viewer, "GET", "/api/webinars/"+w.ID, "", ""); r.status != 200 {
				t.Errorf("%s %s/%q: info with the link: %d %s", who, tc.vis, tc.passcode, r.status, r.body)
			}
			if r := s.call(t, viewer, "POST", "/whep/"+w.ID, "application/sdp", recv); r.status != 201 {
				t.Errorf("%s %s/%q: WHEP with the link: %d %s", who, tc.vis, tc.passcode, r.status, r.body)
			}
			if r := s.call(t, creds{}, "GET", "/api/webinars/"+w.ID+"/captions?t="+url.QueryEscape(a.Token), "", ""); r.status != 200 {
				t.Errorf("%s %s/%q: captions with ?t=: %d", who, tc.vis, tc.passcode, r.status)
			}
			// The link is an attendee's: it cannot publish or fetch another link.
			if r := s.call(t, viewer, "GET", "/api/webinars/"+w.ID+"/watch-link", "", ""); r.status != 403 {
				t.Errorf("%s %s/%q: the link itself got a watch link: %d", who, tc.vis, tc.passcode, r.status)
			}
		}
	}
	// A public webinar without passcode needs no token.
	pub := s.webinar(t, h, models.VisibilityPublic, "")
	r := s.call(t, host, "GET", "/api/webinars/"+pub.ID+"/watch-link", "", "")
	if r.status != 200 || strings.Contains(r.body, "?t=") || !strings.Contains(r.body, "/watch/"+pub.ID) {
		t.Errorf("public watch-link: %d %s", r.status, r.body)
	}
	// Nobody else: no key, a wrong key, another account.
	w := s.webinar(t, h, models.VisibilityRegistration, "")
	other := creds{session: s.session(t, s.user(t, "other@school.example", false))}
	for who, c := range map[string]creds{"anonymous": {}, "wrong key": {bearer: "not-the-key-0123456789abc"}, "other": other} {
		if r := s.call(t, c, "GET", "/api/webinars/"+w.ID+"/watch-link", "", ""); r.status != 401 && r.status != 403 {
			t.Errorf("%s got a watch link: %d %s", who, r.status, r.body)
		}
	}
	// Other unregistered tokens still do not open a registration webinar.
	link := s.webinar(t, h, models.VisibilityLink, "")
	var v webinarView
	s.call(t, host, "GET", "/api/webinars/"+link.ID, "", "").json(t, &v)
	lu, _ := url.Parse(v.WatchURL)
	if err := s.store.SaveWebinarSettings(t.Context(), models.WebinarSettings{WebinarID: link.ID, OwnerID: h.ID, Visibility: models.VisibilityRegistration}); err != nil {
		t.Fatal(err)
	}
	if r := s.call(t, creds{bearer: lu.Query().Get("t")}, "GET", "/api/webinars/"+link.ID, "", ""); r.status != 401 {
		t.Errorf("a link-only token opened the webinar after it became registration-only: %d", r.status)
	}
}

// TestBrowsersGetAnHTMLErrorPage (issue 8 item 7): a browser navigating to a missing page
// gets a page, scripts and media clients keep JSON.
func TestBrowsersGetAnHTMLErrorPage(t *testing.T) {
	s := newAuthServer(t, nil)
	get := func(path, accept string) (int, string, string) {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for path, title := range map[string]string{"/no/such/page": "Page not found", "/watch/nosuch": "No such webinar", "/studio/nosuch": "No such webinar",
		"/static/nosuch.js": "Page not found", "/static/js/": "Page not found", "/static/../api.go": "Page not found"} {
		code, ctype, body := get(path, browser)
		if code != 404 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, title) ||
			!strings.Contains(body, `href="/static/favicon.svg"`) || strings.Contains(body, "<script") {
			t.Errorf("browser GET %s: %d %s %q", path, code, ctype, body)
		}
	}
	for _, path := range []string{"/api/nosuch", "/api/webinars/nosuch", "/whep/nosuch/x", "/no/such/page"} {
		accept := browser
		if path == "/no/such/page" {
			accept = "application/json"
		}
		if code, ctype, body := get(path, accept); code != 404 || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s (Accept %s): %d %s %q", path, accept, code, ctype, body)
		}
	}
	if code, ctype, body := get("/static/js/watch.js", "*/*"); code != 200 || !strings.Contains(ctype, "javascript") || !strings.Contains(body, "import") {
		t.Errorf("static file: %d %s", code, ctype)
	}
	if code, ctype, body := get("/favicon.ico", "image/*"); code != 200 || ctype != "image/svg+xml" || !strings.Contains(body, "<svg") {
		t.Errorf("favicon: %d %s", code, ctype)
	}
}

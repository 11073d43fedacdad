package api

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"lectern/auth"
)

// TestPrivateWebinarNeedsAToken follows issue 5's contract: a script creates a webinar with an
// API token; its WHEP, captions and exports refuse anonymous viewers and accept a registered
// attendee's token until the registration is revoked; a revoked API token stops working.
func TestPrivateWebinarNeedsAToken(t *testing.T) {
	s := newAuthServer(t, nil)
	ctx := context.Background()
	h := s.user(t, "host@school.example", false)
	_, apiTok, err := auth.IssueAPIToken(ctx, s.store, h.ID, "script", "")
	if err != nil {
		t.Fatal(err)
	}
	script := creds{bearer: apiTok}
	r := s.postJSON(t, script, "/api/webinars", map[string]string{"title": "Chemistry", "visibility": "registration"})
	var created webinarView
	r.json(t, &created)
	if r.status != 201 || created.ID == "" || len(created.StreamKey) < 22 || created.StudioURL == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := created.ID
	recv := validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)
	paths := []struct{ method, path, ctype, body string }{
		{"POST", "/whep/" + id, "application/sdp", recv},
		{"GET", "/api/webinars/" + id + "/captions", "", ""},
		{"GET", "/api/webinars/" + id + "/transcript.vtt", "", ""},
		{"GET", "/api/webinars/" + id + "/languages", "", ""},
	}
	for _, p := range paths {
		if r := s.call(t, creds{}, p.method, p.path, p.ctype, p.body); r.status != 401 {
			t.Errorf("anonymous %s %s: %d", p.method, p.path, r.status)
		}
		if r := s.call(t, creds{bearer: "j1.forged.token"}, p.method, p.path, p.ctype, p.body); r.status != 401 {
			t.Errorf("forged token %s %s: %d", p.method, p.path, r.status)
		}
	}
	r = s.call(t, creds{}, "GET", "/api/webinars/"+id, "", "")
	if r.status != 401 || !strings.Contains(r.body, `"registration_required":true`) || strings.Contains(r.body, created.StreamKey) {
		t.Fatalf("anonymous info: %d %s", r.status, r.body)
	}

	r = s.postJSON(t, creds{}, "/api/webinars/"+id+"/register", registerRequest{Name: "Grace", Email: "grace@example.org"})
	var ja joinAnswer
	r.json(t, &ja)
	if r.status != 201 || ja.Token == "" || !strings.Contains(ja.WatchURL, "?t=") {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	// Bearer for WHEP and fetch, ?t= for EventSource and links.
	if r := s.call(t, creds{bearer: ja.Token}, "POST", "/whep/"+id, "application/sdp", recv); r.status != 201 {
		t.Errorf("attendee WHEP: %d %s", r.status, r.body)
	}
	q := "?t=" + url.QueryEscape(ja.Token)
	for _, p := range paths[1:] {
		if r := s.call(t, creds{}, p.method, p.path+q, "", ""); r.status != 200 {
			t.Errorf("attendee %s: %d %s", p.path, r.status, r.body)
		}
	}
	r = s.call(t, creds{bearer: ja.Token}, "GET", "/api/webinars/"+id, "", "")
	if r.status != 200 || strings.Contains(r.body, created.StreamKey) || strings.Contains(r.body, "stream_key") {
		t.Errorf("attendee info leaks the key: %d %s", r.status, r.body)
	}
	// An attendee may not publish.
	send := validOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	if r := s.call(t, creds{bearer: ja.Token}, "POST", "/whip/"+id, "application/sdp", send); r.status != 401 {
		t.Errorf("attendee WHIP: %d", r.status)
	}

	regs, _ := s.store.Registrations(ctx, id)
	if err := s.store.RevokeRegistration(ctx, id, regs[0].ID); err != nil {
		t.Fatal(err)
	}
	if r := s.call(t, creds{bearer: ja.Token}, "POST", "/whep/"+id, "application/sdp", recv); r.status != 401 {
		t.Errorf("revoked attendee WHEP: %d", r.status)
	}
	if r := s.call(t, creds{}, "GET", "/api/webinars/"+id+"/captions"+q, "", ""); r.status != 401 {
		t.Errorf("revoked attendee captions: %d", r.status)
	}

	// The stream key (the studio link) may read the webinar, as the studio page does.
	if r := s.call(t, creds{bearer: created.StreamKey}, "GET", "/api/webinars/"+id, "", ""); r.status != 200 || strings.Contains(r.body, "stream_key") {
		t.Errorf("studio info with the stream key: %d %s", r.status, r.body)
	}
	// The stream key still publishes; once rotated, the old one does not.
	if r := s.call(t, creds{bearer: created.StreamKey}, "POST", "/whip/"+id, "application/sdp", send); r.status != 201 {
		t.Errorf("WHIP with the stream key: %d %s", r.status, r.body)
	}
	r = s.call(t, script, "POST", "/api/webinars/"+id+"/stream-key", "", "")
	if r.status != 200 || strings.Contains(r.body, created.StreamKey) {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: created.StreamKey}, "POST", "/whip/"+id, "application/sdp", send); r.status != 401 {
		t.Errorf("WHIP with the rotated-out key: %d", r.status)
	}

	tokens, _ := s.store.APITokens(ctx, h.ID)
	if r := s.call(t, creds{session: s.session(t, h)}, "DELETE", "/api/account/tokens/"+tokens[0].ID, "", ""); r.status != 204 {
		t.Fatalf("revoke API token: %d", r.status)
	}
	if r := s.call(t, script, "GET", "/api/webinars", "", ""); r.status != 401 {
		t.Errorf("revoked API token: %d", r.status)
	}
}

// TestLinkAndPasscodeWebinars: a link-only webinar's hosts get a watch link with a signed
// token; a passcode is checked on the server, rate limited, and buys a token.
func TestLinkAndPasscodeWebinars(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "host@school.example", false)
	host := creds{session: s.session(t, h)}
	r := s.postJSON(t, host, "/api/webinars", map[string]any{"title": "Link only", "visibility": "link", "starts_at": time.Now().Add(time.Hour)})
	var link webinarView
	r.json(t, &link)
	u, err := url.Parse(link.WatchURL)
	if r.status != 201 || err != nil || u.Query().Get("t") == "" {
		t.Fatalf("link webinar: %d %s", r.status, r.body)
	}
	captions := "/api/webinars/" + link.ID + "/captions"
	if r := s.call(t, creds{}, "GET", captions, "", ""); r.status != 401 {
		t.Errorf("link webinar without the link: %d", r.status)
	}
	if r := s.call(t, creds{}, "GET", captions+"?t="+url.QueryEscape(u.Query().Get("t")), "", ""); r.status != 200 {
		t.Errorf("link webinar with the link: %d", r.status)
	}

	r = s.postJSON(t, host, "/api/webinars", map[string]any{"title": "Passcode", "visibility": "public", "passcode": "open sesame"})
	var pc webinarView
	r.json(t, &pc)
	if r.status != 201 || !pc.HasPasscode || strings.Contains(r.body, "open sesame") {
		t.Fatalf("passcode webinar: %d %s", r.status, r.body)
	}
	captions = "/api/webinars/" + pc.ID + "/captions"
	if r := s.call(t, creds{}, "GET", "/api/webinars/"+pc.ID, "", ""); r.status != 401 || !strings.Contains(r.body, `"passcode_required":true`) {
		t.Errorf("passcode webinar info: %d %s", r.status, r.body)
	}
	join := "/api/webinars/" + pc.ID + "/join"
	for i := 0; i < 5; i++ {
		if r := s.postJSON(t, creds{}, join, joinRequest{Passcode: "guess"}); r.status != 401 {
			t.Fatalf("wrong passcode %d: %d", i, r.status)
		}
	}
	if r := s.postJSON(t, creds{}, join, joinRequest{Passcode: "open sesame"}); r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("6th try: %d %q", r.status, r.header.Get("Retry-After"))
	}
	s.clock.Add(61 * time.Second)
	r = s.postJSON(t, creds{}, join, joinRequest{Passcode: "open sesame"})
	var ja joinAnswer
	r.json(t, &ja)
	if r.status != 200 {
		t.Fatalf("right passcode: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{}, "GET", captions+"?t="+url.QueryEscape(ja.Token), "", ""); r.status != 200 {
		t.Errorf("passcode token: %d", r.status)
	}
	// A link token of another webinar does not open this one.
	if r := s.call(t, creds{}, "GET", captions+"?t="+url.QueryEscape(u.Query().Get("t")), "", ""); r.status != 401 {
		t.Errorf("another webinar's token: %d", r.status)
	}
}

// TestLegacyWebinarStaysPublic: a webinar made by `lectern webinar create` (no owner) keeps
// working without any token, and only admins manage it.
func TestLegacyWebinarStaysPublic(t *testing.T) {
	s := newAuthServer(t, nil)
	w, err := s.store.CreateWebinar(context.Background(), newLegacy())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/webinars/" + w.ID, "/api/webinars/" + w.ID + "/captions", "/api/webinars/" + w.ID + "/transcript.srt"} {
		if r := s.call(t, creds{}, "GET", p, "", ""); r.status != 200 {
			t.Errorf("anonymous %s: %d", p, r.status)
		}
	}
	bob := creds{session: s.session(t, s.user(t, "bob@school.example", false))}
	if r := s.call(t, bob, "PATCH", "/api/webinars/"+w.ID, js, `{"title":"mine now"}`); r.status != 403 {
		t.Errorf("non-admin edits a legacy webinar: %d", r.status)
	}
	adm := creds{session: s.session(t, s.user(t, "root@school.example", true))}
	if r := s.call(t, adm, "PATCH", "/api/webinars/"+w.ID, js, `{"title":"Renamed"}`); r.status != 200 {
		t.Errorf("admin edits a legacy webinar: %d %s", r.status, r.body)
	}
}

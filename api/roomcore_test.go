package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"lectern/models"
)

// Issue 9's room lifecycle against the real server, SQLite and real pion viewers: remove,
// leave, promote and demote, settings, ending for good, revoked registrations.

// closeBound is the contract's bound for closing a removed (or leaving) participant's
// connections.
const closeBound = time.Second

// viewer is a real pion WHEP viewer with its session's Location.
type viewer struct {
	pc  *webrtc.PeerConnection
	loc string
}

// connectViewer connects a real pion viewer over loopback with token and waits until its
// peer connection is up (ICE and DTLS done), so that a close afterwards is the server's.
func connectViewer(t *testing.T, s *authServer, w models.Webinar, token string) viewer {
	t.Helper()
	pc, loc := whepViewer(t, s, w, token)
	waitFor(t, 10*time.Second, "viewer connected", func() bool { return pc.ConnectionState() == webrtc.PeerConnectionStateConnected })
	return viewer{pc: pc, loc: loc}
}

// gone reports whether the viewer's peer connection is no longer connected: the server closed
// it (DTLS close_notify) or it failed.
func (v viewer) gone() bool {
	switch v.pc.ConnectionState() {
	case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
		return true
	}
	return false
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// captionStream opens the caption SSE stream with token; its body ends when the server closes it.
func captionStream(t *testing.T, s *authServer, w models.Webinar, token string) io.ReadCloser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/webinars/"+w.ID+"/captions", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 {
		t.Fatalf("captions: %d", res.StatusCode)
	}
	return res.Body
}

// closedWithin waits until read returns an error (the stream closed), at most d.
func closedWithin(t *testing.T, d time.Duration, what string, read func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for {
			if err := read(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "closed") {
			t.Logf("%s ended with %v", what, err)
		}
	case <-time.After(d):
		t.Fatalf("%s still open %v later", what, d)
	}
}

// participantConns is one participant's WHEP viewer, caption stream and channel, all open.
type participantConns struct {
	v   viewer
	cap io.ReadCloser
	ch  *channelClient
}

func openAll(t *testing.T, s *authServer, w models.Webinar, token string) participantConns {
	t.Helper()
	return participantConns{v: connectViewer(t, s, w, token), cap: captionStream(t, s, w, token), ch: openChannel(t, s, w.ID, token, "")}
}

// allClosedWithin checks the viewer's peer connection, caption stream and channel all closed
// within d of start, reading the channel's events into heard.
func (pc participantConns) allClosedWithin(t *testing.T, start time.Time, d time.Duration) (heard []chanEvent) {
	t.Helper()
	closedWithin(t, d, "channel", func() error {
		ev, err := pc.ch.next()
		if err == nil {
			heard = append(heard, ev)
		}
		return err
	})
	buf := make([]byte, 512)
	closedWithin(t, d-time.Since(start), "caption stream", func() error { _, err := pc.cap.Read(buf); return err })
	waitFor(t, d-time.Since(start), "viewer's peer connection closed", pc.v.gone)
	el := time.Since(start)
	if el > d {
		t.Fatalf("closing took %v, more than %v", el, d)
	}
	t.Logf("viewer, caption stream and channel closed in %v", el)
	return heard
}

func postAs(t *testing.T, s *authServer, c creds, path string, want int) reply {
	t.Helper()
	r := s.call(t, c, "POST", path, "", "")
	if r.status != want {
		t.Fatalf("POST %s: %d %s, want %d", path, r.status, r.body, want)
	}
	return r
}

// Removing a participant closes its real pion viewer's peer connection (seen from the viewer),
// its caption stream and its channel within a second; its token joins, watches and listens no
// more; nothing of it stays in the connection tracker.
func TestRemoveClosesViewerPeerCaptionsAndChannel(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	a, b := openAll(t, s, w, ana.Token), connectViewer(t, s, w, bob.Token)

	start := time.Now()
	postAs(t, s, host, "/api/webinars/"+w.ID+"/participants/"+ana.ParticipantID+"/remove", 200)
	heard := a.allClosedWithin(t, start, closeBound)
	if !hasEvent(heard, "participant", "state", "removed") {
		t.Errorf("ana's channel heard %+v, want her removal before it closed", heard)
	}
	if b.gone() {
		t.Error("removing Ana closed Bob's viewer too")
	}
	joinAs(t, s, w.ID, "Ana", creds{bearer: ana.Token}, 403)
	if r := whepStatus(t, s, w, ana.Token); r.status != 403 {
		t.Errorf("whep after remove: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: ana.Token}, "GET", "/api/webinars/"+w.ID+"/channel", "", ""); r.status != 403 {
		t.Errorf("channel after remove: %d", r.status)
	}
	if r := s.call(t, creds{bearer: ana.Token}, "GET", "/api/webinars/"+w.ID+"/captions", "", ""); r.status != 403 {
		t.Errorf("captions after remove: %d", r.status)
	}
}

func hasEvent(evs []chanEvent, typ, key string, val any) bool {
	for _, ev := range evs {
		if ev.typ == typ && ev.data[key] == val {
			return true
		}
	}
	return false
}

// A participant who leaves: hosts see "left", their viewer, captions and channel close like a
// removal's, the token is refused while away with a clear message, and joins again.
func TestLeaveClosesAndRejoins(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	hostCh := openChannelSession(t, s, w.ID, host.session, "")
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	if ev := hostCh.mustNext(t); ev.data["state"] != "admitted" {
		t.Fatalf("host heard %+v", ev)
	}
	a := openAll(t, s, w, ana.Token)
	postAs(t, s, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/hand", 200)
	hostCh.mustNext(t) // the hand

	start := time.Now()
	postAs(t, s, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/leave", 204)
	a.allClosedWithin(t, start, closeBound)
	if ev := hostCh.mustNext(t); ev.typ != "participant" || ev.data["state"] != "left" || ev.data["id"] != ana.ParticipantID {
		t.Fatalf("host heard %+v, want ana left", ev)
	}
	if ev := hostCh.mustNext(t); ev.typ != "hand" || ev.data["raised"] != false {
		t.Fatalf("host heard %+v, want ana's hand down", ev)
	}
	if r := whepStatus(t, s, w, ana.Token); r.status != 403 || !strings.Contains(r.body, "you left this webinar") {
		t.Fatalf("whep while away: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: ana.Token}, "GET", "/api/webinars/"+w.ID+"/channel", "", ""); r.status != 403 {
		t.Fatalf("channel while away: %d %s", r.status, r.body)
	}
	if trackerHolds(s, w.ID) {
		t.Error("the tracker still holds the webinar's connections after the only participant left")
	}
	postAs(t, s, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/leave", 204) // again: nothing changes

	if j := joinAs(t, s, w.ID, "Ana", creds{bearer: ana.Token}, 200); j.State != "admitted" || j.ParticipantID != ana.ParticipantID {
		t.Fatalf("rejoin: %+v", j)
	}
	if ev := hostCh.mustNext(t); ev.data["state"] != "admitted" {
		t.Fatalf("host heard %+v, want ana back", ev)
	}
	connectViewer(t, s, w, ana.Token)
}

// Someone who left comes back through the same doors as a newcomer: a locked webinar refuses
// them with its message, a waiting room holds them.
func TestRejoinAfterLeaveMeetsLockAndWaitingRoom(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	postAs(t, s, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/leave", 204)
	patchRoom(t, s, host, w, `{"locked": true}`)
	r := s.postJSON(t, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/join", map[string]string{"name": "Ana"})
	if r.status != 403 || !strings.Contains(r.body, "locked") {
		t.Fatalf("rejoin while locked: %d %s", r.status, r.body)
	}
	patchRoom(t, s, host, w, `{"locked": false, "waiting_room": true}`)
	if j := joinAs(t, s, w.ID, "Ana", creds{bearer: ana.Token}, 200); j.State != "waiting" {
		t.Fatalf("rejoin with a waiting room: %q", j.State)
	}
}

// Promote makes an attendee a panelist (their hand goes down, they and the hosts hear the new
// role) who chats when attendees may not; demote takes it back. Only hosts do it, only to
// someone admitted.
func TestPromoteDemote(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	hostCh := openChannelSession(t, s, w.ID, host.session, "")
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	hostCh.mustNext(t) // ana joined
	anaCh := openChannel(t, s, w.ID, ana.Token, "")
	ac := creds{bearer: ana.Token}
	postAs(t, s, ac, "/api/webinars/"+w.ID+"/hand", 200)
	hostCh.mustNext(t) // her hand
	anaCh.mustNext(t)
	patchRoom(t, s, host, w, `{"chat": "off"}`)
	for _, ch := range []*channelClient{hostCh, anaCh} {
		if ev := ch.mustNext(t); ev.typ != "settings" {
			t.Fatalf("heard %+v, want settings", ev)
		}
	}
	chat := func(want int) {
		t.Helper()
		s.clock.Add(time.Minute)
		if r := s.postJSON(t, ac, "/api/webinars/"+w.ID+"/chat", map[string]string{"text": "hi"}); r.status != want {
			t.Fatalf("ana's chat: %d %s, want %d", r.status, r.body, want)
		}
	}
	chat(403)
	base := "/api/webinars/" + w.ID + "/participants/" + ana.ParticipantID
	postAs(t, s, ac, base+"/promote", 403) // an attendee promotes nobody, herself included

	var p models.Participant
	postAs(t, s, host, base+"/promote", 200).json(t, &p)
	if p.Role != models.RolePanelist || p.ID != ana.ParticipantID {
		t.Fatalf("promoted: %+v", p)
	}
	for name, ch := range map[string]*channelClient{"host": hostCh, "ana": anaCh} {
		hand, role := ch.mustNext(t), ch.mustNext(t)
		if hand.typ != "hand" || hand.data["raised"] != false || role.typ != "participant" || role.data["role"] != "panelist" {
			t.Fatalf("%s heard %+v then %+v, want the hand down and the panelist role", name, hand, role)
		}
	}
	var hands []hand
	s.call(t, host, "GET", "/api/webinars/"+w.ID+"/hands", "", "").json(t, &hands)
	if len(hands) != 0 {
		t.Fatalf("hands after promote: %+v", hands)
	}
	chat(201)
	var msgs []models.ChatMessage
	s.call(t, host, "GET", "/api/webinars/"+w.ID+"/chat", "", "").json(t, &msgs)
	if len(msgs) != 1 || msgs[0].Role != models.RolePanelist {
		t.Fatalf("chat %+v, want one panelist message", msgs)
	}

	postAs(t, s, host, base+"/demote", 200).json(t, &p)
	if p.Role != models.RoleAttendee {
		t.Fatalf("demoted: %+v", p)
	}
	for name, ch := range map[string]*channelClient{"host": hostCh, "ana": anaCh} {
		msg, role := ch.mustNext(t), ch.mustNext(t)
		if msg.typ != "chat" || role.typ != "participant" || role.data["role"] != "attendee" {
			t.Fatalf("%s heard %+v then %+v, want her chat and the attendee role", name, msg, role)
		}
	}
	chat(403)

	patchRoom(t, s, host, w, `{"waiting_room": true}`)
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/participants/"+bob.ParticipantID+"/promote", "", "")
	if r.status != 409 || !strings.Contains(r.body, "admit them first") {
		t.Fatalf("promote a waiting participant: %d %s", r.status, r.body)
	}
	postAs(t, s, host, "/api/webinars/"+w.ID+"/participants/nosuch/promote", 404)
}

// Changing a room switch tells everyone in the room the switches as they now are.
func TestSettingsEvent(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	ch := openChannel(t, s, w.ID, ana.Token, "")
	patchRoom(t, s, host, w, `{"title": "Renamed"}`) // no room switch: no event
	patchRoom(t, s, host, w, `{"chat": "hosts", "qa": false, "locked": true}`)
	ev := ch.mustNext(t)
	want := map[string]any{"waiting_room": false, "locked": true, "chat": "hosts", "qa": false}
	if ev.typ != "settings" || fmt.Sprint(ev.data) != fmt.Sprint(want) {
		t.Fatalf("heard %+v, want settings %v", ev, want)
	}
	if r := s.call(t, host, "PATCH", "/api/webinars/"+w.ID, js, `{"chat": "loud"}`); r.status != 400 {
		t.Fatalf("bad chat setting: %d %s", r.status, r.body)
	}
}

// restart is a new API server on the same SQLite store: everything in memory (the room's
// channels, the connection tracker) starts empty, as after a process restart.
func restart(t *testing.T, s *authServer) *authServer {
	t.Helper()
	d := s.api.Deps
	d.Room, d.RoomEvents = nil, nil
	hs := httptest.NewServer(New(d))
	t.Cleanup(hs.Close)
	return &authServer{Server: hs, api: hs.Config.Handler.(*Server), store: s.store, clock: s.clock}
}

// A webinar ended for everyone stays ended, across a restart, until its host reopens it:
// going live says why with a 409, watching, joining and the channel get 410.
func TestEndedStaysEndedUntilReopened(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	postAs(t, s, host, "/api/webinars/"+w.ID+"/end", 204)
	s2 := restart(t, s)
	for name, srv := range map[string]*authServer{"before restart": s, "after restart": s2} {
		r := srv.call(t, creds{bearer: w.StreamKey}, "POST", "/whip/"+w.ID, "application/sdp", validOffer(t, webrtc.RTPTransceiverDirectionSendonly))
		if r.status != 409 || !strings.Contains(r.body, "reopens it") {
			t.Errorf("%s: whip %d %s", name, r.status, r.body)
		}
		if r := whepStatus(t, srv, w, ana.Token); r.status != 410 {
			t.Errorf("%s: whep %d %s", name, r.status, r.body)
		}
		if r := srv.call(t, creds{bearer: ana.Token}, "GET", "/api/webinars/"+w.ID+"/channel", "", ""); r.status != 410 {
			t.Errorf("%s: channel %d", name, r.status)
		}
		if r := srv.postJSON(t, creds{}, "/api/webinars/"+w.ID+"/join", map[string]string{"name": "Late"}); r.status != 410 || !strings.Contains(r.body, "ended") {
			t.Errorf("%s: join %d %s", name, r.status, r.body)
		}
	}
	postAs(t, s2, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/reopen", 403)
	postAs(t, s2, host, "/api/webinars/"+w.ID+"/reopen", 204)
	joinAs(t, s2, w.ID, "Late", creds{}, 201)
	openChannel(t, s2, w.ID, ana.Token, "")
	if r := s2.call(t, creds{bearer: w.StreamKey}, "POST", "/whip/"+w.ID, "application/sdp", validOffer(t, webrtc.RTPTransceiverDirectionSendonly)); r.status != 201 {
		t.Fatalf("whip after reopen: %d %s", r.status, r.body)
	}
	// The first server's channel reopens too (no restart needed).
	postAs(t, s, host, "/api/webinars/"+w.ID+"/reopen", 204)
	openChannel(t, s, w.ID, ana.Token, "")
}

// A viewer that ends its own WHEP session leaves nothing behind in the connection tracker,
// nor does a caption stream that ends.
func TestWHEPTrackerForgetsSessionsViewersEnd(t *testing.T) {
	s, w, _ := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	for range 3 {
		v := connectViewer(t, s, w, ana.Token)
		if r := s.call(t, creds{}, "DELETE", v.loc, "", ""); r.status != 200 {
			t.Fatalf("DELETE %s: %d %s", v.loc, r.status, r.body)
		}
	}
	capStream := captionStream(t, s, w, ana.Token)
	capStream.Close()
	waitFor(t, 5*time.Second, "tracker empty", func() bool { return !trackerHolds(s, w.ID) })
}

// trackerHolds reports whether the connection tracker remembers anything of the webinar.
func trackerHolds(s *authServer, webinar string) bool {
	s.api.conns.mu.Lock()
	defer s.api.conns.mu.Unlock()
	return s.api.conns.sessions[webinar] != nil || s.api.conns.streams[webinar] != nil
}

// Revoking a registration removes the participant who joined with it: their viewer, captions
// and channel close, and their participant token no longer works.
func TestRevokedRegistrationRemovesParticipant(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "host@school.example", false)
	w := s.webinar(t, h, models.VisibilityRegistration, "")
	host := creds{session: s.session(t, h)}
	var reg struct{ Token string }
	r := s.postJSON(t, creds{}, "/api/webinars/"+w.ID+"/register", map[string]string{"name": "Ana", "email": "ana@example.org"})
	if r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	r.json(t, &reg)
	ana := joinAs(t, s, w.ID, "Ana", creds{bearer: reg.Token}, 201)
	a := openAll(t, s, w, ana.Token)
	var regs []models.Registration
	s.call(t, host, "GET", "/api/webinars/"+w.ID+"/registrations", "", "").json(t, &regs)
	if len(regs) != 1 {
		t.Fatalf("registrations %+v", regs)
	}

	start := time.Now()
	if r := s.call(t, host, "DELETE", "/api/webinars/"+w.ID+"/registrations/"+regs[0].ID, "", ""); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	a.allClosedWithin(t, start, closeBound)
	p, err := s.store.Participant(context.Background(), w.ID, ana.ParticipantID)
	if err != nil || p.State != models.StateRemoved {
		t.Fatalf("participant after revoke: %+v %v", p, err)
	}
	joinAs(t, s, w.ID, "Ana", creds{bearer: ana.Token}, 403)
	if r := whepStatus(t, s, w, ana.Token); r.status != 403 {
		t.Fatalf("whep after revoke: %d", r.status)
	}
}

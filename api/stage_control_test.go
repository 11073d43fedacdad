package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"lectern/models"
)

// Issue 10's host controls against the real server: publish tokens, the WHIP DELETE owner
// check, host mute and ask to unmute over the live channel, demotion ending a real pion
// publisher's session within a second.

// stagePublisher connects a real pion publisher (audio + camera) over loopback to WHIP with c
// and waits until its peer connection is up; it returns the peer and the session's Location.
func stagePublisher(t *testing.T, s *authServer, w models.Webinar, c creds) (*webrtc.PeerConnection, string) {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	audio, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pub")
	video, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "pub")
	for _, tr := range []webrtc.TrackLocal{audio, video} {
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	r := s.call(t, c, "POST", "/whip/"+w.ID, "application/sdp", pc.LocalDescription().SDP)
	if r.status != 201 {
		t.Fatalf("whip: %d %s", r.status, r.body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: r.body}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "publisher connected", func() bool { return pc.ConnectionState() == webrtc.PeerConnectionStateConnected })
	return pc, r.header.Get("Location")
}

// panelMember makes u a member of w with role and a display name.
func panelMember(t *testing.T, s *authServer, w models.Webinar, email, name string, role models.Role) models.User {
	t.Helper()
	ctx := context.Background()
	u := s.user(t, email, false)
	if err := s.store.SetDisplayName(ctx, u.ID, name); err != nil {
		t.Fatal(err)
	}
	if err := s.store.SetMember(ctx, w.ID, u.ID, role); err != nil {
		t.Fatal(err)
	}
	return u
}

func stageNames(s *authServer, w models.Webinar) map[string]string {
	out := map[string]string{}
	for _, m := range s.api.Broadcast.Stage(w.ID) {
		out[m.Key] = m.Name
	}
	return out
}

func TestPublishToken(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "tokhost@school.example", false)
	w := s.webinar(t, h, models.VisibilityLink, "")
	other := s.webinar(t, h, models.VisibilityLink, "")
	hc := creds{session: s.session(t, h)}
	ana := panelMember(t, s, w, "ana@school.example", "Ana Panel", models.RolePanelist)
	att := panelMember(t, s, w, "att@school.example", "Att Endee", models.RoleAttendee)
	send := validOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	token := func(c creds, body string, want int) string {
		t.Helper()
		r := s.call(t, c, "POST", "/api/webinars/"+w.ID+"/publish-token", js, body)
		if r.status != want {
			t.Fatalf("publish-token %s: %d %s, want %d", body, r.status, r.body, want)
		}
		var out publishTokenAnswer
		if want == 201 {
			r.json(t, &out)
		}
		return out.Token
	}
	// A host gets one for a panelist; a panelist for themselves; not for others, nor attendees.
	forAna := token(hc, `{"member":"`+ana.ID+`"}`, 201)
	own := token(creds{session: s.session(t, ana)}, ``, 201)
	token(creds{session: s.session(t, ana)}, `{"member":"`+h.ID+`"}`, 403)
	token(creds{session: s.session(t, att)}, ``, 403)
	token(hc, `{"member":"`+att.ID+`"}`, 400)
	token(hc, `{"expires_in":-1}`, 400)
	token(hc, `{"expires_in":99999999}`, 400)

	// The token publishes under the member's display name, in the member's own slot.
	if r := s.call(t, creds{bearer: forAna}, "POST", "/whip/"+w.ID, "application/sdp", send); r.status != 201 {
		t.Fatalf("whip with a publish token: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: own}, "POST", "/whip/"+w.ID, "application/sdp", send); r.status != 201 {
		t.Fatalf("whip with the panelist's own token: %d %s", r.status, r.body)
	}
	if got := stageNames(s, w); len(got) != 1 || got["member:"+ana.ID] != "Ana Panel" {
		t.Fatalf("stage %v: one slot for Ana, under her display name", got)
	}
	// Wrong and foreign tokens: 401 with a JSON error, nothing published.
	for name, bad := range map[string]string{
		"tampered":      forAna[:len(forAna)-2] + "xx",
		"other webinar": "",
		"junk":          "pub1.junk",
	} {
		path := "/whip/" + w.ID
		if name == "other webinar" {
			bad, path = forAna, "/whip/"+other.ID
		}
		r := s.call(t, creds{bearer: bad}, "POST", path, "application/sdp", send)
		var e apiError
		r.json(t, &e)
		if r.status != 401 || e.Error == "" {
			t.Fatalf("%s token: %d %s, want 401", name, r.status, r.body)
		}
	}
	if n := len(s.api.Broadcast.Stage(other.ID)); n != 0 {
		t.Fatalf("a foreign token put %d on another webinar's stage", n)
	}
	// Rotating the stream key revokes every publish token.
	if r := s.call(t, hc, "POST", "/api/webinars/"+w.ID+"/stream-key", "", ""); r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: forAna}, "POST", "/whip/"+w.ID, "application/sdp", send); r.status != 401 {
		t.Fatalf("publish token after a stream key rotation: %d %s, want 401", r.status, r.body)
	}
	// A demoted member's token stops working, and her session ends.
	fresh := token(hc, `{"member":"`+ana.ID+`"}`, 201)
	if r := s.call(t, hc, "PUT", "/api/webinars/"+w.ID+"/members", js, `{"email":"ana@school.example","role":"attendee"}`); r.status != 200 {
		t.Fatalf("demote: %d %s", r.status, r.body)
	}
	if n := len(s.api.Broadcast.Stage(w.ID)); n != 0 {
		t.Fatalf("%d on stage after the demotion, want 0", n)
	}
	if r := s.call(t, creds{bearer: fresh}, "POST", "/whip/"+w.ID, "application/sdp", send); r.status != 403 {
		t.Fatalf("a demoted member's publish token: %d %s, want 403", r.status, r.body)
	}
}

// TestPublishTokenSeventhIs409: six publishers with six credentials (publish tokens among
// them); a 7th member's publish token gets 409 with a JSON error.
func TestPublishTokenSeventhIs409(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "fullhost@school.example", false)
	w := s.webinar(t, h, models.VisibilityLink, "")
	hc := creds{session: s.session(t, h)}
	send := validOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	for i := range 7 {
		u := panelMember(t, s, w, "p"+string(rune('a'+i))+"@school.example", "P "+string(rune('A'+i)), models.RolePanelist)
		r := s.call(t, hc, "POST", "/api/webinars/"+w.ID+"/publish-token", js, `{"member":"`+u.ID+`"}`)
		var tok publishTokenAnswer
		r.json(t, &tok)
		r = s.call(t, creds{bearer: tok.Token}, "POST", "/whip/"+w.ID, "application/sdp", send)
		want := 201
		if i == 6 {
			want = 409
		}
		if r.status != want {
			t.Fatalf("publisher %d: %d %s, want %d", i+1, r.status, r.body, want)
		}
	}
}

// TestWHIPDeleteNeedsItsCredential: another publisher's credential cannot end a session; its
// own credential or a host can.
func TestWHIPDeleteNeedsItsCredential(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "delhost@school.example", false)
	w := s.webinar(t, h, models.VisibilityLink, "")
	a := panelMember(t, s, w, "a@school.example", "A", models.RolePanelist)
	b := panelMember(t, s, w, "b@school.example", "B", models.RolePanelist)
	send := validOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	ac, bc := creds{session: s.session(t, a)}, creds{session: s.session(t, b)}
	locs := map[string]string{}
	for name, c := range map[string]creds{"a": ac, "b": bc, "key": {bearer: w.StreamKey}} {
		r := s.call(t, c, "POST", "/whip/"+w.ID, "application/sdp", send)
		if r.status != 201 {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
		locs[name] = r.header.Get("Location")
	}
	for _, c := range []struct {
		who  creds
		loc  string
		want int
	}{
		{bc, locs["a"], 403},                         // another panelist
		{creds{bearer: w.StreamKey}, locs["a"], 403}, // the stream key
		{ac, locs["key"], 403},                       // a panelist ending OBS
		{ac, locs["a"], 200},                         // its own credential
		{creds{session: s.session(t, h)}, locs["b"], 200},
		{creds{bearer: w.StreamKey}, locs["key"], 200},
	} {
		if r := s.call(t, c.who, "DELETE", c.loc, "", ""); r.status != c.want {
			t.Fatalf("DELETE %s: %d %s, want %d", c.loc, r.status, r.body, c.want)
		}
	}
	if n := len(s.api.Broadcast.Stage(w.ID)); n != 0 {
		t.Fatalf("%d left on stage", n)
	}
}

// TestHostMuteAndAskToUnmute: a host mutes a panelist (the server holds the media back, the
// panelist hears "stage-control" by_host), the host's "on" only asks, the panelist turns it
// back on themselves; another panelist may not mute them; the "stage" event lists the mute.
func TestHostMuteAndAskToUnmute(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "mutehost@school.example", false)
	w := s.webinar(t, h, models.VisibilityLink, "")
	hc := creds{session: s.session(t, h)}
	ana := panelMember(t, s, w, "ana@school.example", "Ana", models.RolePanelist)
	bob := panelMember(t, s, w, "bob@school.example", "Bob", models.RolePanelist)
	_, anaAPI, err := s.store.CreateAPIToken(context.Background(), ana.ID, "studio")
	if err != nil {
		t.Fatal(err)
	}
	_, bobAPI, err := s.store.CreateAPIToken(context.Background(), bob.ID, "studio")
	if err != nil {
		t.Fatal(err)
	}
	stagePublisher(t, s, w, creds{bearer: anaAPI})
	ch := openChannel(t, s, w.ID, anaAPI, "")
	put := func(c creds, body string, want int) stageControl {
		t.Helper()
		r := s.call(t, c, "PUT", "/api/webinars/"+w.ID+"/stage/"+ana.ID, js, body)
		if r.status != want {
			t.Fatalf("PUT stage %s: %d %s, want %d", body, r.status, r.body, want)
		}
		var out stageControl
		if want == 200 {
			r.json(t, &out)
		}
		return out
	}
	next := func(typ string) chanEvent {
		t.Helper()
		for {
			ev := ch.mustNextStage(t)
			if ev.typ == typ {
				return ev
			}
		}
	}
	for _, bad := range []string{`{}`, `{"audio":"loud"}`, `{"audio":1}`, `not json`} {
		put(hc, bad, 400)
	}
	put(creds{bearer: bobAPI}, `{"audio":"muted"}`, 403)
	if r := s.call(t, hc, "PUT", "/api/webinars/"+w.ID+"/stage/nosuch", js, `{"audio":"muted"}`); r.status != 404 {
		t.Fatalf("unknown member: %d %s", r.status, r.body)
	}
	if m := s.api.Broadcast.MuteOf(w.ID, memberStageKey(ana.ID)); m.Audio || m.Video {
		t.Fatalf("refused requests muted %+v", m)
	}

	put(hc, `{"audio":"muted","video":"muted"}`, 200)
	if m := s.api.Broadcast.MuteOf(w.ID, memberStageKey(ana.ID)); !m.Audio || !m.Video {
		t.Fatalf("host mute: %+v", m)
	}
	ev := next("stage-control")
	if ev.data["audio"] != "muted" || ev.data["video"] != "muted" || ev.data["by_host"] != true {
		t.Fatalf("panelist heard %v", ev.data)
	}
	st := next("stage")
	b, _ := json.Marshal(st.data)
	if !strings.Contains(string(b), `"audio":"muted"`) || !strings.Contains(string(b), `"name":"Ana"`) {
		t.Fatalf("stage event %s: lists Ana muted", b)
	}

	// The host's "on" asks; nothing changes until the panelist says so.
	if got := put(hc, `{"audio":"on"}`, 200); got.Audio != "muted" || len(got.Ask) != 1 || got.Ask[0] != "audio" {
		t.Fatalf("ask to unmute: %+v", got)
	}
	if ev := next("stage-control"); ev.data["audio"] != "muted" || ev.data["ask"] == nil {
		t.Fatalf("panelist heard %v, want an ask", ev.data)
	}
	if !s.api.Broadcast.MuteOf(w.ID, memberStageKey(ana.ID)).Audio {
		t.Fatal("a host's ask unmuted the panelist")
	}
	// The panelist turns audio back on herself.
	if got := put(creds{bearer: anaAPI}, `{"audio":"on"}`, 200); got.Audio != "on" || got.Video != "muted" || got.ByHost {
		t.Fatalf("own unmute: %+v", got)
	}
	if m := s.api.Broadcast.MuteOf(w.ID, memberStageKey(ana.ID)); m.Audio || !m.Video {
		t.Fatalf("after her own unmute: %+v", m)
	}
	// GET .../stage shows it to whoever watches.
	r := s.call(t, creds{bearer: bobAPI}, "GET", "/api/webinars/"+w.ID+"/stage", "", "")
	var view stageView
	r.json(t, &view)
	if r.status != 200 || len(view.Members) != 1 || view.Members[0].Member != ana.ID || view.Members[0].Audio != "on" || view.Members[0].Video != "muted" || !view.Members[0].Active {
		t.Fatalf("GET stage: %d %s", r.status, r.body)
	}
}

// TestDemotedPanelistLeavesStage: a promoted attendee publishing with their participant token
// (a real pion peer) is off the stage within a second of being demoted, and a panelist member
// taken off the stage by the host likewise; the slot frees.
func TestDemotedPanelistLeavesStage(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	p := joinAs(t, s, w.ID, "Pat", creds{}, 201)
	postAs(t, s, host, "/api/webinars/"+w.ID+"/participants/"+p.ParticipantID+"/promote", 200)
	pc, _ := stagePublisher(t, s, w, creds{bearer: p.Token})
	if got := stageNames(s, w); got[participantStageKey(p.ParticipantID)] != "Pat" {
		t.Fatalf("stage %v: Pat publishes under her name", got)
	}
	start := time.Now()
	postAs(t, s, host, "/api/webinars/"+w.ID+"/participants/"+p.ParticipantID+"/demote", 200)
	waitFor(t, closeBound, "demoted panelist off the stage", func() bool { return len(s.api.Broadcast.Stage(w.ID)) == 0 })
	waitFor(t, closeBound-time.Since(start), "demoted panelist's peer closed", func() bool {
		st := pc.ConnectionState()
		return st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateDisconnected
	})
	if r := s.call(t, creds{bearer: p.Token}, "POST", "/whip/"+w.ID, "application/sdp", validOffer(t, webrtc.RTPTransceiverDirectionSendonly)); r.status != 403 && r.status != 401 {
		t.Fatalf("demoted participant published again: %d %s", r.status, r.body)
	}

	// Taken off the stage by the host (DELETE .../stage/{member}): ends now, hears it.
	ana := panelMember(t, s, w, "ana@school.example", "Ana", models.RolePanelist)
	_, anaAPI, err := s.store.CreateAPIToken(context.Background(), ana.ID, "studio")
	if err != nil {
		t.Fatal(err)
	}
	stagePublisher(t, s, w, creds{bearer: anaAPI})
	ch := openChannel(t, s, w.ID, anaAPI, "")
	if r := s.call(t, host, "DELETE", "/api/webinars/"+w.ID+"/stage/"+ana.ID, "", ""); r.status != 204 {
		t.Fatalf("take off stage: %d %s", r.status, r.body)
	}
	if n := len(s.api.Broadcast.Stage(w.ID)); n != 0 {
		t.Fatalf("%d on stage after DELETE", n)
	}
	for {
		ev := ch.mustNext(t)
		if ev.typ == "stage-control" {
			if ev.data["removed"] != true {
				t.Fatalf("stage-control %v, want removed", ev.data)
			}
			break
		}
	}
	if r := s.call(t, host, "DELETE", "/api/webinars/"+w.ID+"/stage/"+ana.ID, "", ""); r.status != 404 {
		t.Fatalf("second DELETE: %d", r.status)
	}
}

// TestAdminPublishToken: an admin (the host of every webinar, with no member row) publishes
// with their own publish token, and a host can mute them.
func TestAdminPublishToken(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "ahost@school.example", false)
	w := s.webinar(t, h, models.VisibilityLink, "")
	adm := s.user(t, "admin@school.example", true)
	r := s.call(t, creds{session: s.session(t, adm)}, "POST", "/api/webinars/"+w.ID+"/publish-token", "", "")
	var tok publishTokenAnswer
	r.json(t, &tok)
	if r.status != 201 {
		t.Fatalf("admin publish token: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{bearer: tok.Token}, "POST", "/whip/"+w.ID, "application/sdp", validOffer(t, webrtc.RTPTransceiverDirectionSendonly)); r.status != 201 {
		t.Fatalf("admin publishing with it: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{session: s.session(t, h)}, "PUT", "/api/webinars/"+w.ID+"/stage/"+adm.ID, js, `{"video":"muted"}`); r.status != 200 {
		t.Fatalf("host muting the admin: %d %s", r.status, r.body)
	}
}

package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/pion/webrtc/v4"

	"lectern/models"
)

// TestWHIPStageCredentials: each credential publishes into its own stage slot (the stream
// key, members by session or API token, under their display names), the 7th credential is
// refused with a JSON 409, and a credential publishing again replaces its own session.
func TestWHIPStageCredentials(t *testing.T) {
	s := newAuthServer(t, nil)
	ctx := context.Background()
	h := s.user(t, "stagehost@school.example", false)
	w := s.webinar(t, h, models.VisibilityLink, "")
	send := validOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	post := func(c creds) reply { return s.call(t, c, "POST", "/whip/"+w.ID, "application/sdp", send) }

	if r := post(creds{bearer: w.StreamKey}); r.status != 201 {
		t.Fatalf("stream key: %d %s", r.status, r.body)
	}
	var panel []models.User
	var cred []creds
	for i := range 6 {
		u := s.user(t, fmt.Sprintf("panel%d@school.example", i), false)
		if err := s.store.SetDisplayName(ctx, u.ID, fmt.Sprintf("Panelist %d", i)); err != nil {
			t.Fatal(err)
		}
		if err := s.store.SetMember(ctx, w.ID, u.ID, models.RolePanelist); err != nil {
			t.Fatal(err)
		}
		c := creds{session: s.session(t, u)}
		if i == 0 { // an API token, as OBS or a script would use it
			_, secret, err := s.store.CreateAPIToken(ctx, u.ID, "obs")
			if err != nil {
				t.Fatal(err)
			}
			c = creds{bearer: secret}
		}
		panel, cred = append(panel, u), append(cred, c)
	}
	for i := range 5 {
		if r := post(cred[i]); r.status != 201 {
			t.Fatalf("panelist %d: %d %s", i, r.status, r.body)
		}
	}
	r := post(cred[5])
	var e apiError
	r.json(t, &e)
	if r.status != 409 || e.Error == "" {
		t.Fatalf("7th publisher: %d %s, want 409 with a JSON error", r.status, r.body)
	}
	stage := s.api.Broadcast.Stage(w.ID)
	if len(stage) != 6 {
		t.Fatalf("%d on stage, want 6", len(stage))
	}
	names := map[string]string{}
	for _, m := range stage {
		names[m.Key] = m.Name
	}
	if names["member:"+panel[0].ID] != "Panelist 0" || names["member:"+panel[3].ID] != "Panelist 3" {
		t.Fatalf("stage names %v: members publish under their display names", names)
	}
	// Panelist 3 reconnects (a new browser session): it replaces itself, even on a full stage.
	again := creds{session: s.session(t, panel[3])}
	if r := post(again); r.status != 201 {
		t.Fatalf("reconnect on a full stage: %d %s", r.status, r.body)
	}
	if n := len(s.api.Broadcast.Stage(w.ID)); n != 6 {
		t.Fatalf("%d on stage after a reconnect, want 6", n)
	}

	// The spotlight: a host pins a member; bad input changes nothing.
	hc := creds{session: s.session(t, h)}
	for _, bad := range []string{`{"member":"nosuch"}`, `{}`, `{"member":5}`} {
		if r := s.call(t, hc, "PUT", "/api/webinars/"+w.ID+"/spotlight", js, bad); r.status != 400 {
			t.Fatalf("spotlight %s: %d %s, want 400", bad, r.status, r.body)
		}
	}
	if r := s.call(t, cred[1], "PUT", "/api/webinars/"+w.ID+"/spotlight", js, `{"member":"`+panel[1].ID+`"}`); r.status != 403 {
		t.Fatalf("a panelist pinned the spotlight: %d %s", r.status, r.body)
	}
	if r := s.call(t, hc, "PUT", "/api/webinars/"+w.ID+"/spotlight", js, `{"member":"`+panel[2].ID+`"}`); r.status != 200 {
		t.Fatalf("spotlight: %d %s", r.status, r.body)
	}
	for _, m := range s.api.Broadcast.Stage(w.ID) {
		if m.Active != (m.Key == "member:"+panel[2].ID) {
			t.Fatalf("stage %+v: the pinned member must be the active one", s.api.Broadcast.Stage(w.ID))
		}
	}
}

package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/pion/webrtc/v4"

	"lectern/models"
)

// Deleting a webinar ends its presenter, its viewers and its live captioning; changing its
// spoken language reaches the live room that captions it.
func TestWebinarSettingsReachTheLiveRoom(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@example.com", false)
	w := s.webinar(t, host, models.VisibilityPublic, "")
	hostCreds := creds{session: s.session(t, host)}
	ctx := context.Background()

	if r := s.call(t, creds{bearer: w.StreamKey}, "POST", "/whip/"+w.ID, "application/sdp", validOffer(t, webrtc.RTPTransceiverDirectionSendonly)); r.status != http.StatusCreated {
		t.Fatalf("whip: %d", r.status)
	}
	if r := s.call(t, creds{}, "POST", "/whep/"+w.ID, "application/sdp", validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)); r.status != http.StatusCreated {
		t.Fatalf("whep: %d", r.status)
	}
	room, err := s.api.Live.Room(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.call(t, hostCreds, "PATCH", "/api/webinars/"+w.ID, "application/json", `{"language":"es"}`); r.status != http.StatusOK {
		t.Fatalf("patch: %d", r.status)
	}
	if got := room.Webinar().Language; got != "es" {
		t.Fatalf("live room still captions in %q after the language changed to es", got)
	}

	if r := s.call(t, hostCreds, "DELETE", "/api/webinars/"+w.ID, "", ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.status)
	}
	if s.api.Broadcast.Live(w.ID) || s.api.Broadcast.Viewers(w.ID) != 0 {
		t.Fatalf("deleted webinar still broadcasting: live %v viewers %d", s.api.Broadcast.Live(w.ID), s.api.Broadcast.Viewers(w.ID))
	}
	sub := room.Hub().Subscribe("es")
	if _, open := <-sub.Frames(); open {
		t.Fatal("deleted webinar's caption hub still open")
	}
}

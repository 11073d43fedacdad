package api

import (
	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/broadcast"
	"lectern/models"
)

// publisherOf names a WHIP session's publisher, once requirePublisher has let it in. The
// credential is the stage identity: the same credential publishing again replaces its own
// session (a reconnect) instead of taking a second of the 6 slots.
//   - the stream key: the host's OBS or GStreamer, named by ?speaker= as before;
//   - a signed-in member (session cookie or API token): that member, under their display name;
//   - a promoted participant's join token: that participant, under their name.
func (s *Server) publisherOf(c echo.Context, w models.Webinar) broadcast.Publisher {
	if key := auth.BearerToken(c.Request().Header.Get("Authorization")); key != "" && w.KeyMatches(key) {
		return broadcast.Publisher{Name: speakerName(c.QueryParam("speaker"))}
	}
	if u := callerOf(c).user; u != nil {
		return broadcast.Publisher{Key: memberStageKey(u.ID), Name: speakerName(u.DisplayName)}
	}
	if pid := s.callerPID(c, w.ID); pid != "" {
		name := c.QueryParam("speaker")
		if p, err := s.Store.Participant(c.Request().Context(), w.ID, pid); err == nil {
			name = p.Name
		}
		return broadcast.Publisher{Key: "participant:" + pid, Name: speakerName(name)}
	}
	return broadcast.Publisher{Name: speakerName(c.QueryParam("speaker"))}
}

// memberStageKey is a member's stage identity, also what a spotlight pins.
func memberStageKey(userID string) string { return "member:" + userID }

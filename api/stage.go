package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/broadcast"
	"lectern/cluster"
	"lectern/models"
)

// publisherOf names a WHIP session's publisher, once requirePublisher has let it in. The
// credential is the stage identity: the same credential publishing again replaces its own
// session (a reconnect) instead of taking a second of the 6 slots.
//   - the stream key: the host's OBS or GStreamer, named by ?speaker= as before;
//   - a signed-in member (session cookie or API token): that member, under their display name
//     (?speaker= when the account has none);
//   - a publish token (POST .../publish-token): the member it names, as if signed in;
//   - a promoted participant's join token: that participant, under their name.
func (s *Server) publisherOf(c echo.Context, w models.Webinar) broadcast.Publisher {
	if key := auth.BearerToken(c.Request().Header.Get("Authorization")); key != "" && w.KeyMatches(key) {
		return broadcast.Publisher{Name: speakerName(c.QueryParam("speaker"))}
	}
	if uid, ok, err := s.publishTokenMember(c, w); ok && err == nil {
		return broadcast.Publisher{Key: memberStageKey(uid), Name: speakerName(s.memberName(c, uid))}
	}
	if u := callerOf(c).user; u != nil {
		name := u.DisplayName
		if name == "" { // an account without a display name: what the studio page typed
			name = c.QueryParam("speaker")
		}
		return broadcast.Publisher{Key: memberStageKey(u.ID), Name: speakerName(name)}
	}
	if pid := s.callerPID(c, w.ID); pid != "" {
		name := c.QueryParam("speaker")
		if p, err := s.Store.Participant(c.Request().Context(), w.ID, pid); err == nil {
			name = p.Name
		}
		return broadcast.Publisher{Key: participantStageKey(pid), Name: speakerName(name)}
	}
	return broadcast.Publisher{Name: speakerName(c.QueryParam("speaker"))}
}

// memberStageKey is a member's stage identity, also what a spotlight pins.
func memberStageKey(userID string) string { return "member:" + userID }

// setSpotlight answers PUT /api/webinars/{id}/spotlight {"member": id|""} (host, co-host):
// the large tile and the plain WHEP players stay on that member's stage session instead of
// following the active speaker; "" unpins. "stream-key" pins the stream key's session (the
// host's OBS); a promoted participant is pinned by their participant id. A member who is not
// publishing yet is pinned as soon as they are.
func (s *Server) setSpotlight(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActModerate)
	if err != nil {
		return err
	}
	var in struct {
		Member *string `json:"member"`
	}
	if err := decodeJSON(c.Request().Header.Get(echo.HeaderContentType), c.Request().Body, &in); err != nil {
		return err
	}
	if in.Member == nil {
		return echo.NewHTTPError(http.StatusBadRequest, `"member" (a member's id, "stream-key", or "" to unpin) is required`)
	}
	key := ""
	switch m := *in.Member; m {
	case "":
	case broadcast.StreamKeyPublisher:
		key = m
	default:
		t, err := s.stageTargetOf(c.Request().Context(), a.w, m)
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusNotFound {
			return echo.NewHTTPError(http.StatusBadRequest, "member is not a panelist, co-host or host of this webinar")
		}
		if err != nil {
			return err
		}
		key = t.key
	}
	if fwd, err := s.forwardStage(c, cluster.StageCommand{Op: cluster.StageSpotlight, Webinar: a.w.ID, Key: key, Member: *in.Member}); fwd {
		return err
	}
	s.Broadcast.SetSpotlight(a.w.ID, key)
	return c.JSON(http.StatusOK, map[string]string{"member": *in.Member})
}

// memberName is the display name of a member publishing with a publish token (?speaker= when
// the account has none).
func (s *Server) memberName(c echo.Context, userID string) string {
	if u, err := s.Store.User(c.Request().Context(), userID); err == nil && u.DisplayName != "" {
		return u.DisplayName
	}
	return c.QueryParam("speaker")
}

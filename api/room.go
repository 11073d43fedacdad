package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
	"lectern/room"
)

// participantPrefix marks the id of a participant's join token: the rest is the participant
// id. The dot is outside the base64url alphabet, so no random token id can pass for one.
const participantPrefix = "pt."

// participant resolves the caller as a participant of the webinar: a participant token
// (bearer or ?t=), or a signed-in host, co-host or panelist, or the stream key, who are
// implicit participants with their role. Others get 401 (nobody) or 403 (denied, removed).
func (s *Server) participant(c echo.Context, webinarID string) (room.Participant, error) {
	a, err := s.accessTo(c, webinarID)
	if err != nil {
		return room.Participant{}, err
	}
	return s.participantOf(c, a)
}

func (s *Server) participantOf(c echo.Context, a access) (room.Participant, error) {
	if pid, ok := s.participantID(c, a); ok {
		p, err := s.Store.Participant(c.Request().Context(), a.w.ID, pid)
		if errors.Is(err, models.ErrNotFound) {
			return room.Participant{}, echo.NewHTTPError(http.StatusUnauthorized, "join the webinar first")
		}
		if err != nil {
			return room.Participant{}, err
		}
		if p.State == room.StateRemoved || p.State == room.StateDenied {
			return room.Participant{}, echo.NewHTTPError(http.StatusForbidden, "you were "+string(p.State)+" from this webinar")
		}
		return p, nil
	}
	switch a.role {
	case models.RoleHost, models.RoleCohost, models.RolePanelist:
	default:
		return room.Participant{}, echo.NewHTTPError(http.StatusUnauthorized, "join the webinar first")
	}
	p := room.Participant{Webinar: a.w.ID, Role: a.role, State: room.StateAdmitted, Implicit: true}
	if u := a.cl.user; u != nil {
		p.ID, p.Name = "u."+u.ID, u.DisplayName
		if p.Name == "" {
			p.Name = u.Email
		}
	} else {
		p.ID, p.Name = "key", "Presenter"
	}
	return p, nil
}

// participantID is the participant id in the caller's join token, if it is a participant's.
func (s *Server) participantID(c echo.Context, a access) (string, bool) {
	if a.cl.join == "" {
		return "", false
	}
	claims, err := s.auth.joins.Verify(a.cl.join)
	if err != nil || claims.Webinar != a.w.ID || !strings.HasPrefix(claims.ID, participantPrefix) {
		return "", false
	}
	return strings.TrimPrefix(claims.ID, participantPrefix), true
}

// participantToken is joinAccepted's rule for participant tokens: they are issued only after
// the join checked the link and passcode, like passcode tokens.
func participantToken(c auth.JoinClaims) bool {
	return c.Registration == "" && strings.HasPrefix(c.ID, participantPrefix)
}

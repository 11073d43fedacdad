package api

import (
	"context"
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
	if pid := s.callerPID(c, a.w.ID); pid != "" {
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
	case "":
		if a.cl.user != nil {
			return room.Participant{}, a.deny(auth.ActView)
		}
		fallthrough
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

// participantToken is joinAccepted's rule for participant tokens: they are issued only after
// the join checked the link and passcode, like passcode tokens.
func participantToken(c auth.JoinClaims) bool {
	return c.Registration == "" && strings.HasPrefix(c.ID, participantPrefix)
}

// patchRoom applies PATCH's room switches, if any.
func (s *Server) patchRoom(c echo.Context, webinarID string, in webinarRequest) error {
	if in.WaitingRoom == nil && in.Locked == nil {
		return nil
	}
	ctx := c.Request().Context()
	rs, err := s.Store.RoomSettings(ctx, webinarID)
	if err != nil {
		return err
	}
	if in.WaitingRoom != nil {
		rs.WaitingRoom = *in.WaitingRoom
	}
	if in.Locked != nil {
		rs.Locked = *in.Locked
	}
	return s.Store.SaveRoomSettings(ctx, webinarID, rs)
}

// maxNameLen bounds a participant's display name (bytes).
const maxNameLen = 100

type roomJoinAnswer struct {
	Token         string      `json:"token"`
	ParticipantID string      `json:"participant_id"`
	State         room.State  `json:"state"`
	Role          models.Role `json:"role"`
	WatchURL      string      `json:"watch_url"`
}

// joinRoom is POST .../join with a name: the caller becomes a participant and gets its token.
// A public webinar needs nothing more; others need what watching needs (a link or registration
// token, a membership), and a passcode the caller's token did not already pass. A waiting room
// holds new attendees; a locked webinar takes nobody new.
func (s *Server) joinRoom(c echo.Context, a access, name, passcode string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxNameLen || strings.ContainsAny(name, "\x00\r\n") {
		return echo.NewHTTPError(http.StatusBadRequest, "name must be 1-100 characters on one line")
	}
	if pid := s.callerPID(c, a.w.ID); pid != "" {
		// Already a participant: the same token joins again, refused if removed or denied.
		p, err := s.participantOf(c, a)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, roomJoinAnswer{Token: a.cl.join, ParticipantID: pid, State: p.State, Role: p.Role,
			WatchURL: s.joinAnswer(c, a.w, a.cl.join).WatchURL})
	}
	ctx := c.Request().Context()
	rs, err := s.Store.RoomSettings(ctx, a.w.ID)
	if err != nil {
		return err
	}
	if rs.Locked {
		return echo.NewHTTPError(http.StatusForbidden, "the host has locked this webinar: nobody new can join")
	}
	if a.role == "" {
		if a.set.Visibility == models.VisibilityRegistration || (a.set.Visibility == models.VisibilityLink && !s.holdsLink(c, a)) {
			return a.deny(auth.ActView)
		}
		if err := s.checkPasscode(c, a, passcode); err != nil {
			return err
		}
	}
	role := models.RoleAttendee
	if a.role == models.RolePanelist {
		role = models.RolePanelist
	}
	st := room.StateAdmitted
	if rs.WaitingRoom && role == models.RoleAttendee {
		st = room.StateWaiting
	}
	p, err := s.Store.CreateParticipant(ctx, room.Participant{Webinar: a.w.ID, Name: name, Role: role, State: st})
	if err != nil {
		return err
	}
	tok, err := s.auth.joins.Issue(auth.JoinClaims{Webinar: a.w.ID, Role: role, ID: participantPrefix + p.ID,
		Expires: s.now().Add(joinTokenTTL).Unix(), Epoch: a.set.LinkEpoch})
	if err != nil {
		return err
	}
	s.announce(p)
	s.emitJoined(p)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, roomJoinAnswer{Token: tok, ParticipantID: p.ID, State: p.State, Role: p.Role,
		WatchURL: s.joinAnswer(c, a.w, tok).WatchURL})
}

// announce tells the room about a participant's new state: hosts get the participant, and so
// does the participant (its own state); everyone gets the admitted count, debounced.
func (s *Server) announce(p room.Participant) {
	s.Room.Publish(p.Webinar, room.Audience{Hosts: true, Participant: p.ID}, "participant", p)
	s.Room.PublishCount(p.Webinar, func() int {
		ps, err := s.Store.Participants(context.Background(), p.Webinar)
		if err != nil {
			s.Logger.Warn("room: participant count", "webinar", p.Webinar, "err", err)
		}
		n := 0
		for _, q := range ps {
			if q.State == room.StateAdmitted {
				n++
			}
		}
		return n
	})
}

// participantRole is the role a valid join token gives and, for a participant's token, that
// participant's state: only an admitted participant's token gives its role.
func (s *Server) participantRole(ctx context.Context, webinarID string, claims auth.JoinClaims) (models.Role, room.State, error) {
	if !participantToken(claims) {
		return claims.Role, "", nil
	}
	p, err := s.Store.Participant(ctx, webinarID, strings.TrimPrefix(claims.ID, participantPrefix))
	if errors.Is(err, models.ErrNotFound) {
		return "", room.StateRemoved, nil // deleted with nothing to say: treat as gone
	}
	if err != nil {
		return "", "", err
	}
	if p.State == room.StateAdmitted {
		return p.Role, p.State, nil
	}
	return "", p.State, nil
}

// moderator resolves the caller as a host or co-host of the webinar.
func (s *Server) moderator(c echo.Context) (room.Participant, error) {
	p, err := s.participant(c, c.Param("id"))
	if err != nil {
		return room.Participant{}, err
	}
	if !p.Moderates() {
		return room.Participant{}, echo.NewHTTPError(http.StatusForbidden, "only the host and co-hosts manage participants")
	}
	return p, nil
}

// listParticipants is GET .../participants (host, co-host): everyone who joined by name.
func (s *Server) listParticipants(c echo.Context) error {
	if _, err := s.moderator(c); err != nil {
		return err
	}
	ps, err := s.Store.Participants(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ps)
}

// moderationStates are the states each moderation action moves a participant to.
var moderationStates = map[string]room.State{"admit": room.StateAdmitted, "deny": room.StateDenied, "remove": room.StateRemoved}

// moderate is POST .../participants/{pid}/admit|deny|remove (host, co-host). Denying and
// removing are final: the participant's token stops working, and its WHEP sessions, caption
// streams and channel close now.
func (s *Server) moderate(action string) echo.HandlerFunc {
	st := moderationStates[action]
	return func(c echo.Context) error { return s.moderateTo(c, st) }
}

func (s *Server) moderateTo(c echo.Context, st room.State) error {
	mod, err := s.moderator(c)
	if err != nil {
		return err
	}
	p, err := s.Store.SetParticipantState(c.Request().Context(), mod.Webinar, c.Param("pid"), st)
	if errors.Is(err, models.ErrConflict) {
		return echo.NewHTTPError(http.StatusConflict, "this participant was already denied or removed")
	}
	if err != nil {
		return err
	}
	s.Room.SetState(p.Webinar, p.ID, p.State)
	s.announce(p)
	if st != room.StateAdmitted {
		s.disconnect(p.Webinar, p.ID, false)
	}
	return c.JSON(http.StatusOK, p)
}

// disconnect closes one participant's (all when all) WHEP sessions, caption streams and
// channels.
func (s *Server) disconnect(webinar, pid string, all bool) {
	sessions, cancels := s.conns.take(webinar, pid, all)
	for _, id := range sessions {
		// A session the viewer already left is gone: nothing to close.
		_ = s.Broadcast.End(webinar, id)
	}
	for _, cancel := range cancels {
		cancel()
	}
	if !all {
		s.Room.Disconnect(webinar, pid)
	}
}

// endWebinar is POST .../end (host): presenters and viewers are disconnected, caption streams
// end and the channel says "ended" and closes.
func (s *Server) endWebinar(c echo.Context) error {
	p, err := s.participant(c, c.Param("id"))
	if err != nil {
		return err
	}
	if p.Role != models.RoleHost {
		return echo.NewHTTPError(http.StatusForbidden, "only the host ends the webinar")
	}
	s.endForAll(p.Webinar)
	s.emitEnded(c, p.Webinar)
	return c.NoContent(http.StatusNoContent)
}

// endForAll ends the webinar for everyone (the host, or the duration limit): its recording
// stops, presenters and viewers are disconnected, and the channel says "ended".
func (s *Server) endForAll(webinar string) {
	s.stopCount(webinar)
	if err := s.stopRecording(context.Background(), webinar); err != nil {
		s.Logger.Error("stopping the recording of an ended webinar", "webinar", webinar, "err", err)
	}
	s.Broadcast.EndRoom(webinar)
	s.disconnect(webinar, "", true)
	s.Room.End(webinar)
}

// callerPID is the participant id in the caller's join token for this webinar, "" if none.
// (The token's validity was checked by access; this only reads whose it is.)
func (s *Server) callerPID(c echo.Context, webinarID string) string {
	tok := callerOf(c).join
	if tok == "" {
		return ""
	}
	claims, err := s.auth.joins.Verify(tok)
	if err != nil || claims.Webinar != webinarID || !strings.HasPrefix(claims.ID, participantPrefix) {
		return ""
	}
	return strings.TrimPrefix(claims.ID, participantPrefix)
}

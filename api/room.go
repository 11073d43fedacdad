package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/cluster"
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

// patchRoom applies PATCH's room switches, if any, in one read-change-write, and tells
// everyone in the room the switches as they now are (a "settings" event), so pages hide the
// chat box or the Q&A tab the moment the host turns them off.
func (s *Server) patchRoom(c echo.Context, webinarID string, in webinarRequest) error {
	if in.WaitingRoom == nil && in.Locked == nil && in.Chat == nil && in.QA == nil {
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
	if in.Chat != nil {
		rs.Chat = *in.Chat
	}
	if in.QA != nil {
		rs.QA = *in.QA
	}
	if err := s.Store.SaveRoomSettings(ctx, webinarID, rs); err != nil {
		return err
	}
	s.Room.Publish(webinarID, room.Audience{Everyone: true}, "settings", rs)
	return nil
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
	ctx := c.Request().Context()
	if err := s.refuseEnded(ctx, a.w.ID); err != nil {
		return err
	}
	rs, err := s.Store.RoomSettings(ctx, a.w.ID)
	if err != nil {
		return err
	}
	if pid := s.callerPID(c, a.w.ID); pid != "" {
		return s.rejoinRoom(c, a, rs) // under the name they joined with
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxNameLen || strings.ContainsAny(name, "\x00\r\n") {
		return echo.NewHTTPError(http.StatusBadRequest, "name must be 1-100 characters on one line")
	}
	if rs.Locked {
		return errLocked
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
	p, err := s.Store.CreateParticipant(ctx, room.Participant{Webinar: a.w.ID, Name: name, Role: role, State: st,
		Registration: s.callerRegistration(c, a.w.ID)})
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

// errLocked is the answer to a join while the host has locked the webinar.
var errLocked = echo.NewHTTPError(http.StatusForbidden, "the host has locked this webinar: nobody new can join")

// rejoinRoom answers a join with a participant's own token. A participant still in the room
// (admitted or waiting) gets its state back; one who left comes back through the same doors
// as a newcomer (a locked webinar refuses them, a waiting room holds attendees); removed and
// denied ones stay out.
func (s *Server) rejoinRoom(c echo.Context, a access, rs models.RoomSettings) error {
	p, err := s.participantOf(c, a)
	if err != nil {
		return err
	}
	if p.State == room.StateLeft {
		if rs.Locked {
			return errLocked
		}
		st := room.StateAdmitted
		if rs.WaitingRoom && p.Role == models.RoleAttendee {
			st = room.StateWaiting
		}
		if p, err = s.Store.SetParticipantState(c.Request().Context(), a.w.ID, p.ID, st); err != nil {
			return err
		}
		s.Room.Update(p.Webinar, p)
		s.announce(p)
	}
	return c.JSON(http.StatusOK, roomJoinAnswer{Token: a.cl.join, ParticipantID: p.ID, State: p.State, Role: p.Role,
		WatchURL: s.joinAnswer(c, a.w, a.cl.join).WatchURL})
}

// callerRegistration is the registration whose token the caller joins with, "" for none.
func (s *Server) callerRegistration(c echo.Context, webinarID string) string {
	tok := callerOf(c).join
	if tok == "" {
		return ""
	}
	claims, err := s.auth.joins.Verify(tok)
	if err != nil || claims.Webinar != webinarID {
		return ""
	}
	return claims.Registration
}

// announce tells the room about a participant's new state: hosts get the participant, and so
// does the participant (its own state); everyone gets the count, debounced.
func (s *Server) announce(p room.Participant) {
	s.Room.Publish(p.Webinar, room.Audience{Hosts: true, Participant: p.ID}, "participant", p)
	s.publishCount(p.Webinar)
}

// publishCount tells everyone, debounced, how many participants are in the room: admitted and
// present, with a WHEP session, caption stream or channel open. An attendee who closed the tab
// stays admitted (their token brings them back without the waiting room) but is not counted,
// so the count goes down as well as up.
func (s *Server) publishCount(webinar string) {
	s.Room.PublishCount(webinar, func() int {
		ps, err := s.Store.Participants(context.Background(), webinar)
		if err != nil {
			s.Logger.Warn("room: participant count", "webinar", webinar, "err", err)
		}
		present := s.conns.present(webinar)
		n := 0
		for _, q := range ps {
			if q.State == room.StateAdmitted && present[q.ID] {
				n++
			}
		}
		return s.clusterCount(cluster.CountParticipants, webinar, n)
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
	present := s.conns.present(c.Param("id"))
	out := make([]listedParticipant, len(ps))
	for i, p := range ps {
		out[i] = listedParticipant{Participant: p, Present: present[p.ID]}
	}
	return c.JSON(http.StatusOK, out)
}

// listedParticipant is a participant as hosts see it in the list: present says whether it has
// a WHEP session, caption stream or channel open right now (an admitted attendee who closed
// the tab is not present).
type listedParticipant struct {
	room.Participant
	Present bool `json:"present"`
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
	s.Room.Update(p.Webinar, p)
	s.announce(p)
	if st != room.StateAdmitted {
		s.dropHand(p)
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
		s.leaveStageParticipant(webinar, pid) // removed, denied or left: off the stage too
		s.Room.Disconnect(webinar, pid)
	}
}

// endWebinar is POST .../end (host): presenters and viewers are disconnected, caption streams
// end and the channel says "ended" and closes. The webinar stays ended, across restarts too,
// until the host reopens it: going live, watching, joining and the channel are refused
// meanwhile. (Going live does not reopen it: OBS reconnects by itself, and would undo "end
// for everyone" seconds after the host chose it.)
func (s *Server) endWebinar(c echo.Context) error {
	p, err := s.roomHost(c)
	if err != nil {
		return err
	}
	if err := s.Store.SetRoomEnded(c.Request().Context(), p.Webinar, s.now()); err != nil {
		return err
	}
	s.endForAll(p.Webinar)
	s.emitEnded(c, p.Webinar)
	return c.NoContent(http.StatusNoContent)
}

// endForAll ends the webinar for everyone (the host, or the duration limit) once the ended
// mark is stored: its recording stops, presenters and viewers are disconnected, hands are
// lowered and the channel says "ended".
func (s *Server) endForAll(webinar string) {
	s.stopCount(webinar)
	if err := s.stopRecording(context.Background(), webinar); err != nil {
		s.Logger.Error("stopping the recording of an ended webinar", "webinar", webinar, "err", err)
	}
	s.Broadcast.EndRoom(webinar)
	s.disconnect(webinar, "", true)
	s.hands.clear(webinar)
	s.Room.End(webinar)
}

// reopenWebinar is POST .../reopen (host): an ended webinar takes presenters, viewers and
// joins again. Reopening one that is not ended changes nothing.
func (s *Server) reopenWebinar(c echo.Context) error {
	p, err := s.roomHost(c)
	if err != nil {
		return err
	}
	if err := s.Store.SetRoomEnded(c.Request().Context(), p.Webinar, time.Time{}); err != nil {
		return err
	}
	s.Room.Reopen(p.Webinar)
	return c.NoContent(http.StatusNoContent)
}

// roomHost resolves the caller as the webinar's host: only the host ends and reopens it.
func (s *Server) roomHost(c echo.Context) (room.Participant, error) {
	p, err := s.participant(c, c.Param("id"))
	if err != nil {
		return room.Participant{}, err
	}
	if p.Role != models.RoleHost {
		return room.Participant{}, echo.NewHTTPError(http.StatusForbidden, "only the host ends or reopens the webinar")
	}
	return p, nil
}

// refuseChannel refuses the live channel to a participant who left (it closed when they left;
// a page that reconnects by itself must not reopen it) and to everyone once the webinar ended.
func (s *Server) refuseChannel(ctx context.Context, p room.Participant) error {
	if p.State == room.StateLeft {
		return echo.NewHTTPError(http.StatusForbidden, "you left this webinar: join again to come back")
	}
	return s.refuseEnded(ctx, p.Webinar)
}

// errEnded refuses what needs a webinar that is on: watching, joining, the live channel.
var errEnded = echo.NewHTTPError(http.StatusGone, "this webinar has ended")

// ended reports whether the host ended the webinar for everyone (and has not reopened it).
func (s *Server) ended(ctx context.Context, webinarID string) (bool, error) {
	at, err := s.Store.RoomEnded(ctx, webinarID)
	return !at.IsZero(), err
}

// refuseEnded is errEnded when the host ended the webinar for everyone, nil otherwise.
func (s *Server) refuseEnded(ctx context.Context, webinarID string) error {
	ended, err := s.ended(ctx, webinarID)
	if err == nil && ended {
		return errEnded
	}
	return err
}

// speaker resolves the caller who writes to the room (chat, a question, a vote, an answer, a
// raised hand) like chatter, and refuses everyone once the webinar ended: reading what was
// said stays possible, saying more does not.
func (s *Server) speaker(c echo.Context, webinarID string) (chatter, error) {
	who, err := s.chatter(c, webinarID)
	if err != nil {
		return chatter{}, err
	}
	return who, s.refuseEnded(c.Request().Context(), webinarID)
}

// errJoinFirst refuses the media of a webinar with its waiting room on or locked to a caller
// who did not join it.
var errJoinFirst = &accessError{Status: http.StatusUnauthorized, Message: "join the webinar first"}

// allowMedia lets the caller watch a webinar's media (WHEP, the caption stream): what
// watching needs (allow with ActView) and, while its waiting room is on or it is locked, a
// join: only an admitted participant's token, the webinar's staff (host, co-host, panelist: by
// account or the stream key) and the presenter's own watch link get in. Anyone else, even on a
// public webinar, must join first, so the waiting room and the lock cannot be walked around.
// Without either, a public webinar plays to plain WHEP players (OBS, VLC, GStreamer) with no
// token at all.
func (s *Server) allowMedia(c echo.Context, w models.Webinar) error {
	a, err := s.accessToWebinar(c, w)
	if err != nil {
		return err
	}
	if !a.can(auth.ActView) {
		return a.deny(auth.ActView)
	}
	if a.pstate == room.StateAdmitted || a.presenter {
		return nil
	}
	switch a.role {
	case models.RoleHost, models.RoleCohost, models.RolePanelist:
		return nil
	}
	rs, err := s.Store.RoomSettings(c.Request().Context(), w.ID)
	if err != nil {
		return err
	}
	if rs.WaitingRoom || rs.Locked {
		return errJoinFirst
	}
	return nil
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

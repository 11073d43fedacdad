package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
	"lectern/room"
)

// roomEvents is what chat, Q&A and hands need of the live channel (package room, issue 9):
// Publish hands an event to every connected participant in the audience and never blocks.
type roomEvents interface {
	Publish(webinar string, a RoomAudience, typ string, payload any)
}

// RoomAudience is who receives a room event: the hosts (host, co-host), everyone, and/or one
// participant.
type RoomAudience = room.Audience

// publish sends a room event when a live channel is wired; without one the REST API still works.
func (s *Server) publish(webinar string, a RoomAudience, typ string, payload any) {
	if s.RoomEvents != nil {
		s.RoomEvents.Publish(webinar, a, typ, payload)
	}
}

// chatter is the caller as a participant of one webinar.
type chatter struct {
	ID, Name string
	Role     models.Role
	guest    bool // a join-token holder, whose display name the request may give
}

// host reports whether c moderates the room (host, co-host).
func (c chatter) host() bool { return auth.Can(c.Role, auth.ActModerate) }

// chatter resolves the caller of a webinar's room as the participant it is (see
// participantOf: a participant token, or a signed-in host, co-host, panelist or the stream
// key). A waiting participant may not speak yet. A link or registration token that never
// joined still speaks, as a guest named by its token id.
func (s *Server) chatter(c echo.Context, webinarID string) (chatter, error) {
	a, err := s.require(c, webinarID, auth.ActView)
	if err != nil {
		return chatter{}, err
	}
	if a.role == "" { // a public webinar watched without any identity: nobody to speak as
		return chatter{}, a.deny(auth.ActModerate)
	}
	if a.cl.user == nil && a.cl.join != "" && s.callerPID(c, webinarID) == "" {
		claims, err := s.auth.joins.VerifyActive(c.Request().Context(), s.Store, a.cl.join, webinarID, true)
		if err == nil {
			return chatter{ID: "j." + claims.ID, Name: "Guest", Role: a.role, guest: true}, nil
		}
	}
	p, err := s.participantOf(c, a)
	if err != nil {
		return chatter{}, err
	}
	if p.State == room.StateWaiting {
		return chatter{}, echo.NewHTTPError(http.StatusForbidden, "waiting for the host to admit you")
	}
	return chatter{ID: p.ID, Name: p.Name, Role: p.Role}, nil
}

// named gives a guest the display name of their request.
func (c chatter) named(name string) chatter {
	if n := strings.TrimSpace(name); c.guest && n != "" && utf8.RuneCountInString(n) <= maxNameRunes {
		c.Name = n
	}
	return c
}

const (
	maxChatRunes = 1000
	maxNameRunes = 80
	chatBurst    = 5               // messages per participant ...
	chatWindow   = 5 * time.Second // ... in this window
	chatKeys     = 100_000         // participants remembered by the chat limit
)

type chatRequest struct {
	Text string `json:"text"`
	To   string `json:"to"`
	Name string `json:"name"`
}

// check validates a chat message and who it may go to under the webinar's setting.
func (in chatRequest) check(who chatter, set models.RoomSettings) error {
	if in.To == "" {
		in.To = string(models.ChatEveryone)
	}
	if in.To != string(models.ChatEveryone) && in.To != string(models.ChatHosts) {
		return echo.NewHTTPError(http.StatusBadRequest, `to must be "everyone" or "hosts"`)
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Text)); n == 0 || n > maxChatRunes {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("text must be 1-%d characters", maxChatRunes))
	}
	if who.Role != models.RoleAttendee {
		return nil
	}
	switch {
	case set.Chat == models.ChatOff:
		return echo.NewHTTPError(http.StatusForbidden, "chat is off in this webinar")
	case set.Chat == models.ChatHosts && in.To != string(models.ChatHosts):
		return echo.NewHTTPError(http.StatusForbidden, "in this webinar attendees may chat with the hosts only")
	}
	return nil
}

// chatAudience: a to-hosts message goes to the hosts and back to its sender.
func chatAudience(m models.ChatMessage) RoomAudience {
	if m.ToHosts() {
		return RoomAudience{Hosts: true, Participant: m.From}
	}
	return RoomAudience{Everyone: true}
}

// postChat is POST /api/webinars/:id/chat.
func (s *Server) postChat(c echo.Context) error {
	id := c.Param("id")
	who, err := s.speaker(c, id)
	if err != nil {
		return err
	}
	var in chatRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := s.policyAllows(c.Request().Context(), "chat"); err != nil {
		return err
	}
	set, err := s.Store.RoomSettings(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := in.check(who, set); err != nil {
		return err
	}
	if ok, wait := s.chatLimit.Take(id + "\x00" + who.ID); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return echo.NewHTTPError(http.StatusTooManyRequests, "too many messages; wait a moment")
	}
	who = who.named(in.Name)
	to := in.To
	if to == "" {
		to = string(models.ChatEveryone)
	}
	m, err := s.Store.AddChat(c.Request().Context(), models.ChatMessage{WebinarID: id, From: who.ID, Name: who.Name,
		Role: who.Role, To: to, Text: strings.TrimSpace(in.Text), At: s.now().UTC().Truncate(time.Millisecond)})
	if err != nil {
		return err
	}
	s.publish(id, chatAudience(m), "chat", m)
	return c.JSON(http.StatusCreated, m)
}

// visibleChat keeps the messages who may see: to-hosts ones only for hosts and their sender.
func visibleChat(who chatter, ms []models.ChatMessage) []models.ChatMessage {
	if who.host() {
		return ms
	}
	out := ms[:0]
	for _, m := range ms {
		if !m.ToHosts() || m.From == who.ID {
			out = append(out, m)
		}
	}
	return out
}

// getChat is GET /api/webinars/:id/chat[?after=ID]: the messages the caller may see.
func (s *Server) getChat(c echo.Context) error {
	id := c.Param("id")
	who, err := s.chatter(c, id)
	if err != nil {
		return err
	}
	var after int64
	if v := c.QueryParam("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "after must be a message id")
		}
	}
	ms, err := s.Store.Chat(c.Request().Context(), id, after)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, visibleChat(who, ms))
}

// deleteChat is DELETE /api/webinars/:id/chat/:mid (hosts, co-hosts): gone for everyone.
func (s *Server) deleteChat(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.require(c, id, auth.ActModerate); err != nil {
		return err
	}
	mid, err := strconv.ParseInt(c.Param("mid"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "no such message")
	}
	m, err := s.Store.DeleteChat(c.Request().Context(), id, mid)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "no such message")
		}
		return err
	}
	// The same audience as the message: a to-hosts message's deletion tells nobody else of it.
	s.publish(id, chatAudience(m), "chat.deleted", map[string]int64{"id": mid})
	return c.NoContent(http.StatusNoContent)
}

// exportChat is GET /api/webinars/:id/chat.txt|chat.json (hosts, co-hosts): the whole chat.
func (s *Server) exportChat(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if _, err := s.require(c, id, auth.ActModerate); err != nil {
			return err
		}
		ms, err := s.Store.Chat(c.Request().Context(), id, 0)
		if err != nil {
			return err
		}
		if format == "json" {
			return c.JSON(http.StatusOK, ms)
		}
		var b strings.Builder
		for _, m := range ms {
			to := ""
			if m.ToHosts() {
				to = " (to hosts)"
			}
			fmt.Fprintf(&b, "[%s] %s (%s)%s: %s\n", m.At.Format(time.RFC3339), m.Name, m.Role, to, m.Text)
		}
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
	}
}

// roomRoutes are issue 9's chat, Q&A, hands, promote and demote, leave and reopen.
func (s *Server) roomRoutes() {
	e := s.echo
	e.POST("/api/webinars/:id/chat", s.postChat)
	e.GET("/api/webinars/:id/chat", s.getChat)
	e.DELETE("/api/webinars/:id/chat/:mid", s.deleteChat)
	e.GET("/api/webinars/:id/chat.txt", s.exportChat("txt"))
	e.GET("/api/webinars/:id/chat.json", s.exportChat("json"))
	e.POST("/api/webinars/:id/questions", s.postQuestion)
	e.GET("/api/webinars/:id/questions", s.getQuestions)
	e.POST("/api/webinars/:id/questions/:qid/vote", s.voteQuestion)
	e.POST("/api/webinars/:id/questions/:qid/answer", s.answerQuestion)
	e.POST("/api/webinars/:id/questions/:qid/dismiss", s.dismissQuestion)
	e.GET("/api/webinars/:id/questions.txt", s.exportQuestions("txt"))
	e.GET("/api/webinars/:id/questions.json", s.exportQuestions("json"))
	e.POST("/api/webinars/:id/hand", s.raiseHand)
	e.DELETE("/api/webinars/:id/hand", s.lowerHand)
	e.GET("/api/webinars/:id/hands", s.listHands)
	e.DELETE("/api/webinars/:id/hands/:pid", s.lowerHandOf)
	e.POST("/api/webinars/:id/participants/:pid/promote", s.promote(models.RolePanelist))
	e.POST("/api/webinars/:id/participants/:pid/demote", s.promote(models.RoleAttendee))
	e.POST("/api/webinars/:id/leave", s.leave)
	e.POST("/api/webinars/:id/reopen", s.reopenWebinar)
}

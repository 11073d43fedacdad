package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"lectern/models"
	"lectern/room"
)

// Stage and presence of one participant: promote and demote (host, co-host), leave (the
// participant itself), and removal when the registration they joined with is revoked.

// promote is POST .../participants/{pid}/promote|demote (host, co-host): an admitted
// attendee becomes a panelist (their raised hand goes down: it was answered) or back. The
// participant and the hosts hear a "participant" event with the new role; the token stays the
// same, its role is read from the participant on every request.
func (s *Server) promote(role models.Role) echo.HandlerFunc {
	return func(c echo.Context) error {
		mod, err := s.moderator(c)
		if err != nil {
			return err
		}
		p, err := s.Store.SetParticipantRole(c.Request().Context(), mod.Webinar, c.Param("pid"), role)
		if errors.Is(err, models.ErrConflict) {
			return echo.NewHTTPError(http.StatusConflict, "only an admitted participant changes role: admit them first")
		}
		if err != nil {
			return err
		}
		s.Room.Update(p.Webinar, p)
		if role == models.RolePanelist {
			s.dropHand(p)
		} else {
			s.leaveStageParticipant(p.Webinar, p.ID) // off the stage within a second
		}
		s.Room.Publish(p.Webinar, room.Audience{Hosts: true, Participant: p.ID}, "participant", p)
		return c.JSON(http.StatusOK, p)
	}
}

// leave is POST .../leave: the caller's participant leaves. Hosts see it "left"; its WHEP
// sessions, caption streams and channels close like a removal's, but its token may join
// again (POST .../join with it). A signed-in member or the stream key has no stored presence:
// their hand goes down and their channels close.
func (s *Server) leave(c echo.Context) error {
	p, err := s.participant(c, c.Param("id"))
	if err != nil {
		return err
	}
	if !p.Implicit && p.State != room.StateLeft {
		if p, err = s.Store.SetParticipantState(c.Request().Context(), p.Webinar, p.ID, room.StateLeft); err != nil {
			return err
		}
		s.Room.Update(p.Webinar, p)
		s.announce(p)
	}
	s.dropHand(p)
	s.disconnect(p.Webinar, p.ID, false)
	return c.NoContent(http.StatusNoContent)
}

// removeRegistrationParticipants removes whoever joined the room with a registration that was
// just revoked: their tokens stop working and their WHEP sessions, caption streams and
// channels close, as when a host removes them.
func (s *Server) removeRegistrationParticipants(ctx context.Context, webinarID, registrationID string) error {
	ps, err := s.Store.RemoveRegistrationParticipants(ctx, webinarID, registrationID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		s.Room.Update(p.Webinar, p)
		s.announce(p)
		s.dropHand(p)
		s.disconnect(p.Webinar, p.ID, false)
	}
	return nil
}

// dropHand lowers p's hand, if raised, and tells the hosts: p was promoted or is gone.
func (s *Server) dropHand(p room.Participant) {
	if s.hands.lower(p.Webinar, p.ID) {
		s.publishHand(p.Webinar, p.ID, p.Name, false)
	}
}

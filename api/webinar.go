package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

// publicWebinar is what anyone allowed to watch may know of a webinar: never its key. Members
// get a webinarView instead (webinars.go).
type publicWebinar struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Language  string `json:"language"`
	Live      bool   `json:"live"`
	Recording bool   `json:"recording"` // attendees are told they are being recorded
	Viewers   int    `json:"viewers"`
	Ended     bool   `json:"ended"` // the host ended it for everyone (until reopened)
}

// registrations is GET /api/webinars/:id/registrations (host, co-host, admin): everyone who
// registered, revoked ones included (revoked_at set), oldest first.
func (s *Server) registrations(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	rs, err := s.Store.Registrations(c.Request().Context(), a.w.ID)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []models.Registration{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, rs)
}

// revokeRegistration is DELETE /api/webinars/:id/registrations/:rid (host, co-host, admin):
// every join token of the registration stops working; registering again with its email does
// not bring it back. 404 for an unknown or already revoked registration.
func (s *Server) revokeRegistration(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.Store.RevokeRegistration(ctx, a.w.ID, c.Param("rid")); err != nil {
		return err
	}
	if err := s.removeRegistrationParticipants(ctx, a.w.ID, c.Param("rid")); err != nil {
		return err
	}
	auth.Record(ctx, s.Store, auth.EventRegistrationRevoked, actorID(a.cl), a.w.ID, clientIP(c),
		map[string]any{"registration": c.Param("rid")})
	return c.NoContent(http.StatusNoContent)
}

// rotateLink is POST /api/webinars/:id/link/rotate (host, co-host, admin): a new generation of
// the shared watch link. Every earlier link and passcode join token stops working (anyone
// still entitled gets the new link, or joins with the passcode again); registrations are
// revoked one by one instead. The answer is the webinar as the caller now sees it, new link included.
func (s *Server) rotateLink(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if a.set.LinkEpoch, err = s.Store.RotateLink(ctx, a.w.ID); err != nil {
		return err
	}
	auth.Record(ctx, s.Store, auth.EventLinkRotated, actorID(a.cl), a.w.ID, clientIP(c), map[string]any{"epoch": a.set.LinkEpoch})
	v, err := s.view(c, a)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, v)
}

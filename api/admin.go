package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/models"
)

// requireAdmin lets only site admins through: 401 for nobody, 403 for everyone else.
func requireAdmin(c echo.Context) (*caller, error) {
	cl, err := signedIn(c)
	if err != nil {
		return nil, err
	}
	if !cl.user.Admin {
		return nil, echo.NewHTTPError(http.StatusForbidden, "admins only")
	}
	return cl, nil
}

// auditLog is GET /api/admin/audit?action=&actor=&target=&user=&since=&until=&limit= (times
// RFC 3339; user matches the actor or the target, the console's "anything about this person").
func (s *Server) auditLog(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	f := models.AuditFilter{Action: c.QueryParam("action"), ActorID: c.QueryParam("actor"), Target: c.QueryParam("target"),
		User: c.QueryParam("user")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := c.QueryParam(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, p.name+" must be an RFC 3339 time")
			}
			*p.dst = t
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return echo.NewHTTPError(http.StatusBadRequest, "limit must be 1-1000")
		}
		f.Limit = n
	}
	ev, err := s.Store.AuditEvents(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if ev == nil {
		ev = []models.AuditEvent{}
	}
	return c.JSON(http.StatusOK, ev)
}

func (s *Server) adminUsers(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	us, err := s.Store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	if us == nil {
		us = []models.User{}
	}
	return c.JSON(http.StatusOK, us)
}

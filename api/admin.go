package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
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

// auditLog is GET /api/admin/audit?action=&actor=&target=&since=&until=&limit= (times RFC 3339).
func (s *Server) auditLog(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	f := models.AuditFilter{Action: c.QueryParam("action"), ActorID: c.QueryParam("actor"), Target: c.QueryParam("target")}
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

type disableRequest struct {
	Reason   string `json:"reason"`
	Disabled *bool  `json:"disabled"` // default true; false re-enables
}

// adminDisableUser is POST /api/admin/users/:id/disable: the account's sessions end at once.
func (s *Server) adminDisableUser(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	var in disableRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	ctx, id := c.Request().Context(), c.Param("id")
	disable := in.Disabled == nil || *in.Disabled
	if id == cl.user.ID && disable {
		return echo.NewHTTPError(http.StatusBadRequest, "you cannot disable your own account")
	}
	if len(in.Reason) > 200 {
		return echo.NewHTTPError(http.StatusBadRequest, "reason must be at most 200 characters")
	}
	if _, err := s.Store.User(ctx, id); err != nil {
		return err
	}
	reason := strings.TrimSpace(in.Reason)
	if disable && reason == "" {
		reason = "disabled by an admin"
	}
	if err := auth.SetDisabled(ctx, s.Store, cl.user.ID, id, disable, reason, clientIP(c)); err != nil {
		return err
	}
	if disable {
		if _, err := s.Store.RevokeUserSessions(ctx, id, "", time.Now()); err != nil {
			return err
		}
	}
	u, err := s.Store.User(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

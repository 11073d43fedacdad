package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
)

// The invite landing page's routes. They need no session: the link's secret is the
// credential, sent in the body (never in a URL, which logs and Referer headers keep).

type inviteRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

type inviteInfoAnswer struct {
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
}

const deadInvite = "this invite link does not work any more: it was used, it expired, or a newer one replaced it. Ask your admin for a new link"

// inviteInfo is POST /api/invite {token}: whose account the link is for, so the page can say so.
func (s *Server) inviteInfo(c echo.Context) error {
	var in inviteRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	inv, u, err := auth.OpenInvite(c.Request().Context(), s.Store, in.Token, s.now())
	if errors.Is(err, auth.ErrInvalidToken) {
		return echo.NewHTTPError(http.StatusNotFound, deadInvite)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, inviteInfoAnswer{Email: u.Email, Name: u.DisplayName, ExpiresAt: inv.ExpiresAt})
}

// acceptInvite is POST /api/invite/accept {token, password}: sets the password and spends the
// link. The person then signs in as anyone does (and sets up two-factor if the policy says so).
func (s *Server) acceptInvite(c echo.Context) error {
	var in inviteRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	u, err := auth.AcceptInvite(c.Request().Context(), s.Store, in.Token, in.Password, clientIP(c), s.now(), s.Argon2)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		return echo.NewHTTPError(http.StatusNotFound, deadInvite)
	case errors.Is(err, auth.ErrPasswordTooShort), errors.Is(err, auth.ErrPasswordTooLong), errors.Is(err, auth.ErrPasswordCommon):
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	case errors.Is(err, auth.ErrBusy):
		c.Response().Header().Set("Retry-After", "1")
		return echo.NewHTTPError(http.StatusServiceUnavailable, err.Error())
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"email": u.Email})
}

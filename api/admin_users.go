package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

// The admin console's account routes (issue 11, item 7). Every change is audited by package
// auth; none may leave the site without an enabled admin.

func (s *Server) adminUserRoutes() {
	e := s.echo
	e.POST("/api/admin/users", s.adminAddUser)
	e.POST("/api/admin/users/:id/invite", s.adminReinvite)
	e.POST("/api/admin/users/:id/disable", s.adminDisableUser)
	e.POST("/api/admin/users/:id/enable", s.adminEnableUser)
	e.POST("/api/admin/users/:id/reset-2fa", s.adminReset2FA)
	e.PUT("/api/admin/users/:id/admin", s.adminSetAdmin)
	e.GET("/api/admin/storage", s.adminStorage)
	e.POST("/api/invite", s.inviteInfo)
	e.POST("/api/invite/accept", s.acceptInvite)
}

type addUserRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"` // "user" (default) or "admin"
}

// inviteAnswer is what an admin gets for a new invite: the link, shown once (only its hash is
// stored), to hand to the person.
type inviteAnswer struct {
	ID        string    `json:"id"`
	InviteURL string    `json:"invite_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

const maxName = 200

// checkNewUser says what is wrong with an account request, in words for the admin.
func checkNewUser(in addUserRequest) (admin bool, err error) {
	email := models.NormalizeEmail(in.Email)
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || len(email) > 254 || strings.ContainsAny(email, " \t\r\n<>,;") {
		return false, echo.NewHTTPError(http.StatusBadRequest, "email must be an address like name@school.example")
	}
	if len(strings.TrimSpace(in.Name)) > maxName {
		return false, echo.NewHTTPError(http.StatusBadRequest, "name must be at most 200 characters")
	}
	switch in.Role {
	case "", "user":
		return false, nil
	case "admin":
		return true, nil
	}
	return false, echo.NewHTTPError(http.StatusBadRequest, `role must be "user" or "admin"`)
}

// adminAddUser is POST /api/admin/users {email, name, role?}: an account without a password
// and a one-time link with which the person chooses it.
func (s *Server) adminAddUser(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	var in addUserRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	admin, err := checkNewUser(in)
	if err != nil {
		return err
	}
	u, tok, exp, err := auth.InviteAccount(c.Request().Context(), s.Store, auth.Invitee{Email: in.Email, Name: in.Name, Admin: admin},
		cl.user.ID, clientIP(c), s.now())
	if errors.Is(err, models.ErrConflict) {
		return echo.NewHTTPError(http.StatusConflict, "an account with this email already exists")
	}
	if err != nil {
		return err
	}
	return s.inviteCreated(c, u.ID, tok, exp)
}

func (s *Server) inviteCreated(c echo.Context, id, tok string, exp time.Time) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	// The secret rides in the fragment: browsers do not send it to the server with the page
	// request, so it stays out of access logs and Referer headers.
	return c.JSON(http.StatusCreated, inviteAnswer{ID: id, InviteURL: s.baseURL(c) + "/invite#" + tok, ExpiresAt: exp})
}

// adminReinvite is POST /api/admin/users/:id/invite: a new link (the old ones stop working),
// for an invite that expired or a person who forgot their password.
func (s *Server) adminReinvite(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := s.Store.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if u.Disabled {
		return echo.NewHTTPError(http.StatusConflict, "the account is disabled: enable it first")
	}
	tok, exp, err := auth.IssueInvite(ctx, s.Store, u.ID, cl.user.ID, clientIP(c), s.now())
	if err != nil {
		return err
	}
	return s.inviteCreated(c, u.ID, tok, exp)
}

type disableRequest struct {
	Reason string `json:"reason"`
}

// adminDisableUser is POST /api/admin/users/:id/disable {reason}: the account's sessions end
// and its API tokens stop working at once; the reason is shown when it tries to sign in.
func (s *Server) adminDisableUser(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	var in disableRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	id := c.Param("id")
	if id == cl.user.ID {
		return echo.NewHTTPError(http.StatusBadRequest, "you cannot disable your own account")
	}
	reason := strings.TrimSpace(in.Reason)
	if len(reason) > 200 {
		return echo.NewHTTPError(http.StatusBadRequest, "reason must be at most 200 characters")
	}
	if reason == "" {
		reason = "disabled by an admin"
	}
	err = auth.DisableAccount(c.Request().Context(), s.Store, cl.user.ID, id, reason, clientIP(c))
	return s.userChanged(c, id, err)
}

// adminEnableUser is POST /api/admin/users/:id/enable.
func (s *Server) adminEnableUser(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	err = auth.SetDisabled(c.Request().Context(), s.Store, cl.user.ID, id, false, "", clientIP(c))
	return s.userChanged(c, id, err)
}

// adminReset2FA is POST /api/admin/users/:id/reset-2fa: for someone who lost their phone.
func (s *Server) adminReset2FA(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	err = auth.Reset2FA(c.Request().Context(), s.Store, cl.user.ID, id, clientIP(c))
	return s.userChanged(c, id, err)
}

type setAdminRequest struct {
	Admin *bool `json:"admin"`
}

// adminSetAdmin is PUT /api/admin/users/:id/admin {admin}.
func (s *Server) adminSetAdmin(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	var in setAdminRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.Admin == nil {
		return echo.NewHTTPError(http.StatusBadRequest, `"admin" (true or false) is required`)
	}
	id := c.Param("id")
	err = auth.SetAdmin(c.Request().Context(), s.Store, cl.user.ID, id, *in.Admin, clientIP(c))
	return s.userChanged(c, id, err)
}

// userChanged answers an account change: the account as it now is, or the change's error.
func (s *Server) userChanged(c echo.Context, id string, err error) error {
	if errors.Is(err, models.ErrLastAdmin) {
		return echo.NewHTTPError(http.StatusConflict, "this is the last enabled admin: make someone else an admin first")
	}
	if err != nil {
		return err
	}
	u, err := s.Store.User(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

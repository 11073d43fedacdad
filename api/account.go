package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

// totpBegin is POST /api/account/totp: a new secret and its QR code (a data: URL, which the
// CSP's img-src allows). Nothing is enabled until confirm.
func (s *Server) totpBegin(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	en, err := s.auth.twoFactor.Begin(c.Request().Context(), *cl.user)
	if errors.Is(err, auth.ErrTOTPEnrolled) {
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"secret": en.Secret, "url": en.URL, "qr": en.QRDataURL})
}

// totpConfirm is POST /api/account/totp/confirm {code}: 2FA is on, recovery codes shown once.
func (s *Server) totpConfirm(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	var in codeRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	codes, err := s.auth.twoFactor.Confirm(ctx, cl.user.ID, strings.TrimSpace(in.Code))
	switch {
	case errors.Is(err, auth.ErrTOTPEnrolled):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	case errors.Is(err, auth.ErrInvalidCredentials):
		return echo.NewHTTPError(http.StatusBadRequest, "wrong code: check the clock of your device, or start again")
	case err != nil:
		return err
	}
	auth.Record(ctx, s.Store, auth.Event2FAEnabled, cl.user.ID, cl.user.ID, clientIP(c), nil)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string][]string{"recovery_codes": codes})
}

type disable2FARequest struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

// totpDisable is DELETE /api/account/totp {password} or {code}: a stolen session alone cannot
// turn 2FA off. Wrong answers count against the sign-in rate limits.
func (s *Server) totpDisable(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	var in disable2FARequest
	if err := bind(c, &in); err != nil {
		return err
	}
	ctx, ip, u := c.Request().Context(), clientIP(c), cl.user
	at, err := s.auth.signIn.Guard.Reserve(u.Email, ip)
	if err != nil {
		return signInError(c, err)
	}
	ok, err := s.checkSecret(c, u, in)
	if err != nil {
		at.Cancel()
		return signInError(c, err)
	}
	if !ok {
		at.Fail()
		return echo.NewHTTPError(http.StatusForbidden, "wrong password or code")
	}
	at.Succeed()
	if err := s.auth.twoFactor.Disable(ctx, u.ID); err != nil {
		return err
	}
	auth.Record(ctx, s.Store, auth.Event2FADisabled, u.ID, u.ID, ip, nil)
	return c.NoContent(http.StatusNoContent)
}

// checkSecret checks the password or the code of a request to turn 2FA off.
func (s *Server) checkSecret(c echo.Context, u *models.User, in disable2FARequest) (bool, error) {
	var err error
	switch {
	case in.Password != "" && u.PasswordHash != "" && len(in.Password) <= 1024:
		return auth.VerifyPassword(in.Password, u.PasswordHash)
	case len(strings.TrimSpace(in.Code)) == 6:
		err = s.auth.twoFactor.Verify(c.Request().Context(), u.ID, strings.TrimSpace(in.Code))
	case in.Code != "":
		err = s.auth.twoFactor.UseRecoveryCode(c.Request().Context(), u.ID, in.Code)
	default:
		return false, nil
	}
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return false, nil
	}
	return err == nil, err
}

func (s *Server) listTokens(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	ts, err := s.Store.APITokens(c.Request().Context(), cl.user.ID)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []models.APIToken{}
	}
	return c.JSON(http.StatusOK, ts)
}

type tokenRequest struct {
	Name string `json:"name"`
}

// createToken is POST /api/account/tokens {name}: the token is in this answer and nowhere else.
func (s *Server) createToken(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	var in tokenRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 100 {
		return echo.NewHTTPError(http.StatusBadRequest, "name must be 1-100 characters")
	}
	t, plain, err := auth.IssueAPIToken(c.Request().Context(), s.Store, cl.user.ID, name, clientIP(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, struct {
		models.APIToken
		Token string `json:"token"`
	}{t, plain})
}

func (s *Server) revokeToken(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	if err := auth.RevokeAPIToken(c.Request().Context(), s.Store, cl.user.ID, c.Param("id"), clientIP(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// accountEvents is GET /api/account/events: the security events about the caller's own
// account, newest first (sign-ins, lockouts of an address, slowed sign-ins, 2FA changes), so
// that an owner sees when someone is trying their password.
func (s *Server) accountEvents(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	ev, err := s.Store.AuditEvents(c.Request().Context(), models.AuditFilter{Target: cl.user.ID, Limit: 50})
	if err != nil {
		return err
	}
	if ev == nil {
		ev = []models.AuditEvent{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, ev)
}

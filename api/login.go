package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type codeRequest struct {
	Code string `json:"code"` // a 6-digit TOTP code or a recovery code
}

// me is what the pages know of the signed-in account.
type me struct {
	User              models.User `json:"user"`
	CSRFToken         string      `json:"csrf_token,omitempty"` // send as X-CSRF-Token on writes
	Require2FA        bool        `json:"require_2fa"`
	MustEnrol2FA      bool        `json:"must_enrol_2fa"`
	RecoveryCodesLeft int         `json:"recovery_codes_left"`
}

// loginOptions tells the sign-in page which ways in exist.
func (s *Server) loginOptions(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]bool{"sso": s.OIDC != nil, "sso_only": s.ssoOnly()})
}

func (s *Server) ssoOnly() bool { return s.SSOOnly || (s.OIDC != nil && s.OIDC.SSOOnly()) }

// signInError turns a refused sign-in into its status: 429 with Retry-After, 401, 403, 503.
func signInError(c echo.Context, err error) error {
	var rl *auth.RateLimitedError
	var dis *auth.DisabledError
	switch {
	case errors.As(err, &rl):
		c.Response().Header().Set("Retry-After", auth.RetryAfter(rl.Wait))
		return echo.NewHTTPError(http.StatusTooManyRequests, "too many attempts: try again later")
	case errors.Is(err, auth.ErrInvalidCredentials):
		return echo.NewHTTPError(http.StatusUnauthorized, "wrong email, password or code")
	case errors.Is(err, auth.ErrInvalidToken):
		return echo.NewHTTPError(http.StatusUnauthorized, "sign-in expired: start again")
	case errors.As(err, &dis):
		return echo.NewHTTPError(http.StatusForbidden, err.Error())
	case errors.Is(err, auth.ErrAccountDisabled):
		return echo.NewHTTPError(http.StatusForbidden, "account disabled")
	case errors.Is(err, auth.ErrSSOOnly):
		return echo.NewHTTPError(http.StatusForbidden, "this server uses single sign-on: use the SSO button")
	case errors.Is(err, auth.ErrBusy):
		c.Response().Header().Set("Retry-After", "1")
		return echo.NewHTTPError(http.StatusServiceUnavailable, err.Error())
	}
	return err
}

// login is POST /api/login: the password step. With 2FA on, the cookie it sets is a pending
// session good only for POST /api/login/totp.
func (s *Server) login(c echo.Context) error {
	var in loginRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if len(in.Email) > 320 || len(in.Password) > 1024 {
		return echo.NewHTTPError(http.StatusBadRequest, "email or password too long")
	}
	res, err := s.auth.signIn.Password(c.Request().Context(), in.Email, in.Password, clientIP(c), c.Request().UserAgent())
	if err != nil {
		return signInError(c, err)
	}
	return s.startSession(c, res)
}

// loginTOTP is POST /api/login/totp: the second step, with the pending session's cookie.
func (s *Server) loginTOTP(c echo.Context) error {
	var in codeRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	tok := s.auth.sessions.TokenFromRequest(c.Request())
	if tok == "" {
		return echo.NewHTTPError(http.StatusUnauthorized, "sign-in expired: start again")
	}
	res, err := s.auth.signIn.SecondFactor(c.Request().Context(), tok, in.Code, clientIP(c), c.Request().UserAgent())
	if err != nil {
		return signInError(c, err)
	}
	return s.startSession(c, res)
}

func (s *Server) startSession(c echo.Context, res auth.SignInResult) error {
	c.SetCookie(s.auth.sessions.Cookie(res.Token, res.Session, s.secure(c)))
	if res.MFARequired {
		return c.JSON(http.StatusOK, map[string]bool{"mfa_required": true})
	}
	return s.writeMe(c, res.User, res.Token)
}

func (s *Server) writeMe(c echo.Context, u models.User, sessionToken string) error {
	req, err := s.require2FA(c)
	if err != nil {
		return err
	}
	left, err := s.Store.RecoveryCodesLeft(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	out := me{User: u, Require2FA: req, MustEnrol2FA: auth.NeedsTOTPEnrolment(req, u), RecoveryCodesLeft: left}
	if sessionToken != "" {
		out.CSRFToken = auth.CSRFToken(sessionToken)
	}
	return c.JSON(http.StatusOK, out)
}

// logout is POST /api/logout: the session is revoked on the server, not just forgotten.
func (s *Server) logout(c echo.Context) error {
	cl := callerOf(c)
	if cl.session != "" {
		if err := s.auth.sessions.Revoke(c.Request().Context(), cl.session); err != nil {
			return err
		}
		auth.Record(c.Request().Context(), s.Store, auth.EventSignOut, cl.user.ID, cl.user.ID, clientIP(c), nil)
	}
	c.SetCookie(s.auth.sessions.ClearCookie(s.secure(c)))
	return c.NoContent(http.StatusNoContent)
}

// getMe is GET /api/me.
func (s *Server) getMe(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	return s.writeMe(c, *cl.user, cl.session)
}

const settingRequire2FA = "require_2fa"

func (s *Server) require2FA(c echo.Context) (bool, error) {
	v, err := s.Store.SiteSetting(c.Request().Context(), settingRequire2FA, "false")
	return v == "true", err
}

// oidcLogin is GET /auth/oidc/login: off to the identity provider, with state, nonce and the
// PKCE verifier sealed in a short-lived cookie.
func (s *Server) oidcLogin(c echo.Context) error {
	if s.OIDC == nil {
		return echo.NewHTTPError(http.StatusNotFound, "single sign-on is not configured")
	}
	u, cookie, err := s.OIDC.AuthURL(s.secure(c))
	if err != nil {
		return err
	}
	c.SetCookie(cookie)
	return c.Redirect(http.StatusFound, u)
}

// oidcCallback is GET /auth/oidc/callback: the provider's answer becomes a session, or a 401.
func (s *Server) oidcCallback(c echo.Context) error {
	if s.OIDC == nil {
		return echo.NewHTTPError(http.StatusNotFound, "single sign-on is not configured")
	}
	ctx, ip := c.Request().Context(), clientIP(c)
	c.SetCookie(auth.ClearStateCookie(s.secure(c)))
	id, err := s.OIDC.Exchange(ctx, c.Request())
	if err == nil {
		var u models.User
		if u, err = s.OIDC.SignIn(ctx, s.Store, id, ip); err == nil {
			var res auth.SignInResult
			if res, err = s.auth.signIn.Start(ctx, u, ip, c.Request().UserAgent(), "sso", s.OIDC.SecondFactorDone(id)); err == nil {
				c.SetCookie(s.auth.sessions.Cookie(res.Token, res.Session, s.secure(c)))
				if res.MFARequired { // the account's own TOTP is still owed: the sign-in page asks for it
					return c.Redirect(http.StatusSeeOther, "/login?mfa=1")
				}
				return c.Redirect(http.StatusSeeOther, "/dashboard")
			}
		}
	}
	auth.Record(ctx, s.Store, auth.EventSSORefused, "", id.Email, ip, map[string]any{"reason": err.Error()})
	s.Logger.Info("sso sign-in refused", "err", err)
	if errors.Is(err, auth.ErrAccountDisabled) {
		return echo.NewHTTPError(http.StatusForbidden, "account disabled")
	}
	return echo.NewHTTPError(http.StatusUnauthorized, "single sign-on failed: "+ssoReason(err))
}

// ssoReason is a short, safe explanation for the sign-in page.
func ssoReason(err error) string {
	switch {
	case errors.Is(err, auth.ErrOIDCState):
		return "the sign-in took too long or came from another browser; start again"
	case errors.Is(err, auth.ErrEmailNotAllowed):
		return "your email is not verified or not allowed here"
	case errors.Is(err, auth.ErrNoAccount):
		return "no account for your email: ask an admin"
	case errors.Is(err, auth.ErrSSOSubjectMismatch):
		return "this account is linked to another identity"
	}
	return "the identity provider's answer was refused"
}

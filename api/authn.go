package api

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

// authParts are the account machinery the API runs on, built once from Deps in New.
type authParts struct {
	sessions  *auth.Sessions
	signIn    *auth.SignIn
	twoFactor *auth.TwoFactor
	joins     *auth.JoinTokens
	passcodes *auth.Limiter // wrong passcodes per webinar and client address
	// checks bounds passcode checks, right or wrong, per client address (each costs a hash).
	checks *auth.Limiter
	// registrations per client address and per webinar.
	regsByAddr, regsByWebinar *auth.Limiter
	// publish signs per-member publish tokens (stage_token.go).
	publish *auth.PublishTokens
}

func newAuthParts(d Deps) (authParts, error) {
	secret := d.Secret
	if len(secret) == 0 {
		// No configured secret: join tokens and 2FA secrets die with this process. Only tests
		// do this; `lectern serve` passes auth.LoadOrCreateSecret(data dir).
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	sessions := auth.NewSessions(d.Store)
	sessions.Clock = d.Clock
	tf, err := auth.NewTwoFactor(d.Store, secret, "Lectern")
	if err != nil {
		return authParts{}, err
	}
	tf.Clock = d.Clock
	joins := auth.NewJoinTokens(secret)
	joins.Clock = d.Clock
	publish := auth.NewPublishTokens(secret)
	publish.Clock = d.Clock
	return authParts{
		sessions:      sessions,
		twoFactor:     tf,
		joins:         joins,
		passcodes:     auth.NewLimiter(auth.PasscodePolicy(), d.Clock),
		checks:        auth.NewLimiter(auth.PasscodeCheckPolicy(), d.Clock),
		regsByAddr:    auth.NewLimiter(auth.RegistrationAddressPolicy(), d.Clock),
		regsByWebinar: auth.NewLimiter(auth.RegistrationWebinarPolicy(), d.Clock),
		signIn: &auth.SignIn{Store: d.Store, Guard: auth.NewSignInGuard(d.Clock), Sessions: sessions,
			TwoFactor: tf, SSOOnly: d.SSOOnly, Argon2: d.Argon2, Clock: d.Clock},
		publish: publish,
	}, nil
}

// caller is who sent a request, as far as its credentials say. The webinar role is worked out
// per webinar by accessTo, because a join token is only good for one webinar.
type caller struct {
	user     *models.User
	session  string // the cookie token when the request is cookie-authenticated, else ""
	apiToken *models.APIToken
	join     string // a join token (Authorization: Bearer j1... or ?t=), not yet verified
	// mustEnrol: signed in, but the admin requires 2FA and the account has none yet.
	mustEnrol bool
}

const callerKey = "lectern.caller"

func callerOf(c echo.Context) *caller {
	if cl, ok := c.Get(callerKey).(*caller); ok {
		return cl
	}
	return &caller{}
}

// csrfExempt are the cookie-authenticated writes that cannot carry a CSRF token: signing in
// (the page has no session yet; SameSite=Lax and the password are the guard).
// The invite routes are the same kind: the link's secret is the guard, and the browser opening
// it may hold someone else's session.
var csrfExempt = map[string]bool{"/api/login": true, "/api/login/totp": true, "/api/invite": true, "/api/invite/accept": true}

// enrolmentOnly are the routes a signed-in account may still reach when the admin requires 2FA
// and the account has not enrolled: enough to enrol, see itself and sign out.
var enrolmentOnly = map[string]bool{
	"/api/me": true, "/api/logout": true, "/api/account/totp": true, "/api/account/totp/confirm": true,
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// identify resolves the request's credentials into a caller: a personal API token, a join
// token or a session cookie. A bearer credential wins over a cookie, so scripts never need
// CSRF tokens and a cookie can never be ridden by a bearer request. A cookie-authenticated
// write must carry the session's CSRF token.
func (s *Server) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		ctx := r.Context()
		cl := &caller{}
		bearer := auth.BearerToken(r.Header.Get("Authorization"))
		switch {
		case strings.HasPrefix(bearer, models.APITokenPrefix):
			t, u, err := auth.APIUser(ctx, s.Store, bearer, s.Clock)
			if errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrAccountDisabled) {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="lectern", error="invalid_token"`)
				return echo.NewHTTPError(http.StatusUnauthorized, "invalid, revoked or expired API token")
			}
			if err != nil {
				return err
			}
			cl.user, cl.apiToken = &u, &t
		case strings.HasPrefix(bearer, "j1."):
			cl.join = bearer
		case bearer == "":
			if tok := s.auth.sessions.TokenFromRequest(r); tok != "" {
				_, u, err := s.auth.sessions.Lookup(ctx, tok)
				switch {
				case err == nil:
					cl.user, cl.session = &u, tok
				case errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrMFARequired), errors.Is(err, auth.ErrAccountDisabled):
					// signed out, half signed in or disabled: anonymous
				default:
					return err
				}
			}
		}
		if cl.join == "" {
			if t := c.QueryParam("t"); t != "" && len(t) <= auth.MaxJoinTokenLen {
				cl.join = t
			}
		}
		if cl.session != "" && unsafeMethod(r.Method) && !csrfExempt[c.Path()] &&
			!auth.CheckCSRF(cl.session, r.Header.Get(auth.CSRFHeader)) {
			return echo.NewHTTPError(http.StatusForbidden, "missing or wrong CSRF token (send "+auth.CSRFHeader+")")
		}
		if cl.user != nil && !enrolmentOnly[c.Path()] {
			req, err := s.require2FA(c)
			if err != nil {
				return err
			}
			if auth.NeedsTOTPEnrolment(req, *cl.user) {
				// Until it enrols, the account counts for nothing: it can still watch what
				// anyone may watch, and account routes say what to do (see signedIn).
				cl = &caller{join: cl.join, mustEnrol: true}
			}
		}
		c.Set(callerKey, cl)
		return next(c)
	}
}

// signedIn returns the caller's account, or a 401.
func signedIn(c echo.Context) (*caller, error) {
	cl := callerOf(c)
	if cl.mustEnrol {
		return nil, echo.NewHTTPError(http.StatusForbidden, "two-factor enrolment required: set it up in account settings")
	}
	if cl.user == nil {
		return nil, echo.NewHTTPError(http.StatusUnauthorized, "sign in first")
	}
	return cl, nil
}

// clientIP is the address rate limits and the audit log use (see New for proxies).
func clientIP(c echo.Context) string { return c.RealIP() }

func (s *Server) secure(c echo.Context) bool { return auth.IsTLS(c.Request(), s.TrustProxy) }

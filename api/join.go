package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

// joinTokenTTL is how long an attendee's own join token works.
const joinTokenTTL = 30 * 24 * time.Hour

type registerRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Passcode string `json:"passcode"`
}

type joinRequest struct {
	Passcode string `json:"passcode"`
}

type joinAnswer struct {
	Token    string `json:"token"`
	WatchURL string `json:"watch_url"`
}

// checkPasscode runs the passcode check behind its rate limits: wrong passcodes per webinar
// and address, and checks of any outcome per address. The attempt is reserved before hashing,
// so concurrent guesses cannot all pass the check first. 429 with Retry-After when limited,
// 401 when wrong.
func (s *Server) checkPasscode(c echo.Context, a access, passcode string) error {
	if !a.set.HasPasscode() {
		return nil
	}
	ip := auth.IPKey(clientIP(c))
	res, wait := s.auth.passcodes.Reserve(a.w.ID + "|" + ip)
	if res == nil {
		return tooMany(c, wait, "too many wrong passcodes: try again later")
	}
	if ok, wait := s.auth.checks.Take(ip); !ok {
		res.Cancel()
		return tooMany(c, wait, "too many joins from your address: try again shortly")
	}
	ok := false
	if len(passcode) <= 64 {
		var err error
		if ok, err = auth.VerifyPasscode(passcode, a.set.PasscodeHash); err != nil {
			res.Cancel()
			return signInError(c, err)
		}
	}
	if !ok {
		res.Fail()
		auth.Record(c.Request().Context(), s.Store, auth.EventPasscodeFailed, actorID(a.cl), a.w.ID, clientIP(c), nil)
		return echo.NewHTTPError(http.StatusUnauthorized, "wrong passcode")
	}
	res.Succeed()
	return nil
}

// tooMany is a 429 with its Retry-After.
func tooMany(c echo.Context, wait time.Duration, msg string) error {
	c.Response().Header().Set("Retry-After", auth.RetryAfter(wait))
	return echo.NewHTTPError(http.StatusTooManyRequests, msg)
}

func (s *Server) joinAnswer(c echo.Context, w models.Webinar, tok string) joinAnswer {
	return joinAnswer{Token: tok, WatchURL: s.baseURL(c) + "/watch/" + w.ID + "?t=" + url.QueryEscape(tok)}
}

// register is POST /api/webinars/:id/register {name, email[, passcode]} for webinars with
// visibility "registration": the answer's token is the attendee's own, revocable join link.
func (s *Server) register(c echo.Context) error {
	a, err := s.accessTo(c, c.Param("id"))
	if err != nil {
		return err
	}
	if a.set.Visibility != models.VisibilityRegistration {
		return echo.NewHTTPError(http.StatusConflict, "this webinar takes no registrations")
	}
	var in registerRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	name, email := strings.TrimSpace(in.Name), models.NormalizeEmail(in.Email)
	if name == "" || len(name) > 200 || len(email) > 320 || !strings.Contains(email, "@") {
		return echo.NewHTTPError(http.StatusBadRequest, "name (1-200 characters) and a valid email are required")
	}
	if err := s.checkPasscode(c, a, in.Passcode); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := s.Store.CreateRegistration(ctx, models.NewRegistration{WebinarID: a.w.ID, Name: name, Email: email})
	if errors.Is(err, models.ErrConflict) {
		return echo.NewHTTPError(http.StatusConflict, "this email is already registered: use the link you were given")
	}
	if err != nil {
		return err
	}
	tok, err := s.auth.joins.IssueForRegistration(ctx, s.Store, r, joinTokenTTL)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, s.joinAnswer(c, a.w, tok))
}

// join is POST /api/webinars/:id/join {passcode}: the passcode, checked on the server behind a
// rate limit, buys an attendee token. A link-only webinar also needs its link (?t= or bearer).
func (s *Server) join(c echo.Context) error {
	a, err := s.accessTo(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in joinRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	switch {
	case a.set.Visibility == models.VisibilityRegistration:
		return echo.NewHTTPError(http.StatusConflict, "register for this webinar instead")
	case !a.set.HasPasscode():
		return echo.NewHTTPError(http.StatusConflict, "this webinar has no passcode")
	case a.set.Visibility == models.VisibilityLink && !s.holdsLink(c, a):
		return echo.NewHTTPError(http.StatusUnauthorized, "open the webinar's link first")
	}
	if err := s.checkPasscode(c, a, in.Passcode); err != nil {
		return err
	}
	tok, err := s.auth.joins.Issue(auth.JoinClaims{Webinar: a.w.ID, Role: models.RoleAttendee,
		ID: passcodePrefix + auth.NewToken()[:16], Expires: s.now().Add(joinTokenTTL).Unix()})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s.joinAnswer(c, a.w, tok))
}

// holdsLink: the caller is a member or presents a valid (passcode-less) link token.
func (s *Server) holdsLink(c echo.Context, a access) bool {
	if a.role != "" {
		return true
	}
	if a.cl.join == "" {
		return false
	}
	_, err := s.auth.joins.VerifyActive(c.Request().Context(), s.Store, a.cl.join, a.w.ID, true)
	return err == nil
}

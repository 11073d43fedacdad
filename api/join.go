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
	// Name makes the caller a participant of the room (issue 9); without it, the join only
	// buys a passcode token, as before.
	Name *string `json:"name"`
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
	if err := s.limitRegistrations(c, a.w.ID); err != nil {
		return err
	}
	if err := s.checkPasscode(c, a, in.Passcode); err != nil {
		return err
	}
	tok, err := s.registerOrAdd(c, models.NewRegistration{WebinarID: a.w.ID, Name: name, Email: email})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, s.joinAnswer(c, a.w, tok))
}

// limitRegistrations applies the registration limits per client address and per webinar: 429
// with Retry-After beyond them. Every attempt counts, duplicates too.
func (s *Server) limitRegistrations(c echo.Context, webinarID string) error {
	if ok, wait := s.auth.regsByAddr.Take(auth.IPKey(clientIP(c))); !ok {
		return tooMany(c, wait, "too many registrations from your address: try again later")
	}
	if ok, wait := s.auth.regsByWebinar.Take(webinarID); !ok {
		return tooMany(c, wait, "too many registrations for this webinar right now: try again shortly")
	}
	return nil
}

// registerOrAdd stores a registration and returns its join token. An email registered before
// gets one more token for its registration, answered exactly like a new one, so the answer
// never tells whether someone registered (and the first holder's link keeps working). No
// mailer is configured in Lectern yet; with one, both answers would send the link by mail.
// A revoked registration stays revoked: its email gets a token that will not work, which
// says no more than the host's revocation already did.
func (s *Server) registerOrAdd(c echo.Context, in models.NewRegistration) (string, error) {
	ctx := c.Request().Context()
	r, err := s.Store.CreateRegistration(ctx, in)
	if err == nil {
		return s.auth.joins.IssueForRegistration(ctx, s.Store, r, joinTokenTTL)
	}
	if !errors.Is(err, models.ErrConflict) {
		return "", err
	}
	if r, err = s.Store.RegistrationByEmail(ctx, in.WebinarID, in.Email); err != nil {
		return "", err
	}
	tok, err := s.auth.joins.AddForRegistration(ctx, s.Store, r, joinTokenTTL)
	if errors.Is(err, models.ErrNotFound) { // revoked
		return s.auth.joins.Issue(auth.JoinClaims{Webinar: r.WebinarID, Role: r.Role, Registration: r.ID,
			Expires: s.now().Add(joinTokenTTL).Unix()})
	}
	return tok, err
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
	if in.Name != nil {
		return s.joinRoom(c, a, *in.Name, in.Passcode)
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
		ID: passcodePrefix + auth.NewToken()[:16], Expires: s.now().Add(joinTokenTTL).Unix(), Epoch: a.set.LinkEpoch})
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

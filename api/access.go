package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

// access is what the caller may do in one webinar.
type access struct {
	w    models.Webinar
	set  models.WebinarSettings
	role models.Role // "" when the caller has none here
	cl   *caller
	// pstate is the state of the participant the caller's token names ("" for none): only an
	// admitted one may watch, even a public webinar.
	pstate models.ParticipantState
	// presenter: the caller holds the presenter's own watch link (GET .../watch-link).
	presenter bool
}

// restricted: watching needs a role (a join token or an account), not just the link.
func (a access) restricted() bool {
	return a.set.Visibility != models.VisibilityPublic || a.set.HasPasscode()
}

// can reports whether the caller may do act. Anyone may watch and export a public webinar
// without a passcode (webinars made before accounts existed are such).
func (a access) can(act auth.Action) bool {
	if a.pstate != "" && a.pstate != models.StateAdmitted && (act == auth.ActView || act == auth.ActExport) {
		return false
	}
	if a.role != "" && auth.Can(a.role, act) {
		return true
	}
	return !a.restricted() && (act == auth.ActView || act == auth.ActExport)
}

// settingsOf returns a webinar's settings; a webinar without any (made by the old CLI) is
// public and unowned.
func (s *Server) settingsOf(c echo.Context, id string) (models.WebinarSettings, error) {
	set, err := s.Store.WebinarSettings(c.Request().Context(), id)
	if errors.Is(err, models.ErrNotFound) {
		return models.WebinarSettings{WebinarID: id, Visibility: models.VisibilityPublic}, nil
	}
	return set, err
}

// accessTo loads webinar id and works out the caller's role in it: admins are the host of
// every webinar, accounts have their member role, and a join token gives its role if it is
// valid for this webinar's visibility and passcode.
func (s *Server) accessTo(c echo.Context, id string) (access, error) {
	w, err := s.Store.Webinar(c.Request().Context(), id)
	if err != nil {
		return access{}, err
	}
	return s.accessToWebinar(c, w)
}

func (s *Server) accessToWebinar(c echo.Context, w models.Webinar) (access, error) {
	ctx := c.Request().Context()
	set, err := s.settingsOf(c, w.ID)
	if err != nil {
		return access{}, err
	}
	a := access{w: w, set: set, cl: callerOf(c)}
	if u := a.cl.user; u != nil {
		if u.Admin {
			a.role = models.RoleHost
			return a, nil
		}
		r, err := s.Store.MemberRole(ctx, w.ID, u.ID)
		if err == nil {
			a.role = r
			return a, nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return access{}, err
		}
	}
	if key := auth.BearerToken(c.Request().Header.Get("Authorization")); key != "" && w.KeyMatches(key) {
		// The stream key is a presenter's credential (OBS, the studio link): it may publish,
		// so it may also see what a panelist sees.
		a.role = models.RolePanelist
		return a, nil
	}
	if a.cl.join != "" {
		// Unregistered tokens are let through here and judged by joinAccepted, which knows
		// the presenter's own link.
		claims, err := s.auth.joins.VerifyActive(ctx, s.Store, a.cl.join, w.ID, true)
		if err != nil && !errors.Is(err, auth.ErrInvalidToken) {
			return access{}, err
		}
		if err == nil && joinAccepted(set, claims) {
			a.presenter = strings.HasPrefix(claims.ID, presenterPrefix)
			if a.role, a.pstate, err = s.participantRole(ctx, w.ID, claims); err != nil {
				return access{}, err
			}
		}
	}
	return a, nil
}

// passcodePrefix marks the id of join tokens issued after a passcode check (POST .../join).
// The dot is outside the base64url alphabet of random ids, so a link token issued before a
// passcode was set can never pass for one.
const passcodePrefix = "p."

// presenterPrefix marks the id of a presenter's own watch link (GET .../watch-link). The dot
// is outside the base64url alphabet, so no random id can start with it by chance.
const presenterPrefix = "studio."

// joinAccepted: a registration webinar takes only registrations' tokens; with a passcode set,
// only tokens that went through a passcode check pass: a registration (registering asks for
// the passcode) or a token from POST .../join. A presenter's link passes both: it was issued
// to someone who may publish.
func joinAccepted(set models.WebinarSettings, c auth.JoinClaims) bool {
	if c.Registration == "" && (strings.HasPrefix(c.ID, presenterPrefix) || participantToken(c)) {
		return true
	}
	if set.Visibility == models.VisibilityRegistration && c.Registration == "" {
		return false
	}
	if !set.HasPasscode() {
		return true
	}
	return c.Registration != "" || strings.HasPrefix(c.ID, passcodePrefix)
}

// accessError is a refusal that tells a viewer's page what it needs to get in.
type accessError struct {
	Status               int    `json:"-"`
	Message              string `json:"error"`
	PasscodeRequired     bool   `json:"passcode_required,omitempty"`
	RegistrationRequired bool   `json:"registration_required,omitempty"`
}

func (e *accessError) Error() string { return e.Message }

// deny is the refusal for a caller lacking act: 401 when they have no role at all (no or a bad
// token, not signed in), 403 when they are someone who may not do this.
func (a access) deny(act auth.Action) error {
	switch a.pstate {
	case models.StateWaiting:
		return &accessError{Status: http.StatusForbidden, Message: "waiting for the host to admit you"}
	case models.StateLeft:
		return &accessError{Status: http.StatusForbidden, Message: "you left this webinar: join again to come back"}
	case models.StateDenied, models.StateRemoved:
		return &accessError{Status: http.StatusForbidden, Message: "you were " + string(a.pstate) + " from this webinar"}
	}
	if a.cl.user == nil && a.role == "" {
		e := &accessError{Status: http.StatusUnauthorized, Message: "this webinar needs a join link, a registration or a sign-in"}
		if act == auth.ActView || act == auth.ActExport {
			e.PasscodeRequired = a.set.HasPasscode()
			e.RegistrationRequired = a.set.Visibility == models.VisibilityRegistration
		}
		return e
	}
	return &accessError{Status: http.StatusForbidden, Message: "your role in this webinar does not allow this"}
}

// require loads webinar id and checks the caller may do act in it.
func (s *Server) require(c echo.Context, id string, act auth.Action) (access, error) {
	a, err := s.accessTo(c, id)
	if err != nil {
		return access{}, err
	}
	if !a.can(act) {
		return access{}, a.deny(act)
	}
	return a, nil
}

// allow checks an already loaded webinar (for handlers that load it themselves).
func (s *Server) allow(c echo.Context, w models.Webinar, act auth.Action) error {
	a, err := s.accessToWebinar(c, w)
	if err != nil {
		return err
	}
	if !a.can(act) {
		return a.deny(act)
	}
	return nil
}

package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/internal/region"
	"lectern/models"
)

// linkTokenTTL is how long a host's shared watch link works: a term of classes.
const linkTokenTTL = 120 * 24 * time.Hour

// webinarView is a webinar as its members see it. StreamKey and the studio link only go to
// those who may manage settings (host, co-host, admin).
type webinarView struct {
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	Language    string            `json:"language"`
	Visibility  models.Visibility `json:"visibility"`
	HasPasscode bool              `json:"has_passcode"`
	StartsAt    *time.Time        `json:"starts_at,omitempty"`
	OwnerID     string            `json:"owner_id,omitempty"`
	Role        models.Role       `json:"role,omitempty"`
	Live        bool              `json:"live"`
	Recording   bool              `json:"recording"`
	Viewers     int               `json:"viewers"`
	Ended       bool              `json:"ended"` // ended for everyone until the host reopens it
	CreatedAt   time.Time         `json:"created_at"`
	StreamKey   string            `json:"stream_key,omitempty"`
	WatchURL    string            `json:"watch_url"`
	WHEPURL     string            `json:"whep_url"`
	WHIPURL     string            `json:"whip_url,omitempty"`
	StudioURL   string            `json:"studio_url,omitempty"`
	Regions     []string          `json:"regions,omitempty"` // hosts: processing regions allowed (none listed: any)

	// Interaction settings (issue 9).
	Chat models.ChatSetting `json:"chat"`
	QA   bool               `json:"qa"`
	// Room switches, so the studio console shows them as they are.
	WaitingRoom bool `json:"waiting_room"`
	Locked      bool `json:"locked"`

	// For hosts and co-hosts: may a recording start now, and why not (issue 11).
	RecordingAllowed *bool   `json:"recording_allowed,omitempty"`
	RecordingBlocked *string `json:"recording_blocked,omitempty"`
}

// baseURL is where links point: the configured public URL, else the request's own origin.
func (s *Server) baseURL(c echo.Context) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if s.secure(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

// view renders a for its caller, with a fresh signed attendee link for link-only webinars.
func (s *Server) view(c echo.Context, a access) (webinarView, error) {
	base := s.baseURL(c)
	v := webinarView{ID: a.w.ID, Title: a.w.Title, Language: a.w.Language, Visibility: a.set.Visibility,
		HasPasscode: a.set.HasPasscode(), OwnerID: a.set.OwnerID, Role: a.role, CreatedAt: a.w.CreatedAt,
		Live: s.Broadcast.Live(a.w.ID), Recording: s.recording(a.w.ID), Viewers: s.viewers(a.w.ID),
		WatchURL: base + "/watch/" + a.w.ID, WHEPURL: base + "/whep/" + a.w.ID}
	if !a.set.StartsAt.IsZero() {
		t := a.set.StartsAt
		v.StartsAt = &t
	}
	room, err := s.roomSettings(c.Request().Context(), a.w.ID)
	if err != nil {
		return webinarView{}, err
	}
	v.Chat, v.QA = room.Chat, room.QA
	v.WaitingRoom, v.Locked = room.WaitingRoom, room.Locked
	if v.Ended, err = s.ended(c.Request().Context(), a.w.ID); err != nil {
		return webinarView{}, err
	}
	if a.role != "" && auth.Can(a.role, auth.ActManageSettings) {
		v.StreamKey, v.Regions = a.w.StreamKey, a.w.Regions
		v.WHIPURL = base + "/whip/" + a.w.ID
		v.StudioURL = base + "/studio/" + a.w.ID + "?key=" + url.QueryEscape(a.w.StreamKey)
		if err := s.policyView(c.Request().Context(), &v); err != nil {
			return webinarView{}, err
		}
		if a.set.Visibility == models.VisibilityLink {
			tok, err := s.auth.joins.Issue(auth.JoinClaims{Webinar: a.w.ID, Role: models.RoleAttendee,
				Expires: s.now().Add(linkTokenTTL).Unix(), Epoch: a.set.LinkEpoch})
			if err != nil {
				return webinarView{}, err
			}
			v.WatchURL += "?t=" + url.QueryEscape(tok)
		}
	}
	return v, nil
}

func (s *Server) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

type webinarRequest struct {
	Title      *string            `json:"title"`
	Visibility *models.Visibility `json:"visibility"`
	Language   *string            `json:"language"`
	Passcode   *string            `json:"passcode"` // "" removes it (PATCH)
	StartsAt   *time.Time         `json:"starts_at"`
	// Room switches (PATCH only): hold new attendees for admission; take no new joins.
	WaitingRoom *bool `json:"waiting_room"`
	Locked      *bool `json:"locked"`

	// Interaction settings (issue 9), PATCH only.
	Chat *models.ChatSetting `json:"chat"`
	QA   *bool               `json:"qa"`

	// Processing regions the webinar's audio and text may go to (PATCH only; [] = any the
	// account policy allows).
	Regions *[]string `json:"regions"`
}

// check validates the fields present; everything is checked before anything is written.
func (in webinarRequest) check() error {
	if in.Title != nil {
		if t := strings.TrimSpace(*in.Title); t == "" || len(t) > 200 {
			return echo.NewHTTPError(http.StatusBadRequest, "title must be 1-200 characters")
		}
	}
	if in.Visibility != nil && !in.Visibility.Valid() {
		return echo.NewHTTPError(http.StatusBadRequest, `visibility must be "public", "link" or "registration"`)
	}
	if in.Language != nil && !langTag.MatchString(*in.Language) {
		return echo.NewHTTPError(http.StatusBadRequest, "language must be a language tag like en or pt-BR")
	}
	if in.Passcode != nil && *in.Passcode != "" && (len(*in.Passcode) < 4 || len(*in.Passcode) > 64) {
		return echo.NewHTTPError(http.StatusBadRequest, "passcode must be 4-64 characters")
	}
	if in.Chat != nil && !in.Chat.Valid() {
		return echo.NewHTTPError(http.StatusBadRequest, `chat must be "everyone", "hosts" or "off"`)
	}
	if in.Regions != nil {
		if err := region.Validate(*in.Regions); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
	}
	return nil
}

func (s *Server) hashPasscode(p string) (string, error) {
	params := s.Argon2
	if params == (auth.Argon2Params{}) {
		params = auth.DefaultArgon2
	}
	return auth.HashPasswordWith(p, params)
}

// createWebinar is POST /api/webinars: the caller becomes its host.
func (s *Server) createWebinar(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	var in webinarRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.Title == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "title is required")
	}
	if err := in.check(); err != nil {
		return err
	}
	if err := s.checkSpoken(in.Language); err != nil {
		return err
	}
	set := models.WebinarSettings{OwnerID: cl.user.ID, Visibility: models.VisibilityPublic}
	if in.Visibility != nil {
		set.Visibility = *in.Visibility
	}
	if in.StartsAt != nil {
		set.StartsAt = *in.StartsAt
	}
	if err := s.checkPolicy(c.Request().Context(), set, in, true); err != nil {
		return err
	}
	if in.Passcode != nil && *in.Passcode != "" {
		if set.PasscodeHash, err = s.hashPasscode(*in.Passcode); err != nil {
			return signInError(c, err)
		}
	}
	lang := ""
	if in.Language != nil {
		lang = *in.Language
	}
	ctx := c.Request().Context()
	w, err := s.Store.CreateWebinar(ctx, models.NewWebinar{Title: *in.Title, Language: lang})
	if err != nil {
		return err
	}
	set.WebinarID = w.ID
	if err := s.Store.SaveWebinarSettings(ctx, set); err != nil {
		s.Store.DeleteWebinar(ctx, w.ID) // a refused request leaves nothing behind
		return err
	}
	if err := s.applyNewWebinarPolicy(ctx, w.ID); err != nil {
		s.Store.DeleteWebinar(ctx, w.ID)
		return err
	}
	auth.Record(ctx, s.Store, auth.EventSettingsChanged, cl.user.ID, w.ID, clientIP(c), map[string]any{"created": true, "visibility": set.Visibility})
	v, err := s.view(c, access{w: w, set: set, role: models.RoleHost, cl: cl})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

// listWebinars is GET /api/webinars: the caller's webinars (every webinar for admins).
func (s *Server) listWebinars(c echo.Context) error {
	cl, err := signedIn(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var ws []models.Webinar
	if cl.user.Admin {
		if ws, err = s.Store.Webinars(ctx); err != nil {
			return err
		}
	} else {
		ms, err := s.Store.Memberships(ctx, cl.user.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			w, err := s.Store.Webinar(ctx, m.WebinarID)
			if err != nil {
				return err
			}
			ws = append(ws, w)
		}
	}
	out := []webinarView{}
	for _, w := range ws {
		a, err := s.accessToWebinar(c, w)
		if err != nil {
			return err
		}
		v, err := s.view(c, a)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(http.StatusOK, out)
}

// webinarInfo is GET /api/webinars/:id: public-safe for viewers; members see their role, and
// hosts and co-hosts the stream key and links.
func (s *Server) webinarInfo(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActView)
	if err != nil {
		return err
	}
	if a.role == "" {
		ended, err := s.ended(c.Request().Context(), a.w.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, publicWebinar{
			ID: a.w.ID, Title: a.w.Title, Language: a.w.Language, Ended: ended,
			Live: s.Broadcast.Live(a.w.ID), Recording: s.recording(a.w.ID), Viewers: s.viewers(a.w.ID),
		})
	}
	v, err := s.view(c, a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// patchWebinar is PATCH /api/webinars/:id with any of the create fields.
func (s *Server) patchWebinar(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	var in webinarRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	if err := s.checkSpoken(in.Language); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.checkPolicy(ctx, a.set, in, false); err != nil {
		return err
	}
	set := a.set
	if in.Visibility != nil {
		set.Visibility = *in.Visibility
	}
	if in.StartsAt != nil {
		set.StartsAt = *in.StartsAt
	}
	if in.Passcode != nil {
		set.PasscodeHash = ""
		if *in.Passcode != "" {
			if set.PasscodeHash, err = s.hashPasscode(*in.Passcode); err != nil {
				return signInError(c, err)
			}
		}
	}
	if in.Visibility != nil || in.StartsAt != nil || in.Passcode != nil {
		if err := s.Store.SaveWebinarSettings(ctx, set); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
	}
	if err := s.patchRoom(c, a.w.ID, in); err != nil {
		return err
	}
	title, lang := "", ""
	if in.Title != nil {
		title = *in.Title
	}
	if in.Language != nil {
		lang = *in.Language
	}
	w := a.w
	if title != "" || lang != "" {
		if w, err = s.Store.UpdateWebinar(ctx, w.ID, title, lang); err != nil {
			return err
		}
		s.Live.Update(w)
	}
	if in.Regions != nil {
		if err := s.Store.SetWebinarRegions(ctx, w.ID, *in.Regions); err != nil {
			return err
		}
		w.Regions = *in.Regions
		s.Live.Update(w)
	}
	fields := []string{}
	for name, set := range map[string]bool{"title": in.Title != nil, "language": in.Language != nil,
		"visibility": in.Visibility != nil, "passcode": in.Passcode != nil, "starts_at": in.StartsAt != nil,
		"waiting_room": in.WaitingRoom != nil, "locked": in.Locked != nil,
		"chat": in.Chat != nil, "qa": in.QA != nil, "regions": in.Regions != nil} {
		if set {
			fields = append(fields, name)
		}
	}
	auth.Record(ctx, s.Store, auth.EventSettingsChanged, a.cl.user.ID, w.ID, clientIP(c), map[string]any{"fields": fields})
	a.w, a.set = w, set
	v, err := s.view(c, a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) deleteWebinar(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActDelete)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Media and captions stop first, so no final is left trying to reach a deleted transcript.
	if err := s.stopRecording(ctx, a.w.ID); err != nil {
		s.Logger.Error("stopping the recording of a deleted webinar", "webinar", a.w.ID, "err", err)
	}
	s.stopCount(a.w.ID)
	s.Broadcast.EndRoom(a.w.ID)
	s.Live.Remove(a.w.ID)
	if err := s.Store.DeleteWebinar(ctx, a.w.ID); err != nil {
		return err
	}
	if s.Recorder != nil {
		if err := s.Recorder.Remove(a.w.ID); err != nil {
			s.Logger.Error("deleting the recordings of a deleted webinar", "webinar", a.w.ID, "err", err)
		}
	}
	auth.Record(ctx, s.Store, auth.EventWebinarDeleted, actorID(a.cl), a.w.ID, clientIP(c), map[string]any{"title": a.w.Title})
	return c.NoContent(http.StatusNoContent)
}

// rotateStreamKey is POST /api/webinars/:id/stream-key: the old key stops working at once
// (a presenter already live stays live; the next publish needs the new key).
func (s *Server) rotateStreamKey(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.Store.RotateStreamKey(ctx, a.w.ID)
	if err != nil {
		return err
	}
	auth.Record(ctx, s.Store, auth.EventStreamKeyRotated, actorID(a.cl), w.ID, clientIP(c), nil)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"stream_key": w.StreamKey})
}

func actorID(cl *caller) string {
	if cl != nil && cl.user != nil {
		return cl.user.ID
	}
	return ""
}

type memberView struct {
	models.Member
	Email string `json:"email"`
	Name  string `json:"display_name"`
}

// members is GET /api/webinars/:id/members (host, co-host).
func (s *Server) members(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActModerate)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ms, err := s.Store.Members(ctx, a.w.ID)
	if err != nil {
		return err
	}
	out := []memberView{}
	for _, m := range ms {
		u, err := s.Store.User(ctx, m.UserID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
		out = append(out, memberView{Member: m, Email: u.Email, Name: u.DisplayName})
	}
	return c.JSON(http.StatusOK, out)
}

type memberRequest struct {
	Email string      `json:"email"`
	Role  models.Role `json:"role"` // cohost, panelist, attendee; "" removes
}

// putMember is PUT /api/webinars/:id/members {email, role}: host only, and nobody can be made
// host (ownership is not handed out this way) or take the owner's role away.
func (s *Server) putMember(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageMembers)
	if err != nil {
		return err
	}
	var in memberRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.Role == models.RoleHost || (in.Role != "" && !in.Role.Valid()) {
		return echo.NewHTTPError(http.StatusBadRequest, `role must be "cohost", "panelist", "attendee" or "" to remove`)
	}
	ctx := c.Request().Context()
	u, err := s.Store.UserByEmail(ctx, in.Email)
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no account with this email")
	}
	if err != nil {
		return err
	}
	if u.ID == a.set.OwnerID {
		return echo.NewHTTPError(http.StatusBadRequest, "the owner's role cannot change")
	}
	if in.Role == "" {
		err = s.Store.RemoveMember(ctx, a.w.ID, u.ID)
	} else {
		err = s.Store.SetMember(ctx, a.w.ID, u.ID, in.Role)
	}
	if err != nil {
		return err
	}
	auth.Record(ctx, s.Store, auth.EventRoleChanged, actorID(a.cl), a.w.ID, clientIP(c), map[string]any{"user": u.ID, "role": in.Role})
	s.leaveStageUnlessPublisher(a.w.ID, u.ID, in.Role)
	return c.JSON(http.StatusOK, memberView{Member: models.Member{WebinarID: a.w.ID, UserID: u.ID, Role: in.Role}, Email: u.Email, Name: u.DisplayName})
}

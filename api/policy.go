package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/internal/region"
	"lectern/models"
)

// The account policy (issue 11): what an admin decides once for every webinar. A webinar's
// own settings can only be stricter; what the policy turns off is off for every webinar,
// also those set up before the policy changed (the effective setting is webinar ∩ policy,
// computed when used, so the webinar's own choice comes back if the admin allows it again).

// Refusals, one wording each, so pages can show them as they are.
const (
	policyNoChat      = "the account policy turns chat off"
	policyNoQA        = "the account policy turns Q&A off"
	policyNoRecording = "the account policy turns recording off"
	policyPasscode    = "the account policy requires a passcode for webinars that are not public"
)

// getPolicy is GET /api/admin/policy.
func (s *Server) getPolicy(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	p, err := s.Store.Policy(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// putPolicy is PUT /api/admin/policy: the fields present replace the current ones, the
// others keep their values. A refused policy changes nothing. What the new policy forbids
// stops at once: a recording it turns off, a webinar past a new duration limit.
func (s *Server) putPolicy(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	old, err := s.Store.Policy(ctx)
	if err != nil {
		return err
	}
	next := old
	next.AllowedRegions = slices.Clone(old.AllowedRegions) // decoding must not write into old's
	if err := bind(c, &next); err != nil {
		return err
	}
	if next.AllowedRegions == nil { // "allowed_regions": null means any, like []
		next.AllowedRegions = []string{}
	}
	if err := next.Check(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err := s.Store.SavePolicy(ctx, next); err != nil {
		return err
	}
	auth.Record(ctx, s.Store, "policy.changed", cl.user.ID, "policy", clientIP(c), map[string]any{"before": old, "after": next})
	s.Live.SetPolicyRegions(region.Of(next.AllowedRegions))
	if next.Recording == models.SwitchOff && old.Recording != models.SwitchOff {
		s.stopAllRecordings(context.WithoutCancel(ctx), policyNoRecording)
	}
	if next.MaxDurationMinutes != old.MaxDurationMinutes {
		if err := s.applyDurationLimit(ctx, next.MaxDuration()); err != nil {
			s.Logger.Error("applying a new duration limit", "err", err)
		}
	}
	return c.JSON(http.StatusOK, next)
}

// roomSettings are a webinar's room switches as they apply: the webinar's own, limited by
// the policy.
func (s *Server) roomSettings(ctx context.Context, webinar string) (models.RoomSettings, error) {
	p, err := s.Store.Policy(ctx)
	if err != nil {
		return models.RoomSettings{}, err
	}
	r, err := s.Store.RoomSettings(ctx, webinar)
	if err != nil {
		return models.RoomSettings{}, err
	}
	return p.Limit(r), nil
}

// policyAllows refuses, for every role, a room feature the policy turns off (chat, qa).
func (s *Server) policyAllows(ctx context.Context, feature string) error {
	p, err := s.Store.Policy(ctx)
	if err != nil {
		return err
	}
	switch {
	case feature == "chat" && p.Chat == models.SwitchOff:
		return echo.NewHTTPError(http.StatusForbidden, policyNoChat)
	case feature == "qa" && p.QA == models.SwitchOff:
		return echo.NewHTTPError(http.StatusForbidden, policyNoQA)
	}
	return nil
}

// checkPolicy refuses a create or PATCH that asks for more than the policy allows, before
// anything is written: chat or Q&A turned on where the policy turns them off, a webinar that
// is not public left without a passcode where the policy requires one. A PATCH that does not
// touch visibility or passcode is not refused for an older webinar's missing passcode: the
// host can still run it (and is told when they edit its access).
func (s *Server) checkPolicy(ctx context.Context, set models.WebinarSettings, in webinarRequest, creating bool) error {
	p, err := s.Store.Policy(ctx)
	if err != nil {
		return err
	}
	if p.Chat == models.SwitchOff && in.Chat != nil && *in.Chat != models.ChatOff {
		return echo.NewHTTPError(http.StatusForbidden, policyNoChat+`: a webinar's chat can only be "off"`)
	}
	if p.QA == models.SwitchOff && in.QA != nil && *in.QA {
		return echo.NewHTTPError(http.StatusForbidden, policyNoQA+": a webinar cannot turn it on")
	}
	if !p.PasscodeRequired || (!creating && in.Visibility == nil && in.Passcode == nil) {
		return nil
	}
	vis := set.Visibility
	if in.Visibility != nil {
		vis = *in.Visibility
	}
	hasPasscode := set.HasPasscode()
	if in.Passcode != nil {
		hasPasscode = *in.Passcode != ""
	}
	if vis != models.VisibilityPublic && !hasPasscode {
		return echo.NewHTTPError(http.StatusForbidden, policyPasscode)
	}
	return nil
}

// applyNewWebinarPolicy gives a new webinar the policy's defaults (a waiting room).
func (s *Server) applyNewWebinarPolicy(ctx context.Context, webinar string) error {
	p, err := s.Store.Policy(ctx)
	if err != nil || !p.WaitingRoomDefault {
		return err
	}
	r, err := s.Store.RoomSettings(ctx, webinar)
	if err != nil {
		return err
	}
	r.WaitingRoom = true
	return s.Store.SaveRoomSettings(ctx, webinar, r)
}

// recordingAllowed says whether the webinar may be recorded now, and why not ("" if it may).
// Only the account policy decides today; a webinar has no recording setting of its own.
func (s *Server) recordingAllowed(ctx context.Context) (ok bool, reason string, err error) {
	p, err := s.Store.Policy(ctx)
	if err != nil {
		return false, "", err
	}
	if p.Recording == models.SwitchOff {
		return false, policyNoRecording, nil
	}
	return true, "", nil
}

// noRecorder is why nothing can be recorded on a server without a recorder.
const noRecorder = "recording is not configured on this server"

// policyView adds what hosts and co-hosts need to know of the policy to a webinar's view.
func (s *Server) policyView(ctx context.Context, v *webinarView) error {
	ok, reason, err := s.recordingAllowed(ctx)
	if err != nil {
		return err
	}
	if ok && s.Recorder == nil {
		ok, reason = false, noRecorder
	}
	v.RecordingAllowed, v.RecordingBlocked = &ok, &reason
	return nil
}

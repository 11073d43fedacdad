package api

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
	"lectern/record"
	"lectern/room"
	"lectern/webhook"
)

// Audit events of webhook endpoints.
const (
	eventWebhookCreated = "webhook.created"
	eventWebhookDeleted = "webhook.deleted"
)

// maxWebhooks bounds the endpoints of one scope (the account, or one webinar): every event
// is delivered to each, so their number is the fan-out of one event.
const maxWebhooks = 20

func (s *Server) webhookRoutes() {
	e := s.echo
	e.GET("/api/admin/webhooks", s.adminWebhooks)
	e.POST("/api/admin/webhooks", s.adminCreateWebhook)
	e.DELETE("/api/admin/webhooks/:id", s.adminDeleteWebhook)
	e.GET("/api/admin/webhooks/:id/deliveries", s.webhookDeliveries)
	e.GET("/api/webinars/:id/webhooks", s.webinarWebhooks)
	e.POST("/api/webinars/:id/webhooks", s.webinarCreateWebhook)
	e.DELETE("/api/webinars/:id/webhooks/:hid", s.webinarDeleteWebhook)
}

type webhookRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Format      string   `json:"format"` // "json" (default) or "slack"
	Description string   `json:"description"`
}

// webhookCreated is the one answer that shows the endpoint's secret.
type webhookCreated struct {
	models.Webhook
	Secret string `json:"secret"`
}

// adminWebhooks is GET /api/admin/webhooks: every endpoint, account-wide and per webinar.
func (s *Server) adminWebhooks(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	hs, err := s.Store.Webhooks(c.Request().Context(), "", true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, hs)
}

// adminCreateWebhook is POST /api/admin/webhooks: an endpoint that hears every webinar.
func (s *Server) adminCreateWebhook(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	return s.createWebhook(c, "", cl.user.ID)
}

// adminDeleteWebhook is DELETE /api/admin/webhooks/:id (any endpoint, a webinar's too).
func (s *Server) adminDeleteWebhook(c echo.Context) error {
	cl, err := requireAdmin(c)
	if err != nil {
		return err
	}
	h, err := s.Store.Webhook(c.Request().Context(), c.Param("id"))
	if err != nil {
		return webhookNotFound(err)
	}
	return s.deleteWebhook(c, h, cl.user.ID)
}

// webhookDeliveries is GET /api/admin/webhooks/:id/deliveries?limit=: the newest attempts.
func (s *Server) webhookDeliveries(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return echo.NewHTTPError(http.StatusBadRequest, "limit must be 1-500")
		}
		limit = n
	}
	ctx := c.Request().Context()
	if _, err := s.Store.Webhook(ctx, c.Param("id")); err != nil {
		return webhookNotFound(err)
	}
	ds, err := s.Store.WebhookDeliveries(ctx, c.Param("id"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ds)
}

// webhookHost resolves the caller as the webinar's host (admins are every webinar's host).
// Co-hosts are not: an endpoint sends participant names out of Lectern, the owner's call.
func (s *Server) webhookHost(c echo.Context) (access, error) {
	a, err := s.accessTo(c, c.Param("id"))
	if err != nil {
		return access{}, err
	}
	if a.role != models.RoleHost {
		return access{}, a.deny(auth.ActDelete)
	}
	return a, nil
}

// webinarWebhooks is GET /api/webinars/:id/webhooks (host): the webinar's own endpoints.
func (s *Server) webinarWebhooks(c echo.Context) error {
	a, err := s.webhookHost(c)
	if err != nil {
		return err
	}
	hs, err := s.Store.Webhooks(c.Request().Context(), a.w.ID, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, hs)
}

// webinarCreateWebhook is POST /api/webinars/:id/webhooks (host).
func (s *Server) webinarCreateWebhook(c echo.Context) error {
	a, err := s.webhookHost(c)
	if err != nil {
		return err
	}
	return s.createWebhook(c, a.w.ID, a.cl.user.ID)
}

// webinarDeleteWebhook is DELETE /api/webinars/:id/webhooks/:hid (host). Another webinar's
// or an account-wide endpoint is not found here.
func (s *Server) webinarDeleteWebhook(c echo.Context) error {
	a, err := s.webhookHost(c)
	if err != nil {
		return err
	}
	h, err := s.Store.Webhook(c.Request().Context(), c.Param("hid"))
	if err != nil {
		return webhookNotFound(err)
	}
	if h.WebinarID != a.w.ID {
		return echo.NewHTTPError(http.StatusNotFound, "no such webhook")
	}
	return s.deleteWebhook(c, h, a.cl.user.ID)
}

func webhookNotFound(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such webhook")
	}
	return err
}

// createWebhook checks a registration and stores it for webinar ("" = account-wide). The
// answer is the only place the secret is ever shown.
func (s *Server) createWebhook(c echo.Context, webinar, actor string) error {
	var in webhookRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	h, err := s.checkWebhook(in)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	existing, err := s.Store.Webhooks(ctx, webinar, false)
	if err != nil {
		return err
	}
	if len(existing) >= maxWebhooks {
		return echo.NewHTTPError(http.StatusConflict, "at most "+strconv.Itoa(maxWebhooks)+" webhooks here: delete one first")
	}
	h.WebinarID, h.CreatedBy, h.Secret = webinar, actor, newWebhookSecret()
	if h, err = s.Store.CreateWebhook(ctx, h); err != nil {
		return err
	}
	auth.Record(ctx, s.Store, eventWebhookCreated, actor, h.ID, clientIP(c), webhookAudit(h))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, webhookCreated{Webhook: h, Secret: h.Secret})
}

// checkWebhook turns a request into an endpoint, or says what is wrong with it.
func (s *Server) checkWebhook(in webhookRequest) (models.Webhook, error) {
	if err := s.Webhooks.CheckURL(in.URL); err != nil {
		return models.Webhook{}, err
	}
	events := slices.Compact(slices.Sorted(slices.Values(in.Events)))
	if err := webhook.CheckEvents(events); err != nil {
		return models.Webhook{}, err
	}
	if in.Format == "" {
		in.Format = webhook.FormatJSON
	}
	if err := webhook.CheckFormat(in.Format); err != nil {
		return models.Webhook{}, err
	}
	desc := strings.TrimSpace(in.Description)
	if len(desc) > 200 || strings.ContainsAny(desc, "\x00\r\n") {
		return models.Webhook{}, errors.New("description must be at most 200 characters on one line")
	}
	return models.Webhook{URL: in.URL, Events: events, Format: in.Format, Description: desc}, nil
}

func (s *Server) deleteWebhook(c echo.Context, h models.Webhook, actor string) error {
	ctx := c.Request().Context()
	if err := s.Store.DeleteWebhook(ctx, h.ID); err != nil {
		return webhookNotFound(err)
	}
	auth.Record(ctx, s.Store, eventWebhookDeleted, actor, h.ID, clientIP(c), webhookAudit(h))
	return c.NoContent(http.StatusNoContent)
}

// webhookAudit is what the audit log keeps of an endpoint: its host, not its URL, whose path
// is the secret of chat services' incoming webhooks.
func webhookAudit(h models.Webhook) map[string]any {
	host := ""
	if u, err := url.Parse(h.URL); err == nil {
		host = u.Host
	}
	return map[string]any{"webinar": h.WebinarID, "host": host, "events": h.Events, "format": h.Format}
}

func newWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// The emit helpers below are the one-line hooks the handlers call where things happen. The
// dispatcher queues and returns at once: no request waits for a delivery.

// linkBase is where links in events point: the public URL, else the request's origin, else
// (no request: a recording stopped at shutdown) nothing, leaving the links relative.
func (s *Server) linkBase(c echo.Context) string {
	if c == nil {
		return strings.TrimRight(s.PublicURL, "/")
	}
	return s.baseURL(c)
}

// emitStarted sends webinar.started when a presenter's WHIP session starts (kind "whip").
func (s *Server) emitStarted(c echo.Context, kind string, w models.Webinar) {
	if kind == "whip" {
		s.Webhooks.Emit(webhook.WebinarStarted, w.ID, map[string]any{"title": w.Title, "watch_url": s.linkBase(c) + "/watch/" + w.ID})
	}
}

// emitEnded sends webinar.ended and, when captions ran, transcript.ready with the links of
// every transcript format.
func (s *Server) emitEnded(c echo.Context, webinar string) {
	base := s.linkBase(c) + "/api/webinars/" + webinar + "/transcript."
	formats := map[string]string{}
	for _, f := range []string{"txt", "srt", "vtt", "ttml", "json"} {
		formats[f] = base + f
	}
	s.Webhooks.Emit(webhook.WebinarEnded, webinar, map[string]any{"transcript_url": formats["txt"]})
	if s.EngineName != "" {
		s.Webhooks.Emit(webhook.TranscriptReady, webinar, map[string]any{"transcript_url": formats["txt"], "formats": formats})
	}
}

// emitJoined sends a participant's join (batched by the dispatcher).
func (s *Server) emitJoined(p room.Participant) {
	s.Webhooks.Emit(webhook.ParticipantJoined, p.Webinar, p)
}

// emitRecording sends recording.ready for a recording that stopped cleanly (err nil).
func (s *Server) emitRecording(webinar string, st record.Stopped, err error) {
	if err != nil {
		return
	}
	s.Webhooks.Emit(webhook.RecordingReady, webinar, map[string]any{"recording_id": st.ID, "duration_s": st.Duration.Seconds(),
		"bytes": st.Bytes, "url": s.linkBase(nil) + s.recordingURL(webinar, st.ID)})
}

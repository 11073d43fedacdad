// Package api is Lectern's HTTP surface: WHIP/WHEP, the JSON API, caption streams, exports and
// the pages. It is the only package that knows HTTP; it turns domain errors into one clear
// HTTP error each.
package api

import (
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"lectern/auth"
	"lectern/broadcast"
	"lectern/cluster"
	"lectern/live"
	"lectern/models"
	"lectern/record"
	"lectern/retranscribe"
	"lectern/room"
	"lectern/webhook"
)

// Deps are the parts the API serves. All are required unless noted.
type Deps struct {
	Store     *models.Store
	Broadcast *broadcast.Server
	Live      *live.Manager
	Gatherer  prometheus.Gatherer // for /metrics
	// EngineName is the speech engine in use; EngineError says why there is none.
	EngineName, EngineError string
	Logger                  *slog.Logger

	// SpokenLanguages are the languages (ISO 639-1) the engine transcribes, which a webinar's
	// spoken language must be one of; nil: the engine does not say, any is accepted.
	SpokenLanguages []string

	// Accounts and access (issue 5).
	Secret     []byte            // server secret (auth.LoadOrCreateSecret); nil: random, tokens die with the process
	OIDC       *auth.OIDC        // nil: no single sign-on
	SSOOnly    bool              // password sign-in only for admins
	TrustProxy bool              // believe X-Forwarded-For / -Proto from a reverse proxy
	PublicURL  string            // base of links handed out; "" = the request's own origin
	Clock      auth.Clock        // nil: time.Now (tests fix it)
	Argon2     auth.Argon2Params // zero: auth.DefaultArgon2 (tests use cheap ones)

	// Recorder records webinars to WebM (issue 11); nil: recording is off.
	Recorder *record.Manager
	// Retranscriber transcribes recordings again into transcript versions; nil: not offered.
	Retranscriber *retranscribe.Runner

	// StreamsPerAddr caps the caption streams one client address holds open at once
	// (0: DefaultStreamsPerAddr, negative: no cap).
	StreamsPerAddr int

	// Room holds participants' live channels (issue 9). nil: a private one per server.
	Room *room.Manager
	// RoomEvents is the live channel chat, Q&A and hands publish to (issue 9); nil: no live
	// push, the REST API still works.
	RoomEvents roomEvents

	// AfterFunc runs the duration limit's timers (issue 11); nil: time.AfterFunc. Tests pass
	// a fake that fires as they move Clock.
	AfterFunc AfterFunc

	// Webhooks delivers events to registered endpoints (issue 11); nil: none are sent.
	Webhooks *webhook.Dispatcher

	// Cluster is the registry of nodes and webinar origins (issue 12); nil: cluster.Single.
	Cluster cluster.Directory
}

// Server holds the API's dependencies; its routes live in routes().
type Server struct {
	Deps
	echo *echo.Echo
	auth authParts

	streams  *streamLimiter
	conns    *roomConns    // participants' WHEP sessions and caption streams
	stopping chan struct{} // closed by BeginShutdown: long-lived streams end
	stopOnce sync.Once

	chatLimit *auth.Limiter // chat messages and questions, per participant
	hands     *hands
	limits    *durationLimits        // webinars counting towards the policy's duration limit
	edges     *edgeParts             // origin claims and edge pulls (edge.go)
	stageCmds cluster.StageCommander // nil alone: every stage session is this node's
}

// New builds the HTTP handler tree.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Room == nil {
		d.Room = room.NewManager(d.Logger, 0, 0)
	}
	if d.RoomEvents == nil { // chat, Q&A and hands publish on the participants' live channel
		d.RoomEvents = d.Room
	}
	// Take the bus's stage commands before the drain wrapper hides them.
	stageCmds, _ := d.Cluster.(cluster.StageCommander)
	d.Cluster = cluster.WithDrain(d.Cluster) // a lone server drains too (SIGTERM)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	parts, err := newAuthParts(d)
	if err != nil {
		panic("api: " + err.Error()) // only a broken secret derivation gets here
	}
	s := &Server{Deps: d, echo: e, auth: parts, streams: newStreamLimiter(d.StreamsPerAddr), conns: newRoomConns(), stopping: make(chan struct{})}
	s.chatLimit = auth.NewLimiter(auth.LimitPolicy{Window: chatWindow, MaxFailures: chatBurst, MaxKeys: chatKeys}, d.Clock)
	s.hands = newHands()
	s.conns.onPresence = s.publishCount
	s.limits = newDurationLimits()
	s.edges = newEdgeParts(d)
	// Rate limits and the audit log key on the client address: take it from the connection
	// unless a trusted proxy is in front, or anyone could pick theirs with a header.
	e.IPExtractor = echo.ExtractIPDirect()
	if d.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.HTTPErrorHandler = s.handleError
	e.Use(securityHeaders, s.identify)
	s.routes()
	s.followClusterCounts()
	s.followClusterStage(stageCmds)
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/api/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", openAPI) })
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{})))

	for _, kind := range []string{"whip", "whep"} {
		g := e.Group("/"+kind, cors)
		g.POST("/:id", s.offerHandler(kind))
		g.OPTIONS("/:id", preflight)
		g.DELETE("/:id/:session", s.endHandler(kind))
		g.PATCH("/:id/:session", noTrickle)
		g.OPTIONS("/:id/:session", preflight)
	}

	e.GET("/api/webinars/:id", s.webinarInfo)
	e.GET("/api/webinars/:id/captions", s.captionStream)
	e.GET("/api/webinars/:id/languages", s.languages)
	e.GET("/api/webinars/:id/:file", s.transcript)
	e.GET("/api/status", s.status)
	e.POST("/api/admin/nodes/:id/drain", s.drainNode)
	s.accountRoutes()
	s.recordingRoutes()
	s.transcriptRoutes()
	s.pageRoutes()
	s.webhookRoutes()
}

// accountRoutes are issue 5's: sign-in, account settings, admin, webinars owned by accounts.
// Each handler checks its caller (signedIn, requireAdmin or require with an auth.Action).
func (s *Server) accountRoutes() {
	e := s.echo
	e.GET("/api/login", s.loginOptions)
	e.POST("/api/login", s.login)
	e.POST("/api/login/totp", s.loginTOTP)
	e.POST("/api/logout", s.logout)
	e.GET("/api/me", s.getMe)
	e.GET("/auth/oidc/login", s.oidcLogin)
	e.GET("/auth/oidc/callback", s.oidcCallback)

	e.POST("/api/account/totp", s.totpBegin)
	e.POST("/api/account/totp/confirm", s.totpConfirm)
	e.DELETE("/api/account/totp", s.totpDisable)
	e.GET("/api/account/tokens", s.listTokens)
	e.POST("/api/account/tokens", s.createToken)
	e.DELETE("/api/account/tokens/:id", s.revokeToken)
	e.GET("/api/account/events", s.accountEvents)

	e.GET("/api/admin/audit", s.auditLog)
	e.GET("/api/admin/users", s.adminUsers)
	e.GET("/api/admin/policy", s.getPolicy)
	e.PUT("/api/admin/policy", s.putPolicy)
	s.adminUserRoutes()

	e.POST("/api/webinars", s.createWebinar)
	e.GET("/api/webinars", s.listWebinars)
	e.PATCH("/api/webinars/:id", s.patchWebinar)
	e.DELETE("/api/webinars/:id", s.deleteWebinar)
	e.POST("/api/webinars/:id/stream-key", s.rotateStreamKey)
	e.GET("/api/webinars/:id/members", s.members)
	e.PUT("/api/webinars/:id/members", s.putMember)
	e.GET("/api/webinars/:id/registrations", s.registrations)
	e.DELETE("/api/webinars/:id/registrations/:rid", s.revokeRegistration)
	e.POST("/api/webinars/:id/link/rotate", s.rotateLink)
	e.POST("/api/webinars/:id/register", s.register)
	e.POST("/api/webinars/:id/join", s.join)
	e.GET("/api/webinars/:id/participants", s.listParticipants)
	for action := range moderationStates {
		e.POST("/api/webinars/:id/participants/:pid/"+action, s.moderate(action))
	}
	e.POST("/api/webinars/:id/end", s.endWebinar)
	e.GET("/api/webinars/:id/channel", s.channel)
	s.roomRoutes()
	e.PUT("/api/webinars/:id/spotlight", s.setSpotlight)
	s.stageRoutes()
}

// apiError is the one JSON shape every error takes.
type apiError struct {
	Error string `json:"error"`
}

// handleError writes every error as {"error": ...} with its status; unknown errors are 500s
// whose detail goes to the log, not to the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	var ae *accessError
	switch {
	case errors.As(err, &ae) && wantsHTML(c.Request()): // a browser on a page: the error page says it
		status, msg = ae.Status, ae.Message
	case errors.As(err, &ae):
		if c.Request().Method == http.MethodHead {
			c.NoContent(ae.Status)
			return
		}
		c.JSON(ae.Status, ae)
		return
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
	case errors.Is(err, models.ErrNotFound):
		if to := s.elsewhere(c); to != "" {
			redirect(c, to)
			return
		}
		status, msg = http.StatusNotFound, "not found"
	case errors.Is(err, models.ErrBusy):
		// Shed, not failed: the client should come back shortly.
		status, msg = http.StatusServiceUnavailable, "server busy, retry shortly"
		c.Response().Header().Set("Retry-After", "1")
	case errors.Is(err, models.ErrStorage):
		// A full disk: the operator must act; /healthz and /api/status say so.
		status, msg = http.StatusServiceUnavailable, "storage unavailable, retry later"
		c.Response().Header().Set("Retry-After", "30")
		s.Logger.Error("request failed on storage", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	default:
		s.Logger.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if wantsHTML(c.Request()) {
		if err := errorPage(c, status, msg); err == nil {
			return
		}
	}
	c.JSON(status, apiError{Error: msg})
}

//go:embed openapi.yaml
var openAPI []byte

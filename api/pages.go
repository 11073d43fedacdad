package api

import (
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
	"lectern/web"
)

// presenterLinkTTL bounds a studio's watch link: a day of classes, and a link a presenter
// pasted somewhere stops working by itself.
const presenterLinkTTL = 12 * time.Hour

func (s *Server) pageRoutes() {
	s.echo.GET("/static/*", staticFiles())
	s.echo.GET("/studio/:id", s.page("studio.html"), studioSecurityHeaders)
	s.echo.GET("/watch/:id", s.page("watch.html"))
	s.echo.GET("/dashboard/:id", s.webinarPage)
	s.echo.GET("/dashboard/:id/transcripts/:vid", s.transcriptEditorPage)
	s.echo.GET("/login", staticPage("login.html"))
	s.echo.GET("/account", staticPage("account.html"))
	s.echo.GET("/dashboard", staticPage("dashboard.html"))
	s.echo.GET("/admin", staticPage("admin.html"))
	s.echo.GET("/invite", staticPage("invite.html"))
	s.echo.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/dashboard") })
	// Browsers ask for /favicon.ico on pages without an icon link (JSON, transcripts).
	s.echo.GET("/favicon.ico", favicon)
	s.echo.GET("/api/webinars/:id/watch-link", s.watchLink)
}

type watchLinkAnswer struct {
	WatchURL  string     `json:"watch_url"`
	Token     string     `json:"token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// watchLink is GET /api/webinars/:id/watch-link: the studio's "Open the watch page" link. A
// presenter (stream key, or a signed-in role that may publish) gets a signed attendee link,
// so their own webinar opens without a passcode or registration, and without riding the
// session cookie (whose WHEP request would need a CSRF token the watch page does not have).
func (s *Server) watchLink(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActPublish)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	link := s.baseURL(c) + "/watch/" + a.w.ID
	rs, err := s.Store.RoomSettings(c.Request().Context(), a.w.ID)
	if err != nil {
		return err
	}
	// A waiting room or a lock closes the media to callers who did not join (allowMedia): the
	// presenter's link token lets the studio's caption preview in without the stream key.
	if !a.restricted() && !rs.WaitingRoom && !rs.Locked {
		return c.JSON(http.StatusOK, watchLinkAnswer{WatchURL: link})
	}
	exp := s.now().Add(presenterLinkTTL)
	tok, err := s.auth.joins.Issue(auth.JoinClaims{Webinar: a.w.ID, Role: models.RoleAttendee,
		ID: presenterPrefix + auth.NewToken()[:16], Expires: exp.Unix(), Epoch: a.set.LinkEpoch})
	if err != nil {
		return err
	}
	exp = time.Unix(exp.Unix(), 0).UTC()
	return c.JSON(http.StatusOK, watchLinkAnswer{WatchURL: link + "?t=" + url.QueryEscape(tok), Token: tok, ExpiresAt: &exp})
}

// staticFiles serves the embedded files. A missing file or a directory is echo's 404, so a
// browser gets the error page and no directory listing is shown.
func staticFiles() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServer(http.FS(web.Static)))
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, "/static/")
		if st, err := fs.Stat(web.Static, name); err != nil || st.IsDir() {
			return echo.ErrNotFound
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

func favicon(c echo.Context) error {
	body, err := fs.ReadFile(web.Static, "favicon.svg")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/svg+xml", body)
}

// errorPageTmpl is what a browser gets instead of {"error": ...} when it navigates to a page
// that is not there or fails. Same stylesheet and icon as every page, no script.
var errorPageTmpl = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Lectern</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/css/lectern.css">
</head>
<body class="narrow error-page">
<header><h1>Lectern</h1></header>
<main>
  <h2 id="error-title">{{.Title}}</h2>
  <p id="error-detail">{{.Detail}}</p>
  {{if .Action}}<p><a id="error-action" class="button" href="{{.ActionURL}}">{{.Action}}</a></p>{{end}}
  <p><a class="button" href="/dashboard">Go to your webinars</a></p>
  <p class="count">Error {{.Status}}</p>
</main>
</body>
</html>
`))

// wantsHTML: a browser navigating to a page (not a script calling the API or a WHIP/WHEP
// client) gets an HTML error page. API, media and metrics routes answer JSON whatever the
// Accept header says, so scripts keep one error shape.
func wantsHTML(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, p := range []string{"/api/", "/whip/", "/whep/", "/metrics", "/healthz"} {
		if strings.HasPrefix(r.URL.Path, p) {
			return false
		}
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// errorPageView is what the error page says: what went wrong, and where to go from here.
type errorPageView struct {
	Title, Detail     string
	Action, ActionURL string // a way forward besides the dashboard ("" none)
	Status            int
}

// webinarPaths are the page routes whose last segment is a webinar id.
var webinarPaths = []string{"/watch/", "/studio/", "/dashboard/"}

func webinarPath(path string) bool {
	for _, prefix := range webinarPaths {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// errorPageFor words status for a person; msg is the client-safe message the JSON error
// would have carried.
func errorPageFor(r *http.Request, status int, msg string) errorPageView {
	p := errorPageView{Status: status, Title: "Something went wrong",
		Detail: "The server could not show this page. Try again in a moment; if it keeps happening, tell whoever runs this server."}
	signIn := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
	switch status {
	case http.StatusNotFound:
		p.Title, p.Detail = "Page not found", "There is no page at this address. Check the link, or ask whoever sent it for a new one."
		if webinarPath(r.URL.Path) {
			p.Title, p.Detail = "No such webinar", "This webinar does not exist or was deleted. Check the link, or ask the host for a new one."
		}
	case http.StatusUnauthorized:
		p.Title, p.Detail = "Sign in to continue", "This page is only for signed-in accounts. Sign in, and you come back here."
		p.Action, p.ActionURL = "Sign in", signIn
	case http.StatusForbidden:
		who := "an administrator of this server"
		if webinarPath(r.URL.Path) {
			who = "the webinar's host"
		}
		p.Title, p.Detail = "You cannot open this page", "Your account may not see this page ("+msg+"). Ask "+who+" for access, or sign in with another account."
		p.Action, p.ActionURL = "Sign in with another account", signIn
	case http.StatusGone:
		p.Title, p.Detail = "No longer available", "What was here has ended or was removed ("+msg+"). Ask whoever sent you the link for a new one."
	case http.StatusTooManyRequests:
		p.Title, p.Detail = "Too many requests", "Wait a minute, then reload this page."
	case http.StatusServiceUnavailable:
		p.Title, p.Detail = "The server is busy", "The server cannot answer right now ("+msg+"). Reload this page in a minute."
	default:
		if status < 500 {
			p.Title, p.Detail = http.StatusText(status), msg
		}
	}
	return p
}

// errorPage writes the HTML error page for status; msg is the client-safe message the JSON
// error would have carried.
func errorPage(c echo.Context, status int, msg string) error {
	var b strings.Builder
	if err := errorPageTmpl.Execute(&b, errorPageFor(c.Request(), status, msg)); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, []byte(b.String()))
}

// staticPage serves a page that needs no webinar; its script asks /api/me who is signed in.
func staticPage(name string) echo.HandlerFunc {
	return func(c echo.Context) error { return servePage(c, name) }
}

// page serves one of the embedded HTML pages for an existing webinar; the page's script
// reads the id from its own URL.
func (s *Server) page(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := s.Store.Webinar(c.Request().Context(), c.Param("id")); err != nil {
			return err
		}
		return servePage(c, name)
	}
}

// webinarPage is /dashboard/:id, one webinar's settings, people, links and downloads. Only
// those who may change the settings get it: anyone else gets a page that says to sign in or
// ask the host, rather than a form whose every call fails.
func (s *Server) webinarPage(c echo.Context) error {
	if callerOf(c).mustEnrol { // signed in, but the account counts only once 2FA is set up
		return c.Redirect(http.StatusFound, "/account")
	}
	if _, err := s.require(c, c.Param("id"), auth.ActManageSettings); err != nil {
		return err
	}
	return servePage(c, "webinar.html")
}

// transcriptEditorPage is /dashboard/:id/transcripts/:vid, the cue editor, for the same
// people as the webinar's page. A version that does not exist is the page's own error (from
// the API), not "no such webinar".
func (s *Server) transcriptEditorPage(c echo.Context) error {
	if callerOf(c).mustEnrol {
		return c.Redirect(http.StatusFound, "/account")
	}
	if _, err := s.require(c, c.Param("id"), auth.ActManageSettings); err != nil {
		return err
	}
	return servePage(c, "transcript.html")
}

func servePage(c echo.Context, name string) error {
	body, err := fs.ReadFile(web.Static, name)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.HTMLBlob(http.StatusOK, body)
}

package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/captions"
	"lectern/models"
)

const (
	// sseWriteTimeout bounds one write to a caption client: a client that cannot take a few
	// hundred bytes in this time is gone, and its goroutine should be too.
	sseWriteTimeout = 10 * time.Second
	// sseKeepAlive keeps proxies from closing an idle stream between utterances.
	sseKeepAlive = 15 * time.Second
)

var langTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

// captionLang is the ?lang= of a caption or transcript request: the spoken language by
// default, else one the translators can produce for this webinar (see languages). Anything
// else is refused: a reader's language becomes a metric label and a translation job, so
// anonymous input must not be able to invent languages.
func (s *Server) captionLang(c echo.Context, w models.Webinar) (string, error) {
	lang := c.QueryParam("lang")
	if lang == "" || lang == w.Language {
		return w.Language, nil
	}
	if !langTag.MatchString(lang) {
		return "", echo.NewHTTPError(http.StatusBadRequest, "lang must be a language tag like es or pt-BR")
	}
	st := s.Live.Stage()
	if st == nil || !slices.Contains(st.WebinarLanguages(w.ID, w.Language), lang) {
		return "", echo.NewHTTPError(http.StatusBadRequest, "captions are not available in "+lang+": GET /api/webinars/"+w.ID+"/languages lists them")
	}
	return lang, nil
}

// finalsIn is the stored transcript of a webinar in lang, after a sequence number.
func (s *Server) finalsIn(ctx context.Context, w models.Webinar, lang string, after int64) ([]captions.Caption, error) {
	if lang == w.Language {
		return s.Store.Finals(ctx, w.ID, after)
	}
	return s.Store.TranslatedFinals(ctx, w.ID, lang, after)
}

// captionStream serves GET /api/webinars/{id}/captions as Server-Sent Events. A client that
// sends Last-Event-ID first gets the finals it missed, then the live stream, with no gap and
// no duplicate at the switch-over.
func (s *Server) captionStream(c echo.Context) error {
	ctx := c.Request().Context()
	release, err := s.openStream(c)
	if err != nil {
		return err
	}
	defer release()
	w, err := s.Store.Webinar(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.allow(c, w, auth.ActView); err != nil {
		return err
	}
	// Removing the participant (or ending the webinar) cancels the stream.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.conns.addStream(w.ID, s.callerPID(c, w.ID), cancel)()
	c.SetRequest(c.Request().WithContext(ctx))
	lang, err := s.captionLang(c, w)
	if err != nil {
		return err
	}
	room, err := s.Live.Room(ctx, w)
	if err != nil {
		return err
	}
	var sub *captions.Subscriber
	var backlog [][]byte
	if after, ok := captions.ParseLastEventID(c.Request().Header.Get("Last-Event-ID")); ok {
		history := func(lang string, after int64) ([]captions.Caption, error) { return s.finalsIn(ctx, w, lang, after) }
		if sub, backlog, err = room.Hub().Resume(lang, after, history); err != nil {
			return err
		}
	} else {
		sub = room.Hub().Subscribe(lang)
	}
	defer sub.Close()

	h := c.Response().Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	return s.pump(c, sub, backlog)
}

// pump writes a caption stream until the client goes, the subscriber is closed or the server
// stops. The server's WriteTimeout is for responses, not streams: each write sets its own
// deadline instead. (Its ReadTimeout needs nothing: net/http lifts the read deadline once a
// bodiless request is read.)
func (s *Server) pump(c echo.Context, sub *captions.Subscriber, backlog [][]byte) error {
	ctx := c.Request().Context()
	rc := http.NewResponseController(c.Response())
	send := func(b []byte) error {
		rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		if _, err := c.Response().Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send([]byte("retry: 2000\n\n")); err != nil {
		return nil
	}
	for _, b := range backlog {
		if err := send(b); err != nil {
			return nil
		}
	}
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case f, ok := <-sub.Frames():
			if !ok {
				return nil // too slow or room closed: the client reconnects with Last-Event-ID
			}
			if err := send(f.SSE); err != nil {
				return nil
			}
		case <-keepAlive.C:
			if err := send([]byte(": keep-alive\n\n")); err != nil {
				return nil
			}
		case <-s.stopping:
			// A client that cannot take it within a second does not get to hold up the
			// shutdown; it reconnects all the same when the connection drops.
			rc.SetWriteDeadline(time.Now().Add(time.Second))
			c.Response().Write(shutdownEvent)
			rc.Flush()
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// languages answers which caption languages a viewer can pick: the spoken one first.
func (s *Server) languages(c echo.Context) error {
	w, err := s.Store.Webinar(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.allow(c, w, auth.ActView); err != nil {
		return err
	}
	langs := []string{w.Language}
	if st := s.Live.Stage(); st != nil {
		for _, l := range st.WebinarLanguages(w.ID, w.Language) {
			if l != w.Language {
				langs = append(langs, l)
			}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"spoken": w.Language, "languages": langs})
}

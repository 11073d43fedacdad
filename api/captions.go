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
	if err := s.allowMedia(c, w); err != nil {
		return err
	}
	if err := s.refuseEnded(ctx, w.ID); err != nil {
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

	st, err := openSSE(c)
	if err != nil {
		return nil
	}
	return s.pump(c.Request().Context(), st, sub, backlog)
}

// pump writes a caption stream until the client goes, the subscriber is closed or the server
// stops.
func (s *Server) pump(ctx context.Context, st *sseStream, sub *captions.Subscriber, backlog [][]byte) error {
	for _, b := range backlog {
		if err := st.send(b); err != nil {
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
			if err := st.send(f.SSE); err != nil {
				return nil
			}
		case <-keepAlive.C:
			if err := st.send(sseKeepAliveFrame); err != nil {
				return nil
			}
		case <-s.stopping:
			st.shutdown()
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

package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/captions"
	"lectern/captions/subtitle"
)

// transcript serves GET /api/webinars/{id}/transcript.{format}[?lang=xx]. A language nobody
// read live is translated now (and stored, so the next export is instant).
func (s *Server) transcript(c echo.Context) error {
	ctx := c.Request().Context()
	name, format, ok := strings.Cut(c.Param("file"), ".")
	if !ok || name != "transcript" {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	if subtitle.ContentType(format) == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "format must be one of "+strings.Join(subtitle.Formats, ", "))
	}
	w, err := s.Store.Webinar(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.allow(c, w, auth.ActExport); err != nil {
		return err
	}
	lang, err := s.captionLang(c, w)
	if err != nil {
		return err
	}
	cues, err := s.exportCues(c, w.ID)
	if err != nil {
		return err
	}
	if lang != w.Language && len(cues) > 0 {
		st := s.Live.Stage()
		if st == nil {
			return echo.NewHTTPError(http.StatusBadRequest, "no translator is configured")
		}
		if cues, err = st.TranslateAll(ctx, w.ID, w.Language, lang, cues); err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "translation to "+lang+" failed: "+err.Error())
		}
	}
	sessions, err := s.exportSessions(c, w.ID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := subtitle.Write(&buf, format, cues, subtitle.Options{Lang: lang, Title: w.Title, Sessions: sessions}); err != nil {
		if errors.Is(err, subtitle.ErrUnknownFormat) {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		return err
	}
	// Who took a transcript matters for accounts and access links; an anonymous download of a
	// public transcript is a read like any other, and auditing it let anyone grow the database.
	if cl := callerOf(c); cl.user != nil || cl.join != "" {
		auth.Record(ctx, s.Store, auth.EventExport, actorID(cl), w.ID, clientIP(c), map[string]any{"format": format, "lang": lang})
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s"`, w.ID, lang, format))
	return c.Blob(http.StatusOK, subtitle.ContentType(format), buf.Bytes())
}

// exportSessions lists the webinar's presenter sessions with where each starts on the
// transcript's timeline, for the JSON export.
func (s *Server) exportSessions(c echo.Context, webinar string) ([]subtitle.Session, error) {
	ps, err := s.Store.PresenterSessions(c.Request().Context(), webinar)
	if err != nil {
		return nil, err
	}
	out := make([]subtitle.Session, len(ps))
	for i, p := range ps {
		out[i] = subtitle.Session{ID: p.ID, StartMS: p.StartMS}
	}
	return out, nil
}

// exportCues are the cues of ?version= (an id or "live"), else of the version the host chose
// as the default download.
func (s *Server) exportCues(c echo.Context, webinar string) ([]captions.Caption, error) {
	ctx := c.Request().Context()
	v := c.QueryParam("version")
	if v == "" {
		var err error
		if v, err = s.Store.DefaultTranscript(ctx, webinar); err != nil {
			return nil, err
		}
	}
	return s.versionCues(ctx, webinar, v)
}

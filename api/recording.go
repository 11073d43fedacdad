package api

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
	"lectern/record"
)

// recordingJSON is one entry of GET /api/webinars/:id/recordings.
type recordingJSON struct {
	ID        string    `json:"id"`
	StartedAt time.Time `json:"started_at"`
	DurationS float64   `json:"duration_s"`
	Bytes     int64     `json:"bytes"`
	URL       string    `json:"url"`
}

func (s *Server) recordingRoutes() {
	e := s.echo
	e.POST("/api/webinars/:id/recording", s.setRecording)
	e.GET("/api/webinars/:id/recordings", s.listRecordings)
	e.GET("/api/webinars/:id/recordings/:file", s.recordingFile)
}

// setRecording is POST /api/webinars/:id/recording {"on": bool}: hosts and co-hosts start or
// stop the webinar's recording. Asking for the current state changes nothing and is a 200.
func (s *Server) setRecording(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	var in struct {
		On *bool `json:"on"`
	}
	if err := decodeJSON(c.Request().Header.Get(echo.HeaderContentType), c.Request().Body, &in); err != nil {
		return err
	}
	if in.On == nil {
		return echo.NewHTTPError(http.StatusBadRequest, `"on" (true or false) is required`)
	}
	ctx := c.Request().Context()
	if !*in.On {
		var id string
		if s.Recorder != nil {
			id, _ = s.Recorder.Active(a.w.ID)
		}
		if err := s.stopRecording(ctx, a.w.ID); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"recording": false, "id": id})
	}
	if ok, reason, err := s.recordingAllowed(ctx); err != nil {
		return err
	} else if !ok {
		return echo.NewHTTPError(http.StatusForbidden, reason)
	}
	if s.Recorder == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, noRecorder)
	}
	id, started, err := s.Recorder.Start(a.w.ID)
	if err != nil {
		return err
	}
	if started {
		if err := s.Store.AddRecording(ctx, a.w.ID, id, time.Now()); err != nil {
			_, _, _ = s.Recorder.Stop(a.w.ID)
			return err
		}
		s.publishRecording(a.w.ID, true)
	}
	return c.JSON(http.StatusOK, map[string]any{"recording": true, "id": id})
}

// stopRecording ends the webinar's recording, if any, and stores its length and size.
func (s *Server) stopRecording(ctx context.Context, webinar string) error {
	if s.Recorder == nil {
		return nil
	}
	st, ok, err := s.Recorder.Stop(webinar)
	if !ok {
		return nil
	}
	s.publishRecording(webinar, false)
	if ferr := s.Store.FinishRecording(ctx, st.ID, st.Duration, st.Bytes); ferr != nil {
		err = errors.Join(err, ferr)
	}
	s.emitRecording(webinar, st, err)
	return err
}

// StopRecordings finalizes every running recording (server shutdown).
func (s *Server) StopRecordings(ctx context.Context) { s.stopAllRecordings(ctx, "server shutdown") }

// stopAllRecordings finalizes every running recording; why is for the log.
func (s *Server) stopAllRecordings(ctx context.Context, why string) {
	if s.Recorder == nil {
		return
	}
	for _, w := range s.Recorder.Webinars() {
		if err := s.stopRecording(ctx, w); err != nil {
			s.Logger.Error("stopping a recording", "webinar", w, "why", why, "err", err)
		}
	}
}

// publishRecording tells everyone in the room that a recording started or stopped (the
// pages' red indicator).
func (s *Server) publishRecording(webinar string, on bool) {
	s.publish(webinar, RoomAudience{Everyone: true}, "recording", map[string]bool{"on": on})
}

// recording reports whether the webinar is being recorded (for GET /api/webinars/:id).
func (s *Server) recording(webinar string) bool {
	if s.Recorder == nil {
		return false
	}
	_, ok := s.Recorder.Active(webinar)
	return ok
}

// listRecordings is GET /api/webinars/:id/recordings (hosts and co-hosts).
func (s *Server) listRecordings(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	recs, err := s.Store.Recordings(c.Request().Context(), a.w.ID)
	if err != nil {
		return err
	}
	out := make([]recordingJSON, 0, len(recs))
	for _, r := range recs {
		out = append(out, recordingJSON{ID: r.ID, StartedAt: r.StartedAt, DurationS: r.Duration.Seconds(),
			Bytes: r.Bytes, URL: s.recordingURL(a.w.ID, r.ID)})
	}
	return c.JSON(http.StatusOK, out)
}

// recordingURL is where a recording downloads: {rid}.webm, or {rid}.mkv for an H.264
// recording (Matroska: WebM cannot hold H.264).
func (s *Server) recordingURL(webinar, id string) string {
	ext := ".webm"
	if s.Recorder != nil {
		ext = filepath.Ext(s.Recorder.Path(webinar, id))
	}
	return "/api/webinars/" + webinar + "/recordings/" + id + ext
}

// recordingFile is GET /api/webinars/:id/recordings/:rid.webm (or .mkv), with range requests
// (seeking in a player, resumed downloads). A link with the other extension (a webhook sent
// before the codec was known) is redirected to the file's own.
func (s *Server) recordingFile(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	file := c.Param("file")
	ext := filepath.Ext(file)
	rid := strings.TrimSuffix(file, ext)
	if ext != ".webm" && ext != ".mkv" || s.Recorder == nil {
		return echo.NewHTTPError(http.StatusNotFound, "no such recording")
	}
	r, err := s.Store.RecordingOf(c.Request().Context(), a.w.ID, rid)
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such recording")
	}
	if err != nil {
		return err
	}
	path := s.Recorder.Path(a.w.ID, r.ID)
	if filepath.Ext(path) != ext {
		return c.Redirect(http.StatusFound, s.recordingURL(a.w.ID, r.ID))
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return echo.NewHTTPError(http.StatusNotFound, "recording file is missing")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, record.ContentType(path))
	http.ServeContent(c.Response(), c.Request(), r.ID+ext, fi.ModTime(), f)
	return nil
}

package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/captions"
	"lectern/models"
)

// Transcript versions (issue 11): the live transcript stays as it was said; a recording
// transcribed again after class, or a teacher's corrections, are versions beside it, and
// the host picks which one downloads by default.
func (s *Server) transcriptRoutes() {
	e := s.echo
	e.GET("/api/webinars/:id/transcripts", s.listTranscripts)
	e.POST("/api/webinars/:id/transcripts", s.saveEditedTranscript)
	e.PUT("/api/webinars/:id/transcripts/default", s.setDefaultTranscript)
	e.GET("/api/webinars/:id/transcripts/:vid", s.transcriptCues)
	e.POST("/api/webinars/:id/recordings/:rid/transcribe", s.retranscribe)
}

type transcriptList struct {
	Default  string                     `json:"default"`
	Versions []models.TranscriptVersion `json:"versions"`
	// Engine is what "transcribe again" would use, and whether this webinar's regions let it.
	Engine *retranscribeEngine `json:"engine,omitempty"`
}

type retranscribeEngine struct {
	Name    string `json:"name"`
	Region  string `json:"region"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
}

// listTranscripts is GET .../transcripts (host, co-host): the live transcript first.
func (s *Server) listTranscripts(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	live, err := s.Store.Finals(ctx, a.w.ID, 0)
	if err != nil {
		return err
	}
	versions, err := s.Store.TranscriptVersions(ctx, a.w.ID)
	if err != nil {
		return err
	}
	def, err := s.Store.DefaultTranscript(ctx, a.w.ID)
	if err != nil {
		return err
	}
	out := transcriptList{Default: def, Versions: append([]models.TranscriptVersion{{ID: models.LiveTranscript,
		Kind: models.LiveTranscript, State: models.VersionDone, Progress: 1, Cues: len(live), CreatedAt: a.w.CreatedAt}}, versions...)}
	if s.Retranscriber != nil {
		eng := s.Retranscriber.Engine()
		reason := s.regionRefusal(a.w.ID, eng.Region())
		out.Engine = &retranscribeEngine{Name: eng.Name(), Region: eng.Region(), Allowed: reason == "", Reason: reason}
	}
	return c.JSON(http.StatusOK, out)
}

// regionRefusal says why a back end in region may not receive this webinar's audio or text,
// "" when it may.
func (s *Server) regionRefusal(webinar, region string) string {
	allowed := s.Live.Regions(webinar)
	if allowed.Allows(region) {
		return ""
	}
	return fmt.Sprintf("the engine runs in region %q; this webinar's processing regions are %s", region, allowed)
}

// transcriptCues is GET .../transcripts/{vid} (host, co-host): a version's cues, for the editor.
func (s *Server) transcriptCues(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	cues, err := s.versionCues(c.Request().Context(), a.w.ID, c.Param("vid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("vid"), "cues": cues})
}

// versionCues is a version's cues ("live": the stored live transcript), with HTTP errors.
func (s *Server) versionCues(ctx context.Context, webinar, id string) ([]captions.Caption, error) {
	if id == models.LiveTranscript {
		return s.Store.Finals(ctx, webinar, 0)
	}
	cues, err := s.Store.VersionCues(ctx, webinar, id)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, echo.NewHTTPError(http.StatusNotFound, "no such transcript version")
	case errors.Is(err, models.ErrNotReady):
		return nil, echo.NewHTTPError(http.StatusConflict, err.Error())
	}
	return cues, err
}

// Bounds of an edited transcript: a long day of teaching, cues a subtitle can hold.
const (
	maxEditBody   = 4 << 20
	maxEditCues   = 20000
	maxCueText    = 2000
	maxCueEndMS   = 48 * 3600 * 1000
	maxSpeakerLen = 80
)

type editedCue struct {
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	Text    string `json:"text"`
	Speaker string `json:"speaker"`
}

type editRequest struct {
	Base string      `json:"base"` // the version edited ("live" or an id), for the record
	Cues []editedCue `json:"cues"`
}

// check validates an edit; the error says which cue is wrong.
func (in editRequest) check() error {
	if len(in.Cues) == 0 || len(in.Cues) > maxEditCues {
		return fmt.Errorf("cues: 1 to %d expected", maxEditCues)
	}
	var prev int64
	for i, q := range in.Cues {
		switch {
		case q.StartMS < 0 || q.EndMS <= q.StartMS || q.EndMS > maxCueEndMS:
			return fmt.Errorf("cue %d: start_ms must be ≥ 0 and before end_ms (at most 48 h)", i+1)
		case q.StartMS < prev:
			return fmt.Errorf("cue %d starts before cue %d: keep cues in time order", i+1, i)
		case strings.TrimSpace(q.Text) == "" || len(q.Text) > maxCueText || strings.ContainsRune(q.Text, 0):
			return fmt.Errorf("cue %d: text must be 1-%d characters", i+1, maxCueText)
		case len(q.Speaker) > maxSpeakerLen || strings.ContainsAny(q.Speaker, "\x00\r\n"):
			return fmt.Errorf("cue %d: speaker must be one line of at most %d characters", i+1, maxSpeakerLen)
		}
		prev = q.StartMS
	}
	return nil
}

// saveEditedTranscript is POST .../transcripts (host, co-host): a teacher's corrected cues
// become a new version; the version they started from stays as it was.
func (s *Server) saveEditedTranscript(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	var in editRequest
	if err := decodeJSONMax(c.Request().Header.Get("Content-Type"), c.Request().Body, &in, maxEditBody); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	if in.Base == "" {
		in.Base = models.LiveTranscript
	}
	if _, err := s.versionCues(ctx, a.w.ID, in.Base); err != nil {
		return err
	}
	cues := make([]captions.Caption, len(in.Cues))
	for i, q := range in.Cues {
		cues[i] = captions.Caption{ID: fmt.Sprintf("e-%d", i+1), Seq: int64(i + 1), Final: true, Lang: a.w.Language,
			Text: strings.TrimSpace(q.Text), Speaker: q.Speaker, StartMS: q.StartMS, EndMS: q.EndMS}
	}
	v, err := s.Store.AddTranscriptVersion(ctx, models.TranscriptVersion{Webinar: a.w.ID, Kind: models.KindEdit,
		Source: in.Base, State: models.VersionDone}, cues)
	if err != nil {
		return err
	}
	auth.Record(ctx, s.Store, "transcript.edited", a.cl.user.ID, a.w.ID, clientIP(c), map[string]any{"version": v.ID, "base": in.Base, "cues": len(cues)})
	return c.JSON(http.StatusCreated, v)
}

// setDefaultTranscript is PUT .../transcripts/default {"version"} (host, co-host).
func (s *Server) setDefaultTranscript(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	var in struct {
		Version string `json:"version"`
	}
	if err := bind(c, &in); err != nil {
		return err
	}
	if _, err := s.versionCues(c.Request().Context(), a.w.ID, in.Version); err != nil {
		return err
	}
	if err := s.Store.SetDefaultTranscript(c.Request().Context(), a.w.ID, in.Version); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"default": in.Version})
}

// retranscribe is POST .../recordings/{rid}/transcribe (host, co-host): the recording is
// transcribed again in the background; 202 with the running version (GET .../transcripts
// shows its progress).
func (s *Server) retranscribe(c echo.Context) error {
	a, err := s.require(c, c.Param("id"), auth.ActManageSettings)
	if err != nil {
		return err
	}
	if s.Retranscriber == nil || s.Recorder == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "re-transcription is not configured on this server")
	}
	if why := s.regionRefusal(a.w.ID, s.Retranscriber.Engine().Region()); why != "" {
		return echo.NewHTTPError(http.StatusForbidden, why)
	}
	ctx := c.Request().Context()
	rec, err := s.Store.RecordingOf(ctx, a.w.ID, c.Param("rid"))
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such recording")
	}
	if err != nil {
		return err
	}
	if id, ok := s.Recorder.Active(a.w.ID); ok && id == rec.ID {
		return echo.NewHTTPError(http.StatusConflict, "the recording is still running: stop it first")
	}
	path := s.Recorder.Path(a.w.ID, rec.ID)
	if _, err := os.Stat(path); err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "recording file is missing")
	}
	offset, err := s.recordingOffset(ctx, a.w.ID, rec)
	if err != nil {
		return err
	}
	v, err := s.Retranscriber.Start(ctx, a.w, rec, path, offset)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, v)
}

// recordingOffset is where a recording began on the webinar's timeline: its distance from
// the start of the presenter session it began in, so re-transcribed cues line up with the
// live ones.
func (s *Server) recordingOffset(ctx context.Context, webinar string, rec models.Recording) (time.Duration, error) {
	sessions, err := s.Store.PresenterSessions(ctx, webinar)
	if err != nil {
		return 0, err
	}
	var off time.Duration
	for _, p := range sessions {
		if !p.StartedAt.After(rec.StartedAt) {
			off = time.Duration(p.StartMS)*time.Millisecond + rec.StartedAt.Sub(p.StartedAt)
		}
	}
	return off, nil
}

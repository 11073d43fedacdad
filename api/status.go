package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"lectern/models"
	"lectern/translate"
)

// status says what degrades the service right now: which speech engine runs, whether
// each translator is healthy, backed off, and why, and whether the store can write.
func (s *Server) status(c echo.Context) error {
	out := struct {
		Engine      string                       `json:"engine"`
		EngineError string                       `json:"engine_error,omitempty"`
		Translators []translate.TranslatorStatus `json:"translators"`
		Storage     models.StorageHealth         `json:"storage"`
	}{Engine: s.EngineName, EngineError: s.EngineError, Translators: []translate.TranslatorStatus{},
		Storage: s.Store.Health()}
	if st := s.Live.Stage(); st != nil {
		out.Translators = st.Status()
	}
	return c.JSON(http.StatusOK, out)
}

// healthz answers 200 while the process serves, so load balancers keep routing viewers
// (live video and unsaved captions still work on a full disk); the body says "degraded"
// when the store cannot write, for monitors that read it.
func (s *Server) healthz(c echo.Context) error {
	if h := s.Store.Health(); !h.OK {
		return c.String(http.StatusOK, "degraded: storage: "+h.Error+"\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

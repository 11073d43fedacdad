package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"lectern/translate"
)

// status says what degrades the service right now: which speech engine runs and whether
// each translator is healthy, backed off, and why.
func (s *Server) status(c echo.Context) error {
	out := struct {
		Engine      string                       `json:"engine"`
		EngineError string                       `json:"engine_error,omitempty"`
		Translators []translate.TranslatorStatus `json:"translators"`
	}{Engine: s.EngineName, EngineError: s.EngineError, Translators: []translate.TranslatorStatus{}}
	if st := s.Live.Stage(); st != nil {
		out.Translators = st.Status()
	}
	return c.JSON(http.StatusOK, out)
}

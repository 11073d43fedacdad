package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"lectern/transcribe"
)

// checkSpoken refuses a webinar's spoken language (when given) that the speech engine cannot
// transcribe: its captions would silently never come. The error names the ones it can.
func (s *Server) checkSpoken(lang *string) error {
	if lang == nil || transcribe.SupportsLanguage(s.SpokenLanguages, *lang) {
		return nil
	}
	return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(
		"language %q is not one the speech engine (%s) transcribes; supported: %s",
		*lang, s.EngineName, strings.Join(s.SpokenLanguages, ", ")))
}

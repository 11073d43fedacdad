package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// maxJSONBody bounds every JSON request body: the largest real one is a few hundred bytes.
const maxJSONBody = 16 << 10

// decodeJSON reads one JSON object into v: application/json only, at most maxJSONBody, no
// unknown fields (a typo like "visiblity" is an error, not a silently public webinar), nothing
// after the object. Every failure is a 4xx *echo.HTTPError.
func decodeJSON(contentType string, body io.Reader, v any) error {
	return decodeJSONMax(contentType, body, v, maxJSONBody)
}

// decodeJSONMax is decodeJSON for the few bodies that are documents (an edited transcript),
// at most limit bytes.
func decodeJSONMax(contentType string, body io.Reader, v any, limit int64) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "content type must be application/json")
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "reading body: "+err.Error())
	}
	if int64(len(data)) > limit {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("JSON body larger than %d KiB", limit>>10))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: "+err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: one object expected")
	}
	return nil
}

func bind(c echo.Context, v any) error {
	return decodeJSON(c.Request().Header.Get("Content-Type"), c.Request().Body, v)
}

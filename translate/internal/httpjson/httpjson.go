// Package httpjson is the small JSON-over-HTTP client the remote translators share: one
// request, a bounded answer, and the status code kept so each translator can map it to the
// errors the stage backs off on.
package httpjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"lectern/translate"
)

// maxBody bounds what we read from a remote service.
const maxBody = 8 << 20

// StatusError is a non-2xx answer. Body is the start of the response, for the translator's
// own error parser.
type StatusError struct {
	Code int
	Body []byte
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.Code) }

// Do sends body (nil: none) as JSON and returns a 2xx answer's bytes, for the translator's
// own (fuzzed) parser.
func Do(ctx context.Context, c *http.Client, method, url string, header http.Header, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if len(data) > 4096 {
			data = data[:4096]
		}
		return nil, &StatusError{Code: resp.StatusCode, Body: data}
	}
	return data, nil
}

// Classify maps the statuses every API shares to the stage's errors: 401/403 credentials,
// 429 rate limit. Others (5xx, 400, …) return nil: a plain failure.
func Classify(code int) error {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return translate.ErrAuth
	case http.StatusTooManyRequests:
		return translate.ErrRateLimited
	}
	return nil
}

// Wrap builds the error a translator returns for err from Do: its name, the status and the
// service's message, wrapping the sentinel from classify (nil: none).
func Wrap(name string, err error, message func([]byte) string, classify func(int) error) error {
	var se *StatusError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", name, err)
	}
	msg := message(se.Body)
	if s := classify(se.Code); s != nil {
		return fmt.Errorf("%s: HTTP %d: %s: %w", name, se.Code, msg, s)
	}
	return fmt.Errorf("%s: HTTP %d: %s", name, se.Code, msg)
}

// Text returns a short printable form of an error body that no parser understood.
func Text(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(bytes.TrimSpace(b))
}

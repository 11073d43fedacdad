package whisper

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// StatusError is a non-2xx answer from a server, with the server's own error message.
type StatusError struct {
	URL     string
	Status  int
	Message string // the server's error text ({"error": "..."} or {"error": {"message": ...}}), else the body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("whisper %s: HTTP %d: %s", e.URL, e.Status, e.Message)
}

// Retryable: server-side failures (5xx), rate limiting (429) and request timeouts (408) may
// succeed later or elsewhere; other 4xx mean the request itself is wrong.
func (e *StatusError) Retryable() bool {
	return e.Status >= 500 || e.Status == 429 || e.Status == 408
}

// TransportError is a failure to reach a server or read its answer (refused connection,
// reset, per-attempt timeout). It is always retryable.
type TransportError struct {
	URL string
	Err error
}

func (e *TransportError) Error() string   { return fmt.Sprintf("whisper %s: %v", e.URL, e.Err) }
func (e *TransportError) Unwrap() error   { return e.Err }
func (e *TransportError) Retryable() bool { return true }

// Retryable reports whether err (from Transcribe) may succeed if tried again later, so the
// caller's pool can retry a final or mark the segment failed at once.
func Retryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// errorMessage extracts the message of an error body in whisper.cpp's or OpenAI's shape.
func errorMessage(body []byte) string {
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil && len(v.Error) > 0 {
		var s string
		if json.Unmarshal(v.Error, &s) == nil && s != "" {
			return s
		}
		var o struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(v.Error, &o) == nil && o.Message != "" {
			return o.Message
		}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	if msg == "" {
		msg = "(empty body)"
	}
	return msg
}

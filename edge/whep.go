package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/pion/sdp/v3"

	"lectern/broadcast"
)

// maxAnswerBytes bounds the upstream's answer, as the api bounds offers.
const maxAnswerBytes = 64 << 10

// exchange posts the pull's offer to base's WHEP endpoint for webinar with the node bearer and
// records the session's Location (for the DELETE when the pull ends) in *loc.
func (m *Manager) exchange(base, webinar string, loc *string) broadcast.Exchange {
	return func(ctx context.Context, offer string) (string, error) {
		endpoint := strings.TrimRight(base, "/") + "/whep/" + url.PathEscape(webinar)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(offer))
		if err != nil {
			return "", fmt.Errorf("whep pull %s: %w", endpoint, err)
		}
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Authorization", "Bearer "+Token(m.cfg.Secret, webinar))
		res, err := m.cfg.Client.Do(req)
		if err != nil {
			return "", fmt.Errorf("whep pull %s: %w", endpoint, err)
		}
		defer res.Body.Close()
		answer, err := readAnswer(res.StatusCode, res.Header.Get("Content-Type"), res.Body)
		if err != nil {
			return "", fmt.Errorf("whep pull %s: %w", endpoint, err)
		}
		if l, err := res.Request.URL.Parse(res.Header.Get("Location")); err == nil && res.Header.Get("Location") != "" {
			*loc = l.String()
		}
		return answer, nil
	}
}

// readAnswer checks an upstream's reply to a WHEP offer: 201, an SDP body of bounded size
// that parses. Anything else becomes an error carrying the upstream's JSON error message.
func readAnswer(status int, contentType string, body io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxAnswerBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading answer: %w", err)
	}
	if status != http.StatusCreated {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return "", fmt.Errorf("upstream said %d: %.200s", status, e.Error)
		}
		return "", fmt.Errorf("upstream said %d", status)
	}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/sdp" {
		return "", fmt.Errorf("answer content type %.80q, want application/sdp", contentType)
	}
	if len(b) > maxAnswerBytes {
		return "", fmt.Errorf("answer larger than %d bytes", maxAnswerBytes)
	}
	var d sdp.SessionDescription
	if err := d.Unmarshal(b); err != nil {
		return "", fmt.Errorf("answer is not SDP: %w", err)
	}
	return string(b), nil
}

// hangUp ends the pull's session upstream (best effort: a dead upstream has no session left).
func (m *Manager) hangUp(loc, webinar string) {
	if loc == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, loc, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+Token(m.cfg.Secret, webinar))
	if res, err := m.cfg.Client.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		res.Body.Close()
	}
}

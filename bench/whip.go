package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// postOffer POSTs an SDP offer (WHIP or WHEP) and returns the answer and the
// absolute session URL from Location.
func postOffer(ctx context.Context, client *http.Client, endpoint, bearer, offer string) (answer, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewBufferString(offer))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/sdp")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("POST %s: %s: %s", endpoint, resp.Status, bytes.TrimSpace(body))
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", "", fmt.Errorf("POST %s: 201 without Location", endpoint)
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		return "", "", err
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return "", "", fmt.Errorf("bad Location %q: %w", loc, err)
	}
	return string(body), base.ResolveReference(ref).String(), nil
}

// hangUp DELETEs a WHIP/WHEP session.
func hangUp(ctx context.Context, client *http.Client, location, bearer string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("DELETE %s: %s", location, resp.Status)
	}
	return nil
}

package translate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// translate tries the translators in preference order: skipping those outside the webinar's
// allowed regions (never called), those backed off, and those not offering the pair. Each
// attempt has its own timeout, so a translator that hangs leaves time for the next one (and
// is backed off, so the following captions skip it at once). It returns the texts and the
// pivot language of the translator that succeeded.
func (s *Stage) translate(ctx context.Context, webinarID string, texts []string, from, to string, timeout time.Duration) ([]string, string, error) {
	var lastErr error
	for _, be := range s.allowed(webinarID) {
		if ctx.Err() != nil {
			// The caller gave up (stage closing, export cancelled): not the translators' fault.
			return nil, "", ctx.Err()
		}
		now := s.cfg.Now()
		if be.open(now) {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, timeout)
		pair, ok := be.directions(actx, now, s.cfg.LanguagesTTL, s.backoff)[[2]string{from, to}]
		if !ok {
			cancel()
			continue
		}
		t0 := time.Now()
		out, err := be.t.Translate(actx, texts, from, to)
		cancel()
		s.m.latency.WithLabelValues(be.name).Observe(time.Since(t0).Seconds())
		if err == nil && len(out) != len(texts) {
			err = fmt.Errorf("%s returned %d texts for %d", be.name, len(out), len(texts))
		}
		s.m.requests.WithLabelValues(be.name, result(err)).Inc()
		if err == nil {
			be.ok()
			return out, pair.Pivot, nil
		}
		if ctx.Err() != nil {
			return nil, "", err
		}
		d := be.fail(s.cfg.Now(), err, s.backoff)
		s.log.Warn("translator failed, backing off", "translator", be.name, "from", from, "to", to, "backoff", d, "err", err)
		lastErr = err
	}
	if lastErr == nil {
		return nil, "", fmt.Errorf("%s→%s: %w: no allowed healthy translator offers it", from, to, ErrUnavailable)
	}
	return nil, "", fmt.Errorf("%s→%s: %w: %w", from, to, ErrUnavailable, lastErr)
}

func result(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrQuota):
		return "quota"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrAuth):
		return "auth"
	default:
		return "error"
	}
}

// allowed returns the backends whose region the webinar allows, in preference order.
func (s *Stage) allowed(webinarID string) []*backend {
	if s.cfg.Regions == nil || webinarID == "" {
		return s.backs
	}
	regions := s.cfg.Regions(webinarID)
	out := make([]*backend, 0, len(s.backs))
	for _, be := range s.backs {
		if regions.Allows(be.region) {
			out = append(out, be)
		}
	}
	return out
}

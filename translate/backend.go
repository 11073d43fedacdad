package translate

import (
	"context"
	"errors"
	"sync"
	"time"
)

// backend wraps one configured Translator with its circuit breaker and its cached directions.
type backend struct {
	t      Translator
	name   string
	region string

	mu       sync.Mutex
	failures int       // consecutive
	until    time.Time // no calls before this (open breaker)
	lastErr  string
	pairs    map[[2]string]Pair
	fetched  time.Time
}

// TranslatorStatus is what the status endpoint shows about one translator.
type TranslatorStatus struct {
	Name         string    `json:"name"`
	Region       string    `json:"region"`
	Healthy      bool      `json:"healthy"`
	LastError    string    `json:"last_error,omitempty"`
	Failures     int       `json:"failures"`
	BackoffUntil time.Time `json:"backoff_until,omitzero"`
	Pairs        int       `json:"pairs"`
}

// backoff policy, filled from StageConfig.
type backoff struct {
	base, max, quota time.Duration
}

// delay after n consecutive failures: base·2ⁿ⁻¹, capped; quota and auth errors wait long,
// because they do not fix themselves in seconds.
func (b backoff) delay(n int, err error) time.Duration {
	if errors.Is(err, ErrQuota) || errors.Is(err, ErrAuth) {
		return b.quota
	}
	d := b.base
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// open reports whether calls are held back at now.
func (be *backend) open(now time.Time) bool {
	be.mu.Lock()
	defer be.mu.Unlock()
	return now.Before(be.until)
}

func (be *backend) fail(now time.Time, err error, p backoff) time.Duration {
	be.mu.Lock()
	defer be.mu.Unlock()
	be.failures++
	d := p.delay(be.failures, err)
	be.until = now.Add(d)
	be.lastErr = err.Error()
	return d
}

func (be *backend) ok() {
	be.mu.Lock()
	defer be.mu.Unlock()
	be.failures = 0
	be.until = time.Time{}
}

// directions returns the translator's pairs, fetching them when missing or older than ttl. A
// failed fetch counts as a failure of the translator (it is down), and nil is returned.
func (be *backend) directions(ctx context.Context, now time.Time, ttl time.Duration, p backoff) map[[2]string]Pair {
	be.mu.Lock()
	if be.pairs != nil && now.Sub(be.fetched) < ttl {
		pairs := be.pairs
		be.mu.Unlock()
		return pairs
	}
	stale := be.pairs
	if now.Before(be.until) {
		be.mu.Unlock()
		return stale
	}
	be.mu.Unlock()

	list, err := be.t.Languages(ctx)
	if err != nil {
		be.fail(now, err, p)
		return stale
	}
	pairs := make(map[[2]string]Pair, len(list))
	for _, pr := range list {
		pairs[[2]string{pr.From, pr.To}] = pr
	}
	be.mu.Lock()
	be.pairs, be.fetched = pairs, now
	be.mu.Unlock()
	return pairs
}

func (be *backend) status(now time.Time) TranslatorStatus {
	be.mu.Lock()
	defer be.mu.Unlock()
	s := TranslatorStatus{
		Name: be.name, Region: be.region, Healthy: !now.Before(be.until) && be.failures == 0,
		LastError: be.lastErr, Failures: be.failures, Pairs: len(be.pairs),
	}
	if now.Before(be.until) {
		s.BackoffUntil = be.until
	}
	return s
}

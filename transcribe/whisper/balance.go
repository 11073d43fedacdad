package whisper

import (
	"context"
	"errors"
	"sync"
	"time"
)

// balancer spreads requests over the servers: each URL takes at most maxInFlight requests
// at once (whisper.cpp serves one at a time, so extra requests would only queue inside it),
// the least busy healthy URL gets the next one, and a URL that just failed is avoided for a
// growing cool-down unless nothing else is left.
type balancer struct {
	maxInFlight int

	mu      sync.Mutex
	eps     []*endpoint
	next    int           // round-robin cursor among equally busy URLs
	changed chan struct{} // closed and replaced when a slot frees up
}

type endpoint struct {
	url       string
	inFlight  int
	fails     int       // consecutive failures
	coolUntil time.Time // avoided until then
}

const (
	firstCoolDown = time.Second
	maxCoolDown   = 30 * time.Second
)

var errAllTried = errors.New("whisper: every server URL was tried")

func newBalancer(urls []string, maxInFlight int) *balancer {
	b := &balancer{maxInFlight: maxInFlight, changed: make(chan struct{})}
	for _, u := range urls {
		b.eps = append(b.eps, &endpoint{url: u})
	}
	return b
}

// acquire takes a slot on the best URL not in tried, waiting while every candidate is busy.
func (b *balancer) acquire(ctx context.Context, tried map[*endpoint]bool) (*endpoint, error) {
	for {
		b.mu.Lock()
		ep, untried := b.pick(tried, time.Now())
		if ep != nil {
			ep.inFlight++
			b.mu.Unlock()
			return ep, nil
		}
		changed := b.changed
		b.mu.Unlock()
		if !untried {
			return nil, errAllTried
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		}
	}
}

// pick chooses under b.mu: healthy before cooling, then fewest in flight, then round robin.
// untried says whether any URL is left to wait for.
func (b *balancer) pick(tried map[*endpoint]bool, now time.Time) (best *endpoint, untried bool) {
	n := len(b.eps)
	for k := range n {
		ep := b.eps[(b.next+k)%n]
		if tried[ep] {
			continue
		}
		untried = true
		if ep.inFlight >= b.maxInFlight {
			continue
		}
		if best == nil || better(ep, best, now) {
			best = ep
		}
	}
	if best != nil {
		b.next = (b.next + 1) % n
	}
	return best, untried
}

func better(a, b *endpoint, now time.Time) bool {
	aCool, bCool := now.Before(a.coolUntil), now.Before(b.coolUntil)
	if aCool != bCool {
		return !aCool
	}
	if aCool { // both cooling: the one that comes back first
		return a.coolUntil.Before(b.coolUntil)
	}
	return a.inFlight < b.inFlight
}

// release frees the slot; failed (a retryable failure of the server) starts or lengthens
// its cool-down, success ends it.
func (b *balancer) release(ep *endpoint, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ep.inFlight--
	if failed {
		d := firstCoolDown << min(ep.fails, 5)
		ep.fails++
		ep.coolUntil = time.Now().Add(min(d, maxCoolDown))
	} else {
		ep.fails = 0
		ep.coolUntil = time.Time{}
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

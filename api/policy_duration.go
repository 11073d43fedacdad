package api

import (
	"context"
	"sync"
	"time"
)

// The duration limit (issue 11, item 4): a webinar's time counts from its first presenter
// going live; everyone hears "ending" 5 and 1 minutes before the limit, then the webinar ends
// for everyone as when the host ends it. A presenter who reconnects does not restart the
// count; the count ends with the webinar (the host ending it, or the limit), so the next class
// in the same webinar counts afresh. The counts live in memory: a restarted server counts
// from the next presenter going live.

// AfterFunc runs f after d and returns a stop function (false when f already ran), like
// time.AfterFunc. Tests inject one that fires when they move their clock (Deps.Clock).
type AfterFunc func(d time.Duration, f func()) (stop func() bool)

func realAfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// endingWarnings are the minutes before the limit at which everyone is warned.
var endingWarnings = []int{5, 1}

// durationLimits are the counts of the webinars live under a duration limit.
type durationLimits struct {
	mu     sync.Mutex
	runs   map[string]*limitRun
	closed bool // the server is shutting down: no new timers
}

// limitRun is one webinar's count: when it started and the timers of its warnings and end.
type limitRun struct {
	start time.Time
	stops []func() bool
}

func newDurationLimits() *durationLimits { return &durationLimits{runs: map[string]*limitRun{}} }

func (s *Server) after(d time.Duration, f func()) func() bool {
	if s.AfterFunc != nil {
		return s.AfterFunc(d, f)
	}
	return realAfterFunc(d, f)
}

// wentLive starts the webinar's count when a presenter goes live and none runs yet.
func (s *Server) wentLive(ctx context.Context, webinar string) {
	p, err := s.Store.Policy(ctx)
	if err != nil {
		// The broadcast goes on; only its limit is unknown.
		s.Logger.Error("reading the duration limit", "webinar", webinar, "err", err)
		return
	}
	if limit := p.MaxDuration(); limit > 0 {
		s.startCount(webinar, limit)
	}
}

func (s *Server) startCount(webinar string, limit time.Duration) {
	l := s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.runs[webinar] != nil {
		return
	}
	r := &limitRun{start: s.now()}
	l.runs[webinar] = r
	s.armLocked(webinar, r, limit)
	s.Logger.Info("duration limit counting", "webinar", webinar, "limit", limit, "ends_at", r.start.Add(limit))
}

// armLocked (re)sets a count's timers for limit: warnings not yet due, then the end (at once
// when the limit has already passed).
func (s *Server) armLocked(webinar string, r *limitRun, limit time.Duration) {
	r.stopTimers()
	now, end := s.now(), r.start.Add(limit)
	for _, m := range endingWarnings {
		at := end.Add(-time.Duration(m) * time.Minute)
		if at.Before(r.start) || at.Before(now) {
			continue
		}
		r.stops = append(r.stops, s.after(at.Sub(now), func() { s.warnEnding(webinar, r, m, end) }))
	}
	r.stops = append(r.stops, s.after(max(end.Sub(now), 0), func() { s.limitReached(webinar, r) }))
}

func (r *limitRun) stopTimers() {
	for _, stop := range r.stops {
		stop()
	}
	r.stops = nil
}

// current reports whether r is still the webinar's count (a timer may fire just as the
// count is stopped or re-armed).
func (l *durationLimits) current(webinar string, r *limitRun) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.runs[webinar] == r
}

func (s *Server) warnEnding(webinar string, r *limitRun, minutes int, end time.Time) {
	if !s.limits.current(webinar, r) {
		return
	}
	s.publish(webinar, RoomAudience{Everyone: true}, "ending",
		map[string]any{"minutes_left": minutes, "ends_at": end.UTC().Format(time.RFC3339)})
}

func (s *Server) limitReached(webinar string, r *limitRun) {
	if !s.limits.current(webinar, r) {
		return
	}
	s.Logger.Info("webinar reached its duration limit", "webinar", webinar, "started", r.start)
	s.endForAll(webinar)
}

// stopCount forgets the webinar's count (it ended).
func (s *Server) stopCount(webinar string) {
	l := s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.runs[webinar]; r != nil {
		r.stopTimers()
		delete(l.runs, webinar)
	}
}

// applyDurationLimit applies a changed limit at once: running counts keep their start and
// get the new limit (ending now if it has passed), or stop when there is no limit any more;
// webinars live without a count start one now.
func (s *Server) applyDurationLimit(ctx context.Context, limit time.Duration) error {
	l := s.limits
	l.mu.Lock()
	for w, r := range l.runs {
		if limit == 0 {
			r.stopTimers()
			delete(l.runs, w)
			continue
		}
		s.armLocked(w, r, limit)
	}
	l.mu.Unlock()
	if limit == 0 {
		return nil
	}
	ws, err := s.Store.Webinars(ctx)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if s.Broadcast.Live(w.ID) {
			s.startCount(w.ID, limit)
		}
	}
	return nil
}

// closeLimits stops every count's timers (server shutdown).
func (s *Server) closeLimits() {
	l := s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for w, r := range l.runs {
		r.stopTimers()
		delete(l.runs, w)
	}
}

package api

import (
	"context"
	"errors"
	"sync"
	"time"
)

// The duration limit (issue 11, item 4): a webinar's time counts from its first presenter
// going live; everyone hears "ending" 5 and 1 minutes before the limit, then the webinar ends
// for everyone as when the host ends it. A presenter who reconnects does not restart the
// count; the count ends with the webinar (the host ending it, or the limit), so the next class
// in the same webinar counts afresh. Each count's start is stored, so a restarted server goes
// on counting (ResumeDurationLimits) instead of starting again.

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
		s.startCount(ctx, webinar, limit)
	}
}

// startCount starts the webinar's count now, or goes on with the stored one.
func (s *Server) startCount(ctx context.Context, webinar string, limit time.Duration) {
	start, err := s.Store.StartCount(ctx, webinar, s.now())
	if err != nil {
		s.Logger.Error("storing a duration count: counting in memory only", "webinar", webinar, "err", err)
		start = s.now()
	}
	s.armCount(webinar, start, limit)
}

// armCount sets the webinar's count in memory, unless it has one.
func (s *Server) armCount(webinar string, start time.Time, limit time.Duration) {
	l := s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.runs[webinar] != nil {
		return
	}
	r := &limitRun{start: start}
	l.runs[webinar] = r
	s.armLocked(webinar, r, limit)
	s.Logger.Info("duration limit counting", "webinar", webinar, "limit", limit, "ends_at", r.start.Add(limit))
}

// ResumeDurationLimits goes on with the counts a previous run of the server stored: their
// warnings and ends come when they would have (at once if they have passed).
func (s *Server) ResumeDurationLimits(ctx context.Context) error {
	p, err := s.Store.Policy(ctx)
	if err != nil {
		return err
	}
	counts, err := s.Store.Counts(ctx)
	if err != nil {
		return err
	}
	for w, start := range counts {
		if p.MaxDuration() == 0 {
			err = errors.Join(err, s.Store.EndCount(ctx, w))
			continue
		}
		s.armCount(w, start, p.MaxDuration())
	}
	return err
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
	if err := s.Store.SetRoomEnded(context.Background(), webinar, s.now()); err != nil {
		// Everyone is still disconnected; only a restart would forget the end.
		s.Logger.Error("storing the end of a webinar at its duration limit", "webinar", webinar, "err", err)
	}
	s.endForAll(webinar)
	s.emitEnded(nil, webinar)
}

// stopCount forgets the webinar's count (it ended).
func (s *Server) stopCount(webinar string) {
	l := s.limits
	l.mu.Lock()
	if r := l.runs[webinar]; r != nil {
		r.stopTimers()
		delete(l.runs, webinar)
	}
	l.mu.Unlock()
	if err := s.Store.EndCount(context.Background(), webinar); err != nil {
		s.Logger.Error("forgetting a duration count", "webinar", webinar, "err", err)
	}
}

// applyDurationLimit applies a changed limit at once: running counts keep their start and
// get the new limit (ending now if it has passed), or stop when there is no limit any more;
// webinars live without a count start one now.
func (s *Server) applyDurationLimit(ctx context.Context, limit time.Duration) error {
	if limit == 0 {
		return s.stopAllCounts(ctx)
	}
	l := s.limits
	l.mu.Lock()
	for w, r := range l.runs {
		s.armLocked(w, r, limit)
	}
	l.mu.Unlock()
	ws, err := s.Store.Webinars(ctx)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if s.Broadcast.Live(w.ID) {
			s.startCount(ctx, w.ID, limit)
		}
	}
	return nil
}

// stopAllCounts ends every count, in memory and stored (the limit is gone).
func (s *Server) stopAllCounts(ctx context.Context) error {
	counts, err := s.Store.Counts(ctx)
	if err != nil {
		return err
	}
	l := s.limits
	l.mu.Lock()
	for w, r := range l.runs {
		r.stopTimers()
		delete(l.runs, w)
	}
	l.mu.Unlock()
	for w := range counts {
		err = errors.Join(err, s.Store.EndCount(ctx, w))
	}
	return err
}

// closeLimits stops every count's timers (server shutdown); the stored counts stay for the
// next run.
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

package transcribe

import "time"

// shownStatus is the status a Live last reported to its viewers.
type shownStatus struct {
	state string
	lag   time.Duration
	at    time.Time
}

// statusEvery is how often a Live repeats a degraded status with its current lag.
const statusEvery = time.Second

// report tells viewers (through the sink) when live captions become delayed or paused,
// how far behind they are while it lasts, and when they are back. The state is the pool's
// (it is shared: one busy webinar slows the others); the lag is this webinar's own.
func (l *Live) report(now time.Time) {
	state := l.pool.State()
	var lag time.Duration
	for _, p := range l.pipes {
		lag = max(lag, p.emit.lag(now))
	}
	last := l.shown
	if last.state == "" {
		last.state = StatusOK // nothing said yet: viewers assume captions keep up
	}
	changed := state != last.state
	update := state != StatusOK && now.Sub(last.at) >= statusEvery && (lag-last.lag).Abs() >= statusEvery/2
	if !changed && !update {
		return
	}
	l.shown = shownStatus{state: state, lag: lag, at: now}
	l.sinkMu.Lock()
	defer l.sinkMu.Unlock()
	l.sink(Event{Status: state, Lag: lag})
}

package live

import (
	"context"
	"time"

	"lectern/transcribe"
)

// sessionStart is where ev's presenter session starts on the webinar's timeline, in ms. The
// transcriber's times restart at 0 with each session (a reconnect, a server restart); adding
// the session's start gives every caption its time since the webinar's first audio, so
// sessions follow each other with their real gap and never overlap. The store places the
// session (and keeps the origin) once; the room remembers the answer. Called only from
// onEvent, one event at a time.
func (r *Room) sessionStart(ev transcribe.Event) int64 {
	if start, ok := r.sessions[ev.Session]; ok {
		return start
	}
	at := ev.SessionStart
	if at.IsZero() { // not from a live session: its audio began End ago at the latest
		at = time.Now().Add(-ev.End)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start, err := r.m.cfg.Store.StartSession(ctx, r.id, ev.Session, at)
	if err != nil {
		// A store that refuses writes (a full disk) must not hide captions: place the
		// session from what the room knows, after everything it has shown. The finals are
		// stored later with these times, and the next session placed by the store starts
		// after them.
		start = r.provisionalStart(at)
		r.m.log.Error("presenter session placed on the timeline without the store", "webinar", r.id,
			"session", ev.Session, "start_ms", start, "err", err)
	} else if r.origin.IsZero() {
		r.origin = at.Add(-time.Duration(start) * time.Millisecond)
	}
	r.sessions[ev.Session] = start
	return start
}

// provisionalStart is a session's start when the store cannot place it: its distance from
// the timeline's origin if the room knows it, never before the last caption shown.
func (r *Room) provisionalStart(at time.Time) int64 {
	start := r.lastEnd
	if !r.origin.IsZero() {
		start = max(start, at.Sub(r.origin).Milliseconds())
	}
	return start
}

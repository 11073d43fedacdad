package live

import (
	"context"
	"fmt"
	"time"

	"lectern/transcribe"
)

// sessionStart is where ev's presenter session starts on the webinar's timeline, in ms. The
// transcriber's times restart at 0 with each session (a reconnect, a server restart); adding
// the session's start gives every caption its time since the webinar's first audio, so
// sessions follow each other with their real gap and never overlap. The store places the
// session (and keeps the origin) once; the room remembers the answer. Called only from
// onEvent, one event at a time.
func (r *Room) sessionStart(ev transcribe.Event) (int64, error) {
	if start, ok := r.sessions[ev.Session]; ok {
		return start, nil
	}
	at := ev.SessionStart
	if at.IsZero() { // not from a live session: its audio began End ago at the latest
		at = time.Now().Add(-ev.End)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start, err := r.m.cfg.Store.StartSession(ctx, r.id, ev.Session, at)
	if err != nil {
		return 0, fmt.Errorf("place session on the timeline: %w", err)
	}
	r.sessions[ev.Session] = start
	return start, nil
}

package live

import (
	"time"

	"lectern/broadcast"
	"lectern/transcribe"
)

// speakers is a room's broadcast.StageTap: every presenter on the stage gets a transcriber of
// their own (reorder, decode, voice activity, utterances, streaming session), so each caption
// carries the name of whoever said it, and two people talking at once give two captions
// rather than one garbled one. A presenter keeps their transcriber across a reconnect (the
// same stage credential joins again); it is closed when they leave the stage.
type speakers struct{ r *Room }

// speakerTap is one presenter's transcriber.
type speakerTap struct {
	name string
	live *transcribe.Live
}

// Join implements broadcast.StageTap, on the presenter's media goroutine: NewLive only
// allocates and starts its goroutine.
func (s speakers) Join(m broadcast.StageMember) broadcast.Tap {
	r := s.r
	r.tapMu.Lock()
	defer r.tapMu.Unlock()
	if r.taps == nil { // captions went off (regions, room closed) since the packet was sent
		return nil
	}
	if !r.isOrigin() { // an edge's pulled audio: the origin transcribes it, once
		return nil
	}
	r.placeLater(m.Session, time.Now())
	if t := r.taps[m.Key]; t != nil {
		return r.originOnly(t.live)
	}
	cfg := r.m.cfg.Transcribe
	cfg.Options.Language = r.Webinar().Language
	t := &speakerTap{name: m.Name}
	t.live = transcribe.NewLive(r.m.cfg.Pool, cfg, r.speakerSink(t.name))
	r.taps[m.Key] = t
	r.m.log.Info("speaker tapped for captions", "webinar", r.id, "speaker", m.Name, "slot", m.Slot)
	return r.originOnly(t.live)
}

// Leave implements broadcast.StageTap. It must not block: the transcriber's last finals are
// waited for in the background.
func (s speakers) Leave(m broadcast.StageMember) {
	r := s.r
	r.tapMu.Lock()
	defer r.tapMu.Unlock()
	t := r.taps[m.Key]
	if t == nil || r.closed {
		return
	}
	delete(r.taps, m.Key)
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		t.live.Close()
	}()
}

// speakerSink runs the room's onEvent for one speaker's events, one event at a time across
// all speakers: the timeline, the sequence numbers and the store see one caption at a time.
func (r *Room) speakerSink(name string) func(transcribe.Event) {
	return func(ev transcribe.Event) {
		r.evMu.Lock()
		defer r.evMu.Unlock()
		if ev.Status != "" && !r.newStatus(ev, time.Now()) {
			return
		}
		r.onEvent(name, ev)
	}
}

// newStatus reports whether a speaker's status event tells viewers something the other
// speakers' did not: the state is the pool's, so every transcriber reports each change;
// viewers hear it once, and a degraded state's lag at most every second. Called under evMu.
func (r *Room) newStatus(ev transcribe.Event, now time.Time) bool {
	if ev.Status == r.status && now.Sub(r.statusAt) < time.Second {
		return false
	}
	r.status, r.statusAt = ev.Status, now
	return true
}

// placeLater puts a presenter session on the webinar's timeline as its audio starts, not at
// its first caption: with several people on stage, another speaker's finals are stored by
// then, and the store never starts a session before a stored final, which would shift this
// speaker's captions late. Called with tapMu held.
func (r *Room) placeLater(session string, at time.Time) {
	if r.closed {
		return
	}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		r.evMu.Lock()
		defer r.evMu.Unlock()
		r.sessionStart(transcribe.Event{Session: session, SessionStart: at})
	}()
}

// stopTapsLocked takes the room off the stage's audio and closes every speaker's
// transcriber, waiting for their last finals. Called with tapMu held.
func (r *Room) stopTapsLocked() {
	if r.untap != nil {
		r.untap()
	}
	for _, t := range r.taps {
		t.live.Close()
	}
	r.taps, r.untap = nil, nil
}

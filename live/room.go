package live

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"lectern/captions"
	"lectern/internal/region"
	"lectern/models"
	"lectern/transcribe"
)

// Room is one webinar's live captioning: its hub and, when an engine is configured, a
// transcriber tapped into each stage presenter's audio (speakers.go).
type Room struct {
	m       *Manager
	id      string
	webinar atomic.Pointer[models.Webinar] // replaced when its settings change
	hub     *captions.Hub
	unsaved *unsaved // finals the store refused, retried in the background
	relay   relayState

	demandMu     sync.Mutex
	localDemand  map[string]int // readers per language here
	remoteDemand map[string]int // readers per language on other nodes (origin only)

	tapMu  sync.Mutex             // the audio taps come and go with the stage and the allowed regions
	taps   map[string]*speakerTap // by stage credential (Publisher.Key); nil while captions are off
	untap  func()
	closed bool
	bg     sync.WaitGroup // leaving speakers' last finals, session placements

	// onEvent's own, under evMu (speakers' transcribers call it one at a time): presenter
	// session → its start on the timeline (ms), the timeline's origin once known, and the end
	// of the last caption placed (see sessionStart); the status viewers were last told.
	evMu     sync.Mutex
	sessions map[string]int64
	origin   time.Time
	lastEnd  int64
	status   string
	statusAt time.Time
}

func newRoom(m *Manager, w models.Webinar, startSeq int64) *Room {
	r := &Room{m: m, id: w.ID, sessions: map[string]int64{}, localDemand: map[string]int{}, remoteDemand: map[string]int{}}
	r.webinar.Store(&w)
	r.unsaved = newUnsaved(m.cfg.Store.SaveSegment, r.onSaved, m.log)
	r.hub = captions.NewHub(captions.HubConfig{
		Webinar: w.ID, StartSeq: startSeq, Metrics: m.cfg.Metrics, Logger: m.log,
		OnDemand: r.demand,
	})
	r.applyRegions()
	r.joinRelay()
	return r
}

// regions is where this webinar's audio and text may go (policy ∩ webinar setting).
func (r *Room) regions() region.Set {
	return r.m.policyRegions().Intersect(region.Of(r.Webinar().Regions))
}

// applyRegions taps the presenters' audio into the speech pool only while the webinar's
// regions allow the engine's: audio never reaches an engine outside them. Without the taps
// there are no live captions, and caption readers are told why (a status event, which new
// readers get first).
func (r *Room) applyRegions() {
	pool := r.m.cfg.Pool
	if pool == nil {
		return
	}
	engine := pool.Engine().Region()
	allowed := r.regions()
	r.tapMu.Lock()
	defer r.tapMu.Unlock()
	switch {
	case r.closed:
	case allowed.Allows(engine) && r.taps == nil:
		r.taps = map[string]*speakerTap{}
		r.untap = r.m.cfg.Broadcast.AddStageTap(r.id, speakers{r})
		r.publishStatus(captions.Status{State: "ok"})
	case !allowed.Allows(engine):
		r.stopTapsLocked()
		r.publishStatus(captions.Status{State: "unavailable",
			Reason: fmt.Sprintf("the speech engine runs in region %q; this webinar allows %s", engine, allowed)})
		r.m.log.Info("live captions off: engine outside the webinar's regions", "webinar", r.id,
			"engine_region", engine, "allowed", allowed.String())
	}
}

// Hub is the room's caption hub.
func (r *Room) Hub() *captions.Hub { return r.hub }

// Webinar is the webinar the room belongs to, with its latest settings.
func (r *Room) Webinar() models.Webinar { return *r.webinar.Load() }

// onEvent receives a speaker's transcriber events, one at a time across speakers (evMu). A
// final is stored before anyone sees it, so the transcript never misses a caption that reached a viewer; if the store
// refuses it (a full disk), viewers still get it, marked unsaved, and it is stored in the
// background once the store takes writes again.
func (r *Room) onEvent(speaker string, ev transcribe.Event) {
	switch {
	case ev.Status != "":
		r.publishStatus(captions.Status{State: ev.Status, LagMS: ev.Lag.Milliseconds()})
		return
	case ev.Fill:
		r.fill(speaker, ev)
		return
	}
	offset := r.sessionStart(ev)
	c := captions.Caption{
		ID: ev.ID, Final: ev.Final, Text: ev.Text, Lang: r.Webinar().Language, Speaker: speaker,
		StartMS: offset + ev.Start.Milliseconds(), EndMS: offset + ev.End.Milliseconds(),
	}
	r.lastEnd = max(r.lastEnd, c.EndMS)
	c.Seq = r.hub.NextSeq()
	if !ev.Final {
		r.publish(c)
		if st := r.m.cfg.Stage; st != nil {
			st.SubmitPartial(r.id, c)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seg := models.Segment{Caption: c, Webinar: r.id, Session: ev.Session, Engine: ev.Engine, Failed: ev.Failed}
	if err := r.m.cfg.Store.SaveSegment(ctx, seg); err != nil {
		r.m.log.Error("final caption not stored: shown unsaved, retrying", "webinar", r.id, "id", c.ID, "err", err)
		r.unsaved.add(seg)
		c.Unsaved = true
	}
	if ev.Failed {
		if !ev.Gap {
			r.m.log.Warn("speech engine failed on a segment", "webinar", r.id, "id", c.ID,
				"start_ms", c.StartMS, "end_ms", c.EndMS, "err", ev.Error)
		}
		// Clear the partial the viewers may be showing for this utterance (the speaker's own
		// line, when several speak).
		r.publish(captions.Caption{ID: c.ID, Seq: c.Seq, Lang: c.Lang, Speaker: c.Speaker})
		return
	}
	r.publish(c)
	if st := r.m.cfg.Stage; st != nil {
		st.Submit(r.id, c)
	}
}

// onSaved tells viewers that a final shown unsaved is now in the transcript.
func (r *Room) onSaved(seg models.Segment) {
	if !seg.Failed {
		r.publish(seg.Caption)
	}
}

// fill completes the stored transcript with the late final of a gap. It is not shown: live
// viewers are well past it, and a resuming viewer reads it from the store.
func (r *Room) fill(speaker string, ev transcribe.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offset := r.sessionStart(ev) // placed when its gap went by; the insert needs timeline times
	seg := models.Segment{
		Caption: captions.Caption{ID: ev.ID, Final: true, Text: ev.Text, Lang: r.Webinar().Language,
			Speaker: speaker, StartMS: offset + ev.Start.Milliseconds(), EndMS: offset + ev.End.Milliseconds()},
		Webinar: r.id, Session: ev.Session, Engine: ev.Engine,
	}
	ok, err := r.m.cfg.Store.FillSegment(ctx, seg)
	if err == nil && !ok {
		seg.Seq = r.hub.NextSeq()
		err = r.m.cfg.Store.SaveSegment(ctx, seg)
	}
	if err != nil {
		r.m.log.Error("caption gap not filled in the transcript", "webinar", r.id, "id", ev.ID, "err", err)
	}
}

// Pool is the speech worker pool, or nil when captions are off.
func (m *Manager) Pool() *transcribe.Pool { return m.cfg.Pool }

func (r *Room) close() {
	r.tapMu.Lock()
	r.closed = true
	r.stopTapsLocked()
	r.tapMu.Unlock()
	r.bg.Wait()
	r.unsaved.close()
	if r.relay.leave != nil {
		r.relay.leave()
	}
	r.hub.Close()
}

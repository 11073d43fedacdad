package live

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/cluster"
)

// Relay carries a webinar's caption events between the nodes of a cluster (cluster.Bus). Only
// the origin transcribes and translates; it sends what its hub shows, and the other nodes'
// rooms show the same events (same ids and seqs, so Last-Event-ID resumes on any node).
type Relay interface {
	SendCaption(webinar string, c captions.Caption)
	SendStatus(webinar string, st captions.Status)
	// SendDemand tells the origin how many readers of lang this node has.
	SendDemand(webinar, lang string, readers int)
	// JoinCaptions delivers other nodes' events, one at a time, until leave is called.
	JoinCaptions(webinar string, deliver func(cluster.CaptionEvent)) (leave func())
}

// relayState is a room's share of the relay; owned by the relay's delivering goroutine
// except demand, which hub callbacks also touch (demandMu).
type relayState struct {
	leave   func()
	lastSeq int64          // the highest seq received from the origin
	gapFrom int64          // lastSeq when the link went down; -1: no gap
	seen    map[int64]bool // finals received since the gap, not to be filled twice
	// filled are the finals shown from the store after a gap, and the highest of them: the
	// origin's client sends what it buffered while cut off once it is back, which must not
	// show them twice, nor its stale partials.
	filled    map[int64]bool
	filledMax int64
	origin    atomic.Bool // this node published as the origin
}

// isOrigin reports whether this node transcribes the webinar (a lone server always does).
func (r *Room) isOrigin() bool {
	f := r.m.cfg.IsOrigin
	return f == nil || f(r.id)
}

// publish shows a caption here and, from the origin, on every other node.
func (r *Room) publish(c captions.Caption) {
	r.hub.Publish(c)
	if rl := r.m.cfg.Relay; rl != nil && r.isOrigin() {
		if !r.relay.origin.Swap(true) {
			r.wantLocal() // readers here came while another node (or none) was the origin
		}
		rl.SendCaption(r.id, c)
	}
}

// wantLocal gives the stage this node's readers of every language.
func (r *Room) wantLocal() {
	r.demandMu.Lock()
	langs := make([]string, 0, len(r.localDemand))
	for lang := range r.localDemand {
		langs = append(langs, lang)
	}
	r.demandMu.Unlock()
	for _, lang := range langs {
		r.want(lang)
	}
}

// publishStatus is publish for the captions' status.
func (r *Room) publishStatus(st captions.Status) {
	r.hub.PublishStatus(st)
	if rl := r.m.cfg.Relay; rl != nil && r.isOrigin() {
		rl.SendStatus(r.id, st)
	}
}

func (r *Room) joinRelay() {
	if rl := r.m.cfg.Relay; rl != nil {
		r.relay.gapFrom = -1
		r.relay.leave = rl.JoinCaptions(r.id, r.fromRelay)
	}
}

// fromRelay takes an event of another node into this room.
func (r *Room) fromRelay(ev cluster.CaptionEvent) {
	st := &r.relay
	switch {
	case ev.Link == "down":
		if st.gapFrom < 0 {
			st.gapFrom, st.seen = st.lastSeq, map[int64]bool{}
			st.filled, st.filledMax = map[int64]bool{}, 0
		}
	case ev.Link == "up":
		r.fillGap()
	case ev.Caption != nil:
		c := *ev.Caption
		if st.filled[c.Seq] || (!c.Final && c.Seq <= st.filledMax) {
			return
		}
		st.lastSeq = max(st.lastSeq, c.Seq)
		r.hub.Observe(c.Seq)
		if st.seen != nil && c.Final {
			st.seen[c.Seq] = true
		}
		r.hub.Publish(c)
	case ev.Status != nil:
		r.hub.PublishStatus(*ev.Status)
	case ev.Demand != nil:
		r.demandMu.Lock()
		r.remoteDemand[ev.Demand.Lang] = ev.Demand.Readers
		r.demandMu.Unlock()
		r.want(ev.Demand.Lang)
	}
}

// fillGap shows the finals the origin stored while this node was cut off from it: they are
// in the store (stored before they were sent), so readers here miss none. Finals that did
// arrive meanwhile are not shown twice.
func (r *Room) fillGap() {
	st := &r.relay
	from, seen := st.gapFrom, st.seen
	st.gapFrom, st.seen = -1, nil
	if from < 0 || r.isOrigin() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	spoken := r.Webinar().Language
	for lang := range r.hub.Languages() {
		var missed []captions.Caption
		var err error
		if lang == spoken {
			missed, err = r.m.cfg.Store.Finals(ctx, r.id, from)
		} else {
			missed, err = r.m.cfg.Store.TranslatedFinals(ctx, r.id, lang, from)
		}
		if err != nil {
			r.m.log.Error("captions missed while the cluster link was down not shown", "webinar", r.id, "lang", lang, "err", err)
			continue
		}
		for _, c := range missed {
			if !seen[c.Seq] {
				st.filled[c.Seq], st.filledMax = true, max(st.filledMax, c.Seq)
				st.lastSeq = max(st.lastSeq, c.Seq)
				r.hub.Observe(c.Seq)
				r.hub.Publish(c)
			}
		}
		if len(missed) > 0 {
			r.m.log.Info("captions missed while the cluster link was down shown from the store",
				"webinar", r.id, "lang", lang, "finals", len(missed))
		}
	}
}

// demand records this node's readers of lang: the origin's stage translates for the whole
// cluster; another node tells the origin. The spoken language needs no translation.
func (r *Room) demand(lang string, readers int) {
	if lang == r.Webinar().Language {
		return
	}
	r.demandMu.Lock()
	r.localDemand[lang] = readers
	r.demandMu.Unlock()
	if rl := r.m.cfg.Relay; rl != nil && !r.isOrigin() {
		rl.SendDemand(r.id, lang, readers)
		return
	}
	r.want(lang)
}

// want gives the stage the cluster's readers of lang (on the origin).
func (r *Room) want(lang string) {
	st := r.m.cfg.Stage
	if st == nil || lang == r.Webinar().Language || !r.isOrigin() {
		return
	}
	r.demandMu.Lock()
	n := r.localDemand[lang] + r.remoteDemand[lang]
	r.demandMu.Unlock()
	st.Want(r.id, lang, n)
}

// originOnly passes a presenter's audio to the speech pipeline only while this node is the
// webinar's origin: should the lease move elsewhere, the new origin transcribes, not both.
func (r *Room) originOnly(t broadcast.Tap) broadcast.Tap {
	if r.m.cfg.IsOrigin == nil {
		return t
	}
	return originTap{Tap: t, r: r}
}

// originTap is a Tap that only the origin's audio passes.
type originTap struct {
	broadcast.Tap
	r *Room
}

func (t originTap) WriteAudio(session string, pkt *rtp.Packet) {
	if t.r.isOrigin() {
		t.Tap.WriteAudio(session, pkt)
	}
}

package cluster

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"

	"lectern/captions"
)

// CaptionEvent is one event of a webinar's captions crossing nodes: the origin sends the
// captions and statuses its hub shows; an edge sends how many of its readers want a
// language translated (the origin's stage translates once for the whole cluster).
type CaptionEvent struct {
	Caption *captions.Caption `json:"caption,omitempty"`
	Status  *captions.Status  `json:"status,omitempty"`
	// Demand, received: the readers of Lang on all other nodes together.
	Demand *Demand `json:"demand,omitempty"`
	// Link, never sent: "down" when this node lost NATS, "up" when it is back (the
	// receiver then fills what it missed from the store).
	Link string `json:"-"`
}

// Demand is how many readers of one language a node has (sent), or other nodes have
// together (received).
type Demand struct {
	Lang    string `json:"lang"`
	Readers int    `json:"readers"`
	Node    string `json:"node,omitempty"`
}

func captionsSubject(webinar string) string { return "lectern.captions." + webinar }
func demandSubject(webinar string) string   { return "lectern.demand." + webinar }

// SendCaption publishes a caption the origin's hub has just shown (a final after it was
// stored). Without a connection it is buffered by the client for a while, then lost: an
// edge fills any gap from the store when the link comes back.
func (b *Bus) SendCaption(webinar string, c captions.Caption) {
	b.send(captionsSubject(webinar), "caption", CaptionEvent{Caption: &c})
}

// SendStatus publishes the origin's caption status.
func (b *Bus) SendStatus(webinar string, st captions.Status) {
	b.send(captionsSubject(webinar), "status", CaptionEvent{Status: &st})
}

// SendDemand tells the webinar's origin how many readers of lang this node has. It is
// repeated every beat while non-zero, so an origin that restarts or moves learns it again.
func (b *Bus) SendDemand(webinar, lang string, readers int) {
	b.mu.Lock()
	m := b.demandOut[webinar]
	if m == nil {
		m = map[string]int{}
		b.demandOut[webinar] = m
	}
	if readers > 0 {
		m[lang] = readers
	} else {
		delete(m, lang)
		if len(m) == 0 {
			delete(b.demandOut, webinar)
		}
	}
	b.mu.Unlock()
	b.send(demandSubject(webinar), "demand", Demand{Lang: lang, Readers: readers, Node: b.cfg.Self.ID})
}

func (b *Bus) send(subject, kind string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		b.log.Error("bus event not encoded", "kind", kind, "err", err)
		return
	}
	if err := b.nc.Publish(subject, data); err != nil {
		b.log.Warn("bus event not sent", "kind", kind, "subject", subject, "err", err)
		return
	}
	b.m.sent.WithLabelValues(kind).Inc()
}

// JoinCaptions delivers the webinar's caption events from other nodes to deliver, one at a
// time and in order, until leave is called; the link's changes come in the same order.
func (b *Bus) JoinCaptions(webinar string, deliver func(CaptionEvent)) (leave func()) {
	j := &captionJoin{b: b, webinar: webinar, deliver: deliver, remote: map[string]map[string]demandSeen{}}
	in := make(chan CaptionEvent, 256)
	done := make(chan struct{})
	onMsg := func(kind string) nats.MsgHandler {
		return func(msg *nats.Msg) {
			ev, ok := j.decode(kind, msg.Data)
			if !ok {
				return
			}
			b.m.received.WithLabelValues(kind).Inc()
			select {
			case in <- ev:
			default:
				b.log.Warn("caption relay queue full: event dropped", "webinar", webinar, "kind", kind)
			}
		}
	}
	subs := make([]*nats.Subscription, 0, 2)
	for subj, kind := range map[string]string{captionsSubject(webinar): "caption", demandSubject(webinar): "demand"} {
		s, err := b.nc.Subscribe(subj, onMsg(kind))
		if err != nil {
			b.log.Error("caption relay not joined", "webinar", webinar, "err", err)
			continue
		}
		subs = append(subs, s)
	}
	if err := b.nc.FlushTimeout(time.Second); err != nil { // the server has the subscriptions
		b.log.Debug("caption relay join not confirmed", "webinar", webinar, "err", err)
	}
	link := func(state string) func() {
		return func() {
			select {
			case in <- CaptionEvent{Link: state}:
			case <-done:
			}
		}
	}
	id := b.watchLink(link("down"), link("up"))
	tick := time.NewTicker(b.cfg.Lease / 3)
	go func() { // the one goroutine that calls deliver
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case ev := <-in:
				deliver(ev)
			case <-tick.C:
				j.expire()
			}
		}
	}()
	return func() {
		b.unwatchLink(id)
		for _, s := range subs {
			s.Unsubscribe() //nolint:errcheck // the connection may be closing
		}
		close(done)
	}
}

type demandSeen struct {
	readers int
	got     time.Time
}

// captionJoin is one room's subscription: it sums other nodes' demand per language.
type captionJoin struct {
	b       *Bus
	webinar string
	deliver func(CaptionEvent)

	remote map[string]map[string]demandSeen // lang → node → readers; owned by decode's caller (NATS's goroutine) and expire: guarded by b.mu
}

func (j *captionJoin) decode(kind string, data []byte) (CaptionEvent, bool) {
	if kind == "caption" {
		var ev CaptionEvent
		if err := json.Unmarshal(data, &ev); err != nil || (ev.Caption == nil && ev.Status == nil) {
			return CaptionEvent{}, false
		}
		ev.Demand = nil
		return ev, true
	}
	var d Demand
	if err := json.Unmarshal(data, &d); err != nil || d.Node == "" || d.Lang == "" {
		return CaptionEvent{}, false
	}
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	m := j.remote[d.Lang]
	if m == nil {
		m = map[string]demandSeen{}
		j.remote[d.Lang] = m
	}
	before := sumDemand(m)
	if d.Readers > 0 {
		m[d.Node] = demandSeen{d.Readers, time.Now()}
	} else {
		delete(m, d.Node)
	}
	after := sumDemand(m)
	if before == after {
		return CaptionEvent{}, false
	}
	return CaptionEvent{Demand: &Demand{Lang: d.Lang, Readers: after}}, true
}

// expire drops the demand of nodes that stopped repeating it (they died).
func (j *captionJoin) expire() {
	var changed []Demand
	j.b.mu.Lock()
	for lang, m := range j.remote {
		before := sumDemand(m)
		for node, d := range m {
			if time.Since(d.got) >= j.b.cfg.Lease {
				delete(m, node)
			}
		}
		if after := sumDemand(m); after != before {
			changed = append(changed, Demand{Lang: lang, Readers: after})
		}
	}
	j.b.mu.Unlock()
	for _, d := range changed {
		j.deliver(CaptionEvent{Demand: &d})
	}
}

func sumDemand(m map[string]demandSeen) int {
	n := 0
	for _, d := range m {
		n += d.readers
	}
	return n
}

// repeatDemand re-sends this node's non-zero demands (each beat).
func (b *Bus) repeatDemand() {
	b.mu.Lock()
	var out []Demand
	var webinars []string
	for w, m := range b.demandOut {
		for lang, n := range m {
			out = append(out, Demand{Lang: lang, Readers: n, Node: b.cfg.Self.ID})
			webinars = append(webinars, w)
		}
	}
	b.mu.Unlock()
	for i, d := range out {
		b.send(demandSubject(webinars[i]), "demand", d)
	}
}

// watchLink registers callbacks for a lost and a regained NATS link.
func (b *Bus) watchLink(down, up func()) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.linkSeq++
	b.onLink = append(b.onLink, linkWatch{id: b.linkSeq, down: down, up: up})
	return b.linkSeq
}

func (b *Bus) unwatchLink(id int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, w := range b.onLink {
		if w.id == id {
			b.onLink = append(b.onLink[:i], b.onLink[i+1:]...)
			return
		}
	}
}

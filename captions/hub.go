package captions

import (
	"log/slog"
	"sync"
	"sync/atomic"
)

// DefaultClientQueue is how many frames a subscriber may fall behind before it is dropped.
// Captions arrive a few per second, so 64 is many seconds of slack for a healthy client.
const DefaultClientQueue = 64

// HubConfig configures one webinar's Hub. Zero values are usable defaults.
type HubConfig struct {
	Webinar string // for logs
	// ClientQueue bounds each subscriber's queue (default DefaultClientQueue).
	ClientQueue int
	// StartSeq is the largest Seq already stored for the webinar; NextSeq continues after it,
	// so sequence numbers (and browsers' Last-Event-ID) stay monotonic across restarts.
	StartSeq int64
	// Metrics is shared by every hub of the process (NewMetrics once). Nil: unregistered.
	Metrics *Metrics
	Logger  *slog.Logger // default slog.Default()
	// OnDemand is called when a language gains its first reader (readers == 1) or loses its
	// last (readers == 0), so the translation stage works only for languages someone reads.
	// Calls are serialised and in order, made without the hub's lock held (the callback may
	// call the hub) on the goroutine that subscribed, unsubscribed, published or closed: keep
	// it quick. Close reports readers == 0 for every language that still had readers.
	OnDemand func(lang string, readers int)
}

// Hub fans one webinar's caption events out to its live subscribers, per language.
//
// Publish holds the hub's mutex while it queues a frame to each subscriber. That is cheap
// (a non-blocking channel send each; events come a few per second) and buys two guarantees:
// every subscriber of a language sees events in the same order, and a drop (closing a
// channel) can never race a send on it.
type Hub struct {
	cfg   HubConfig
	queue int
	m     *Metrics
	log   *slog.Logger
	seq   atomic.Int64

	status *Frame // the latest status while captions are not ok, for new subscribers; guarded by mu

	mu        sync.Mutex
	subs      map[string][]*Subscriber
	closed    bool
	demand    []demandEvent // OnDemand calls waiting to be made, in order
	notifying bool          // a goroutine is making OnDemand calls
}

type demandEvent struct {
	lang    string
	readers int
}

// NewHub returns a running hub; it owns no goroutine.
func NewHub(cfg HubConfig) *Hub {
	h := &Hub{cfg: cfg, queue: cfg.ClientQueue, m: cfg.Metrics, log: cfg.Logger,
		subs: make(map[string][]*Subscriber)}
	if h.queue <= 0 {
		h.queue = DefaultClientQueue
	}
	if h.m == nil {
		h.m = NewMetrics(nil)
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.log = h.log.With("webinar", cfg.Webinar)
	h.seq.Store(cfg.StartSeq)
	return h
}

// NextSeq hands out the next sequence number: StartSeq+1 first. Finals are stored with it
// before being published; a partial should take one too (see Resume).
func (h *Hub) NextSeq() int64 { return h.seq.Add(1) }

// Observe raises the sequence to seq if it is behind: a node showing another node's captions
// continues after them should it become the webinar's origin.
func (h *Hub) Observe(seq int64) {
	for cur := h.seq.Load(); cur < seq && !h.seq.CompareAndSwap(cur, seq); cur = h.seq.Load() {
	}
}

// Publish encodes c once and queues the same frame to every subscriber of c.Lang, without
// ever waiting: a subscriber whose queue is full is dropped (Frames closed, Err ErrTooSlow).
// Publishing after Close does nothing.
func (h *Hub) Publish(c Caption) {
	f := Encode(c)
	if c.Final {
		h.m.publishedFinal.Inc()
	} else {
		h.m.publishedPartial.Inc()
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	sent, dropped := 0, 0
	list := h.subs[c.Lang]
	for i := 0; i < len(list); {
		s := list[i]
		if f.Seq != 0 && f.Seq <= s.skipThrough {
			i++ // already replayed to this subscriber by Resume
			continue
		}
		select {
		case s.ch <- f:
			sent++
			i++
		default:
			// removeLocked moves the last subscriber into slot i: look at slot i again.
			h.removeLocked(s, ErrTooSlow)
			dropped++
			list = h.subs[c.Lang]
		}
	}
	h.m.delivered.Add(float64(sent))
	h.flushDemandAndUnlock()
	if dropped > 0 {
		h.log.Warn("caption subscribers too slow, dropped", "lang", c.Lang, "dropped", dropped,
			"queue", h.queue, "seq", c.Seq)
	}
}

// PublishStatus sends a status event to every subscriber of every language (the status is
// the webinar's, not a language's), dropping any that is too slow as Publish does. New
// subscribers get the latest status first unless it is "ok".
func (h *Hub) PublishStatus(st Status) {
	f := EncodeStatus(st)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.status = &f
	if st.State == "ok" {
		h.status = nil
	}
	for _, list := range h.subs {
		for i := 0; i < len(list); {
			s := list[i]
			select {
			case s.ch <- f:
				i++
			default:
				h.removeLocked(s, ErrTooSlow)
				list = h.subs[s.lang]
			}
		}
	}
	h.flushDemandAndUnlock()
}

// Subscribe adds a live reader of lang. On a closed hub the subscriber's Frames is already
// closed and Err is ErrHubClosed.
func (h *Hub) Subscribe(lang string) *Subscriber {
	s := &Subscriber{hub: h, lang: lang, ch: make(chan Frame, h.queue)}
	h.mu.Lock()
	if h.closed {
		s.done, s.err = true, ErrHubClosed
		close(s.ch)
		h.mu.Unlock()
		return s
	}
	list := h.subs[lang]
	s.idx = len(list)
	h.subs[lang] = append(list, s)
	if h.status != nil {
		s.ch <- *h.status // the queue is empty: this cannot block
	}
	h.m.subscribers.Inc()
	if len(list) == 0 {
		h.demandLocked(lang, 1)
	}
	h.flushDemandAndUnlock()
	return s
}

// Languages reports how many subscribers read each language (languages with none are absent).
func (h *Hub) Languages() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.subs))
	for lang, list := range h.subs {
		out[lang] = len(list)
	}
	return out
}

// Close closes every subscriber (Err ErrHubClosed) and makes later Publish calls no-ops.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for lang, list := range h.subs {
		for _, s := range list {
			s.done, s.err = true, ErrHubClosed
			close(s.ch)
		}
		h.m.subscribers.Sub(float64(len(list)))
		h.demandLocked(lang, 0)
	}
	h.subs = nil
	h.flushDemandAndUnlock()
}

// removeLocked takes s out of its language's list and closes its channel; err is recorded as
// the reason (nil when its owner closed it).
func (h *Hub) removeLocked(s *Subscriber, err error) {
	list := h.subs[s.lang]
	last := len(list) - 1
	moved := list[last]
	list[s.idx], moved.idx = moved, s.idx
	list[last] = nil
	list = list[:last]
	if len(list) == 0 {
		delete(h.subs, s.lang)
		h.demandLocked(s.lang, 0)
	} else {
		h.subs[s.lang] = list
	}
	s.done, s.err = true, err
	close(s.ch)
	h.m.subscribers.Dec()
	if err == ErrTooSlow {
		h.m.droppedSlow.Inc()
	}
}

func (h *Hub) demandLocked(lang string, readers int) {
	if h.cfg.OnDemand != nil {
		h.demand = append(h.demand, demandEvent{lang, readers})
	}
}

// flushDemandAndUnlock is called with h.mu held and returns with it released. It makes the
// pending OnDemand calls outside the lock, one goroutine at a time, so they arrive in the
// order the counts changed even when subscribers come and go concurrently.
func (h *Hub) flushDemandAndUnlock() {
	if h.notifying || len(h.demand) == 0 {
		h.mu.Unlock()
		return
	}
	h.notifying = true
	for len(h.demand) > 0 {
		evs := h.demand
		h.demand = nil
		h.mu.Unlock()
		for _, e := range evs {
			h.cfg.OnDemand(e.lang, e.readers)
		}
		h.mu.Lock()
	}
	h.notifying = false
	h.mu.Unlock()
}

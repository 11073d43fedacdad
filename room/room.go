// Package room is the live side of a webinar that is about people rather than media: who is
// in it (participants and their states) and the live channel that tells them what happens.
// It knows nothing of HTTP; package api serves the channel as SSE.
package room

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"lectern/models"
)

// Participant and its states live in models (they are stored); room uses them as its own.
type (
	Participant = models.Participant
	State       = models.ParticipantState
)

const (
	StateAdmitted = models.StateAdmitted
	StateWaiting  = models.StateWaiting
	StateDenied   = models.StateDenied
	StateRemoved  = models.StateRemoved
	StateLeft     = models.StateLeft
)

// Audience says who receives an event. The fields are alternatives: an event goes to a
// subscriber that matches any of them, unless it is Except.
type Audience struct {
	Hosts       bool   // host and co-host
	Staff       bool   // every admitted participant but attendees: hosts, co-hosts, panelists
	Attendees   bool   // every admitted attendee
	Everyone    bool   // every admitted participant
	Participant string // this participant id, whatever their state
	// Except is never included: a participant who gets its own version of the event.
	Except string
}

func (a Audience) includes(p Participant) bool {
	switch {
	case a.Except != "" && a.Except == p.ID:
		return false
	case a.Participant != "" && a.Participant == p.ID:
		return true
	case p.State != StateAdmitted:
		return false // waiting people hear only what is addressed to them
	case a.Everyone:
		return true
	case a.Attendees && p.Role == models.RoleAttendee, a.Staff && p.Role != models.RoleAttendee:
		return true
	default:
		return a.Hosts && p.Moderates()
	}
}

// Event is one message on the channel, marshalled and framed once for all its audience.
type Event struct {
	ID    uint64
	Type  string
	Data  []byte // JSON
	aud   Audience
	frame []byte // the SSE frame, built once at publish time
}

// SSE is the event as a text/event-stream frame. The bytes are shared by every subscriber:
// callers must not modify them.
func (e Event) SSE() []byte {
	if e.frame != nil {
		return e.frame
	}
	return e.sse()
}

func (e Event) sse() []byte {
	b := make([]byte, 0, len(e.Data)+len(e.Type)+40)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, e.ID, 10)
	b = append(b, "\nevent: "...)
	b = append(b, e.Type...)
	b = append(b, "\ndata: "...)
	b = append(b, e.Data...)
	return append(b, "\n\n"...)
}

// Defaults for NewManager.
const (
	DefaultRing  = 1024 // events kept per webinar for Last-Event-ID resume
	DefaultQueue = 256  // events queued per subscriber before it counts as stuck
)

// Manager holds every webinar's channel.
type Manager struct {
	log         *slog.Logger
	ring, queue int

	mu    sync.Mutex
	rooms map[string]*channel
	relay func(Op) // set once before use (SetRelay); nil: a lone server
}

// NewManager makes a Manager keeping ring events per webinar and queueing at most queue per
// subscriber (0: the defaults).
func NewManager(log *slog.Logger, ring, queue int) *Manager {
	if ring <= 0 {
		ring = DefaultRing
	}
	if queue <= 0 {
		queue = DefaultQueue
	}
	if log == nil {
		log = slog.Default()
	}
	return &Manager{log: log, ring: ring, queue: queue, rooms: map[string]*channel{}}
}

type channel struct {
	last   uint64
	ring   []Event // oldest first, at most Manager.ring
	subs   map[*Subscription]struct{}
	closed bool // ended: no new subscribers

	countPending bool      // a count event is scheduled
	lastCount    time.Time // when the last one went out
}

func (m *Manager) channelLocked(webinar string) *channel {
	ch := m.rooms[webinar]
	if ch == nil {
		ch = &channel{subs: map[*Subscription]struct{}{}}
		m.rooms[webinar] = ch
	}
	return ch
}

// Publish sends an event to its audience in one webinar, on every node. It never blocks: a
// subscriber whose queue is full is dropped (its client reconnects and resumes from the ring).
func (m *Manager) Publish(webinar string, a Audience, typ string, payload any) {
	data := m.publish(webinar, a, typ, payload)
	if data != nil {
		m.send(Op{Kind: OpPublish, Webinar: webinar, Audience: a, Type: typ, Data: data})
	}
}

// Latest is the data of the webinar's most recent event of type typ meant for everyone, if
// the ring still holds one: the state an event carries whole (the stage listing) for a node
// that only relays it.
func (m *Manager) Latest(webinar, typ string) (json.RawMessage, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := m.rooms[webinar]
	if ch == nil {
		return nil, false
	}
	for i := len(ch.ring) - 1; i >= 0; i-- {
		if ev := ch.ring[i]; ev.Type == typ && ev.aud.Everyone {
			return json.RawMessage(ev.Data), true
		}
	}
	return nil, false
}

// publish is Publish on this node only; it returns the event's data (nil if it has none).
func (m *Manager) publish(webinar string, a Audience, typ string, payload any) json.RawMessage {
	data, err := json.Marshal(payload)
	if err != nil {
		m.log.Error("room: event not marshalled", "webinar", webinar, "type", typ, "err", err)
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.publishLocked(webinar, a, typ, data, a.includes)
	return data
}

// publishLocked appends an event to the ring and queues it for the subscribers match picks.
func (m *Manager) publishLocked(webinar string, a Audience, typ string, data []byte, match func(Participant) bool) {
	ch := m.channelLocked(webinar)
	ch.last++
	ev := Event{ID: ch.last, Type: typ, Data: data, aud: a}
	ev.frame = ev.sse() // one frame for every subscriber, not one each
	if len(ch.ring) == m.ring {
		copy(ch.ring, ch.ring[1:])
		ch.ring = ch.ring[:len(ch.ring)-1]
	}
	ch.ring = append(ch.ring, ev)
	for sub := range ch.subs {
		if !match(sub.p) {
			continue
		}
		select {
		case sub.c <- ev:
		default:
			m.log.Warn("room: channel client too slow, dropped", "webinar", webinar, "participant", sub.p.ID)
			m.dropLocked(ch, sub)
		}
	}
}

// countEvery is how often at most attendees hear the participant count.
const countEvery = time.Second

// countGather is how long a count waits at least, even after a quiet second, so that changes
// arriving together (a burst of joins, pages opening their connections) make one event.
const countGather = 50 * time.Millisecond

// PublishCount tells everyone how many participants there are, at most once per countEvery:
// a burst of joins makes one event, with the count as it is when the event goes out.
func (m *Manager) PublishCount(webinar string, count func() int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := m.channelLocked(webinar)
	if ch.countPending {
		return
	}
	ch.countPending = true
	wait := time.Until(ch.lastCount.Add(countEvery))
	time.AfterFunc(max(wait, countGather), func() {
		// Not pending from here on: a change while count runs schedules one more event, or it
		// would be lost and the count left stale until the next change.
		m.mu.Lock()
		ch.countPending, ch.lastCount = false, time.Now()
		m.mu.Unlock()
		// Each node publishes its own count event (count sums the cluster's nodes): not relayed.
		n := count()
		m.publish(webinar, Audience{Everyone: true}, "count", map[string]int{"count": n})
	})
}

// Subscription is one client's channel. Read C until Done is closed.
type Subscription struct {
	// Backlog are the events after the Last-Event-ID the client had, to send first.
	Backlog []Event
	C       <-chan Event
	Done    <-chan struct{} // closed when the client is dropped, removed or the webinar ends

	c       chan Event
	done    chan struct{}
	p       Participant
	webinar string
	m       *Manager
}

// ErrEnded is returned by Subscribe after End closed the webinar's channel.
var ErrEnded = errors.New("the webinar has ended")

// Subscribe opens p's channel in webinar, after event id after (0: from now on).
func (m *Manager) Subscribe(webinar string, p Participant, after uint64) (*Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := m.channelLocked(webinar)
	if ch.closed {
		return nil, ErrEnded
	}
	c, done := make(chan Event, m.queue), make(chan struct{})
	sub := &Subscription{C: c, Done: done, c: c, done: done, p: p, webinar: webinar, m: m}
	if after > 0 {
		for _, ev := range ch.ring {
			if ev.ID > after && ev.aud.includes(p) {
				sub.Backlog = append(sub.Backlog, ev)
			}
		}
	}
	ch.subs[sub] = struct{}{}
	return sub, nil
}

// Close ends the subscription (the client went away).
func (s *Subscription) Close() {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if ch := s.m.rooms[s.webinar]; ch != nil {
		s.m.dropLocked(ch, s)
	}
}

func (m *Manager) dropLocked(ch *channel, sub *Subscription) {
	if _, ok := ch.subs[sub]; !ok {
		return
	}
	delete(ch.subs, sub)
	close(sub.done)
}

// Update changes the participant its open subscriptions filter with: after admit, a waiting
// participant starts hearing the room; after leave or promote, the audience sees the new state
// or role.
func (m *Manager) Update(webinar string, p Participant) {
	m.update(webinar, p)
	m.send(Op{Kind: OpUpdate, Webinar: webinar, Participant: &p})
}

func (m *Manager) update(webinar string, p Participant) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := m.rooms[webinar]
	if ch == nil {
		return
	}
	for sub := range ch.subs {
		if sub.p.ID == p.ID {
			sub.p.State, sub.p.Role = p.State, p.Role
		}
	}
}

// Disconnect closes every subscription of one participant (they were removed).
func (m *Manager) Disconnect(webinar, participant string) {
	m.disconnect(webinar, participant)
	m.send(Op{Kind: OpDisconnect, Webinar: webinar, Participant: &Participant{ID: participant}})
}

func (m *Manager) disconnect(webinar, participant string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := m.rooms[webinar]
	if ch == nil {
		return
	}
	for sub := range ch.subs {
		if sub.p.ID == participant {
			m.dropLocked(ch, sub)
		}
	}
}

// End publishes "ended" to every subscriber of the webinar and closes every subscription; later
// subscriptions get ErrEnded.
func (m *Manager) End(webinar string) {
	m.end(webinar)
	m.send(Op{Kind: OpEnd, Webinar: webinar})
}

func (m *Manager) end(webinar string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Waiting participants hear it too: there is nothing left to wait for.
	m.publishLocked(webinar, Audience{Everyone: true}, "ended", []byte(`{"message":"webinar ended"}`),
		func(Participant) bool { return true })
	ch := m.channelLocked(webinar)
	ch.closed = true
	for sub := range ch.subs {
		m.dropLocked(ch, sub)
	}
}

// Reopen lets subscriptions in again after End (the host reopened the webinar).
func (m *Manager) Reopen(webinar string) {
	m.reopen(webinar)
	m.send(Op{Kind: OpReopen, Webinar: webinar})
}

func (m *Manager) reopen(webinar string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ch := m.rooms[webinar]; ch != nil {
		ch.closed = false
	}
}

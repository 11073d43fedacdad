// Package live ties one webinar's live parts together: the presenter's audio tap into the
// speech pipeline, the caption hub viewers read, the store every final goes to first, and the
// translation stage. It owns the order "store, then publish, then translate" so no caption a
// viewer has seen can be missing from the transcript.
package live

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/internal/region"
	"lectern/models"
	"lectern/transcribe"
	"lectern/translate"
)

// Config wires a Manager. Pool and Stage are optional: without a pool there are no captions
// (the hub still serves stored transcripts), without a stage no translations.
type Config struct {
	Store      *models.Store
	Broadcast  *broadcast.Server
	Pool       *transcribe.Pool
	Transcribe transcribe.Config
	Stage      *translate.Stage
	Metrics    *captions.Metrics
	Logger     *slog.Logger
	// Relay carries caption events between the nodes of a cluster; nil: a lone server.
	Relay Relay
	// IsOrigin reports whether this node is the webinar's origin, the one node that
	// transcribes and translates it; nil: always (a lone server).
	IsOrigin func(webinar string) bool
}

// Manager holds the live state of every webinar that has had a presenter or a caption reader
// since the server started.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	rooms  map[string]*Room
	closed bool

	policy atomic.Pointer[region.Set] // the account policy's allowed regions; nil: any
}

// New builds a Manager. It starts no goroutine of its own; rooms start theirs.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{cfg: cfg, log: cfg.Logger, rooms: map[string]*Room{}}
}

// Room returns the live room of a webinar, creating it (hub, audio tap) on first use.
func (m *Manager) Room(ctx context.Context, w models.Webinar) (*Room, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rooms[w.ID]; ok {
		return r, nil
	}
	if m.closed {
		return nil, broadcast.ErrClosed
	}
	// Sequence numbers continue from the stored transcript, so a restarted server never
	// reuses an id a viewer may resume from.
	start, err := m.cfg.Store.MaxSeq(ctx, w.ID)
	if err != nil {
		return nil, err
	}
	r := newRoom(m, w, start)
	m.rooms[w.ID] = r
	return r, nil
}

// Update gives a webinar's room its new settings (a changed spoken language applies to the
// next caption).
func (m *Manager) Update(w models.Webinar) {
	m.mu.Lock()
	r := m.rooms[w.ID]
	m.mu.Unlock()
	if r != nil {
		r.webinar.Store(&w)
		r.applyRegions()
	}
}

// Regions is where a webinar's audio and text may go: the account policy ∩ the webinar's
// own setting. A webinar without a live room is read from the store (exports); one that
// cannot be read allows nothing, so a storage error never sends text where it must not go.
func (m *Manager) Regions(webinarID string) region.Set {
	m.mu.Lock()
	r := m.rooms[webinarID]
	m.mu.Unlock()
	if r != nil {
		return r.regions()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := m.cfg.Store.Webinar(ctx, webinarID)
	if err != nil {
		m.log.Warn("webinar regions unknown: nothing allowed", "webinar", webinarID, "err", err)
		return region.None()
	}
	return m.policyRegions().Intersect(region.Of(w.Regions))
}

func (m *Manager) policyRegions() region.Set {
	if p := m.policy.Load(); p != nil {
		return *p
	}
	return region.Set{}
}

// SetPolicyRegions gives the account policy's allowed regions (at start and whenever an
// admin changes them) and re-applies them to every live room.
func (m *Manager) SetPolicyRegions(allowed region.Set) {
	m.policy.Store(&allowed)
	m.mu.Lock()
	rooms := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		rooms = append(rooms, r)
	}
	m.mu.Unlock()
	for _, r := range rooms {
		r.applyRegions()
	}
}

// Remove stops a deleted webinar's captioning and closes its caption streams.
func (m *Manager) Remove(id string) {
	m.mu.Lock()
	r := m.rooms[id]
	delete(m.rooms, id)
	m.mu.Unlock()
	if r != nil {
		r.close()
		if st := m.cfg.Stage; st != nil {
			st.Forget(id)
		}
	}
}

// Stage is the translation stage, or nil.
func (m *Manager) Stage() *translate.Stage { return m.cfg.Stage }

// Close stops every room's pipeline and closes every caption stream.
func (m *Manager) Close() {
	m.mu.Lock()
	rooms := m.rooms
	m.rooms, m.closed = map[string]*Room{}, true
	m.mu.Unlock()
	for _, r := range rooms {
		r.close()
	}
}

// PublishTranslation is the translation stage's route back to a webinar's hub.
func (m *Manager) PublishTranslation(webinar string, c captions.Caption) {
	m.mu.Lock()
	r := m.rooms[webinar]
	m.mu.Unlock()
	if r != nil {
		r.publish(c)
	}
}

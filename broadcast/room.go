package broadcast

import (
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// Tap receives every presenter Opus packet of a room, on the presenter's read
// path. WriteAudio must not block and must not keep pkt after returning (copy
// what it needs). session changes when a new presenter session starts.
type Tap interface {
	WriteAudio(session string, pkt *rtp.Packet)
}

// VideoTap is a Tap that also receives the presenter's camera packets (mime is
// the negotiated codec, e.g. video/VP8), under the same rules as WriteAudio.
type VideoTap interface {
	Tap
	WriteVideo(session, mime string, pkt *rtp.Packet)
}

// ScreenTap is a VideoTap that also receives the presenter's screen-share packets
// (only while the presenter shares), under the same rules as WriteAudio.
type ScreenTap interface {
	VideoTap
	WriteScreen(session, mime string, pkt *rtp.Packet)
}

// tapEntry holds a tap and, if it takes video (or the screen), the same tap as a VideoTap
// (ScreenTap): the assertions are made once when it is added, not per packet.
type tapEntry struct {
	t Tap
	v VideoTap
	s ScreenTap
}

// room is one webinar's broadcast: at most one presenter, any number of viewers
// and taps. Rooms are created on first use and kept (a few tens of KB each) so
// the codec choice and the viewers' sequence continuity survive a presenter gap.
type room struct {
	name   string
	s      *Server
	tracks [numRoles]*roomTrack
	taps   atomic.Pointer[[]*tapEntry] // copy-on-write, read per audio packet

	mu        sync.Mutex
	presenter *presenter
	viewers   map[string]*viewer
}

func newRoom(name string, s *Server) *room {
	r := &room{name: name, s: s, viewers: map[string]*viewer{}}
	for role := range numRoles {
		r.tracks[role] = newRoomTrack(role, s.cfg, s.m)
	}
	empty := []*tapEntry{}
	r.taps.Store(&empty)
	return r
}

func (r *room) tap(session string, pkt *rtp.Packet) {
	taps := *r.taps.Load()
	for _, e := range taps {
		e.t.WriteAudio(session, pkt)
	}
	if len(taps) > 0 {
		r.s.m.tapPackets.Inc()
	}
}

func (r *room) tapVideo(session, mime string, pkt *rtp.Packet) {
	for _, e := range *r.taps.Load() {
		if e.v != nil {
			e.v.WriteVideo(session, mime, pkt)
		}
	}
}

func (r *room) tapScreen(session, mime string, pkt *rtp.Packet) {
	for _, e := range *r.taps.Load() {
		if e.s != nil {
			e.s.WriteScreen(session, mime, pkt)
		}
	}
}

func (r *room) addTap(t Tap) (remove func()) {
	e := &tapEntry{t: t}
	e.v, _ = t.(VideoTap)
	e.s, _ = t.(ScreenTap)
	r.mu.Lock()
	next := append(append([]*tapEntry{}, *r.taps.Load()...), e)
	r.taps.Store(&next)
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			cur := *r.taps.Load()
			next := make([]*tapEntry, 0, len(cur))
			for _, x := range cur {
				if x != e {
					next = append(next, x)
				}
			}
			r.taps.Store(&next)
		})
	}
}

func (r *room) addViewer(v *viewer) {
	r.mu.Lock()
	r.viewers[v.id] = v
	r.mu.Unlock()
	r.s.m.viewers.Inc()
}

func (r *room) removeViewer(v *viewer) {
	r.mu.Lock()
	_, ok := r.viewers[v.id]
	delete(r.viewers, v.id)
	r.mu.Unlock()
	if ok {
		r.s.m.viewers.Dec()
	}
}

// setPresenter installs p and returns the presenter it replaces, if any.
func (r *room) setPresenter(p *presenter) (old *presenter) {
	r.mu.Lock()
	old, r.presenter = r.presenter, p
	r.mu.Unlock()
	if old == nil {
		r.s.m.presenters.Inc()
	}
	return old
}

// clearPresenter forgets p if it is still the room's presenter.
func (r *room) clearPresenter(p *presenter) {
	r.mu.Lock()
	cur := r.presenter == p
	if cur {
		r.presenter = nil
	}
	r.mu.Unlock()
	if cur {
		r.s.m.presenters.Dec()
	}
}

// endAll closes the presenter and every viewer session.
func (r *room) endAll(reason string) {
	r.mu.Lock()
	p := r.presenter
	viewers := make([]*viewer, 0, len(r.viewers))
	for _, v := range r.viewers {
		viewers = append(viewers, v)
	}
	r.mu.Unlock()
	if p != nil {
		r.clearPresenter(p)
		p.close(reason)
	}
	for _, v := range viewers {
		v.close(reason)
	}
}

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

// room is one webinar's broadcast: up to MaxStage presenters (stage.go), any number
// of viewers and taps. Rooms are created on first use and kept (a few tens of KB each) so
// the codec choice and the viewers' sequence continuity survive a presenter gap.
// tracks are the main tracks (the active speaker's, for plain viewers); slots are each
// stage slot's own audio and camera.
type room struct {
	name   string
	s      *Server
	tracks [numRoles]*roomTrack
	taps   atomic.Pointer[[]*tapEntry] // copy-on-write, read per audio packet
	// stageTaps get every presenter's audio (stage_taps.go); copy-on-write, nil for none.
	stageTaps atomic.Pointer[[]*stageTapEntry]

	stage  atomic.Pointer[[]*presenter] // copy-on-write list of presenters
	active atomic.Pointer[presenter]    // whose audio and camera the main tracks carry
	spk    speakerState

	mu         sync.Mutex
	presenters map[string]*presenter // by Publisher.Key
	slots      [MaxStage][2]*roomTrack
	mutes      map[string]Mute // by Publisher.Key (stage_mute.go)
	viewers    map[string]*viewer
}

func newRoom(name string, s *Server) *room {
	r := &room{name: name, s: s, viewers: map[string]*viewer{}, presenters: map[string]*presenter{}, mutes: map[string]Mute{}}
	noone := []*presenter{}
	r.stage.Store(&noone)
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

// setPresenter installs p in its credential's slot and returns the presenter it
// replaces, if any; ErrStageFull when p's credential is new and the stage is full.
func (r *room) setPresenter(p *presenter) (old *presenter, err error) {
	r.mu.Lock()
	old = r.presenters[p.who.Key]
	if old == nil && len(r.presenters) >= MaxStage {
		r.mu.Unlock()
		return nil, ErrStageFull
	}
	p.slot = r.freeSlot()
	p.applyMute(r.mutes[p.who.Key])
	if old != nil {
		p.slot = old.slot
	}
	r.presenters[p.who.Key] = p
	r.publishStage()
	r.mu.Unlock()
	if old == nil {
		r.s.m.presenters.Inc()
	}
	r.spk.mu.Lock()
	if a := r.active.Load(); a == nil || a == old {
		r.setActive(p) // the replacement keeps the large tile
	}
	r.spk.mu.Unlock()
	r.repick()
	return old, nil
}

// freeSlot is the lowest slot no presenter holds. Called with r.mu held.
func (r *room) freeSlot() int {
	var used [MaxStage]bool
	for _, x := range r.presenters {
		used[x.slot] = true
	}
	for k, u := range used {
		if !u {
			return k
		}
	}
	return -1
}

// clearPresenter forgets p if it is still on the stage.
func (r *room) clearPresenter(p *presenter) {
	r.mu.Lock()
	cur := r.presenters[p.who.Key] == p
	if cur {
		delete(r.presenters, p.who.Key)
		r.publishStage()
	}
	r.mu.Unlock()
	if cur {
		r.leaveStage(p)
		r.s.m.presenters.Dec()
		r.repick()
	}
}

// endAll closes every presenter and viewer session.
func (r *room) endAll(reason string) {
	r.mu.Lock()
	ps := make([]*presenter, 0, len(r.presenters))
	for _, p := range r.presenters {
		ps = append(ps, p)
	}
	viewers := make([]*viewer, 0, len(r.viewers))
	for _, v := range r.viewers {
		viewers = append(viewers, v)
	}
	r.mu.Unlock()
	for _, p := range ps {
		r.clearPresenter(p)
		p.close(reason)
	}
	for _, v := range viewers {
		v.close(reason)
	}
}

package broadcast

import (
	"sync"

	"github.com/pion/rtp"
)

// StageTap receives each stage presenter's own audio: every voice, not only the active
// speaker's that a room Tap gets, so a consumer can tell who said what (per-speaker captions,
// one recorded track per presenter).
type StageTap interface {
	// Join runs at the first audio packet of a presenter session, on its read loop: it must be
	// quick. The Tap it returns (nil: none) gets that session's audio under Tap's rules. A
	// reconnect that replaces a session under the same Publisher.Key joins again with its new
	// session and no Leave before it.
	Join(m StageMember) Tap
	// Leave runs once a joined presenter's credential is off the stage (ended, failed, removed),
	// not when a reconnect replaced it. It must not block.
	Leave(m StageMember)
}

// stageTapEntry is one StageTap and the presenters it has joined. mu orders joins, packets and
// leaves of one tap: no packet of a presenter reaches its Tap after its Leave.
type stageTapEntry struct {
	t      StageTap
	mu     sync.Mutex
	joined map[*presenter]Tap
}

// AddStageTap attaches t to every stage presenter's audio, present and future, until remove
// is called.
func (s *Server) AddStageTap(roomName string, t StageTap) (remove func()) {
	r := s.room(roomName, true)
	if r == nil {
		return func() {}
	}
	e := &stageTapEntry{t: t, joined: map[*presenter]Tap{}}
	r.mu.Lock()
	var cur []*stageTapEntry
	if l := r.stageTaps.Load(); l != nil {
		cur = *l
	}
	next := append(append([]*stageTapEntry{}, cur...), e)
	r.stageTaps.Store(&next)
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			var keep []*stageTapEntry
			for _, x := range *r.stageTaps.Load() {
				if x != e {
					keep = append(keep, x)
				}
			}
			r.stageTaps.Store(&keep)
		})
	}
}

// tapStage hands one of p's audio packets to every stage tap, joining p on its first one.
func (r *room) tapStage(p *presenter, pkt *rtp.Packet) {
	l := r.stageTaps.Load()
	if l == nil {
		return
	}
	for _, e := range *l {
		e.mu.Lock()
		t, ok := e.joined[p]
		if !ok && onStage(*r.stage.Load(), p) {
			t = e.t.Join(StageMember{Publisher: p.who, Session: p.id, Slot: p.slot})
			e.joined[p] = t
		}
		e.mu.Unlock()
		if t != nil {
			t.WriteAudio(p.id, pkt)
		}
	}
}

// leaveStage tells every stage tap that p's credential left the stage. Sessions of the same
// credential that p replaced go with it (they never left on their own).
func (r *room) leaveStage(p *presenter) {
	l := r.stageTaps.Load()
	if l == nil {
		return
	}
	for _, e := range *l {
		e.mu.Lock()
		left := false
		for x := range e.joined {
			if x.who.Key == p.who.Key {
				delete(e.joined, x)
				left = true
			}
		}
		if left {
			e.t.Leave(StageMember{Publisher: p.who, Session: p.id, Slot: p.slot})
		}
		e.mu.Unlock()
	}
}

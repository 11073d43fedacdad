package api

import (
	"context"
	"sync"

	"lectern/broadcast"
	"lectern/room"
)

// roomConns remembers which WHEP sessions, caption streams and live channels belong to which
// participant, so removing one (or ending the webinar) can close them, and so the room counts
// only who is there. broadcast knows nothing of participants; this is the api layer's
// bookkeeping. Every entry is forgotten when its connection ends, so the maps hold only what
// is open: no empty inner map outlives its last entry.
type roomConns struct {
	mu sync.Mutex
	// by webinar, then participant id ("" for callers who are no participant)
	sessions map[string]map[string]map[string]struct{}              // WHEP session ids
	streams  map[string]map[string]map[*context.CancelFunc]struct{} // caption streams
	channels map[string]map[string]map[*int]struct{}                // live channels (closed by room)

	// onPresence hears (outside mu) of a webinar where a participant came (opened its first
	// connection) or went (closed its last): the room's count changed.
	onPresence func(webinar string)
}

func newRoomConns() *roomConns {
	return &roomConns{sessions: map[string]map[string]map[string]struct{}{},
		streams:  map[string]map[string]map[*context.CancelFunc]struct{}{},
		channels: map[string]map[string]map[*int]struct{}{}}
}

func inner[V comparable](m map[string]map[string]map[V]struct{}, webinar, pid string) map[V]struct{} {
	if m[webinar] == nil {
		m[webinar] = map[string]map[V]struct{}{}
	}
	if m[webinar][pid] == nil {
		m[webinar][pid] = map[V]struct{}{}
	}
	return m[webinar][pid]
}

// forget deletes one entry and the maps it leaves empty.
func forget[V comparable](m map[string]map[string]map[V]struct{}, webinar, pid string, v V) {
	delete(m[webinar][pid], v)
	if len(m[webinar][pid]) == 0 {
		delete(m[webinar], pid)
	}
	if len(m[webinar]) == 0 {
		delete(m, webinar)
	}
}

// presentLocked reports whether participant pid has any connection open in webinar.
func (r *roomConns) presentLocked(webinar, pid string) bool {
	return len(r.sessions[webinar][pid])+len(r.streams[webinar][pid])+len(r.channels[webinar][pid]) > 0
}

// change runs f under the lock and tells onPresence when pid came or went by it.
func (r *roomConns) change(webinar, pid string, f func()) {
	r.mu.Lock()
	was := r.presentLocked(webinar, pid)
	f()
	changed := was != r.presentLocked(webinar, pid)
	r.mu.Unlock()
	if changed && pid != "" && r.onPresence != nil {
		r.onPresence(webinar)
	}
}

// present is the set of participants of webinar with a connection open.
func (r *roomConns) present(webinar string) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := map[string]bool{}
	for pid := range r.sessions[webinar] {
		in[pid] = true
	}
	for pid := range r.streams[webinar] {
		in[pid] = true
	}
	for pid := range r.channels[webinar] {
		in[pid] = true
	}
	return in
}

// addSession records a participant's WHEP session.
func (r *roomConns) addSession(webinar, pid, session string) {
	r.change(webinar, pid, func() { inner(r.sessions, webinar, pid)[session] = struct{}{} })
}

// forgetSession drops a WHEP session that ended: its viewer sent DELETE, or its connection
// failed or closed (a closed tab). Session ids are unique, so whose it was need not be known.
func (r *roomConns) forgetSession(webinar, session string) {
	r.mu.Lock()
	owner, found := "", false
	for pid, ids := range r.sessions[webinar] {
		if _, ok := ids[session]; ok {
			owner, found = pid, true
			break
		}
	}
	r.mu.Unlock()
	if found {
		r.change(webinar, owner, func() { forget(r.sessions, webinar, owner, session) })
	}
}

// forgetWhenDone forgets a participant's WHEP session once it ends by itself: a closed tab
// sends no DELETE, its connection just fails or closes. The goroutine lives as long as the
// session, or until the server stops.
func (s *Server) forgetWhenDone(webinar string, sess broadcast.Session) {
	if sess.Done == nil {
		return
	}
	go func() {
		select {
		case <-sess.Done:
			s.conns.forgetSession(webinar, sess.ID)
		case <-s.stopping:
		}
	}()
}

// addStream records a caption stream; the returned func forgets it (the stream ended).
func (r *roomConns) addStream(webinar, pid string, cancel context.CancelFunc) (forgetStream func()) {
	key := &cancel
	r.change(webinar, pid, func() { inner(r.streams, webinar, pid)[key] = struct{}{} })
	return func() { r.change(webinar, pid, func() { forget(r.streams, webinar, pid, key) }) }
}

// addChannel records a participant's open live channel (room closes it on removal); the
// returned func forgets it. Hosts and presenters known by their account or the stream key
// are not in the room's count, so they are not recorded.
func (r *roomConns) addChannel(p room.Participant) (forgetChannel func()) {
	if p.Implicit {
		return func() {}
	}
	key := new(int) // not zero-sized: every channel gets its own address
	r.change(p.Webinar, p.ID, func() { inner(r.channels, p.Webinar, p.ID)[key] = struct{}{} })
	return func() { r.change(p.Webinar, p.ID, func() { forget(r.channels, p.Webinar, p.ID, key) }) }
}

// take removes and returns one participant's (all when all) sessions and stream cancels.
// Their channels are closed by room and forget themselves. Callers announce the participant's
// new state, so no presence is reported from here.
func (r *roomConns) take(webinar, pid string, all bool) (sessions []string, cancels []context.CancelFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p, ids := range r.sessions[webinar] {
		if all || p == pid {
			for id := range ids {
				sessions = append(sessions, id)
			}
			delete(r.sessions[webinar], p)
		}
	}
	for p, cs := range r.streams[webinar] {
		if all || p == pid {
			for c := range cs {
				cancels = append(cancels, *c)
			}
			delete(r.streams[webinar], p)
		}
	}
	if len(r.sessions[webinar]) == 0 {
		delete(r.sessions, webinar)
	}
	if len(r.streams[webinar]) == 0 {
		delete(r.streams, webinar)
	}
	return sessions, cancels
}

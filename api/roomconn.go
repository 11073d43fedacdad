package api

import (
	"context"
	"sync"
)

// roomConns remembers which WHEP sessions and caption streams belong to which participant, so
// removing one (or ending the webinar) can close them. broadcast knows nothing of participants;
// this is the api layer's bookkeeping. Every entry is forgotten when its connection ends, so
// the maps hold only what is open: no empty inner map outlives its last entry.
type roomConns struct {
	mu sync.Mutex
	// by webinar, then participant id ("" for callers who are no participant)
	sessions map[string]map[string]map[string]struct{}              // WHEP session ids
	streams  map[string]map[string]map[*context.CancelFunc]struct{} // caption streams
}

func newRoomConns() *roomConns {
	return &roomConns{sessions: map[string]map[string]map[string]struct{}{},
		streams: map[string]map[string]map[*context.CancelFunc]struct{}{}}
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

// addSession records a participant's WHEP session.
func (r *roomConns) addSession(webinar, pid, session string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inner(r.sessions, webinar, pid)[session] = struct{}{}
}

// forgetSession drops a WHEP session its viewer ended (DELETE on its Location). Session ids
// are unique, so whose it was need not be known.
func (r *roomConns) forgetSession(webinar, session string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid, ids := range r.sessions[webinar] {
		if _, ok := ids[session]; ok {
			forget(r.sessions, webinar, pid, session)
			return
		}
	}
}

// addStream records a caption stream; the returned func forgets it (the stream ended).
func (r *roomConns) addStream(webinar, pid string, cancel context.CancelFunc) (forgetStream func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := &cancel
	inner(r.streams, webinar, pid)[key] = struct{}{}
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		forget(r.streams, webinar, pid, key)
	}
}

// take removes and returns one participant's (all when all) sessions and stream cancels.
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

package api

import (
	"context"
	"sync"
)

// roomConns remembers which WHEP sessions and caption streams belong to which participant, so
// removing one (or ending the webinar) can close them. broadcast knows nothing of participants;
// this is the api layer's bookkeeping.
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

// addSession records a participant's WHEP session.
func (r *roomConns) addSession(webinar, pid, session string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inner(r.sessions, webinar, pid)[session] = struct{}{}
}

// addStream records a caption stream; the returned func forgets it (the stream ended).
func (r *roomConns) addStream(webinar, pid string, cancel context.CancelFunc) (forget func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := &cancel
	inner(r.streams, webinar, pid)[key] = struct{}{}
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.streams[webinar][pid], key)
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
	return sessions, cancels
}

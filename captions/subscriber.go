package captions

import "errors"

// Reasons a subscriber's channel was closed by the hub (Subscriber.Err).
var (
	// ErrTooSlow: the subscriber's queue was full when an event arrived. The client should
	// reconnect with Last-Event-ID; it misses no final, only partials.
	ErrTooSlow = errors.New("captions: subscriber too slow, dropped")
	// ErrHubClosed: the webinar's hub was closed (the webinar ended or the server stops).
	ErrHubClosed = errors.New("captions: hub closed")
)

// Subscriber is one live reader of one language of one webinar. Its owner reads Frames until
// the channel is closed and calls Close when it goes away.
type Subscriber struct {
	hub  *Hub
	lang string
	ch   chan Frame

	// Guarded by hub.mu.
	idx         int   // position in hub.subs[lang], for O(1) removal
	skipThrough int64 // frames with 0 < Seq <= skipThrough are not delivered (resume)
	done        bool  // ch is closed
	err         error // why the hub closed ch; nil when the owner closed it
}

// Lang is the language this subscriber reads.
func (s *Subscriber) Lang() string { return s.lang }

// Frames delivers caption frames in publish order. It is closed when the subscriber is
// dropped, closed, or the hub is closed; Err then says which.
func (s *Subscriber) Frames() <-chan Frame { return s.ch }

// Err is why the hub closed Frames: ErrTooSlow or ErrHubClosed; nil while the subscriber is
// live or after its owner called Close.
func (s *Subscriber) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close unsubscribes and closes Frames. It is safe to call more than once and concurrently
// with Publish.
func (s *Subscriber) Close() {
	h := s.hub
	h.mu.Lock()
	if s.done {
		h.mu.Unlock()
		return
	}
	h.removeLocked(s, nil)
	h.flushDemandAndUnlock()
}

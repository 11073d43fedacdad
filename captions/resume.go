package captions

import (
	"errors"
	"fmt"
)

// History reads stored finals of a language with Seq > after, in Seq order (the store's
// query, closed over the request's context).
type History func(lang string, after int64) ([]Caption, error)

// Resume subscribes to lang for a client that last saw the final with Seq after (its
// Last-Event-ID; 0 for a new client) and returns the stored finals it missed, already encoded
// exactly as live frames. The handler writes replay first, then Frames.
//
// The order of operations is what makes this gapless and duplicate-free:
//  1. subscribe first, so nothing published from now on is missed;
//  2. then read history: every final published before step 1 was stored before it was
//     published, so it is in history;
//  3. then drop live frames with Seq <= the last replayed Seq, both those already queued
//     and those published later (a final may be stored, and so replayed, and also published
//     after step 1).
//
// This relies on the contract that, within a language, finals are stored before they are
// published and in Seq order. Partials with Seq <= the last replayed final are dropped too:
// they are older than what the client now shows. A partial with Seq 0 is always delivered.
// If the subscriber's queue fills while history is read it is dropped as usual; the handler
// sends replay, sees Frames closed with ErrTooSlow, and the client resumes again.
func (h *Hub) Resume(lang string, after int64, history History) (*Subscriber, [][]byte, error) {
	s := h.Subscribe(lang)
	if err := s.Err(); errors.Is(err, ErrHubClosed) {
		return nil, nil, fmt.Errorf("captions resume %s: %w", lang, err)
	}
	hist, err := history(lang, after)
	if err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("captions resume %s after %d: %w", lang, after, err)
	}
	last := after
	replay := make([][]byte, 0, len(hist))
	for _, c := range hist {
		// Only finals newer than both the client's position and what is already replayed:
		// a store answer with duplicates or stray rows must not produce them on the wire.
		if !c.Final || c.Seq <= last {
			continue
		}
		replay = append(replay, Encode(c).SSE)
		last = c.Seq
	}

	h.mu.Lock()
	if !s.done {
		s.skipThrough = last
		// Frames published between Subscribe and now are already queued. No publisher can
		// send while we hold the lock and the owner has not got s yet, so filter in place.
		for n := len(s.ch); n > 0; n-- {
			f := <-s.ch
			if f.Seq == 0 || f.Seq > last {
				s.ch <- f
			}
		}
	}
	h.mu.Unlock()
	return s, replay, nil
}

package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/room"
)

// channel is GET /api/webinars/{id}/channel: the room's live events as Server-Sent Events
// (README, "Live channel: SSE + POST"). Waiting participants may open it: it is how they
// hear that they were admitted. Last-Event-ID resumes from the room's ring of recent events.
func (s *Server) channel(c echo.Context) error {
	release, err := s.openStream(c)
	if err != nil {
		return err
	}
	defer release()
	p, err := s.participant(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.refuseChannel(c.Request().Context(), p); err != nil {
		return err
	}
	var after uint64
	if id := c.Request().Header.Get("Last-Event-ID"); id != "" {
		if after, err = strconv.ParseUint(id, 10, 64); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "Last-Event-ID must be an event id")
		}
	}
	sub, err := s.Room.Subscribe(p.Webinar, p, after)
	if errors.Is(err, room.ErrEnded) {
		return echo.NewHTTPError(http.StatusGone, "the webinar has ended")
	}
	if err != nil {
		return err
	}
	defer sub.Close()
	defer s.conns.addChannel(p)() // the participant is present (counted) while it listens
	st, err := openSSE(c)
	if err != nil {
		return nil
	}
	s.pumpChannel(c.Request().Context(), st, sub)
	return nil
}

// pumpChannel writes events until the client goes, is dropped or removed, the webinar ends
// or the server stops. A client that stops reading costs one goroutine for at most
// sseWriteTimeout; room drops it once its queue is full.
func (s *Server) pumpChannel(ctx context.Context, st *sseStream, sub *room.Subscription) {
	for _, ev := range sub.Backlog {
		if st.add(ev.SSE()) != nil {
			return
		}
	}
	if st.flush() != nil {
		return
	}
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case ev := <-sub.C:
			if sendQueued(st, ev, sub.C) != nil {
				return
			}
		case <-sub.Done:
			// Flush what was queued before the close (the "removed" or "ended" event).
			select {
			case ev := <-sub.C:
				_ = sendQueued(st, ev, sub.C)
			default:
			}
			return
		case <-keepAlive.C:
			if st.send(sseKeepAliveFrame) != nil {
				return
			}
		case <-ctx.Done():
			return
		case <-s.stopping:
			st.shutdown()
			return
		}
	}
}

// sendQueued writes ev and every event already queued behind it, then flushes once: a client
// that fell behind (a burst, a busy machine) catches up with one write instead of one each.
func sendQueued(st *sseStream, ev room.Event, queue <-chan room.Event) error {
	for {
		if err := st.add(ev.SSE()); err != nil {
			return err
		}
		select {
		case ev = <-queue:
		default:
			return st.flush()
		}
	}
}

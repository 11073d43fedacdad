package api

import (
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
	p, err := s.participant(c, c.Param("id"))
	if err != nil {
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
	h := c.Response().Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	s.pumpChannel(c, sub)
	return nil
}

// pumpChannel writes events until the client goes, is dropped or removed, the webinar ends
// or the server stops. Every write has its own deadline, so a client that stops reading
// costs one goroutine for at most sseWriteTimeout; room drops it once its queue is full.
func (s *Server) pumpChannel(c echo.Context, sub *room.Subscription) {
	ctx := c.Request().Context()
	rc := http.NewResponseController(c.Response())
	send := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		if _, err := c.Response().Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send([]byte("retry: 2000\n\n")) {
		return
	}
	for _, ev := range sub.Backlog {
		if !send(ev.SSE()) {
			return
		}
	}
	for {
		select {
		case ev := <-sub.C:
			if !send(ev.SSE()) {
				return
			}
		case <-sub.Done:
			// Flush what was queued before the close (the "removed" or "ended" event).
			for {
				select {
				case ev := <-sub.C:
					if !send(ev.SSE()) {
						return
					}
				default:
					return
				}
			}
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		}
	}
}

package api

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/models"
)

// hand is one raised hand. Hands live in memory only: a restart lowers every hand, which is
// harmless (the attendee raises it again) and keeps a moment's gesture out of the database.
type hand struct {
	Participant string      `json:"participant"`
	Name        string      `json:"name"`
	Role        models.Role `json:"role"`
	At          time.Time   `json:"at"`
}

// hands are the raised hands of every webinar, each queue in the order they were raised.
type hands struct {
	mu sync.Mutex
	q  map[string][]hand // by webinar id
}

func newHands() *hands { return &hands{q: map[string][]hand{}} }

// raise queues h unless that participant's hand is already up; false when it was.
func (hs *hands) raise(webinar string, h hand) bool {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if slices.ContainsFunc(hs.q[webinar], func(x hand) bool { return x.Participant == h.Participant }) {
		return false
	}
	hs.q[webinar] = append(hs.q[webinar], h)
	return true
}

// lower takes participant's hand down; false when it was not up.
func (hs *hands) lower(webinar, participant string) bool {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	q := hs.q[webinar]
	i := slices.IndexFunc(q, func(x hand) bool { return x.Participant == participant })
	if i < 0 {
		return false
	}
	q = slices.Delete(q, i, i+1)
	if len(q) == 0 {
		delete(hs.q, webinar) // no empty queues left behind by ended webinars
	} else {
		hs.q[webinar] = q
	}
	return true
}

// clear lowers every hand of a webinar (it ended).
func (hs *hands) clear(webinar string) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	delete(hs.q, webinar)
}

func (hs *hands) queue(webinar string) []hand {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]hand{}, hs.q[webinar]...)
}

// publishHand tells the hosts and the participant that a hand went up or down.
func (s *Server) publishHand(webinar, participant, name string, raised bool) {
	s.publish(webinar, RoomAudience{Hosts: true, Participant: participant}, "hand",
		map[string]any{"participant": participant, "name": name, "raised": raised})
}

// handRequest is the optional body of POST .../hand: a guest's display name.
type handRequest struct {
	Name string `json:"name"`
}

// raiseHand is POST /api/webinars/:id/hand [{"name"}]: idempotent, 200 with the queue position.
func (s *Server) raiseHand(c echo.Context) error {
	id := c.Param("id")
	who, err := s.speaker(c, id)
	if err != nil {
		return err
	}
	if c.Request().ContentLength != 0 {
		var in handRequest
		if err := bind(c, &in); err != nil {
			return err
		}
		who = who.named(in.Name)
	}
	if s.hands.raise(id, hand{Participant: who.ID, Name: who.Name, Role: who.Role, At: s.now().UTC()}) {
		s.publishHand(id, who.ID, who.Name, true)
	}
	pos := slices.IndexFunc(s.hands.queue(id), func(h hand) bool { return h.Participant == who.ID })
	return c.JSON(http.StatusOK, map[string]any{"raised": true, "position": pos + 1})
}

// lowerHand is DELETE /api/webinars/:id/hand: the caller's own hand, idempotent.
func (s *Server) lowerHand(c echo.Context) error {
	id := c.Param("id")
	who, err := s.chatter(c, id)
	if err != nil {
		return err
	}
	if s.hands.lower(id, who.ID) {
		s.publishHand(id, who.ID, who.Name, false)
	}
	return c.NoContent(http.StatusNoContent)
}

// listHands is GET /api/webinars/:id/hands (host, co-host): the queue, first raised first.
func (s *Server) listHands(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.require(c, id, auth.ActModerate); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.hands.queue(id))
}

// lowerHandOf is DELETE /api/webinars/:id/hands/:pid (host, co-host).
func (s *Server) lowerHandOf(c echo.Context) error {
	id, pid := c.Param("id"), c.Param("pid")
	if _, err := s.require(c, id, auth.ActModerate); err != nil {
		return err
	}
	if !s.hands.lower(id, pid) {
		return echo.NewHTTPError(http.StatusNotFound, "that participant's hand is not raised")
	}
	s.publishHand(id, pid, "", false)
	return c.NoContent(http.StatusNoContent)
}

package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/auth"
	"lectern/cluster"
	"lectern/edge"
	"lectern/internal/region"
	"lectern/models"
)

// Several nodes, one webinar (issue 12). The node where the presenter's WHIP lands claims the
// webinar's origin in the cluster directory; a second node's WHIP for it is refused with 409
// and the origin's URL (not redirected with 307: browsers and Go drop the Authorization header
// and cookies on a cross-origin redirect, so the presenter's credentials would not follow; the
// client re-sends to the origin it is told). A viewer's WHEP on any other node starts (or
// joins) that node's edge pull and is served locally. Viewers and presenters reaching a node
// outside the webinar's allowed regions, and viewers reaching a draining node, are sent with
// 307 to the least-loaded node that may serve them.

// releaseGrace is how long an origin keeps its claim with no presenter on stage: a presenter
// reconnecting (a browser reload, OBS restarting) keeps the webinar here.
const (
	releaseGrace = 2 * time.Second
	releaseCheck = 500 * time.Millisecond
)

// edgeParts are the API's share of the cluster: the directory, this node's pulls, and the
// origin claims it keeps.
type edgeParts struct {
	dir    cluster.Directory
	pulls  *edge.Manager
	secret []byte

	mu     sync.Mutex
	claims map[string]bool // webinars this node originates, each with a watcher running
}

func newEdgeParts(d Deps) *edgeParts {
	dir := d.Cluster
	if dir == nil {
		dir = cluster.Single{}
	}
	// The registry /metrics serves takes the edge's metrics when it can (a *prometheus.Registry).
	reg, _ := d.Gatherer.(prometheus.Registerer)
	pulls := edge.New(edge.Config{Broadcast: d.Broadcast, Directory: dir, Secret: d.Secret, Logger: d.Logger, Registerer: reg})
	return &edgeParts{dir: dir, pulls: pulls, secret: d.Secret, claims: map[string]bool{}}
}

// Edges is this node's edge pulls (for the cluster view and tests).
func (s *Server) Edges() *edge.Manager { return s.edges.pulls }

// Originates lists the webinars whose origin claim this node holds (cluster.Node.Originates).
func (s *Server) Originates() []string {
	s.edges.mu.Lock()
	defer s.edges.mu.Unlock()
	out := make([]string, 0, len(s.edges.claims))
	for w := range s.edges.claims {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// CloseEdges ends every edge pull; the server's owner calls it before closing the broadcast.
func (s *Server) CloseEdges() { s.edges.pulls.Close() }

// nodeCaller reports whether the request carries another node's pull token for the webinar.
// A node passes the waiting room and the lock (it serves admitted viewers on its side) and is
// no participant.
func (s *Server) nodeCaller(c echo.Context, webinar string) bool {
	return edge.ValidToken(s.edges.secret, webinar, auth.BearerToken(c.Request().Header.Get("Authorization")))
}

// placement returns the URL to redirect the request to when this node must not serve it: the
// webinar's allowed regions exclude this node, or (viewers only) the node is draining. A node
// without a region serves every webinar, as a lone server always has.
func (s *Server) placement(c echo.Context, kind string, w models.Webinar) (string, error) {
	self := s.edges.dir.Self()
	allowed := s.Live.Regions(w.ID)
	outside := !servable(self, allowed)
	draining := kind == "whep" && self.Draining
	if !outside && !draining {
		return "", nil
	}
	nodes, err := s.edges.dir.Nodes(c.Request().Context())
	if err != nil {
		return "", echo.NewHTTPError(http.StatusServiceUnavailable, "the cluster directory is unavailable: try again shortly")
	}
	if best, ok := leastLoaded(nodes, self, allowed); ok {
		return best.URL + c.Request().URL.RequestURI(), nil
	}
	if outside {
		return "", echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf(
			"this webinar is served only in the regions %s, and no node there is available", allowed))
	}
	return "", echo.NewHTTPError(http.StatusServiceUnavailable, "this node is draining and no other node takes viewers: try again shortly")
}

func servable(n cluster.Node, allowed region.Set) bool {
	return n.Region == "" || allowed.Allows(n.Region)
}

// leastLoaded is the other node, not draining, allowed to serve, with the lowest load (then
// the fewest viewers).
func leastLoaded(nodes []cluster.Node, self cluster.Node, allowed region.Set) (cluster.Node, bool) {
	var ok []cluster.Node
	for _, n := range nodes {
		if n.ID != self.ID && n.URL != "" && !n.Draining && servable(n, allowed) {
			ok = append(ok, n)
		}
	}
	if len(ok) == 0 {
		return cluster.Node{}, false
	}
	slices.SortStableFunc(ok, func(a, b cluster.Node) int {
		switch {
		case a.Load != b.Load:
			return cmpFloat(a.Load, b.Load)
		case a.Viewers != b.Viewers:
			return a.Viewers - b.Viewers
		}
		return 0
	})
	return ok[0], true
}

func cmpFloat(a, b float64) int {
	if a < b {
		return -1
	}
	return 1
}

// redirect answers 307 to another node; the body says where and why for humans and scripts.
func redirect(c echo.Context, to string) error {
	c.Response().Header().Set("Location", to)
	return c.JSON(http.StatusTemporaryRedirect, map[string]string{"location": to,
		"reason": "this node does not serve this webinar's viewers now: use the other node"})
}

// claimOrigin makes this node the webinar's origin before its presenter publishes. It returns
// the node that holds the claim instead, if another does.
func (s *Server) claimOrigin(ctx context.Context, webinar string) (cluster.Node, bool, error) {
	origin, mine, err := s.edges.dir.ClaimOrigin(ctx, webinar)
	if err != nil {
		return cluster.Node{}, false, fmt.Errorf("claim origin of %s: %w", webinar, err)
	}
	if !mine {
		return origin, false, nil
	}
	s.edges.pulls.Stop(webinar) // the presenter is here now: no more pulling from elsewhere
	return origin, true, nil
}

// published keeps the claim for as long as someone is on stage here (the WHIP succeeded).
func (s *Server) published(webinar string) {
	s.edges.mu.Lock()
	watching := s.edges.claims[webinar]
	s.edges.claims[webinar] = true
	s.edges.mu.Unlock()
	if !watching {
		go s.releaseWhenGone(webinar)
	}
}

// unclaim gives a claim back at once when the WHIP that took it failed and nobody is on
// stage here: a refused offer changes nothing.
func (s *Server) unclaim(webinar string) {
	s.edges.mu.Lock()
	watching := s.edges.claims[webinar]
	s.edges.mu.Unlock()
	if !watching && !s.Broadcast.Live(webinar) {
		s.edges.dir.ReleaseOrigin(webinar)
	}
}

// releaseWhenGone gives the origin claim up once the stage has been empty for releaseGrace,
// or when the server shuts down, so another node can take the webinar.
func (s *Server) releaseWhenGone(webinar string) {
	defer func() {
		s.edges.mu.Lock()
		delete(s.edges.claims, webinar)
		s.edges.mu.Unlock()
		s.edges.dir.ReleaseOrigin(webinar)
	}()
	tick := time.NewTicker(releaseCheck)
	defer tick.Stop()
	var empty time.Time
	for {
		select {
		case <-s.stopping:
			return
		case now := <-tick.C:
			switch {
			case s.Broadcast.Live(webinar):
				empty = time.Time{}
			case empty.IsZero():
				empty = now
			case now.Sub(empty) >= releaseGrace:
				return
			}
		}
	}
}

// pullIfEdge starts (or keeps) this node's pull of the webinar when its origin is elsewhere or
// not known yet, before a viewer attaches to the local room.
func (s *Server) pullIfEdge(ctx context.Context, webinar string) {
	origin, ok, err := s.edges.dir.Origin(ctx, webinar)
	self := s.edges.dir.Self()
	if err == nil && ok && origin.ID == self.ID && origin.URL == self.URL {
		return // the presenter publishes here (or a lone server)
	}
	s.edges.pulls.Ensure(webinar)
}

// elsewhere is where a request for a webinar this node's store does not hold should go: the
// webinar's live origin, when another node holds it (nodes with stores of their own, each
// serving the webinars created on it). "" when there is none.
func (s *Server) elsewhere(c echo.Context) string {
	id := c.Param("id")
	if id == "" {
		return ""
	}
	ctx := c.Request().Context()
	if _, err := s.Store.Webinar(ctx, id); !errors.Is(err, models.ErrNotFound) {
		return "" // the webinar is here: something else was not found
	}
	origin, ok, err := s.edges.dir.Origin(ctx, id)
	if err != nil || !ok || origin.ID == s.edges.dir.Self().ID {
		return ""
	}
	return strings.TrimSuffix(origin.URL, "/") + c.Request().URL.RequestURI()
}

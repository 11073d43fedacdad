package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"lectern/cluster"
)

// Several nodes (issue 12, operations): what this node is, the cluster it sees, draining, and
// the numbers every node adds up (viewers, present participants).

// drainer is the cluster's draining; cluster.WithDrain gives every directory one.
func (s *Server) drainer() cluster.Drainer {
	d, _ := s.Cluster.(cluster.Drainer)
	return d
}

// Drain marks this node draining (SIGTERM): its health check fails so the load balancer
// sends no new viewers, new WHEP viewers are turned away, and those watching stay.
func (s *Server) Drain() {
	if d := s.drainer(); d != nil {
		d.SetDraining(true)
	}
}

// Draining reports whether this node is draining.
func (s *Server) Draining() bool { return s.Cluster.Self().Draining }

// drainNode is POST /api/admin/nodes/{id}/drain (admins): this node or, over NATS, another.
func (s *Server) drainNode(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	id := c.Param("id")
	d := s.drainer()
	if d == nil {
		return echo.NewHTTPError(http.StatusNotFound, "no node "+id+" in this cluster")
	}
	err := d.DrainNode(c.Request().Context(), id)
	switch {
	case errors.Is(err, cluster.ErrNoNode):
		return echo.NewHTTPError(http.StatusNotFound, "no node "+id+" in this cluster: GET /api/status lists them")
	case err != nil:
		s.Logger.Warn("drain request not answered", "node", id, "err", err)
		return echo.NewHTTPError(http.StatusBadGateway, "node "+id+" did not answer the drain request: try again")
	}
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "draining": true})
}

// nodeStatus is this node in /api/status, for everyone: no webinar ids.
type nodeStatus struct {
	ID       string  `json:"id"`
	URL      string  `json:"url,omitempty"`
	Region   string  `json:"region,omitempty"`
	Viewers  int     `json:"viewers"`
	Load     float64 `json:"load"`
	Draining bool    `json:"draining"`
}

// clusterStatus is the cluster in /api/status, for admins: every live node with the
// webinars it originates and relays, and the regions served.
type clusterStatus struct {
	Nodes   []cluster.Node `json:"nodes"`
	Regions []string       `json:"regions"`
}

func (s *Server) nodeStatus() nodeStatus {
	n := s.Cluster.Self()
	return nodeStatus{ID: n.ID, URL: n.URL, Region: n.Region, Viewers: n.Viewers, Load: n.Load, Draining: n.Draining}
}

func (s *Server) clusterStatus(ctx context.Context) (*clusterStatus, error) {
	nodes, err := s.Cluster.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	out := &clusterStatus{Nodes: nodes, Regions: []string{}}
	for _, n := range nodes {
		if n.Region != "" && !slices.Contains(out.Regions, n.Region) {
			out.Regions = append(out.Regions, n.Region)
		}
	}
	slices.Sort(out.Regions)
	return out, nil
}

// clusterCount records this node's number for a webinar and returns the cluster's.
func (s *Server) clusterCount(kind, webinar string, local int) int {
	ct, ok := s.Cluster.(cluster.Counter)
	if !ok {
		return local
	}
	ct.SetCount(kind, webinar, local)
	return ct.Count(kind, webinar)
}

// followClusterCounts re-announces a webinar's participant count here when another node's
// changes, so every node's channel shows the cluster's number.
func (s *Server) followClusterCounts() {
	if ct, ok := s.Cluster.(cluster.Counter); ok {
		ct.OnCountChange(func(kind, webinar string) {
			if kind == cluster.CountParticipants {
				s.publishCount(webinar)
			}
		})
	}
}

// viewers is a webinar's audience over the cluster. The origin's WHEP sessions include one
// per edge pulling from it, which are nodes, not people.
func (s *Server) viewers(webinar string) int {
	local := s.Broadcast.Viewers(webinar)
	if dir, ok := s.Cluster.(interface{ Originates(string) bool }); ok && dir.Originates(webinar) {
		nodes, _ := s.Cluster.Nodes(context.Background())
		self := s.Cluster.Self().ID
		for _, n := range nodes {
			if n.ID != self && slices.Contains(n.Relays, webinar) {
				local--
			}
		}
		local = max(local, 0)
	}
	return s.clusterCount(cluster.CountViewers, webinar, local)
}

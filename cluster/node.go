// Package cluster lets several Lectern nodes serve one webinar. The node where the presenter's
// WHIP lands is the webinar's origin; any other node a viewer reaches becomes an edge that pulls
// the origin's tracks over WHEP. This file is the contract the HTTP layer uses (Directory) and
// the one-node answer to it (Single); the NATS-backed directory lives beside it.
package cluster

import (
	"context"
	"time"
)

// Node is one running Lectern server as the others see it.
type Node struct {
	ID         string    `json:"id"`
	URL        string    `json:"url"` // base URL other nodes and redirected viewers use
	Region     string    `json:"region,omitempty"`
	Viewers    int       `json:"viewers"`
	Load       float64   `json:"load"` // 0..1: the share of this node's capacity in use
	Draining   bool      `json:"draining"`
	Originates []string  `json:"originates,omitempty"` // webinar ids whose presenter is here
	Relays     []string  `json:"relays,omitempty"`     // webinar ids this node pulls as an edge
	Seen       time.Time `json:"seen"`                 // last heartbeat
}

// Directory is what the HTTP layer asks of the cluster.
type Directory interface {
	// Self is this node, as it announces itself.
	Self() Node
	// ClaimOrigin makes this node the origin of a webinar if no live node is, and says who
	// is otherwise. A claim is a lease kept alive until ReleaseOrigin (or the node dies).
	ClaimOrigin(ctx context.Context, webinar string) (origin Node, mine bool, err error)
	// ReleaseOrigin gives up this node's claim on a webinar (its presenter left).
	ReleaseOrigin(webinar string)
	// Origin is the live node holding a webinar's origin lease, if any.
	Origin(ctx context.Context, webinar string) (origin Node, ok bool, err error)
	// Nodes lists the live nodes, this one included.
	Nodes(ctx context.Context) ([]Node, error)
}

// Single is the directory of a server that is the whole cluster: every webinar's origin is
// here. It is what `lectern serve` uses without --nats or --nats-listen.
type Single struct{ Node Node }

// Self returns the one node.
func (s Single) Self() Node { return s.Node }

// ClaimOrigin always succeeds: there is no other node.
func (s Single) ClaimOrigin(context.Context, string) (Node, bool, error) { return s.Node, true, nil }

// ReleaseOrigin has nothing to release.
func (Single) ReleaseOrigin(string) {}

// Origin is this node.
func (s Single) Origin(context.Context, string) (Node, bool, error) { return s.Node, true, nil }

// Nodes is this node alone.
func (s Single) Nodes(context.Context) ([]Node, error) { return []Node{s.Node}, nil }

package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// Drainer marks a node draining: it takes no new viewers, its health check fails so load
// balancers move on, and viewers already watching stay until they leave.
type Drainer interface {
	// SetDraining marks this node (the heartbeat tells the others at once).
	SetDraining(on bool)
	// DrainNode asks another node to drain; ErrNoNode when no live node has that id.
	DrainNode(ctx context.Context, id string) error
}

// ErrNoNode: no live node has the id.
var ErrNoNode = errors.New("no such node in the cluster")

var _ Drainer = (*Bus)(nil)

// SetDraining marks this node and announces it.
func (b *Bus) SetDraining(on bool) {
	if b.draining.Swap(on) != on {
		b.log.Info("draining", "on", on)
		b.heartbeat()
	}
}

// DrainNode sends a drain request to a live node and waits for its answer.
func (b *Bus) DrainNode(ctx context.Context, id string) error {
	if id == b.cfg.Self.ID {
		b.SetDraining(true)
		return nil
	}
	nodes, _ := b.Nodes(ctx)
	found := false
	for _, n := range nodes {
		found = found || n.ID == id
	}
	if !found {
		return ErrNoNode
	}
	if _, err := b.nc.RequestWithContext(ctx, subjDrain+id, nil); err != nil {
		return fmt.Errorf("drain node %s: %w", id, err)
	}
	return nil
}

func (b *Bus) onDrainRequest(msg *nats.Msg) {
	b.SetDraining(true)
	if err := msg.Respond([]byte("ok")); err != nil {
		b.log.Warn("drain request not answered", "err", err)
	}
}

// WithDrain gives a directory that cannot drain by itself (Single, nil) a draining flag of its
// own, so a lone server drains on SIGTERM like a cluster node. A Drainer is returned as is.
func WithDrain(d Directory) Directory {
	if d == nil {
		d = Single{}
	}
	if _, ok := d.(Drainer); ok {
		return d
	}
	return &drainable{Directory: d}
}

type drainable struct {
	Directory
	draining atomic.Bool
}

func (d *drainable) Self() Node {
	n := d.Directory.Self()
	n.Draining = n.Draining || d.draining.Load() // the wrapped directory may know of a drain too
	return n
}

func (d *drainable) SetDraining(on bool) { d.draining.Store(on) }

func (d *drainable) DrainNode(_ context.Context, id string) error {
	if id != d.Self().ID {
		return ErrNoNode
	}
	d.SetDraining(true)
	return nil
}

func (d *drainable) Nodes(ctx context.Context) ([]Node, error) {
	ns, err := d.Directory.Nodes(ctx)
	for i := range ns {
		if ns[i].ID == d.Self().ID {
			ns[i].Draining = ns[i].Draining || d.draining.Load()
		}
	}
	return ns, err
}

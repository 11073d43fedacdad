package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bus is a Directory: origins are leased entries of a KV bucket whose TTL is the lease, and a
// node is alive while its heartbeats arrive.
var _ Directory = (*Bus)(nil)

// Self is this node with its current load, origins and draining state.
func (b *Bus) Self() Node {
	n := b.cfg.Self
	n.Draining = b.draining.Load()
	n.Seen = time.Now()
	b.mu.Lock()
	for w := range b.claims {
		n.Originates = append(n.Originates, w)
	}
	b.mu.Unlock()
	slices.Sort(n.Originates)
	if r := b.report.Load(); r != nil {
		n.Viewers, n.Load, n.Relays = r.Viewers, r.Load, r.Relays
	}
	return n
}

// Originates reports whether this node holds the webinar's origin lease: only the origin
// transcribes, translates and publishes captions (live.Config.IsOrigin).
func (b *Bus) Originates(webinar string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.claims[webinar]
	return ok
}

// ClaimOrigin creates the webinar's origin entry (compare-and-set: it must not exist), or
// answers who holds it. An entry left by this very node (a restart within the lease) is
// taken back.
func (b *Bus) ClaimOrigin(ctx context.Context, webinar string) (Node, bool, error) {
	if b.Originates(webinar) {
		return b.cfg.Self, true, nil
	}
	val, err := json.Marshal(b.cfg.Self)
	if err != nil {
		return Node{}, false, err
	}
	rev, err := b.origins.Create(ctx, webinar, val)
	if errors.Is(err, jetstream.ErrKeyExists) {
		e, gerr := b.origins.Get(ctx, webinar)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			return b.ClaimOrigin(ctx, webinar) // expired between the two calls
		case gerr != nil:
			return Node{}, false, fmt.Errorf("origin of %s: %w", webinar, gerr)
		}
		holder, derr := decodeNode(e.Value())
		if derr != nil || holder.ID != b.cfg.Self.ID {
			return holder, false, derr
		}
		if rev, err = b.origins.Update(ctx, webinar, val, e.Revision()); err != nil {
			return Node{}, false, fmt.Errorf("origin of %s: take back own entry: %w", webinar, err)
		}
	} else if err != nil {
		return Node{}, false, fmt.Errorf("claim origin of %s: %w", webinar, err)
	}
	b.mu.Lock()
	b.claims[webinar] = rev
	b.mu.Unlock()
	b.m.originClaims.Inc()
	b.log.Info("origin claimed", "webinar", webinar)
	return b.cfg.Self, true, nil
}

// ReleaseOrigin deletes this node's entry, only if it is still ours.
func (b *Bus) ReleaseOrigin(webinar string) {
	b.releasing.RLock()
	defer b.releasing.RUnlock()
	b.mu.Lock()
	rev, ok := b.claims[webinar]
	delete(b.claims, webinar)
	b.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := b.origins.Delete(ctx, webinar, jetstream.LastRevision(rev)); err != nil {
		b.log.Warn("origin release: left to expire", "webinar", webinar, "err", err)
	}
}

// Origin is the node holding the webinar's lease, if any. The entry's node is refreshed
// from its latest heartbeat (load, draining).
func (b *Bus) Origin(ctx context.Context, webinar string) (Node, bool, error) {
	if b.Originates(webinar) {
		return b.Self(), true, nil
	}
	e, err := b.origins.Get(ctx, webinar)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Node{}, false, nil
	}
	if err != nil {
		return Node{}, false, fmt.Errorf("origin of %s: %w", webinar, err)
	}
	n, err := decodeNode(e.Value())
	if err != nil {
		return Node{}, false, err
	}
	b.mu.Lock()
	if p, ok := b.peers[n.ID]; ok {
		n = p.node
	}
	b.mu.Unlock()
	return n, true, nil
}

// Nodes lists this node and every node heard from within a lease, by id.
func (b *Bus) Nodes(context.Context) ([]Node, error) {
	out := []Node{b.Self()}
	b.mu.Lock()
	for _, p := range b.peers {
		if time.Since(p.got) < b.cfg.Lease {
			out = append(out, p.node)
		}
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y Node) int {
		switch {
		case x.ID < y.ID:
			return -1
		case x.ID > y.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

func decodeNode(b []byte) (Node, error) {
	var n Node
	if err := json.Unmarshal(b, &n); err != nil {
		return Node{}, fmt.Errorf("origin entry: %w", err)
	}
	return n, nil
}

// renew keeps this node's origin entries alive by rewriting them (each write restarts the
// TTL). An entry that expired while NATS was away is created again if nobody else took it;
// one another node took is given up.
func (b *Bus) renew() {
	b.mu.Lock()
	claims := make(map[string]uint64, len(b.claims))
	for w, rev := range b.claims {
		claims[w] = rev
	}
	b.mu.Unlock()
	if len(claims) == 0 || !b.nc.IsConnected() {
		return
	}
	val, _ := json.Marshal(b.cfg.Self)
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.Lease/3)
	defer cancel()
	for w, rev := range claims {
		nrev, err := b.origins.Update(ctx, w, val, rev)
		if err != nil {
			nrev, err = b.origins.Create(ctx, w, val)
		}
		if errors.Is(err, jetstream.ErrKeyExists) {
			nrev, err = b.retakeOwn(ctx, w, val)
		}
		if errors.Is(err, errHeldElsewhere) {
			b.log.Warn("origin lease lost to another node", "webinar", w)
			b.mu.Lock()
			delete(b.claims, w)
			b.mu.Unlock()
			continue
		}
		if err != nil {
			b.log.Warn("origin lease not renewed", "webinar", w, "err", err)
			continue
		}
		b.mu.Lock()
		if _, still := b.claims[w]; still {
			b.claims[w] = nrev
		}
		b.mu.Unlock()
	}
}

// errHeldElsewhere: the webinar's origin entry names another node.
var errHeldElsewhere = errors.New("origin held by another node")

// retakeOwn rewrites an origin entry that exists at a revision this node does not know,
// when the entry names this node: a renewal whose answer timed out (NATS slow or just
// back) may still have been written, and that is no reason to give the webinar up.
func (b *Bus) retakeOwn(ctx context.Context, webinar string, val []byte) (uint64, error) {
	e, err := b.origins.Get(ctx, webinar)
	if err != nil {
		return 0, fmt.Errorf("origin of %s: %w", webinar, err)
	}
	holder, err := decodeNode(e.Value())
	if err != nil {
		return 0, err
	}
	if holder.ID != b.cfg.Self.ID {
		return 0, errHeldElsewhere
	}
	return b.origins.Update(ctx, webinar, val, e.Revision())
}

// heartbeat is what other nodes know of this one: the Node and its per-webinar counts.
type heartbeat struct {
	Node   Node                      `json:"node"`
	Counts map[string]map[string]int `json:"counts,omitempty"`
}

func (b *Bus) heartbeat() {
	hb := heartbeat{Node: b.Self(), Counts: b.localCounts()}
	data, err := json.Marshal(hb)
	if err != nil {
		b.log.Error("heartbeat not encoded", "err", err)
		return
	}
	if err := b.nc.Publish(subjHeartbeat, data); err != nil {
		b.log.Debug("heartbeat not sent", "err", err)
		return
	}
	b.m.sent.WithLabelValues("heartbeat").Inc()
}

// onHeartbeat records another node. A node never heard before gets this node's heartbeat at
// once, so a new node knows the cluster without waiting a beat.
func (b *Bus) onHeartbeat(msg *nats.Msg) {
	var hb heartbeat
	if err := json.Unmarshal(msg.Data, &hb); err != nil || hb.Node.ID == "" || hb.Node.ID == b.cfg.Self.ID {
		return
	}
	b.m.received.WithLabelValues("heartbeat").Inc()
	b.mu.Lock()
	old, known := b.peers[hb.Node.ID]
	b.peers[hb.Node.ID] = peer{node: hb.Node, counts: hb.Counts, got: time.Now()}
	changed := countChanges(old.counts, hb.Counts)
	fns := slices.Clone(b.onChange)
	b.mu.Unlock()
	if !known || time.Since(old.got) >= b.cfg.Lease {
		b.m.nodes.Set(float64(b.liveNodes()))
		go b.heartbeat() // not on NATS's goroutine: Self may wait for b.mu
	}
	for _, c := range changed {
		for _, fn := range fns {
			fn(c[0], c[1])
		}
	}
}

// expirePeers forgets nodes silent for two leases; their counts stop adding up at once
// (Count skips peers older than a lease).
func (b *Bus) expirePeers() {
	b.mu.Lock()
	var gone []peer
	for id, p := range b.peers {
		if time.Since(p.got) >= 2*b.cfg.Lease {
			gone = append(gone, p)
			delete(b.peers, id)
		}
	}
	fns := slices.Clone(b.onChange)
	b.mu.Unlock()
	b.m.nodes.Set(float64(b.liveNodes()))
	for _, p := range gone {
		b.log.Info("node gone", "peer", p.node.ID, "url", p.node.URL)
		for _, c := range countChanges(p.counts, nil) {
			for _, fn := range fns {
				fn(c[0], c[1])
			}
		}
	}
}

func (b *Bus) liveNodes() int {
	n, _ := b.Nodes(context.Background())
	return len(n)
}

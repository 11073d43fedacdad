package cluster

import (
	"maps"
	"time"
)

// Kinds of per-webinar counts the nodes add up.
const (
	CountViewers      = "viewers"      // WHEP sessions of people (not of edges)
	CountParticipants = "participants" // admitted participants present (the channel's count)
)

// Counter adds up a per-webinar number over the nodes (viewers, present participants).
// Bus implements it; a lone server needs none.
type Counter interface {
	// SetCount records this node's number; other nodes learn it with the next heartbeat,
	// which a change sends at once.
	SetCount(kind, webinar string, n int)
	// Count is this node's number plus every live node's.
	Count(kind, webinar string) int
	// OnCountChange calls fn when another node's number changes (it runs on the bus's
	// goroutine: keep it quick).
	OnCountChange(fn func(kind, webinar string))
}

var _ Counter = (*Bus)(nil)

// SetCount records this node's number for a webinar and, when it changed, announces it.
func (b *Bus) SetCount(kind, webinar string, n int) {
	b.mu.Lock()
	m := b.counts[kind]
	if m == nil {
		m = map[string]int{}
		b.counts[kind] = m
	}
	old, had := m[webinar]
	if n == 0 {
		delete(m, webinar)
	} else {
		m[webinar] = n
	}
	b.mu.Unlock()
	if old != n || (!had && n != 0) {
		b.heartbeat()
	}
}

// Count is the webinar's number over the cluster.
func (b *Bus) Count(kind, webinar string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.counts[kind][webinar]
	for _, p := range b.peers {
		if time.Since(p.got) < b.cfg.Lease {
			n += p.counts[kind][webinar]
		}
	}
	return n
}

// OnCountChange registers fn for other nodes' changes.
func (b *Bus) OnCountChange(fn func(kind, webinar string)) {
	b.mu.Lock()
	b.onChange = append(b.onChange, fn)
	b.mu.Unlock()
}

func (b *Bus) localCounts() map[string]map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]map[string]int, len(b.counts))
	for k, m := range b.counts {
		if len(m) > 0 {
			out[k] = maps.Clone(m)
		}
	}
	return out
}

// countChanges lists the (kind, webinar) pairs whose number differs between two heartbeats.
func countChanges(old, cur map[string]map[string]int) [][2]string {
	var out [][2]string
	for k, m := range cur {
		for w, n := range m {
			if old[k][w] != n {
				out = append(out, [2]string{k, w})
			}
		}
	}
	for k, m := range old {
		for w := range m {
			if _, ok := cur[k][w]; !ok {
				out = append(out, [2]string{k, w})
			}
		}
	}
	return out
}

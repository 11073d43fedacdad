package webhook

import (
	"encoding/json"
	"sync"
	"time"
)

const (
	// maxJoinsListed bounds the participants one participant.joined lists; "count" has them all.
	maxJoinsListed = 100
	// maxBatches bounds the webinars with joins waiting for their window to close.
	maxBatches = 10000
)

// batcher gathers participant joins per webinar: the first join of a webinar opens a window,
// and when it closes flush gets every join of the window at once. So an endpoint hears a
// webinar's joins at most once per window, whatever the audience size.
type batcher struct {
	window time.Duration
	flush  func(webinar string, joins []json.RawMessage, total int)

	mu      sync.Mutex
	pending map[string]*joinBatch
	stopped bool
}

type joinBatch struct {
	joins []json.RawMessage
	total int
	timer *time.Timer
}

func newBatcher(window time.Duration, flush func(string, []json.RawMessage, int)) *batcher {
	return &batcher{window: window, flush: flush, pending: map[string]*joinBatch{}}
}

// add records one join; false when too many webinars already have joins waiting.
func (b *batcher) add(webinar string, join json.RawMessage) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return true
	}
	jb := b.pending[webinar]
	if jb == nil {
		if len(b.pending) >= maxBatches {
			return false
		}
		jb = &joinBatch{}
		b.pending[webinar] = jb
		jb.timer = time.AfterFunc(b.window, func() { b.fire(webinar) })
	}
	jb.total++
	if len(jb.joins) < maxJoinsListed {
		jb.joins = append(jb.joins, join)
	}
	return true
}

func (b *batcher) fire(webinar string) {
	b.mu.Lock()
	jb := b.pending[webinar]
	delete(b.pending, webinar)
	stopped := b.stopped
	b.mu.Unlock()
	if jb != nil && !stopped {
		b.flush(webinar, jb.joins, jb.total)
	}
}

func (b *batcher) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	for _, jb := range b.pending {
		jb.timer.Stop()
	}
	clear(b.pending)
}

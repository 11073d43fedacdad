package live

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"lectern/models"
)

const (
	// maxUnsaved bounds the finals kept for a later store: hours of speech for one webinar.
	// Beyond it the oldest is given up (logged), so a disk that never recovers costs bounded
	// memory.
	maxUnsaved = 10000
	// Back-off between store attempts while the store refuses writes.
	unsavedRetryMin, unsavedRetryMax = time.Second, 30 * time.Second
	saveTimeout                      = 10 * time.Second
)

// unsaved holds finals the store refused (a full disk) and stores them, oldest first with
// their original seq, once it takes writes again. Viewers saw them already, marked unsaved;
// saved says each one is now in the transcript. Its goroutine runs only while something is
// pending.
type unsaved struct {
	save  func(context.Context, models.Segment) error
	saved func(models.Segment)
	log   *slog.Logger

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	pending []models.Segment
	running bool
}

func newUnsaved(save func(context.Context, models.Segment) error, saved func(models.Segment), log *slog.Logger) *unsaved {
	u := &unsaved{save: save, saved: saved, log: log}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	return u
}

// add queues seg for storing and starts the retry loop if it is not running.
func (u *unsaved) add(seg models.Segment) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ctx.Err() != nil {
		u.log.Error("final caption lost: not stored and the room is closing", "webinar", seg.Webinar, "id", seg.ID)
		return
	}
	if len(u.pending) >= maxUnsaved {
		u.log.Error("final caption lost: too many unsaved", "webinar", seg.Webinar, "id", u.pending[0].ID)
		u.pending = u.pending[1:]
	}
	u.pending = append(u.pending, seg)
	if !u.running {
		u.running = true
		u.wg.Add(1)
		go u.run()
	}
}

// run stores the pending finals in order, backing off while the store refuses them, and
// returns when none is left or on close.
func (u *unsaved) run() {
	defer u.wg.Done()
	delay := unsavedRetryMin
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-timer.C:
		}
		u.mu.Lock()
		if len(u.pending) == 0 {
			u.running = false
			u.mu.Unlock()
			return
		}
		seg := u.pending[0]
		u.mu.Unlock()
		ctx, cancel := context.WithTimeout(u.ctx, saveTimeout)
		err := u.save(ctx, seg)
		cancel()
		if err != nil {
			delay = min(delay*2, unsavedRetryMax)
			timer.Reset(delay)
			continue
		}
		u.mu.Lock()
		u.pending = u.pending[1:]
		u.mu.Unlock()
		u.log.Info("unsaved final caption stored", "webinar", seg.Webinar, "id", seg.ID, "seq", seg.Seq)
		u.saved(seg)
		delay = unsavedRetryMin
		timer.Reset(0) // the store works again: the next one right away
	}
}

// close stops retrying; finals still pending are lost, and logged.
func (u *unsaved) close() {
	u.mu.Lock()
	u.cancel()
	u.mu.Unlock()
	u.wg.Wait()
	u.mu.Lock()
	lost := len(u.pending)
	u.mu.Unlock()
	if lost > 0 {
		u.log.Error("final captions lost: never stored", "count", lost)
	}
}

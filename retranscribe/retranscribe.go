// Package retranscribe transcribes a webinar's recording again after class, in the
// background, with an engine chosen for accuracy rather than speed, and stores the result as
// a transcript version beside the live one. One job runs at a time: the live pool keeps
// the CPU it needs for webinars that are on air.
package retranscribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"lectern/captions"
	"lectern/models"
	"lectern/transcribe"
)

// Runner runs re-transcription jobs.
type Runner struct {
	store  *models.Store
	engine transcribe.Engine
	cfg    transcribe.Config
	log    *slog.Logger
	onDone func(models.TranscriptVersion) // after a job stored its result (webhooks)

	slot   chan struct{} // one job decodes at a time
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New makes a Runner for engine; onDone (optional) hears of every finished version. Versions
// a previous process left running are marked failed: their job died with it.
func New(ctx context.Context, store *models.Store, engine transcribe.Engine, cfg transcribe.Config, log *slog.Logger,
	onDone func(models.TranscriptVersion)) (*Runner, error) {
	if log == nil {
		log = slog.Default()
	}
	if n, err := store.FailInterruptedVersions(ctx); err != nil {
		return nil, fmt.Errorf("retranscribe: %w", err)
	} else if n > 0 {
		log.Warn("re-transcriptions interrupted by the last stop marked failed", "count", n)
	}
	jctx, cancel := context.WithCancel(context.Background())
	return &Runner{store: store, engine: engine, cfg: cfg, log: log, onDone: onDone, slot: make(chan struct{}, 1), ctx: jctx, cancel: cancel}, nil
}

// Engine is the engine jobs use (its name and region are checked and shown by callers).
func (r *Runner) Engine() transcribe.Engine { return r.engine }

// Start queues a job transcribing the recording file at path and returns its version,
// "running". Cue times are placed on the webinar's timeline: offset is where the recording
// began on it.
func (r *Runner) Start(ctx context.Context, w models.Webinar, rec models.Recording, path string, offset time.Duration) (models.TranscriptVersion, error) {
	v, err := r.store.AddTranscriptVersion(ctx, models.TranscriptVersion{Webinar: w.ID, Kind: models.KindRetranscribed,
		Source: rec.ID, Engine: r.engine.Name(), State: models.VersionRunning}, nil)
	if err != nil {
		return v, err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.run(v, w.Language, path, offset)
	}()
	return v, nil
}

func (r *Runner) run(v models.TranscriptVersion, lang, path string, offset time.Duration) {
	select {
	case r.slot <- struct{}{}:
		defer func() { <-r.slot }()
	case <-r.ctx.Done():
		r.finish(v, nil, r.ctx.Err())
		return
	}
	cfg := r.cfg
	cfg.Options.Language = lang
	var last time.Time
	progress := func(done, total time.Duration) {
		if total <= 0 || time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		if err := r.store.SetVersionProgress(r.ctx, v.ID, min(0.99, float64(done)/float64(total))); err != nil {
			r.log.Warn("re-transcription progress not stored", "version", v.ID, "err", err)
		}
	}
	t0 := time.Now()
	events, err := transcribe.TranscribeFile(r.ctx, path, r.engine, cfg, progress)
	cues := cuesOf(events, lang, offset)
	r.finish(v, cues, err)
	r.log.Info("re-transcription finished", "webinar", v.Webinar, "version", v.ID, "engine", v.Engine,
		"cues", len(cues), "took", time.Since(t0).Round(time.Millisecond), "err", err)
}

func (r *Runner) finish(v models.TranscriptVersion, cues []captions.Caption, failure error) {
	if errors.Is(failure, context.Canceled) {
		failure = errors.New("interrupted: the server stopped; start it again")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.store.FinishVersion(ctx, v.ID, cues, failure); err != nil {
		r.log.Error("re-transcription result not stored", "version", v.ID, "err", err)
		return
	}
	if r.onDone != nil {
		v.State, v.Cues = models.VersionDone, len(cues)
		if failure != nil {
			v.State, v.Error = models.VersionFailed, failure.Error()
		}
		r.onDone(v)
	}
}

// cuesOf turns a file's finals into captions on the webinar's timeline.
func cuesOf(events []transcribe.Event, lang string, offset time.Duration) []captions.Caption {
	out := make([]captions.Caption, 0, len(events))
	for _, ev := range events {
		if !ev.Final || ev.Failed || ev.Text == "" {
			continue
		}
		out = append(out, captions.Caption{ID: fmt.Sprintf("r-%d", len(out)+1), Seq: int64(len(out) + 1), Final: true,
			Text: ev.Text, Lang: lang, StartMS: (offset + ev.Start).Milliseconds(), EndMS: (offset + ev.End).Milliseconds()})
	}
	return out
}

// Close cancels running jobs (their versions are marked failed) and waits for them.
func (r *Runner) Close() {
	r.cancel()
	r.wg.Wait()
}

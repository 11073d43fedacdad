package retranscribe

import (
	"context"
	"strings"
	"testing"
	"time"

	"lectern/bench"
	"lectern/models"
	"lectern/transcribe"
)

// stuckEngine never finishes a decode until it is cancelled, like a remote server that hangs.
type stuckEngine struct{ entered chan struct{} }

func (stuckEngine) Name() string                    { return "stuck" }
func (stuckEngine) Region() string                  { return "local" }
func (stuckEngine) Warm(context.Context, int) error { return nil }
func (e stuckEngine) Transcribe(ctx context.Context, _ []float32, _ transcribe.Options) (transcribe.Result, error) {
	select {
	case e.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return transcribe.Result{}, ctx.Err()
}

// A version left running by a stopped process is marked failed at start, and stopping the
// server mid-job marks its version failed too, saying why, instead of leaving it "running".
func TestInterruptedVersionsFail(t *testing.T) {
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "T", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	left, err := store.AddTranscriptVersion(ctx, models.TranscriptVersion{Webinar: w.ID, Kind: models.KindRetranscribed, State: models.VersionRunning}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng := stuckEngine{entered: make(chan struct{}, 1)}
	var finished []models.TranscriptVersion
	r, err := New(ctx, store, eng, transcribe.DefaultConfig(), nil, func(v models.TranscriptVersion) { finished = append(finished, v) })
	if err != nil {
		t.Fatal(err)
	}
	state := func(id string) models.TranscriptVersion {
		vs, err := store.TranscriptVersions(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.ID == id {
				return v
			}
		}
		t.Fatalf("version %s gone", id)
		return models.TranscriptVersion{}
	}
	if v := state(left.ID); v.State != models.VersionFailed || !strings.Contains(v.Error, "interrupted") {
		t.Errorf("a version left running: %+v, want failed as interrupted", v)
	}

	wav, _, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: []string{"Good morning everyone."}, Dir: t.TempDir()})
	if err != nil {
		t.Skipf("making speech: %v", err)
	}
	v, err := r.Start(ctx, w, models.Recording{ID: "r1"}, wav, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-eng.entered:
	case <-time.After(time.Minute):
		t.Fatal("the engine was never asked")
	}
	r.Close()
	if got := state(v.ID); got.State != models.VersionFailed || !strings.Contains(got.Error, "interrupted") {
		t.Errorf("a job stopped by Close: %+v, want failed as interrupted", got)
	}
	if len(finished) != 1 || finished[0].State != models.VersionFailed {
		t.Errorf("onDone heard %+v", finished)
	}
}

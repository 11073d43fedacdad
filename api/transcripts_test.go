package api

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/bench"
	"lectern/captions"
	"lectern/internal/wer"
	"lectern/models"
	"lectern/record"
	"lectern/retranscribe"
	"lectern/transcribe"
	"lectern/transcribe/sphinx"
)

var afterClass = []string{"Good morning everyone and welcome to the class.", "Today we will talk about the weather and the seasons."}

// speechWebM speaks afterClass with flite and muxes it as Opus in WebM, as the recorder writes.
func speechWebM(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wav, _, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: afterClass, Dir: t.TempDir()})
	if err != nil {
		t.Skipf("making speech: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "ffmpeg", "-loglevel", "error", "-i", wav, "-ar", "48000", "-c:a", "libopus", path).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
}

// countingSpeech wraps the real engine and counts what it is asked to transcribe.
type countingSpeech struct {
	transcribe.Engine
	region string
	calls  atomic.Int64
}

func (c *countingSpeech) Region() string { return c.region }
func (c *countingSpeech) Transcribe(ctx context.Context, pcm []float32, o transcribe.Options) (transcribe.Result, error) {
	c.calls.Add(1)
	return c.Engine.Transcribe(ctx, pcm, o)
}

// A teacher transcribes a class recording again after class: the version runs in the
// background with progress, holds the spoken words (PocketSphinx on flite speech), becomes the
// default download, and a corrected copy is stored as a further version while the live one
// stays. An engine outside the webinar's regions is refused and never called.
func TestRetranscribeRecordingAndEditTranscript(t *testing.T) {
	eng, err := sphinx.New(sphinx.Config{Decoders: 1})
	if err != nil {
		t.Skipf("PocketSphinx unavailable: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	speech := &countingSpeech{Engine: eng, region: "local"}
	var runner *retranscribe.Runner
	var recorder *record.Manager
	s := newAuthServer(t, func(d *Deps) {
		var err error
		if recorder, err = record.NewManager(t.TempDir(), d.Broadcast, prometheus.NewRegistry(), quietLogger()); err != nil {
			t.Fatal(err)
		}
		tc := transcribe.DefaultConfig()
		tc.Workers = 1
		if runner, err = retranscribe.New(context.Background(), d.Store, speech, tc, quietLogger(), nil); err != nil {
			t.Fatal(err)
		}
		d.Recorder, d.Retranscriber = recorder, runner
		t.Cleanup(runner.Close)
	})
	ctx := context.Background()
	host := s.user(t, "teacher@example.com", false)
	hc := creds{session: s.session(t, host)}
	w := s.webinar(t, host, models.VisibilityPublic, "")
	live := models.Segment{Webinar: w.ID, Session: "s", Engine: "sphinx",
		Caption: captions.Caption{ID: "s-1", Seq: 1, Final: true, Text: "good morning every one", Lang: "en", StartMS: 500, EndMS: 3000}}
	if err := s.store.SaveSegment(ctx, live); err != nil {
		t.Fatal(err)
	}
	const rid = "rec1"
	if err := s.store.AddRecording(ctx, w.ID, rid, time.Now()); err != nil {
		t.Fatal(err)
	}
	speechWebM(t, recorder.Path(w.ID, rid))
	base := "/api/webinars/" + w.ID

	// Outside the webinar's regions: refused, nothing stored, the engine never called.
	if r := s.call(t, hc, "PATCH", base, "application/json", `{"regions":["eu"]}`); r.status != 200 {
		t.Fatalf("PATCH regions: %d %s", r.status, r.body)
	}
	if r := s.call(t, hc, "POST", base+"/recordings/"+rid+"/transcribe", "", ""); r.status != 403 || !strings.Contains(r.body, `region \"local\"`) {
		t.Fatalf("re-transcription outside the regions: %d %s, want 403 naming the region", r.status, r.body)
	}
	if r := s.call(t, hc, "PATCH", base, "application/json", `{"regions":[]}`); r.status != 200 {
		t.Fatalf("PATCH regions: %d %s", r.status, r.body)
	}
	if speech.calls.Load() != 0 {
		t.Fatalf("the engine was called %d times for a refused re-transcription", speech.calls.Load())
	}
	if r := s.call(t, hc, "POST", base+"/recordings/nope/transcribe", "", ""); r.status != 404 {
		t.Errorf("re-transcribing an unknown recording: %d %s, want 404", r.status, r.body)
	}
	if r := s.call(t, creds{}, "POST", base+"/recordings/"+rid+"/transcribe", "", ""); r.status != 401 && r.status != 403 {
		t.Errorf("anonymous re-transcription: %d", r.status)
	}

	r := s.call(t, hc, "POST", base+"/recordings/"+rid+"/transcribe", "", "")
	if r.status != 202 {
		t.Fatalf("re-transcribe: %d %s", r.status, r.body)
	}
	var v models.TranscriptVersion
	r.json(t, &v)
	if v.State != models.VersionRunning || v.Source != rid || v.Kind != models.KindRetranscribed {
		t.Fatalf("new version %+v", v)
	}
	done := waitVersion(t, s, hc, base, v.ID)
	if done.State != models.VersionDone || done.Cues == 0 || done.Progress != 1 {
		t.Fatalf("finished version %+v", done)
	}
	text := s.call(t, creds{}, "GET", base+"/transcript.txt?version="+v.ID, "", "")
	if text.status != 200 {
		t.Fatalf("export of the version: %d %s", text.status, text.body)
	}
	rate := wer.Rate(strings.Join(afterClass, " "), text.body)
	t.Logf("re-transcribed: %q (WER %.2f)", text.body, rate)
	if rate > 0.35 {
		t.Errorf("re-transcription WER %.2f > 0.35", rate)
	}

	// The version becomes the default download; the live one is still there by name.
	if r := s.call(t, hc, "PUT", base+"/transcripts/default", "application/json", `{"version":"`+v.ID+`"}`); r.status != 200 {
		t.Fatalf("set default: %d %s", r.status, r.body)
	}
	if got := s.call(t, creds{}, "GET", base+"/transcript.txt", "", "").body; got != text.body {
		t.Errorf("default download %q, want the re-transcription %q", got, text.body)
	}
	if got := s.call(t, creds{}, "GET", base+"/transcript.txt?version=live", "", "").body; !strings.Contains(got, "every one") {
		t.Errorf("live transcript %q lost", got)
	}

	// The teacher corrects the text: a new version; the one edited is unchanged.
	edit := fmt.Sprintf(`{"base":%q,"cues":[{"start_ms":500,"end_ms":3000,"text":"Good morning, everyone.","speaker":"Ms Rivera"},{"start_ms":3200,"end_ms":6000,"text":"Welcome to the class."}]}`, v.ID)
	r = s.call(t, hc, "POST", base+"/transcripts", "application/json", edit)
	if r.status != 201 {
		t.Fatalf("save edit: %d %s", r.status, r.body)
	}
	var ev models.TranscriptVersion
	r.json(t, &ev)
	srt := s.call(t, creds{}, "GET", base+"/transcript.srt?version="+ev.ID, "", "")
	if srt.status != 200 || !strings.Contains(srt.body, "Ms Rivera: Good morning, everyone.") {
		t.Errorf("edited export: %d %q", srt.status, srt.body)
	}
	if got := s.call(t, creds{}, "GET", base+"/transcript.txt?version="+v.ID, "", "").body; got != text.body {
		t.Errorf("editing changed the version it started from: %q", got)
	}
	var list transcriptList
	s.call(t, hc, "GET", base+"/transcripts", "", "").json(t, &list)
	if list.Default != v.ID || len(list.Versions) != 3 || list.Versions[0].ID != "live" || list.Engine == nil || !list.Engine.Allowed {
		t.Errorf("transcripts list %+v", list)
	}

	// Bad input changes nothing.
	for _, bad := range []string{
		`{"cues":[]}`,
		`{"cues":[{"start_ms":500,"end_ms":400,"text":"x"}]}`,
		`{"cues":[{"start_ms":900,"end_ms":1000,"text":"a"},{"start_ms":100,"end_ms":200,"text":"b"}]}`,
		`{"cues":[{"start_ms":0,"end_ms":100,"text":"   "}]}`,
		`{"base":"nope","cues":[{"start_ms":0,"end_ms":100,"text":"a"}]}`,
		`{"cues":[{"start_ms":0,"end_ms":100,"text":"a","speaker":"a\nb"}]}`,
		`{"cues":[{"start_ms":0,"end_ms":100,"text":"a"}],"extra":1}`,
	} {
		if r := s.call(t, hc, "POST", base+"/transcripts", "application/json", bad); r.status < 400 || r.status >= 500 {
			t.Errorf("POST transcripts %s: %d %s, want 4xx", bad, r.status, r.body)
		}
	}
	if r := s.call(t, hc, "PUT", base+"/transcripts/default", "application/json", `{"version":"nope"}`); r.status != 404 {
		t.Errorf("default to an unknown version: %d", r.status)
	}
	if r := s.call(t, creds{}, "GET", base+"/transcript.txt?version=nope", "", ""); r.status != 404 {
		t.Errorf("export of an unknown version: %d", r.status)
	}
	if vs, _ := s.store.TranscriptVersions(ctx, w.ID); len(vs) != 2 {
		t.Errorf("%d versions stored after bad input, want 2", len(vs))
	}
}

// waitVersion polls GET .../transcripts until version id is no longer running.
func waitVersion(t *testing.T, s *authServer, c creds, base, id string) models.TranscriptVersion {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var list transcriptList
		r := s.call(t, c, "GET", base+"/transcripts", "", "")
		if err := json.Unmarshal([]byte(r.body), &list); err != nil {
			t.Fatalf("transcripts: %d %s", r.status, r.body)
		}
		for _, v := range list.Versions {
			if v.ID == id && v.State != models.VersionRunning {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("version %s still running: %+v", id, list.Versions)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

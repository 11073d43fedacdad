package translate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lectern/captions"
	"lectern/internal/region"
	"lectern/translate"
)

func TestDemandStartsAndStopsTranslation(t *testing.T) {
	ap := wrap(shared, "apertium", "local")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{ap}})
	const w = "web-1"

	// No Spanish reader: nothing is translated.
	e.stage.Submit(w, final(1, "The house is red."))
	if n := ap.calls.Load(); n != 0 {
		t.Fatalf("translated with nobody reading: %d calls", n)
	}
	e.sink.empty(t)

	// A reader arrives: the next final arrives in Spanish, with the source's ID and Seq.
	e.stage.Want(w, "es", 1)
	src := final(2, "The house is red.")
	e.stage.Submit(w, src)
	p := e.sink.next(t)
	if p.webinar != w || p.c.ID != src.ID || p.c.Seq != src.Seq || p.c.Lang != "es" || !p.c.Final ||
		p.c.StartMS != src.StartMS || p.c.EndMS != src.EndMS || p.c.Status != "" || p.c.Pivot != "" {
		t.Fatalf("published %+v for source %+v", p, src)
	}
	if !strings.Contains(p.c.Text, "casa") || !strings.Contains(p.c.Text, "roja") {
		t.Errorf("Spanish text %q", p.c.Text)
	}
	if got, _ := e.store.Translations(context.Background(), w, "es", []string{src.ID}); got[src.ID].Text != p.c.Text {
		t.Errorf("not stored: %+v", got)
	}

	// The reader leaves: translation stops.
	e.stage.Want(w, "es", 0)
	e.stage.Submit(w, final(3, "The dog is black."))
	calls := ap.calls.Load()
	// And comes back: final 4 is translated, final 3 never was (a webinar's finals are handled
	// in order, so 3 would have been published before 4).
	e.stage.Want(w, "es", 2)
	e.stage.Submit(w, final(4, "The cat is black."))
	p = e.sink.next(t)
	if p.c.Seq != 4 || !strings.Contains(p.c.Text, "gato") {
		t.Fatalf("after the reader came back got %+v, want Seq 4 in Spanish", p.c)
	}
	if ap.calls.Load() != calls+1 {
		t.Errorf("calls = %d, want %d", ap.calls.Load(), calls+1)
	}
	// Source-language readers never cost a translation.
	e.stage.Want(w, "es", 0)
	e.stage.Want(w, "en", 5)
	e.stage.Submit(w, final(5, "Hello."))
	e.sink.empty(t)
	if got := e.stage.InDemand(w, "en"); len(got) != 0 {
		t.Errorf("InDemand = %v", got)
	}
}

func TestThousandReadersOneTranslation(t *testing.T) {
	ap := wrap(shared, "apertium", "local")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{ap}})
	const w = "web-1000"
	for i := 1; i <= 1000; i++ { // viewers join one by one
		e.stage.Want(w, "es", i)
	}
	if g := metric(t, e.reg, "lectern_translate_languages_in_demand", "lang", "es"); g != 1 {
		t.Errorf("languages_in_demand{es} = %v, want 1", g)
	}
	sentences := []string{"The house is red.", "The dog is black.", "The cat sleeps.", "I read a book.", "Good morning."}
	for i, s := range sentences {
		e.stage.Submit(w, final(int64(i+1), s))
	}
	for i := range sentences {
		if p := e.sink.next(t); p.c.Seq != int64(i+1) || p.c.Lang != "es" {
			t.Fatalf("publication %d: %+v", i, p.c)
		}
	}
	e.sink.empty(t)
	want := float64(len(sentences))
	if got := metric(t, e.reg, "lectern_translate_requests_total", "translator", "apertium", "result", "ok"); got != want {
		t.Errorf("requests_total{ok} = %v, want %v (one per caption)", got, want)
	}
	if got := ap.calls.Load(); got != int64(want) {
		t.Errorf("translator calls = %d, want %v", got, want)
	}
	// The same final submitted again (say, after a restart) comes from the cache.
	e.stage.Submit(w, final(1, sentences[0]))
	e.sink.next(t)
	if got := metric(t, e.reg, "lectern_translate_cache_hits_total"); got != 1 {
		t.Errorf("cache hits = %v, want 1", got)
	}
	if ap.calls.Load() != int64(want) {
		t.Errorf("resubmitted final was translated again")
	}
}

func TestPivotIsMarked(t *testing.T) {
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{shared}})
	e.stage.Want("w", "fr", 1)
	e.stage.Submit("w", final(1, "The house is red."))
	p := e.sink.next(t)
	if p.c.Lang != "fr" || p.c.Pivot != "es" || !strings.Contains(p.c.Text, "maison") {
		t.Fatalf("pivoted caption %+v", p.c)
	}
}

func TestFailureBackoffAndRecovery(t *testing.T) {
	ap := wrap(shared, "apertium", "local")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{ap}, Backoff: time.Second})
	const w = "web-f"
	e.stage.Want(w, "es", 1)

	ap.failWith(errBoom)
	src := final(1, "The house is red.")
	e.stage.Submit(w, src)
	p := e.sink.next(t)
	if p.c.Status != translate.StatusUnavailable || p.c.Text != src.Text || p.c.Lang != "es" || p.c.ID != src.ID || p.c.Seq != 1 {
		t.Fatalf("on failure published %+v", p.c)
	}
	st := e.stage.Status()[0]
	if st.Healthy || !strings.Contains(st.LastError, "boom") || !st.BackoffUntil.Equal(e.clock.Now().Add(time.Second)) {
		t.Errorf("status after failure: %+v", st)
	}
	if e.store.len() != 0 {
		t.Errorf("an unavailable line was stored")
	}

	// Backed off: the translator is not called, even though it would now work.
	ap.failWith(nil)
	e.stage.Submit(w, final(2, "The dog."))
	if p := e.sink.next(t); p.c.Status != translate.StatusUnavailable {
		t.Fatalf("during back-off published %+v", p.c)
	}
	if n := ap.calls.Load(); n != 1 {
		t.Errorf("called %d times during back-off, want 1", n)
	}

	// A second failure doubles the back-off.
	e.clock.Add(time.Second)
	ap.failWith(errBoom)
	e.stage.Submit(w, final(3, "The cat."))
	e.sink.next(t)
	if st := e.stage.Status()[0]; !st.BackoffUntil.Equal(e.clock.Now().Add(2*time.Second)) || st.Failures != 2 {
		t.Errorf("second back-off: %+v", st)
	}

	// After the back-off, it recovers.
	ap.failWith(nil)
	e.clock.Add(2 * time.Second)
	e.stage.Submit(w, final(4, "The house is red."))
	if p := e.sink.next(t); p.c.Status != "" || !strings.Contains(p.c.Text, "casa") {
		t.Fatalf("after back-off published %+v", p.c)
	}
	if st := e.stage.Status()[0]; !st.Healthy || st.Failures != 0 {
		t.Errorf("status after recovery: %+v", st)
	}
	if got := metric(t, e.reg, "lectern_translate_requests_total", "translator", "apertium", "result", "error"); got != 2 {
		t.Errorf("requests_total{error} = %v, want 2", got)
	}
}

func TestQuotaBacksOffLong(t *testing.T) {
	ap := wrap(shared, "deepl", "eu")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{ap}, QuotaBackoff: time.Hour})
	ap.failWith(translate.ErrQuota)
	e.stage.Want("w", "es", 1)
	e.stage.Submit("w", final(1, "Hello."))
	e.sink.next(t)
	if st := e.stage.Status()[0]; !st.BackoffUntil.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("quota back-off until %v, want +1h", st.BackoffUntil)
	}
	if got := metric(t, e.reg, "lectern_translate_requests_total", "translator", "deepl", "result", "quota"); got != 1 {
		t.Errorf("requests_total{quota} = %v", got)
	}
}

func TestFallsBackToNextTranslator(t *testing.T) {
	broken := wrap(shared, "libretranslate", "eu")
	broken.failWith(errBoom)
	ap := wrap(shared, "apertium", "local")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{broken, ap}})
	e.stage.Want("w", "es", 1)
	for i := int64(1); i <= 3; i++ {
		e.stage.Submit("w", final(i, "The house is red."))
		if p := e.sink.next(t); p.c.Status != "" || !strings.Contains(p.c.Text, "casa") {
			t.Fatalf("final %d: %+v", i, p.c)
		}
	}
	if broken.calls.Load() != 1 || ap.calls.Load() != 3 {
		t.Errorf("calls: broken %d (want 1, then backed off), apertium %d (want 3)", broken.calls.Load(), ap.calls.Load())
	}
}

func TestRegionRefusal(t *testing.T) {
	us := wrap(shared, "openai", "us")
	local := wrap(shared, "apertium", "local")
	allowed := map[string][]string{"eu-only": {"eu"}, "local-only": {"local"}}
	e := newEnv(t, translate.StageConfig{
		Translators: []translate.Translator{us, local},
		Regions:     func(w string) region.Set { return region.Of(allowed[w]) },
	})
	for _, w := range []string{"eu-only", "local-only"} {
		e.stage.Want(w, "es", 1)
		e.stage.Submit(w, final(1, "The house is red."))
	}
	got := map[string]captions.Caption{}
	for i := 0; i < 2; i++ {
		p := e.sink.next(t)
		got[p.webinar] = p.c
	}
	if got["eu-only"].Status != translate.StatusUnavailable {
		t.Errorf("eu-only webinar got %+v, want unavailable (no eu translator)", got["eu-only"])
	}
	if got["local-only"].Status != "" || !strings.Contains(got["local-only"].Text, "casa") {
		t.Errorf("local-only webinar got %+v", got["local-only"])
	}
	if us.calls.Load() != 0 {
		t.Errorf("translator in region us was called %d times", us.calls.Load())
	}
	if local.calls.Load() != 1 {
		t.Errorf("local translator calls = %d, want 1", local.calls.Load())
	}
	if l := e.stage.WebinarLanguages("eu-only", "en"); len(l) != 0 {
		t.Errorf("eu-only picker offers %v", l)
	}
}

func TestQueueFullPublishesUnavailable(t *testing.T) {
	ap := wrap(shared, "apertium", "local")
	ap.block, ap.entered = make(chan struct{}), make(chan struct{}, 1)
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{ap}, Workers: 1, QueueSize: 1})
	e.stage.Want("w", "es", 1)
	e.stage.Submit("w", final(1, "The house.")) // taken by the worker, which blocks
	<-ap.entered
	e.stage.Submit("w", final(2, "The dog.")) // queued
	e.stage.Submit("w", final(3, "The cat.")) // queue full
	p := e.sink.next(t)
	if p.c.Seq != 3 || p.c.Status != translate.StatusUnavailable || p.c.Text != "The cat." {
		t.Fatalf("dropped final published as %+v", p.c)
	}
	if got := metric(t, e.reg, "lectern_translate_queue_dropped_total"); got != 1 {
		t.Errorf("dropped = %v, want 1", got)
	}
	close(ap.block)
	<-ap.entered
	for _, want := range []int64{1, 2} {
		if p := e.sink.next(t); p.c.Seq != want || p.c.Status != "" {
			t.Errorf("got %+v, want Seq %d translated", p.c, want)
		}
	}
}

func TestTranslateAllReusesStored(t *testing.T) {
	ap := wrap(shared, "apertium", "local")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{ap}, BatchSize: 2})
	ctx := context.Background()
	cues := []captions.Caption{final(1, "The house is red."), final(2, "The dog is black."), final(3, "The cat sleeps.")}
	// Cue 1 was translated live.
	live := cues[0]
	live.Lang, live.Text = "es", "TRADUCIDA EN DIRECTO"
	if err := e.store.SaveTranslation(ctx, "w", live); err != nil {
		t.Fatal(err)
	}
	out, err := e.stage.TranslateAll(ctx, "w", "en", "es", cues)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Text != live.Text {
		t.Errorf("stored translation not reused: %q", out[0].Text)
	}
	if !strings.Contains(out[1].Text, "perro") || !strings.Contains(out[2].Text, "gato") {
		t.Errorf("translated: %q, %q", out[1].Text, out[2].Text)
	}
	for i, c := range out {
		if c.ID != cues[i].ID || c.Seq != cues[i].Seq || c.StartMS != cues[i].StartMS || c.EndMS != cues[i].EndMS || c.Lang != "es" {
			t.Errorf("cue %d: %+v, source %+v", i, c, cues[i])
		}
	}
	if n := ap.calls.Load(); n != 1 {
		t.Errorf("translator calls = %d, want 1 (two missing cues, batch of 2)", n)
	}
	if e.store.len() != 3 {
		t.Errorf("store holds %d translations, want 3", e.store.len())
	}
	// A second export costs nothing.
	if _, err := e.stage.TranslateAll(ctx, "w", "en", "es", cues); err != nil {
		t.Fatal(err)
	}
	if n := ap.calls.Load(); n != 1 {
		t.Errorf("second export called the translator: %d calls", n)
	}
	// A language no translator offers fails clearly.
	if _, err := e.stage.TranslateAll(ctx, "w", "en", "ja", cues); !errors.Is(err, translate.ErrUnavailable) {
		t.Errorf("en→ja err = %v, want ErrUnavailable", err)
	}
}

func TestLanguagesForPicker(t *testing.T) {
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{shared}})
	got := strings.Join(e.stage.Languages("en"), ",")
	if got != "ca,es,fr" {
		t.Errorf("Languages(en) = %s, want ca,es,fr (fr through es)", got)
	}
}

func TestPreselectAndForget(t *testing.T) {
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{shared}})
	e.stage.Preselect("w", []string{"ca", "es"})
	e.stage.Want("w", "es", 3)
	if got := strings.Join(e.stage.InDemand("w", "en"), ","); got != "ca,es" {
		t.Errorf("InDemand = %s", got)
	}
	e.stage.Submit("w", final(1, "The house is red."))
	langs := map[string]bool{}
	for i := 0; i < 2; i++ {
		langs[e.sink.next(t).c.Lang] = true
	}
	if !langs["ca"] || !langs["es"] {
		t.Errorf("published languages %v", langs)
	}
	e.stage.Forget("w")
	if g := metric(t, e.reg, "lectern_translate_languages_in_demand", "lang", "es"); g != 0 {
		t.Errorf("demand gauge after Forget = %v", g)
	}
}

// A translator that hangs times out on its own deadline and the next one still translates the
// same final; the hung one is then skipped while backed off.
func TestHangingTranslatorTimesOutAndFallsBack(t *testing.T) {
	hung := wrap(shared, "libretranslate", "local")
	hung.block = make(chan struct{}) // never closed: waits for its context
	ap := wrap(shared, "apertium", "local")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{hung, ap}, Timeout: 200 * time.Millisecond})
	e.stage.Want("w", "es", 1)
	for i := int64(1); i <= 2; i++ {
		e.stage.Submit("w", final(i, "The house is red."))
		if p := e.sink.next(t); p.c.Status != "" || !strings.Contains(p.c.Text, "casa") {
			t.Fatalf("final %d: %+v", i, p.c)
		}
	}
	if hung.calls.Load() != 1 || ap.calls.Load() != 2 {
		t.Errorf("calls: hung %d (want 1), apertium %d (want 2)", hung.calls.Load(), ap.calls.Load())
	}
	if got := metric(t, e.reg, "lectern_translate_requests_total", "translator", "libretranslate", "result", "timeout"); got != 1 {
		t.Errorf("requests_total{timeout} = %v, want 1", got)
	}
	if st := e.stage.Status(); st[0].Healthy || !st[1].Healthy {
		t.Errorf("status %+v", st)
	}
}

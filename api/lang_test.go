package api

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/live"
	"lectern/models"
	"lectern/translate"
	"lectern/translate/apertium"
)

// newStageServer is the full API with a translation stage on the real Apertium (en→es).
func newStageServer(t *testing.T) (*testServer, *prometheus.Registry) {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{Logger: quietLogger()}, reg)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := apertium.New(apertium.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var lm *live.Manager
	st, err := translate.NewStage(translate.StageConfig{Translators: []translate.Translator{ap}, Store: store,
		Registerer: reg, Logger: quietLogger(),
		Publish: func(id string, c captions.Caption) { lm.PublishTranslation(id, c) }})
	if err != nil {
		t.Fatal(err)
	}
	lm = live.New(live.Config{Store: store, Broadcast: bc, Stage: st, Metrics: captions.NewMetrics(reg), Logger: quietLogger()})
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "Languages", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Deps{Store: store, Broadcast: bc, Live: lm, Gatherer: reg, Logger: quietLogger()}))
	t.Cleanup(func() {
		lm.Close()
		srv.Close()
		st.Close()
		ap.Close()
		bc.Close()
		store.Close()
	})
	return &testServer{Server: srv, store: store, live: lm, webinar: w}, reg
}

// demandSeries counts the languages-in-demand series on /metrics.
func demandSeries(t *testing.T, ts *testServer) int {
	t.Helper()
	_, body := ts.do(t, "GET", "/metrics", "", "", "")
	return strings.Count(body, "\nlectern_translate_languages_in_demand{")
}

// TestUnknownCaptionLanguageRefused: a caption stream or transcript in a language the
// translators cannot produce for the webinar is a 400, and makes no metric series; known
// languages still work (issue 8, item 10: 20,000 streams with distinct ?lang= made 17,450
// permanent series).
func TestUnknownCaptionLanguageRefused(t *testing.T) {
	ts, _ := newStageServer(t)
	base := "/api/webinars/" + ts.webinar.ID
	status := func(path string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+path, nil)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close() // a stream that was opened is closed at once
		return res.StatusCode
	}
	for i := range 200 {
		lang := fmt.Sprintf("%c%c%c", 'a'+i%26, 'a'+i/26%26, 'q')
		if i%2 == 1 {
			lang = fmt.Sprintf("es-x%d", i)
		}
		if code := status(base + "/captions?lang=" + lang); code != http.StatusBadRequest {
			t.Fatalf("captions in %q: %d, want 400", lang, code)
		}
	}
	if code := status(base + "/transcript.vtt?lang=qqq"); code != http.StatusBadRequest {
		t.Fatalf("transcript in qqq: %d, want 400", code)
	}
	if res, body := ts.do(t, "GET", base+"/captions?lang=zzz", "", "", ""); !strings.Contains(body, `"error"`) {
		t.Fatalf("refusal is not a JSON error: %d %q", res.StatusCode, body)
	}
	if n := demandSeries(t, ts); n != 0 {
		t.Fatalf("%d demand series after refused languages, want 0", n)
	}

	// The spoken language and a language Apertium produces are served.
	if code := status(base + "/transcript.vtt?lang=es"); code != http.StatusOK {
		t.Fatalf("transcript in es: %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+base+"/captions?lang=es", nil)
	res, err := ts.Client().Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("captions in es: %v %v", res, err)
	}
	if line, _ := bufio.NewReader(res.Body).ReadString('\n'); !strings.HasPrefix(line, "retry:") {
		t.Fatalf("stream began %q", line)
	}
	if n := demandSeries(t, ts); n != 1 {
		t.Fatalf("%d demand series while es is read, want 1", n)
	}
	cancel()
	res.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for demandSeries(t, ts) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the es series stayed after its reader left")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

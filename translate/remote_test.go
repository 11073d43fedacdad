package translate_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lectern/translate"
	"lectern/translate/deepl"
)

// DeepL answering 456 (quota) through the real client: the stage backs it off for the quota
// back-off and serves the language from the next translator (Apertium) meanwhile.
func TestDeepLQuotaFallsBackToApertium(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v2/languages":
			fmt.Fprint(w, `[{"language":"EN","name":"English"},{"language":"ES","name":"Spanish"}]`)
		case "/v2/translate":
			calls.Add(1)
			w.WriteHeader(deepl.StatusQuotaExceeded)
			fmt.Fprint(w, `{"message":"Quota Exceeded"}`)
		}
	}))
	defer srv.Close()
	dl, err := deepl.New(deepl.Config{Key: "k:fx", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{dl, shared}, QuotaBackoff: time.Hour})
	e.stage.Want("w", "es", 1)
	for i := int64(1); i <= 3; i++ {
		e.stage.Submit("w", final(i, "The house is red."))
		if p := e.sink.next(t); p.c.Status != "" || !strings.Contains(p.c.Text, "casa") {
			t.Fatalf("final %d: %+v", i, p.c)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("DeepL called %d times, want 1 then backed off", calls.Load())
	}
	st := e.stage.Status()
	if st[0].Healthy || !strings.Contains(st[0].LastError, "Quota Exceeded") || !st[0].BackoffUntil.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("deepl status %+v", st[0])
	}
	if !st[1].Healthy {
		t.Errorf("apertium status %+v", st[1])
	}
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astisub"

	"lectern/bench"
)

// TestTranslatedCaptionsEndToEnd: a Spanish reader gets every final in Spanish (real
// Apertium) with the source's id and times, while the English reader is unaffected; exports
// work in Spanish and, on demand, in French (pivoted through Spanish), nobody having read it.
func TestTranslatedCaptionsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	w := createWebinar(t, dir, "Translated class")
	s := startServer(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var langs struct {
		Languages []string `json:"languages"`
	}
	if err := json.Unmarshal(get(t, s.URL+"/api/webinars/"+w.ID+"/languages"), &langs); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(langs.Languages, ","); !strings.HasPrefix(got, "en,") || !strings.Contains(got, "es") || !strings.Contains(got, "fr") {
		t.Fatalf("caption languages %q: want en first, then es and fr", got)
	}
	_, ogg, spans, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: classSentences, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	english, err := bench.ReadCaptions(ctx, s.URL, w.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer english.Close()
	spanish, err := bench.ReadCaptions(ctx, s.URL, w.ID, "es", "")
	if err != nil {
		t.Fatal(err)
	}
	defer spanish.Close()
	pub, err := bench.PublishOgg(ctx, s.URL, w.ID, w.StreamKey, ogg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(ctx)
	go pub.Send(ctx)

	en, es := map[string]bench.Received{}, map[string]bench.Received{}
	for len(es) < len(spans) || len(en) < len(spans) {
		select {
		case ev := <-english.Events():
			if ev.Final {
				en[ev.ID] = ev
			}
		case ev := <-spanish.Events():
			if ev.Final {
				es[ev.ID] = ev
			}
		case <-ctx.Done():
			t.Fatalf("got %d English and %d Spanish finals of %d sentences", len(en), len(es), len(spans))
		}
	}
	var all []string
	for id, src := range en {
		tr, ok := es[id]
		if !ok {
			t.Fatalf("final %s has no Spanish version", id)
		}
		if tr.Lang != "es" || tr.Seq != src.Seq || tr.StartMS != src.StartMS || tr.EndMS != src.EndMS || tr.EventID != src.EventID {
			t.Errorf("Spanish final %+v does not match its source %+v", tr.Caption, src.Caption)
		}
		if tr.Status != "" || strings.EqualFold(tr.Text, src.Text) {
			t.Errorf("final %s not translated: %q (status %q)", id, tr.Text, tr.Status)
		}
		all = append(all, tr.Text)
	}
	if joined := strings.ToLower(strings.Join(all, " ")); !strings.Contains(joined, "tiempo") && !strings.Contains(joined, "estaciones") {
		t.Errorf("Spanish captions %q lack the translation of 'weather' or 'seasons'", joined)
	}

	srt := func(lang string) *astisub.Subtitles {
		subs, err := astisub.ReadFromSRT(bytes.NewReader(get(t, s.URL+"/api/webinars/"+w.ID+"/transcript.srt?lang="+lang)))
		if err != nil || len(subs.Items) == 0 {
			t.Fatalf("%s export: %v", lang, err)
		}
		return subs
	}
	source, spanishSRT, french := srt("en"), srt("es"), srt("fr")
	for name, subs := range map[string]*astisub.Subtitles{"es": spanishSRT, "fr": french} {
		if subs.Items[0].StartAt != source.Items[0].StartAt || subs.Items[len(subs.Items)-1].EndAt != source.Items[len(source.Items)-1].EndAt {
			t.Errorf("%s export changed the source timings", name)
		}
	}
	var text strings.Builder
	for _, it := range french.Items {
		text.WriteString(it.String() + " ")
	}
	if fr := strings.ToLower(text.String()); !strings.Contains(fr, "temps") && !strings.Contains(fr, "saisons") && !strings.Contains(fr, "bienvenu") {
		t.Errorf("French export %q does not look French", fr)
	}
}

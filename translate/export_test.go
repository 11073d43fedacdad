package translate_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astisub"

	"lectern/captions"
	"lectern/captions/subtitle"
	"lectern/translate"
)

// An export in a language nobody watched live: translated on demand, written as SRT, parsed
// back by go-astisub with the source timings.
func TestExportInTranslatedLanguageParsesBack(t *testing.T) {
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{shared}})
	cues := []captions.Caption{final(1, "The house is red."), final(2, "The dog is black."), final(3, "The cat sleeps.")}
	for i := range cues { // cues of 1.5 s: the exporter keeps cues within broadcast practice (1–7 s)
		cues[i].StartMS, cues[i].EndMS = int64(i)*2000+500, int64(i)*2000+2000
	}
	es, err := e.stage.TranslateAll(context.Background(), "w", "en", "es", cues)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := subtitle.Write(&buf, "srt", es, subtitle.Options{}); err != nil {
		t.Fatal(err)
	}
	subs, err := astisub.ReadFromSRT(&buf)
	if err != nil {
		t.Fatalf("SRT does not parse back: %v\n%s", err, buf.String())
	}
	if len(subs.Items) != len(cues) {
		t.Fatalf("%d items, want %d:\n%s", len(subs.Items), len(cues), buf.String())
	}
	words := []string{"casa", "perro", "gato"}
	for i, it := range subs.Items {
		if it.StartAt != time.Duration(cues[i].StartMS)*time.Millisecond || it.EndAt != time.Duration(cues[i].EndMS)*time.Millisecond {
			t.Errorf("item %d at [%v, %v], source [%d ms, %d ms]", i, it.StartAt, it.EndAt, cues[i].StartMS, cues[i].EndMS)
		}
		if !strings.Contains(it.String(), words[i]) {
			t.Errorf("item %d: %q, want %q", i, it.String(), words[i])
		}
	}
}

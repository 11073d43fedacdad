package translate_test

import (
	"strings"
	"testing"
	"time"

	"lectern/captions"
	"lectern/translate"
)

func partial(id, text string) captions.Caption {
	return captions.Caption{ID: id, Text: text, Lang: "en", StartMS: 1000}
}

func TestPartialsTranslateStablePrefix(t *testing.T) {
	ap := wrap(shared, "apertium", "local")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{ap}, PartialInterval: time.Second, PartialMinWords: 3})
	e.stage.Want("w", "es", 1)

	e.stage.SubmitPartial("w", partial("cap-1", "The house is"))         // nothing stable yet
	e.stage.SubmitPartial("w", partial("cap-1", "The house is red and")) // stable: "The house is"
	p := e.sink.next(t)
	if p.c.Final || p.c.ID != "cap-1" || p.c.Lang != "es" || !strings.Contains(p.c.Text, "casa") || strings.Contains(p.c.Text, "roj") {
		t.Fatalf("translated partial %+v, want the stable prefix only", p.c)
	}
	e.stage.SubmitPartial("w", partial("cap-1", "The house is red and big")) // debounced
	e.stage.SubmitPartial("w", partial("cap-1", "The house is red and big")) // still debounced
	e.clock.Add(time.Second)
	e.stage.SubmitPartial("w", partial("cap-1", "The house is red and big today"))
	p = e.sink.next(t)
	if p.c.Final || !strings.Contains(p.c.Text, "grande") {
		t.Fatalf("second partial %+v", p.c)
	}
	f := final(1, "The house is red and big today.")
	f.ID = "cap-1"
	e.stage.Submit("w", f)
	e.clock.Add(time.Minute)
	e.stage.SubmitPartial("w", partial("cap-1", "The house is red and big today really")) // after its final: ignored
	if p = e.sink.next(t); !p.c.Final {
		t.Fatalf("got %+v, want the final", p.c)
	}
	e.sink.empty(t)
	if n := ap.calls.Load(); n != 3 {
		t.Errorf("translator calls = %d, want 3 (two partials, one final)", n)
	}
}

func TestPartialsOffByDefault(t *testing.T) {
	ap := wrap(shared, "apertium", "local")
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{ap}})
	e.stage.Want("w", "es", 1)
	for _, s := range []string{"one two three four five six seven", "one two three four five six seven eight nine"} {
		e.stage.SubmitPartial("w", partial("cap-1", s))
	}
	e.stage.Submit("w", final(1, "The end."))
	if p := e.sink.next(t); !p.c.Final {
		t.Fatalf("got %+v, want only the final", p.c)
	}
	if n := ap.calls.Load(); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

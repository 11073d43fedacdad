package translate_test

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"lectern/translate"
)

// TestDemandSeriesFollowLiveDemand: the languages-in-demand gauge holds a series only for
// a language read now; when its last reader leaves the series goes, so readers coming and
// going with many codes cannot pile up permanent series (issue 8, item 10: 20,000 streams
// left 17,450).
func TestDemandSeriesFollowLiveDemand(t *testing.T) {
	e := newEnv(t, translate.StageConfig{Translators: []translate.Translator{wrap(shared, "apertium", "local")}})
	const name = "lectern_translate_languages_in_demand"
	for i := range 500 {
		lang := fmt.Sprintf("x%02d", i%100)
		e.stage.Want(fmt.Sprint("w", i), lang, 1)
		e.stage.Want(fmt.Sprint("w", i), lang, 0)
	}
	if n := testutil.CollectAndCount(e.reg, name); n != 0 {
		t.Fatalf("%d series left after every reader left, want 0", n)
	}
	e.stage.Want("w1", "es", 3)
	e.stage.Want("w2", "es", 1)
	e.stage.Want("w2", "fr", 1)
	if got := metric(t, e.reg, name, "lang", "es"); got != 2 {
		t.Fatalf("es in demand in %v webinars, want 2", got)
	}
	e.stage.Want("w1", "es", 0)
	e.stage.Want("w2", "fr", 0)
	if n, es := testutil.CollectAndCount(e.reg, name), metric(t, e.reg, name, "lang", "es"); n != 1 || es != 1 {
		t.Fatalf("%d series, es=%v; want only es, in 1 webinar", n, es)
	}
}

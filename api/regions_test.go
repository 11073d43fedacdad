package api

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/captions"
	"lectern/internal/region"
	"lectern/live"
	"lectern/models"
	"lectern/translate"
	"lectern/translate/apertium"
)

// countingTranslator is a real translator relabelled to another region, counting calls.
type countingTranslator struct {
	translate.Translator
	region string
	calls  atomic.Int64
}

func (c *countingTranslator) Region() string { return c.region }
func (c *countingTranslator) Languages(ctx context.Context) ([]translate.Pair, error) {
	c.calls.Add(1)
	return c.Translator.Languages(ctx)
}
func (c *countingTranslator) Translate(ctx context.Context, texts []string, from, to string) ([]string, error) {
	c.calls.Add(1)
	return c.Translator.Translate(ctx, texts, from, to)
}

// A host (or the account policy) narrows a webinar's processing regions: a translator outside them is never called,
// for the caption-language picker and for on-demand exports; widening them again uses it.
func TestWebinarRegionsKeepTextFromOtherRegions(t *testing.T) {
	ap, err := apertium.New(apertium.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	us := &countingTranslator{Translator: ap, region: "us"}
	s := newAuthServer(t, func(d *Deps) {
		var lm *live.Manager
		st, err := translate.NewStage(translate.StageConfig{Translators: []translate.Translator{us}, Store: d.Store,
			Registerer: prometheus.NewRegistry(), Logger: quietLogger(),
			Publish: func(id string, c captions.Caption) { lm.PublishTranslation(id, c) },
			Regions: func(id string) region.Set { return lm.Regions(id) }})
		if err != nil {
			t.Fatal(err)
		}
		lm = live.New(live.Config{Store: d.Store, Broadcast: d.Broadcast, Stage: st, Logger: quietLogger(),
			Metrics: captions.NewMetrics(prometheus.NewRegistry())})
		d.Live = lm
		t.Cleanup(func() { lm.Close(); st.Close(); ap.Close() })
	})
	host := s.user(t, "host@example.com", false)
	hc := creds{session: s.session(t, host)}
	w := s.webinar(t, host, models.VisibilityPublic, "")
	seg := models.Segment{Webinar: w.ID, Session: "s", Engine: "sphinx",
		Caption: captions.Caption{ID: "s-1", Seq: 1, Final: true, Text: "The house is red.", Lang: "en", StartMS: 0, EndMS: 1500}}
	if err := s.store.SaveSegment(context.Background(), seg); err != nil {
		t.Fatal(err)
	}
	path := "/api/webinars/" + w.ID

	for _, bad := range []string{`{"regions":["-eu"]}`, `{"regions":["eu west"]}`, `{"regions":"eu"}`} {
		if r := s.call(t, hc, "PATCH", path, "application/json", bad); r.status != 400 {
			t.Errorf("PATCH %s: %d %s, want 400", bad, r.status, r.body)
		}
	}
	if r := s.call(t, hc, "PATCH", path, "application/json", `{"regions":["local"]}`); r.status != 200 || !strings.Contains(r.body, `"regions":["local"]`) {
		t.Fatalf("PATCH regions: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{}, "GET", path+"/languages", "", ""); strings.Contains(r.body, `"es"`) {
		t.Errorf("languages offer es from a translator in region us: %s", r.body)
	}
	if r := s.call(t, creds{}, "GET", path+"/transcript.srt?lang=es", "", ""); r.status == 200 {
		t.Errorf("Spanish export with no allowed translator: 200 %q", r.body)
	}
	if n := us.calls.Load(); n != 0 {
		t.Fatalf("the translator in region us was called %d times", n)
	}

	if r := s.call(t, hc, "PATCH", path, "application/json", `{"regions":[]}`); r.status != 200 {
		t.Fatalf("PATCH regions []: %d %s", r.status, r.body)
	}
	// The account policy narrows every webinar, whatever the webinar allows.
	admin := creds{session: s.session(t, s.user(t, "admin@example.com", true))}
	if r := s.call(t, admin, "PUT", "/api/admin/policy", "application/json", `{"allowed_regions":["local"]}`); r.status != 200 {
		t.Fatalf("PUT policy: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{}, "GET", path+"/transcript.srt?lang=es", "", ""); r.status == 200 {
		t.Errorf("Spanish export outside the policy's regions: 200 %q", r.body)
	}
	if n := us.calls.Load(); n != 0 {
		t.Fatalf("the translator in region us was called %d times under a local-only policy", n)
	}
	if r := s.call(t, admin, "PUT", "/api/admin/policy", "application/json", `{"allowed_regions":[]}`); r.status != 200 {
		t.Fatalf("PUT policy: %d %s", r.status, r.body)
	}
	r := s.call(t, creds{}, "GET", path+"/transcript.srt?lang=es", "", "")
	if r.status != 200 || !strings.Contains(strings.ToLower(r.body), "casa") {
		t.Fatalf("Spanish export once any region is allowed: %d %q", r.status, r.body)
	}
	if us.calls.Load() == 0 {
		t.Error("the allowed translator was never called")
	}
}

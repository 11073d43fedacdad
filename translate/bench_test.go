package translate_test

import (
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/translate"
)

// BenchmarkFinalToTranslated measures what a Spanish reader waits for: from Submit of a source
// final to the Publish of its translation, with Apertium warm (issue 4 target: p50 ≤ 300 ms).
func BenchmarkFinalToTranslated(b *testing.B) {
	sk := newSink()
	s, err := translate.NewStage(translate.StageConfig{
		Translators: []translate.Translator{shared}, Store: newMemStore(), Publish: sk.publish,
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Want("w", "es", 1000)
	s.Submit("w", final(0, "Warm up.")) // starts the pipeline
	<-sk.ch
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		s.Submit("w", final(int64(i+1), "The teacher explains how the heart pumps blood through the body."))
		p := <-sk.ch
		lat = append(lat, time.Since(t0))
		if p.c.Status != "" {
			b.Fatalf("unavailable: %+v", p.c)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

package cluster

import (
	"testing"
	"time"

	"lectern/captions"
)

// BenchmarkCaptionRelay is the bus's rate for caption events, one node to another through
// the embedded server on loopback (go test -run X -bench CaptionRelay ./cluster/).
func BenchmarkCaptionRelay(b *testing.B) {
	ts := &testServer{t: b, addr: freeAddrB(b), storeDir: b.TempDir()}
	ts.start()
	defer ts.stop()
	origin, edge := openNodeB(b, ts, "a"), openNodeB(b, ts, "b")
	defer origin.Close()
	defer edge.Close()
	got := make(chan struct{}, 1024)
	defer edge.JoinCaptions("w", func(CaptionEvent) { got <- struct{}{} })()
	c := captions.Caption{ID: "s-1", Final: true, Text: "A line of about forty-two characters here.", Lang: "en", Speaker: "Ada"}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		c.Seq = int64(i + 1)
		origin.SendCaption("w", c)
		if i%64 == 63 { // keep the receiver's queue from overflowing
			for range 64 {
				<-got
			}
		}
	}
	for range b.N % 64 {
		<-got
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

package captions

import (
	"fmt"
	"testing"
)

// BenchmarkPublish measures one Publish to n subscribers of the same language. Marshal once
// means allocs/op stays flat as n grows; ns/op grows by one non-blocking channel send per
// subscriber. Queues are drained with the timer stopped, so no subscriber is dropped.
//
//	go test -run '^$' -bench Publish -benchmem ./captions/
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := NewHub(HubConfig{ClientQueue: 64})
			defer h.Close()
			subs := make([]*Subscriber, n)
			for i := range subs {
				subs[i] = h.Subscribe("en")
			}
			c := Caption{ID: "0f8fad5b-d9cb-469f-a165-70867728950e", Final: true, StartMS: 61_250, EndMS: 64_900,
				Text: "and that is why the integral of a derivative gives back the function", Lang: "en", Speaker: "Ada Lovelace"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Seq = int64(i + 1)
				h.Publish(c)
				if i%64 == 63 {
					b.StopTimer()
					for _, s := range subs {
						for len(s.Frames()) > 0 {
							<-s.Frames()
						}
					}
					b.StartTimer()
				}
			}
			b.StopTimer()
			if got := h.Languages()["en"]; got != n {
				b.Fatalf("%d subscribers left of %d: some were dropped", got, n)
			}
		})
	}
}

package subtitle

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"lectern/captions"
)

// BenchmarkWrite exports an hour-long class (about 900 finals) in each format.
//
//	go test -run '^$' -bench Write -benchmem ./captions/subtitle/
func BenchmarkWrite(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cs []captions.Caption
	var t int64
	for i := 0; t < 3600_000; i++ {
		text := randomSentence(rng)
		d := int64(utf8.RuneCountInString(text)) * 1000 / 15
		cs = append(cs, captions.Caption{ID: fmt.Sprint(i), Seq: int64(i + 1), Final: true, StartMS: t, EndMS: t + d, Text: text, Lang: "en"})
		t += d + int64(rng.IntN(1500))
	}
	for _, format := range Formats {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, format, cs, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

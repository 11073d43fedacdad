package models

import (
	"context"
	"fmt"
	"testing"

	"lectern/captions"
)

// The store's hot paths, on whichever engine the tests run against (LECTERN_TEST_STORE):
// storing a final (once per caption, before it is sent) and reading a class's transcript
// (every export and every caption stream resuming from the start).
func benchStore(b *testing.B) (*Store, Webinar) {
	b.Helper()
	ctx := context.Background()
	s, err := testOpen(b, ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	return s, w
}

func benchSegment(w Webinar, i int) Segment {
	return Segment{Webinar: w.ID, Session: "s", Engine: "sphinx", Caption: captions.Caption{
		ID: fmt.Sprintf("c%d", i), Seq: int64(i + 1), StartMS: int64(i) * 3000, EndMS: int64(i)*3000 + 2500,
		Text: "and so the derivative of the position is the velocity of the particle", Lang: "en"}}
}

func BenchmarkSaveSegment(b *testing.B) {
	s, w := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.SaveSegment(ctx, benchSegment(w, i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFinals reads a one-hour class's transcript (1200 finals of 3 s).
func BenchmarkFinals(b *testing.B) {
	s, w := benchStore(b)
	ctx := context.Background()
	const n = 1200
	for i := range n {
		if err := s.SaveSegment(ctx, benchSegment(w, i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		fs, err := s.Finals(ctx, w.ID, 0)
		if err != nil || len(fs) != n {
			b.Fatalf("%d finals %v", len(fs), err)
		}
	}
}

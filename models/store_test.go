package models

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"lectern/captions"
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := testOpen(t, context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestWebinarLifecycle(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "  Physics 101 "})
	if err != nil {
		t.Fatal(err)
	}
	if w.Title != "Physics 101" || w.Language != "en" || len(w.ID) != 16 || len(w.StreamKey) != 32 {
		t.Fatalf("created %+v", w)
	}
	w2, _ := s.CreateWebinar(ctx, NewWebinar{Title: "Other"})
	if w2.StreamKey == w.StreamKey || w2.ID == w.ID {
		t.Fatal("ids or keys repeat")
	}
	// A second process (the admin CLI) sees the same data while the first is open.
	other, err := testOpen(t, ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	got, err := other.Webinar(ctx, w.ID)
	if err != nil || !reflect.DeepEqual(got, w) {
		t.Fatalf("other handle: %+v %v, want %+v", got, err, w)
	}
	if !got.KeyMatches(w.StreamKey) || got.KeyMatches("") || got.KeyMatches(w2.StreamKey) {
		t.Fatal("KeyMatches is wrong")
	}
	list, err := s.Webinars(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	if _, err := s.Webinar(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	for _, bad := range []string{"", "   ", string(make([]byte, 201))} {
		if _, err := s.CreateWebinar(ctx, NewWebinar{Title: bad}); err == nil {
			t.Fatalf("title %q accepted", bad)
		}
	}
	if filepath.Base(dir) == "" {
		t.Fatal("unreachable")
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	w, _ := s.CreateWebinar(ctx, NewWebinar{Title: "Kept"})
	s.Close()
	s2, err := testOpen(t, ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Webinar(ctx, w.ID); err != nil {
		t.Fatalf("reopen lost data: %v", err)
	}
}

func TestSegments(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	w, _ := s.CreateWebinar(ctx, NewWebinar{Title: "T"})
	if n, err := s.MaxSeq(ctx, w.ID); err != nil || n != 0 {
		t.Fatalf("empty max seq %d %v", n, err)
	}
	for i, text := range []string{"Hello class.", "", "Today: optics."} {
		seg := Segment{Caption: captions.Caption{ID: "s1-" + string(rune('a'+i)), Seq: int64(10 + i), Final: true,
			StartMS: int64(i * 1000), EndMS: int64(i*1000 + 900), Text: text, Lang: "en", Speaker: "Ada"},
			Webinar: w.ID, Session: "s1", Engine: "sphinx", Failed: text == ""}
		if err := s.SaveSegment(ctx, seg); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSegment(ctx, seg); err != nil { // a retry stores nothing twice
			t.Fatal(err)
		}
	}
	all, err := s.Finals(ctx, w.ID, 0)
	if err != nil || len(all) != 2 || all[0].Text != "Hello class." || all[1].Seq != 12 || all[0].Speaker != "Ada" {
		t.Fatalf("finals %+v %v", all, err)
	}
	after, _ := s.Finals(ctx, w.ID, 10)
	if len(after) != 1 || after[0].Seq != 12 {
		t.Fatalf("finals after 10: %+v", after)
	}
	if n, _ := s.MaxSeq(ctx, w.ID); n != 12 {
		t.Fatalf("max seq %d", n)
	}
	if n, _ := s.FailedSegments(ctx, w.ID); n != 1 {
		t.Fatalf("failed %d", n)
	}
	if err := s.SaveSegment(ctx, Segment{Caption: captions.Caption{ID: "x", Seq: 99}, Webinar: "no-such-webinar"}); err == nil {
		t.Fatal("segment for an unknown webinar was stored")
	}
}

func TestTranslations(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	w, _ := s.CreateWebinar(ctx, NewWebinar{Title: "T"})
	for i, text := range []string{"the house is red", "good morning"} {
		s.SaveSegment(ctx, Segment{Caption: captions.Caption{ID: fmt.Sprint("u", i), Seq: int64(i + 1), Final: true,
			StartMS: int64(i * 2000), EndMS: int64(i*2000 + 1500), Text: text, Lang: "en"}, Webinar: w.ID, Session: "s"})
	}
	if err := s.SaveTranslation(ctx, w.ID, captions.Caption{ID: "u0", Seq: 1, Lang: "es", Text: "la casa es roja"}); err != nil {
		t.Fatal(err)
	}
	s.SaveTranslation(ctx, w.ID, captions.Caption{ID: "u1", Seq: 2, Lang: "fr", Text: "bonjour", Pivot: "es"})
	got, err := s.Translations(ctx, w.ID, "es", []string{"u0", "u1", "nope"})
	if err != nil || len(got) != 1 || got["u0"].Text != "la casa es roja" || got["u0"].EndMS != 1500 || got["u0"].Seq != 1 {
		t.Fatalf("translations %+v %v", got, err)
	}
	fr, _ := s.TranslatedFinals(ctx, w.ID, "fr", 0)
	if len(fr) != 1 || fr[0].Pivot != "es" || fr[0].StartMS != 2000 {
		t.Fatalf("fr finals %+v", fr)
	}
	if err := s.SaveTranslation(ctx, w.ID, captions.Caption{ID: "missing", Lang: "es", Text: "x"}); err == nil {
		t.Fatal("translation of an unknown segment stored")
	}
}

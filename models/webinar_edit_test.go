package models

import (
	"context"
	"errors"
	"testing"
)

func TestWebinarEditRotateDeleteAndSiteSettings(t *testing.T) {
	ctx := context.Background()
	s, err := testOpen(t, ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "Before"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateWebinar(ctx, w.ID, " After ", "")
	if err != nil || got.Title != "After" || got.Language != "en" {
		t.Fatalf("update: %+v %v", got, err)
	}
	rot, err := s.RotateStreamKey(ctx, w.ID)
	if err != nil || rot.StreamKey == w.StreamKey || rot.KeyMatches(w.StreamKey) {
		t.Fatalf("rotate: %v, key unchanged or old key still matches", err)
	}
	if _, err := s.RotateStreamKey(ctx, "nosuch"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rotate unknown: %v", err)
	}
	if err := s.DeleteWebinar(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webinar(ctx, w.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted webinar still there: %v", err)
	}
	if err := s.DeleteWebinar(ctx, w.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if v, err := s.SiteSetting(ctx, "require_2fa", "false"); err != nil || v != "false" {
		t.Fatalf("default setting: %q %v", v, err)
	}
	if err := s.SetSiteSetting(ctx, "require_2fa", "true"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SiteSetting(ctx, "require_2fa", "false"); v != "true" {
		t.Fatalf("setting = %q", v)
	}
}

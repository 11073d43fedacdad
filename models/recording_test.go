package models

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRecordingsStored(t *testing.T) {
	ctx := context.Background()
	s, err := testOpen(t, ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "Recorded"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1_700_000_000_123).UTC()
	if err := s.AddRecording(ctx, w.ID, "r1", at); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRecording(ctx, "r1", 9500*time.Millisecond, 4096); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecordingOf(ctx, w.ID, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartedAt.Equal(at) || got.Duration != 9500*time.Millisecond || got.Bytes != 4096 {
		t.Errorf("recording %+v", got)
	}
	if _, err := s.RecordingOf(ctx, "other", "r1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another webinar's recording: %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebinar(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Recordings(ctx, w.ID); err != nil || len(list) != 0 {
		t.Errorf("after delete: %v %v", list, err)
	}
}

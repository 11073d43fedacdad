package models

import (
	"context"
	"testing"
	"time"
)

// A webinar's ended mark survives closing and reopening the database, is left alone by saving
// the room switches, and goes away when reopened.
func TestRoomEndedPersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := testOpen(t, ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "Class"})
	if err != nil {
		t.Fatal(err)
	}
	if at, err := s.RoomEnded(ctx, w.ID); err != nil || !at.IsZero() {
		t.Fatalf("new webinar ended at %v, %v", at, err)
	}
	end := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := s.SetRoomEnded(ctx, w.ID, end); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRoomSettings(ctx, w.ID, RoomSettings{Locked: true, Chat: ChatOff}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = testOpen(t, ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if at, err := s.RoomEnded(ctx, w.ID); err != nil || !at.Equal(end) {
		t.Fatalf("after reopening the database: ended at %v, %v; want %v", at, err, end)
	}
	if rs, _ := s.RoomSettings(ctx, w.ID); !rs.Locked || rs.Chat != ChatOff {
		t.Fatalf("setting the end mark changed the switches: %+v", rs)
	}
	if err := s.SetRoomEnded(ctx, w.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if at, _ := s.RoomEnded(ctx, w.ID); !at.IsZero() {
		t.Fatalf("reopened webinar ended at %v", at)
	}
	if err := s.SetRoomEnded(ctx, "nosuch", end); err == nil {
		t.Fatal("ended an unknown webinar")
	}
}

// Promote and demote change only admitted participants; revoking a registration removes the
// participants who joined with it and no one else.
func TestParticipantRoleAndRegistrationRemoval(t *testing.T) {
	ctx := context.Background()
	s, err := testOpen(t, ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, _ := s.CreateWebinar(ctx, NewWebinar{Title: "Class"})
	ana, _ := s.CreateParticipant(ctx, Participant{Webinar: w.ID, Name: "Ana", Role: RoleAttendee, State: StateAdmitted, Registration: "r1"})
	bob, _ := s.CreateParticipant(ctx, Participant{Webinar: w.ID, Name: "Bob", Role: RoleAttendee, State: StateWaiting})
	if p, err := s.SetParticipantRole(ctx, w.ID, ana.ID, RolePanelist); err != nil || p.Role != RolePanelist {
		t.Fatalf("promote ana: %+v %v", p, err)
	}
	if _, err := s.SetParticipantRole(ctx, w.ID, bob.ID, RolePanelist); err == nil {
		t.Fatal("promoted a waiting participant")
	}
	gone, err := s.RemoveRegistrationParticipants(ctx, w.ID, "r1")
	if err != nil || len(gone) != 1 || gone[0].ID != ana.ID || gone[0].State != StateRemoved {
		t.Fatalf("removed %+v, %v", gone, err)
	}
	if again, _ := s.RemoveRegistrationParticipants(ctx, w.ID, "r1"); len(again) != 0 {
		t.Fatalf("removed again %+v", again)
	}
	if none, _ := s.RemoveRegistrationParticipants(ctx, w.ID, ""); len(none) != 0 {
		t.Fatalf("the empty registration removed %+v", none)
	}
	if p, _ := s.Participant(ctx, w.ID, bob.ID); p.State != StateWaiting {
		t.Fatalf("bob is %s", p.State)
	}
}

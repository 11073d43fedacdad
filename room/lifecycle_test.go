package room

import (
	"errors"
	"testing"

	"lectern/models"
)

// Update changes what an open subscription hears: admitted, a waiting participant hears the
// room; left, it hears only what is addressed to it.
func TestUpdateChangesTheAudience(t *testing.T) {
	m := NewManager(nil, 0, 0)
	ana := Participant{ID: "ana", Role: models.RoleAttendee, State: StateWaiting}
	sub, err := m.Subscribe("w", ana, 0)
	if err != nil {
		t.Fatal(err)
	}
	m.Publish("w", Audience{Everyone: true}, "before", 0)
	ana.State = StateAdmitted
	m.Update("w", ana)
	m.Publish("w", Audience{Everyone: true}, "admitted", 0)
	ana.State = StateLeft
	m.Update("w", ana)
	m.Publish("w", Audience{Everyone: true}, "after", 0)
	m.Publish("w", Audience{Participant: "ana"}, "own", 0)
	var got []string
	for len(sub.C) > 0 {
		got = append(got, (<-sub.C).Type)
	}
	if len(got) != 2 || got[0] != "admitted" || got[1] != "own" {
		t.Fatalf("heard %v, want [admitted own]", got)
	}
}

// After End nobody subscribes; Reopen lets them in again.
func TestReopenAfterEnd(t *testing.T) {
	m := NewManager(nil, 0, 0)
	p := Participant{ID: "p", Role: models.RoleAttendee, State: StateAdmitted}
	m.End("w")
	if _, err := m.Subscribe("w", p, 0); !errors.Is(err, ErrEnded) {
		t.Fatalf("subscribe after end: %v", err)
	}
	m.Reopen("w")
	sub, err := m.Subscribe("w", p, 0)
	if err != nil {
		t.Fatalf("subscribe after reopen: %v", err)
	}
	m.Publish("w", Audience{Everyone: true}, "hello", 0)
	if ev := <-sub.C; ev.Type != "hello" {
		t.Fatalf("heard %v", ev)
	}
}

package room

import (
	"testing"
	"time"

	"lectern/models"
)

func admitted(id string, r models.Role) Participant {
	return Participant{ID: id, Role: r, State: StateAdmitted}
}

// A client that reconnects with the last id it saw gets every event after it that was meant
// for it, and none meant for others.
func TestResumeLosesNothing(t *testing.T) {
	m := NewManager(nil, 0, 0)
	ana := admitted("ana", models.RoleAttendee)
	sub, err := m.Subscribe("w", ana, 0)
	if err != nil {
		t.Fatal(err)
	}
	m.Publish("w", Audience{Everyone: true}, "a", 1)
	first := <-sub.C
	sub.Close()
	m.Publish("w", Audience{Everyone: true}, "b", 2)
	m.Publish("w", Audience{Hosts: true}, "secret", 3)
	m.Publish("w", Audience{Participant: "ana"}, "c", 4)
	again, err := m.Subscribe("w", ana, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range again.Backlog {
		got = append(got, ev.Type)
	}
	if len(got) != 2 || got[0] != "b" || got[1] != "c" {
		t.Fatalf("backlog %v, want [b c]", got)
	}
}

// A subscriber that reads nothing is dropped once its queue is full; Publish never blocks and
// the others keep getting every event.
func TestStuckSubscriberDropped(t *testing.T) {
	m := NewManager(nil, 0, 4)
	stuck, _ := m.Subscribe("w", admitted("s", models.RoleAttendee), 0)
	live, _ := m.Subscribe("w", admitted("l", models.RoleHost), 0)
	for i := 0; i < 10; i++ {
		m.Publish("w", Audience{Everyone: true}, "e", i)
		if ev := <-live.C; ev.ID != uint64(i+1) {
			t.Fatalf("live got id %d, want %d", ev.ID, i+1)
		}
	}
	select {
	case <-stuck.Done:
	default:
		t.Fatal("stuck subscriber not dropped")
	}
}

// Waiting participants hear only what is addressed to them; hosts' events reach only hosts.
func TestAudience(t *testing.T) {
	waiting := Participant{ID: "w1", Role: models.RoleAttendee, State: StateWaiting}
	att, host := admitted("a", models.RoleAttendee), admitted("h", models.RoleCohost)
	cases := []struct {
		a    Audience
		p    Participant
		want bool
	}{
		{Audience{Everyone: true}, waiting, false},
		{Audience{Participant: "w1"}, waiting, true},
		{Audience{Hosts: true}, att, false},
		{Audience{Hosts: true}, host, true},
		{Audience{Everyone: true}, att, true},
	}
	for i, c := range cases {
		if got := c.a.includes(c.p); got != c.want {
			t.Errorf("case %d: includes = %v, want %v", i, got, c.want)
		}
	}
}

// End tells everyone and closes every channel; nobody subscribes afterwards.
func TestEnd(t *testing.T) {
	m := NewManager(nil, 0, 0)
	sub, _ := m.Subscribe("w", admitted("a", models.RoleAttendee), 0)
	m.End("w")
	if ev := <-sub.C; ev.Type != "ended" {
		t.Fatalf("got %q, want ended", ev.Type)
	}
	<-sub.Done
	if _, err := m.Subscribe("w", admitted("b", models.RoleAttendee), 0); err != ErrEnded {
		t.Fatalf("subscribe after end: %v", err)
	}
}

// A burst of changes makes one count event, with the count when it goes out; the next comes
// no sooner than countEvery after it (the contract's "at most once a second").
func TestCountDebounced(t *testing.T) {
	m := NewManager(nil, 0, 0)
	sub, _ := m.Subscribe("w", admitted("a", models.RoleAttendee), 0)
	for i := 1; i <= 5; i++ {
		m.PublishCount("w", func() int { return 5 })
	}
	first := <-sub.C
	at := time.Now()
	if first.Type != "count" || string(first.Data) != `{"count":5}` {
		t.Fatalf("got %s %s", first.Type, first.Data)
	}
	m.PublishCount("w", func() int { return 6 })
	second := <-sub.C
	if gap := time.Since(at); gap < countEvery-50*time.Millisecond {
		t.Fatalf("second count after %v, want at least %v", gap, countEvery)
	}
	if string(second.Data) != `{"count":6}` {
		t.Fatalf("second %s", second.Data)
	}
	select {
	case ev := <-sub.C:
		t.Fatalf("extra event %s", ev.Type)
	default:
	}
}

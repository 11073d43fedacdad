package cluster

import (
	"encoding/json"
	"testing"
	"time"

	"lectern/models"
	"lectern/room"
)

func relayedRoom(t *testing.T, b *Bus) *room.Manager {
	t.Helper()
	m := room.NewManager(nil, 0, 0)
	stop, err := b.RelayRoom(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	b.nc.Flush() //nolint:errcheck // the subscription is in place before the test publishes
	return m
}

func nextEvent(t *testing.T, sub *room.Subscription) (room.Event, bool) {
	t.Helper()
	select {
	case ev := <-sub.C:
		return ev, true
	case <-sub.Done:
		// Both may be ready at once: the event queued before the close comes first, as the
		// channel handler sends it.
		select {
		case ev := <-sub.C:
			return ev, true
		default:
			return room.Event{}, false
		}
	case <-time.After(2 * time.Second):
		return room.Event{}, false
	}
}

// A chat message published on node C reaches a channel client on node B; an event for the
// hosts does not reach an attendee there; the end of the webinar closes B's channels too.
func TestRoomEventsRelayed(t *testing.T) {
	ts := startTestServer(t)
	b, c := openNode(t, ts, "b"), openNode(t, ts, "c")
	onB, onC := relayedRoom(t, b), relayedRoom(t, c)
	attendee := room.Participant{ID: "p1", Webinar: "w6", Role: models.RoleAttendee, State: room.StateAdmitted}
	sub, err := onB.Subscribe("w6", attendee, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	onC.Publish("w6", room.Audience{Hosts: true}, "hand", map[string]string{"name": "x"})
	onC.Publish("w6", room.Audience{Everyone: true}, "chat", map[string]string{"text": "hi from C"})
	ev, ok := nextEvent(t, sub)
	if !ok || ev.Type != "chat" {
		t.Fatalf("got %+v %v, want the chat message only", ev, ok)
	}
	var msg map[string]string
	if err := json.Unmarshal(ev.Data, &msg); err != nil || msg["text"] != "hi from C" {
		t.Fatalf("data %s %v", ev.Data, err)
	}
	onC.End("w6")
	if ev, ok := nextEvent(t, sub); !ok || ev.Type != "ended" {
		t.Fatalf("got %+v %v, want ended", ev, ok)
	}
	if _, ok := nextEvent(t, sub); ok {
		t.Fatal("channel on B still open after the end on C")
	}
}

// Ops from the network that would break the SSE framing are refused.
func FuzzRoomOp(f *testing.F) {
	f.Add([]byte(`{"kind":"publish","webinar":"w","audience":{"Everyone":true},"type":"chat","data":{"a":1}}`))
	f.Add([]byte(`{"kind":"publish","webinar":"w","type":"x\ny","data":"\n"}`))
	f.Add([]byte(`{"kind":"update","webinar":"w","participant":{"id":"p"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := room.NewManager(nil, 0, 0)
		sub, err := m.Subscribe("w", room.Participant{ID: "p", State: room.StateAdmitted}, 0)
		if err != nil {
			t.Skip()
		}
		var op room.Op
		if json.Unmarshal(data, &op) != nil {
			return
		}
		m.Apply(op)
		select {
		case ev := <-sub.C:
			frame := ev.SSE()
			if n := countNewlines(frame); n != 4 {
				t.Fatalf("frame with %d line breaks: %q", n, frame)
			}
		default:
		}
	})
}

func countNewlines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' || c == '\r' {
			n++
		}
	}
	return n
}

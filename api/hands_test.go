package api

import (
	"testing"
)

func TestHandsQueue(t *testing.T) {
	s, wd, room := roomWorld(t)
	base := "/api/webinars/" + wd.w.ID
	raise := func(p principal, body string) int {
		var v struct{ Position int }
		ctype := ""
		if body != "" {
			ctype = js
		}
		r := s.call(t, wd.cred[p], "POST", base+"/hand", ctype, body)
		if r.status != 200 {
			t.Fatalf("raise as %s: %d %s", principalNames[p], r.status, r.body)
		}
		r.json(t, &v)
		return v.Position
	}
	if pos := raise(attendee, `{"name":"Ana"}`); pos != 1 {
		t.Errorf("first hand at %d", pos)
	}
	if pos := raise(panelist, ""); pos != 2 {
		t.Errorf("second hand at %d", pos)
	}
	if pos := raise(attendee, ""); pos != 1 {
		t.Errorf("raising again moved the hand to %d", pos)
	}
	if got := len(room.ofType("hand")); got != 2 {
		t.Errorf("%d hand events, want 2", got)
	}
	var q []hand
	s.call(t, wd.cred[cohost], "GET", base+"/hands", "", "").json(t, &q)
	if len(q) != 2 || q[0].Name != "Ana" || q[1].Role != "panelist" {
		t.Fatalf("queue %+v", q)
	}
	if r := s.call(t, wd.cred[attendee], "GET", base+"/hands", "", ""); r.status != 403 {
		t.Errorf("attendee reads the queue: %d", r.status)
	}
	if r := s.call(t, wd.cred[host], "DELETE", base+"/hands/"+q[0].Participant, "", ""); r.status != 204 {
		t.Fatalf("host lowers: %d %s", r.status, r.body)
	}
	if r := s.call(t, wd.cred[host], "DELETE", base+"/hands/"+q[0].Participant, "", ""); r.status != 404 {
		t.Errorf("lowering a lowered hand: %d", r.status)
	}
	if r := s.call(t, wd.cred[panelist], "DELETE", base+"/hand", "", ""); r.status != 204 {
		t.Fatalf("own lower: %d", r.status)
	}
	s.call(t, wd.cred[host], "GET", base+"/hands", "", "").json(t, &q)
	if len(q) != 0 {
		t.Errorf("queue after lowering: %+v", q)
	}
	ev := room.ofType("hand")
	if len(ev) != 4 || ev[2].to != (RoomAudience{Hosts: true, Participant: ev[0].to.Participant}) {
		t.Errorf("events %+v", ev)
	}
}

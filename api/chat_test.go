package api

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"lectern/models"
)

// published is one event a fakeRoom recorded.
type published struct {
	webinar string
	to      RoomAudience
	typ     string
	payload any
}

// fakeRoom records what the API published to whom.
type fakeRoom struct {
	mu     sync.Mutex
	events []published
}

func (f *fakeRoom) Publish(webinar string, a RoomAudience, typ string, payload any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, published{webinar, a, typ, payload})
}

func (f *fakeRoom) ofType(typ string) []published {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []published
	for _, e := range f.events {
		if e.typ == typ {
			out = append(out, e)
		}
	}
	return out
}

// roomWorld is a matrix world on a server with a fake live channel.
func roomWorld(t *testing.T) (*authServer, *world, *fakeRoom) {
	t.Helper()
	room := &fakeRoom{}
	s := newAuthServer(t, func(d *Deps) { d.RoomEvents = room })
	return s, newWorld(t, s, 1, "", ""), room
}

func (s *authServer) patchRoom(t *testing.T, wd *world, body string) {
	t.Helper()
	if r := s.call(t, wd.cred[host], "PATCH", "/api/webinars/"+wd.w.ID, js, body); r.status != 200 {
		t.Fatalf("PATCH %s: %d %s", body, r.status, r.body)
	}
}

func TestChatPermissionsPerRoleAndSetting(t *testing.T) {
	s, wd, _ := roomWorld(t)
	cases := []struct {
		setting models.ChatSetting
		who     principal
		to      string
		want    int
	}{
		{models.ChatEveryone, attendee, "everyone", 201},
		{models.ChatEveryone, attendee, "hosts", 201},
		{models.ChatHosts, attendee, "everyone", 403},
		{models.ChatHosts, attendee, "hosts", 201},
		{models.ChatOff, attendee, "everyone", 403},
		{models.ChatOff, attendee, "hosts", 403},
		{models.ChatOff, panelist, "everyone", 201},
		{models.ChatOff, cohost, "everyone", 201},
		{models.ChatOff, host, "everyone", 201},
		{models.ChatHosts, panelist, "everyone", 201},
		{models.ChatEveryone, anonymous, "everyone", 401},
		{models.ChatEveryone, otherHost, "everyone", 403},
		{models.ChatEveryone, attendee, "nobody", 400},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.setting, principalNames[tc.who], tc.to), func(t *testing.T) {
			s.patchRoom(t, wd, fmt.Sprintf(`{"chat":%q}`, tc.setting))
			s.clock.Add(time.Minute) // past any rate limit
			before := s.call(t, wd.cred[host], "GET", "/api/webinars/"+wd.w.ID+"/chat", "", "")
			r := s.postJSON(t, wd.cred[tc.who], "/api/webinars/"+wd.w.ID+"/chat", map[string]string{"text": "hello", "to": tc.to})
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			after := s.call(t, wd.cred[host], "GET", "/api/webinars/"+wd.w.ID+"/chat", "", "")
			if changed := before.body != after.body; changed != (tc.want == 201) {
				t.Errorf("stored: %v, want %v", changed, tc.want == 201)
			}
		})
	}
}

func TestChatPatchRejectsUnknownSetting(t *testing.T) {
	s, wd, _ := roomWorld(t)
	if r := s.call(t, wd.cred[host], "PATCH", "/api/webinars/"+wd.w.ID, js, `{"chat":"sometimes"}`); r.status != 400 || !strings.Contains(r.body, `"error"`) {
		t.Fatalf("PATCH chat=sometimes: %d %s", r.status, r.body)
	}
}

func TestChatToHostsVisibleToHostsAndSenderOnly(t *testing.T) {
	s, wd, room := roomWorld(t)
	base := "/api/webinars/" + wd.w.ID + "/chat"
	var sent models.ChatMessage
	r := s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": "a private question", "to": "hosts", "name": "Ana"})
	if r.status != 201 {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	r.json(t, &sent)
	if sent.Name != "Ana" || sent.Role != models.RoleAttendee || sent.To != "hosts" || sent.ID == 0 {
		t.Fatalf("reply %+v", sent)
	}
	if r := s.postJSON(t, wd.cred[panelist], base, map[string]string{"text": "welcome all"}); r.status != 201 {
		t.Fatalf("panelist post: %d %s", r.status, r.body)
	}
	count := func(p principal) int {
		var ms []models.ChatMessage
		s.call(t, wd.cred[p], "GET", base, "", "").json(t, &ms)
		return len(ms)
	}
	for p, want := range map[principal]int{attendee: 2, panelist: 1, cohost: 2, host: 2, admin: 2} {
		if got := count(p); got != want {
			t.Errorf("%s sees %d messages, want %d", principalNames[p], got, want)
		}
	}
	var later []models.ChatMessage
	s.call(t, wd.cred[host], "GET", fmt.Sprintf("%s?after=%d", base, sent.ID), "", "").json(t, &later)
	if len(later) != 1 || later[0].Text != "welcome all" {
		t.Errorf("after=%d: %+v", sent.ID, later)
	}
	ev := room.ofType("chat")
	if len(ev) != 2 || ev[0].to != (RoomAudience{Hosts: true, Participant: sent.From}) || ev[1].to != (RoomAudience{Everyone: true}) {
		t.Errorf("published %+v", ev)
	}
}

func TestChatDeleteEverywhere(t *testing.T) {
	s, wd, room := roomWorld(t)
	base := "/api/webinars/" + wd.w.ID + "/chat"
	var m models.ChatMessage
	s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": "spam"}).json(t, &m)
	mpath := fmt.Sprintf("%s/%d", base, m.ID)
	if r := s.call(t, wd.cred[attendee], "DELETE", mpath, "", ""); r.status != 403 {
		t.Fatalf("attendee delete: %d", r.status)
	}
	if r := s.call(t, wd.cred[cohost], "DELETE", mpath, "", ""); r.status != 204 {
		t.Fatalf("cohost delete: %d %s", r.status, r.body)
	}
	if r := s.call(t, wd.cred[host], "DELETE", mpath, "", ""); r.status != 404 {
		t.Fatalf("second delete: %d", r.status)
	}
	var ms []models.ChatMessage
	s.call(t, wd.cred[attendee], "GET", base, "", "").json(t, &ms)
	if len(ms) != 0 {
		t.Errorf("still there: %+v", ms)
	}
	ev := room.ofType("chat.deleted")
	if len(ev) != 1 || ev[0].to != (RoomAudience{Everyone: true}) || fmt.Sprint(ev[0].payload) != fmt.Sprintf("map[id:%d]", m.ID) {
		t.Errorf("published %+v", ev)
	}
}

func TestChatRateLimitAndLength(t *testing.T) {
	s, wd, _ := roomWorld(t)
	base := "/api/webinars/" + wd.w.ID + "/chat"
	if r := s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": strings.Repeat("é", 1001)}); r.status != 400 {
		t.Errorf("1001 characters: %d", r.status)
	}
	if r := s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": "  "}); r.status != 400 {
		t.Errorf("blank: %d", r.status)
	}
	if r := s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": strings.Repeat("é", 1000)}); r.status != 201 {
		t.Errorf("1000 characters: %d %s", r.status, r.body)
	}
	for i := 0; i < chatBurst-1; i++ {
		if r := s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": "again"}); r.status != 201 {
			t.Fatalf("message %d: %d", i+2, r.status)
		}
	}
	r := s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": "one too many"})
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if r := s.postJSON(t, wd.cred[panelist], base, map[string]string{"text": "others still talk"}); r.status != 201 {
		t.Errorf("another participant: %d", r.status)
	}
	s.clock.Add(chatWindow)
	if r := s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": "later"}); r.status != 201 {
		t.Errorf("after the window: %d", r.status)
	}
	var ms []models.ChatMessage
	s.call(t, wd.cred[host], "GET", base+".json", "", "").json(t, &ms)
	if len(ms) != chatBurst+2 {
		t.Errorf("export has %d messages, want %d", len(ms), chatBurst+2)
	}
	if txt := s.call(t, wd.cred[host], "GET", base+".txt", "", ""); !strings.Contains(txt.body, "Guest (attendee): later") {
		t.Errorf("txt export: %.300s", txt.body)
	}
}

func TestWebinarShowsRoomSettings(t *testing.T) {
	s, wd, _ := roomWorld(t)
	var v struct {
		Chat models.ChatSetting
		QA   bool
	}
	s.call(t, wd.cred[attendee], "GET", "/api/webinars/"+wd.w.ID, "", "").json(t, &v)
	if v.Chat != models.ChatEveryone || !v.QA {
		t.Errorf("defaults: %+v", v)
	}
	s.patchRoom(t, wd, `{"chat":"hosts","qa":false}`)
	s.call(t, wd.cred[attendee], "GET", "/api/webinars/"+wd.w.ID, "", "").json(t, &v)
	if v.Chat != models.ChatHosts || v.QA {
		t.Errorf("after PATCH: %+v", v)
	}
}

func TestChatDeleteToHostsReachesItsAudienceOnly(t *testing.T) {
	s, wd, room := roomWorld(t)
	base := "/api/webinars/" + wd.w.ID + "/chat"
	var m models.ChatMessage
	s.postJSON(t, wd.cred[attendee], base, map[string]string{"text": "for the hosts", "to": "hosts"}).json(t, &m)
	if r := s.call(t, wd.cred[host], "DELETE", fmt.Sprintf("%s/%d", base, m.ID), "", ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	ev := room.ofType("chat.deleted")
	if len(ev) != 1 || ev[0].to != (RoomAudience{Hosts: true, Participant: m.From}) {
		t.Errorf("published %+v", ev)
	}
}

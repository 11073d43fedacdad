package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"lectern/models"
)

// roomRoute is one room action a fuzzed body is sent to.
type roomRoute struct {
	name string
	path func(webinar, pid string, qid int64) string
	host bool // sent by the host; otherwise by the fresh participant
}

var fuzzedRoomRoutes = []roomRoute{
	{"chat", func(w, _ string, _ int64) string { return "/api/webinars/" + w + "/chat" }, false},
	{"question", func(w, _ string, _ int64) string { return "/api/webinars/" + w + "/questions" }, false},
	{"answer", func(w, _ string, q int64) string { return fmt.Sprintf("/api/webinars/%s/questions/%d/answer", w, q) }, true},
	{"hand", func(w, _ string, _ int64) string { return "/api/webinars/" + w + "/hand" }, false},
	{"leave", func(w, _ string, _ int64) string { return "/api/webinars/" + w + "/leave" }, false},
	{"admit", func(w, p string, _ int64) string { return "/api/webinars/" + w + "/participants/" + p + "/admit" }, true},
	{"deny", func(w, p string, _ int64) string { return "/api/webinars/" + w + "/participants/" + p + "/deny" }, true},
	{"remove", func(w, p string, _ int64) string { return "/api/webinars/" + w + "/participants/" + p + "/remove" }, true},
	{"promote", func(w, p string, _ int64) string { return "/api/webinars/" + w + "/participants/" + p + "/promote" }, true},
	{"demote", func(w, p string, _ int64) string { return "/api/webinars/" + w + "/participants/" + p + "/demote" }, true},
}

// FuzzRoomActionBodies sends arbitrary bodies to every room action of the real server (join
// has FuzzJoinBody): the answer is never a 5xx, a refusal is a JSON error, and a refusal
// changes nothing (participants, hands, chat, questions). The moderation, stage and leave
// actions take no body, so theirs is ignored.
func FuzzRoomActionBodies(f *testing.F) {
	for i := range fuzzedRoomRoutes {
		for _, b := range []string{``, `{}`, `{"text":"hi","to":"hosts"}`, `{"text":"ok","public":true,"anonymous":true}`,
			`{"name":"Ana"}`, `{"name":1}`, `[]`, `{`, "{\"text\":\"\xff\"}", `{"text":"` + strings.Repeat("x", 1001) + `"}`} {
			f.Add(uint8(i), b)
		}
	}
	s, w, host := roomSetup(f, nil)
	ctx := context.Background()
	q, err := s.store.AddQuestion(ctx, models.Question{WebinarID: w.ID, AskerID: "someone", Name: "Asker", Text: "why?", At: time.Now()})
	if err != nil {
		f.Fatal(err)
	}
	state := func(t *testing.T) string {
		ps, err1 := s.store.Participants(ctx, w.ID)
		cs, err2 := s.store.Chat(ctx, w.ID, 0)
		qs, err3 := s.store.Questions(ctx, w.ID, "")
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		b, _ := json.Marshal([]any{ps, cs, qs, s.api.hands.queue(w.ID)})
		return string(b)
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		rt := fuzzedRoomRoutes[int(route)%len(fuzzedRoomRoutes)]
		s.clock.Add(time.Minute) // past the chat and question limits
		p := joinAs(t, s, w.ID, "P", creds{}, 201)
		who := creds{bearer: p.Token}
		if rt.host {
			who = host
		}
		before := state(t)
		r := s.call(t, who, "POST", rt.path(w.ID, p.ParticipantID, q.ID), js, body)
		if r.status >= 500 {
			t.Fatalf("%s %q: %d %s", rt.name, body, r.status, r.body)
		}
		if r.status >= 400 {
			var e apiError
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %q: %d without a JSON error: %s", rt.name, body, r.status, r.body)
			}
			if after := state(t); after != before {
				t.Fatalf("%s %q: refused with %d but changed the room", rt.name, body, r.status)
			}
		}
	})
}

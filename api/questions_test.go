package api

import (
	"fmt"
	"testing"

	"lectern/models"
)

// questionsAs lists the questions as p sees them, by id.
func (s *authServer) questionsAs(t *testing.T, wd *world, p principal) map[int64]models.Question {
	t.Helper()
	var qs []models.Question
	r := s.call(t, wd.cred[p], "GET", "/api/webinars/"+wd.w.ID+"/questions", "", "")
	if r.status != 200 {
		t.Fatalf("GET questions as %s: %d %s", principalNames[p], r.status, r.body)
	}
	r.json(t, &qs)
	out := map[int64]models.Question{}
	for _, q := range qs {
		out[q.ID] = q
	}
	return out
}

// ask posts a question as p and returns its id.
func (s *authServer) ask(t *testing.T, wd *world, p principal, body map[string]any) int64 {
	t.Helper()
	var created struct{ ID int64 }
	r := s.postJSON(t, wd.cred[p], "/api/webinars/"+wd.w.ID+"/questions", body)
	if r.status != 201 {
		t.Fatalf("ask as %s: %d %s", principalNames[p], r.status, r.body)
	}
	r.json(t, &created)
	return created.ID
}

func TestQuestionVoteOnceAndOrder(t *testing.T) {
	s, wd, room := roomWorld(t)
	first := s.ask(t, wd, panelist, map[string]any{"text": "first"})
	second := s.ask(t, wd, attendee, map[string]any{"text": "second"})
	vote := func(p principal, id int64) int {
		var v struct{ Votes int }
		r := s.call(t, wd.cred[p], "POST", fmt.Sprintf("/api/webinars/%s/questions/%d/vote", wd.w.ID, id), "", "")
		if r.status != 200 {
			t.Fatalf("vote as %s: %d %s", principalNames[p], r.status, r.body)
		}
		r.json(t, &v)
		return v.Votes
	}
	if n := vote(attendee, second); n != 1 {
		t.Fatalf("votes after one vote: %d", n)
	}
	if n := vote(attendee, second); n != 1 {
		t.Fatalf("a second vote counted: %d", n)
	}
	if got := len(room.ofType("question.updated")); got != 1 {
		t.Errorf("%d question.updated events, want 1 (the repeated vote changes nothing)", got)
	}
	var qs []models.Question
	s.call(t, wd.cred[attendee], "GET", "/api/webinars/"+wd.w.ID+"/questions", "", "").json(t, &qs)
	if len(qs) != 2 || qs[0].ID != second || qs[0].Votes != 1 || !qs[0].Voted || qs[1].ID != first || qs[1].Voted {
		t.Fatalf("order by votes: %+v", qs)
	}
	vote(host, first)
	vote(cohost, first)
	s.call(t, wd.cred[host], "GET", "/api/webinars/"+wd.w.ID+"/questions", "", "").json(t, &qs)
	if qs[0].ID != first || qs[0].Votes != 2 {
		t.Fatalf("order after more votes: %+v", qs)
	}
}

func TestQuestionAnonymousHiddenFromAttendeesOnly(t *testing.T) {
	s, wd, room := roomWorld(t)
	id := s.ask(t, wd, panelist, map[string]any{"text": "anonymous one", "anonymous": true})
	for p, wantName := range map[principal]bool{attendee: false, panelist: true, cohost: true, host: true, admin: true} {
		q := s.questionsAs(t, wd, p)[id]
		if got := q.Name != "" && q.AskerID != ""; got != wantName {
			t.Errorf("%s sees the asker: %v, want %v (%+v)", principalNames[p], got, wantName, q)
		}
	}
	ev := room.ofType("question")
	if len(ev) != 2 {
		t.Fatalf("published %+v", ev)
	}
	if q := ev[0].payload.(models.Question); !ev[0].to.Attendees || ev[0].to.Staff || ev[0].to.Everyone || q.Name != "" || q.AskerID != "" {
		t.Errorf("event to attendees names the asker: %+v", ev[0])
	}
	if q := ev[1].payload.(models.Question); !ev[1].to.Staff || ev[1].to.Attendees || ev[1].to.Everyone || q.Name == "" {
		t.Errorf("event to the staff: %+v", ev[1])
	}
}

func TestQuestionPrivateAnswerVisibility(t *testing.T) {
	s, wd, _ := roomWorld(t)
	mine := s.ask(t, wd, attendee, map[string]any{"text": "mine", "name": "Ana"})
	other := s.ask(t, wd, cohost, map[string]any{"text": "someone else's"})
	answer := func(p principal, id int64, public bool, want int) {
		r := s.postJSON(t, wd.cred[p], fmt.Sprintf("/api/webinars/%s/questions/%d/answer", wd.w.ID, id), map[string]any{"text": "the answer", "public": public})
		if r.status != want {
			t.Fatalf("answer as %s: %d, want %d: %s", principalNames[p], r.status, want, r.body)
		}
	}
	answer(attendee, mine, true, 403)
	answer(panelist, mine, false, 200)
	answer(host, other, false, 200)
	att := s.questionsAs(t, wd, attendee)
	if q := att[mine]; q.Answer != "the answer" || q.Name != "Ana" {
		t.Errorf("the asker does not see their private answer: %+v", q)
	}
	if q := att[other]; q.Answer != "" || q.Answered {
		t.Errorf("an attendee sees someone else's private answer: %+v", q)
	}
	if q := s.questionsAs(t, wd, host)[mine]; q.Answer != "the answer" || q.AnswerPublic {
		t.Errorf("host view: %+v", q)
	}
	answer(host, other, true, 200)
	if q := s.questionsAs(t, wd, attendee)[other]; q.Answer != "the answer" || !q.AnswerPublic {
		t.Errorf("a public answer is hidden: %+v", q)
	}
	if r := s.call(t, wd.cred[host], "POST", fmt.Sprintf("/api/webinars/%s/questions/%d/dismiss", wd.w.ID, other), "", ""); r.status != 200 {
		t.Fatalf("dismiss: %d %s", r.status, r.body)
	}
	if _, seen := s.questionsAs(t, wd, attendee)[other]; seen {
		t.Error("an attendee still sees a dismissed question")
	}
	if q := s.questionsAs(t, wd, host)[other]; !q.Dismissed {
		t.Errorf("host view of the dismissed question: %+v", q)
	}
}

func TestQuestionsOff(t *testing.T) {
	s, wd, _ := roomWorld(t)
	id := s.ask(t, wd, attendee, map[string]any{"text": "before"})
	s.patchRoom(t, wd, `{"qa":false}`)
	if r := s.postJSON(t, wd.cred[attendee], "/api/webinars/"+wd.w.ID+"/questions", map[string]any{"text": "after"}); r.status != 403 {
		t.Errorf("ask with Q&A off: %d", r.status)
	}
	if r := s.call(t, wd.cred[attendee], "POST", fmt.Sprintf("/api/webinars/%s/questions/%d/vote", wd.w.ID, id), "", ""); r.status != 403 {
		t.Errorf("vote with Q&A off: %d", r.status)
	}
	if r := s.postJSON(t, wd.cred[attendee], "/api/webinars/"+wd.w.ID+"/questions", map[string]any{"text": ""}); r.status != 400 {
		t.Errorf("empty question: %d", r.status)
	}
	if n := len(s.questionsAs(t, wd, host)); n != 1 {
		t.Errorf("%d questions stored, want 1", n)
	}
}

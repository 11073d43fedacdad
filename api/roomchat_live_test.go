package api

import (
	"fmt"
	"testing"
	"time"

	"lectern/models"
)

// Chat and Q&A as participants see them on their real live channels (SSE against the real
// server and SQLite), with participant tokens: who may say what under which setting, who hears
// it, what an attendee sees of an anonymous question, and resume after a reconnect.

// nextChat reads the channel until its next chat event and returns the message's text.
func nextChat(t *testing.T, ch *channelClient) string {
	t.Helper()
	for {
		if ev := ch.mustNext(t); ev.typ == "chat" {
			text, _ := ev.data["text"].(string)
			return text
		}
	}
}

// chatsBefore reads the channel up to the chat message marker and returns the chat texts
// before it.
func chatsBefore(t *testing.T, ch *channelClient, marker string) []string {
	t.Helper()
	var got []string
	for text := nextChat(t, ch); text != marker; text = nextChat(t, ch) {
		got = append(got, text)
	}
	return got
}

func TestChatPermissionsAndAudienceOnTheChannel(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	hostCh := openChannelSession(t, s, w.ID, host.session, "")
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	pia := joinAs(t, s, w.ID, "Pia", creds{}, 201)
	postAs(t, s, host, "/api/webinars/"+w.ID+"/participants/"+pia.ParticipantID+"/promote", 200)
	bobCh := openChannel(t, s, w.ID, bob.Token, "")
	senders := map[string]creds{"attendee": {bearer: ana.Token}, "panelist": {bearer: pia.Token}, "host": host}

	cases := []struct {
		setting    models.ChatSetting
		sender, to string
		want       int
		bobHears   bool // another attendee; the hosts hear every accepted message
	}{
		{models.ChatEveryone, "attendee", "everyone", 201, true},
		{models.ChatEveryone, "attendee", "hosts", 201, false},
		{models.ChatHosts, "attendee", "everyone", 403, false},
		{models.ChatHosts, "attendee", "hosts", 201, false},
		{models.ChatOff, "attendee", "everyone", 403, false},
		{models.ChatOff, "attendee", "hosts", 403, false},
		{models.ChatHosts, "panelist", "everyone", 201, true},
		{models.ChatOff, "panelist", "everyone", 201, true},
		{models.ChatOff, "panelist", "hosts", 201, false},
		{models.ChatOff, "host", "everyone", 201, true},
		{models.ChatEveryone, "attendee", "somebody", 400, false},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.setting, tc.sender, tc.to), func(t *testing.T) {
			patchRoom(t, s, host, w, fmt.Sprintf(`{"chat":%q}`, tc.setting))
			s.clock.Add(time.Minute) // past every rate limit
			text := fmt.Sprintf("case %d", i)
			r := s.postJSON(t, senders[tc.sender], "/api/webinars/"+w.ID+"/chat", map[string]string{"text": text, "to": tc.to})
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			// A marker from the host to everyone: whoever did not get the case's message gets
			// the marker next.
			marker := fmt.Sprintf("marker %d", i)
			if r := s.postJSON(t, host, "/api/webinars/"+w.ID+"/chat", map[string]string{"text": marker}); r.status != 201 {
				t.Fatalf("marker: %d %s", r.status, r.body)
			}
			var wantHost, wantBob []string
			if tc.want == 201 {
				wantHost = []string{text}
			}
			if tc.bobHears {
				wantBob = []string{text}
			}
			if got := chatsBefore(t, hostCh, marker); fmt.Sprint(got) != fmt.Sprint(wantHost) {
				t.Errorf("host heard %q, want %q", got, wantHost)
			}
			if got := chatsBefore(t, bobCh, marker); fmt.Sprint(got) != fmt.Sprint(wantBob) {
				t.Errorf("bob heard %q, want %q", got, wantBob)
			}
		})
	}
}

// An anonymous question shows no asker to attendees, on the channel and in the list, and its
// asker to the hosts; everyone hears it once; a second vote by the same participant counts nothing.
func TestAnonymousQuestionAndVoteOnTheChannel(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	hostCh := openChannelSession(t, s, w.ID, host.session, "")
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	bobCh := openChannel(t, s, w.ID, bob.Token, "")
	anaCh := openChannel(t, s, w.ID, ana.Token, "")
	r := s.postJSON(t, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/questions", map[string]any{"text": "Is it on the exam?", "anonymous": true})
	if r.status != 201 {
		t.Fatalf("ask: %d %s", r.status, r.body)
	}
	var asked struct{ ID int64 }
	r.json(t, &asked)

	nextQuestion := func(ch *channelClient) map[string]any {
		for {
			if ev := ch.mustNext(t); ev.typ == "question" {
				return ev.data
			}
		}
	}
	if q := nextQuestion(bobCh); q["name"] != nil || q["asker_id"] != nil || q["text"] != "Is it on the exam?" {
		t.Fatalf("bob's channel shows %v", q)
	}
	// Hosts and the asker get it once, whole.
	for name, ch := range map[string]*channelClient{"host": hostCh, "ana": anaCh} {
		if q := nextQuestion(ch); q["name"] != "Ana" || q["asker_id"] != ana.ParticipantID {
			t.Fatalf("%s's channel shows %v", name, q)
		}
	}
	s.clock.Add(time.Minute)
	if r := s.postJSON(t, host, "/api/webinars/"+w.ID+"/chat", map[string]string{"text": "marker"}); r.status != 201 {
		t.Fatalf("marker: %d %s", r.status, r.body)
	}
	for name, ch := range map[string]*channelClient{"host": hostCh, "ana": anaCh, "bob": bobCh} {
		if ev := ch.mustNext(t); ev.typ != "chat" {
			t.Fatalf("%s heard %+v before the next chat: the question twice?", name, ev)
		}
	}

	var asBob, asHost []models.Question
	s.call(t, creds{bearer: bob.Token}, "GET", "/api/webinars/"+w.ID+"/questions", "", "").json(t, &asBob)
	s.call(t, host, "GET", "/api/webinars/"+w.ID+"/questions", "", "").json(t, &asHost)
	if len(asBob) != 1 || asBob[0].Name != "" || asBob[0].AskerID != "" {
		t.Fatalf("bob lists %+v", asBob)
	}
	if len(asHost) != 1 || asHost[0].Name != "Ana" {
		t.Fatalf("host lists %+v", asHost)
	}

	vote := fmt.Sprintf("/api/webinars/%s/questions/%d/vote", w.ID, asked.ID)
	for range 2 {
		var v struct{ Votes int }
		postAs(t, s, creds{bearer: bob.Token}, vote, 200).json(t, &v)
		if v.Votes != 1 {
			t.Fatalf("votes %d after bob's vote(s), want 1", v.Votes)
		}
	}
}

// A participant whose channel drops and reconnects with Last-Event-ID gets every chat
// message it missed, once and in order, and none addressed to the hosts only.
func TestChatResumeLosesNoMessage(t *testing.T) {
	s, w, _ := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	bobCh := openChannel(t, s, w.ID, bob.Token, "")
	say := func(text, to string) {
		t.Helper()
		s.clock.Add(time.Minute)
		if r := s.postJSON(t, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/chat", map[string]string{"text": text, "to": to}); r.status != 201 {
			t.Fatalf("chat: %d %s", r.status, r.body)
		}
	}
	say("before the drop", "everyone")
	var last string
	for {
		ev := bobCh.mustNext(t)
		if ev.typ == "chat" {
			last = ev.id
			break
		}
	}
	bobCh.res.Body.Close()
	want := []string{}
	for i := range 8 {
		text := fmt.Sprintf("missed %d", i)
		say(text, "everyone")
		want = append(want, text)
		if i%3 == 0 {
			say("for the hosts only", "hosts")
		}
	}
	again := openChannel(t, s, w.ID, bob.Token, last)
	for _, text := range want {
		if got := nextChat(t, again); got != text {
			t.Fatalf("after resume got %q, want %q", got, text)
		}
	}
	say("after the resume", "everyone")
	if got := nextChat(t, again); got != "after the resume" {
		t.Fatalf("live after resume: %q", got)
	}
}

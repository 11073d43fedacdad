package api

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"lectern/models"
)

// Issue 9's holes, closed against the real server, SQLite and real pion viewers: the waiting
// room and the lock guard the media too, a viewer who just closes its connection is forgotten,
// the count follows who is present, and an ended webinar takes no more chat, Q&A or hands.

// mediaStatus is the status of a WHEP offer and of opening the caption stream with c.
func mediaStatus(t *testing.T, s *authServer, w models.Webinar, c creds) (whep, captions reply) {
	t.Helper()
	whep = s.call(t, c, "POST", "/whep/"+w.ID, "application/sdp", validOffer(t, webrtc.RTPTransceiverDirectionRecvonly))
	captions = s.call(t, c, "GET", "/api/webinars/"+w.ID+"/captions", "", "")
	return whep, captions
}

// wantMedia checks both media requests of c got want; for a refusal also that it says to join.
func wantMedia(t *testing.T, s *authServer, w models.Webinar, who string, c creds, want int) {
	t.Helper()
	whep, capt := mediaStatus(t, s, w, c)
	for _, r := range []struct {
		name string
		r    reply
		ok   int
	}{{"whep", whep, 201}, {"captions", capt, 200}} {
		if want == 200 && r.r.status != r.ok || want != 200 && r.r.status != want {
			t.Fatalf("%s for %s: %d %s, want %d", r.name, who, r.r.status, r.r.body, map[bool]int{true: r.ok, false: want}[want == 200])
		}
		if want == 401 && !strings.Contains(r.r.body, "join the webinar first") {
			t.Errorf("%s for %s says %s, want to join first", r.name, who, r.r.body)
		}
	}
	if want == 401 && !strings.HasPrefix(whep.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("whep 401 for %s without WWW-Authenticate: Bearer", who)
	}
}

// With the waiting room on, or the webinar locked, nobody watches a public webinar without
// joining: no WHEP session, no caption stream, and a refused offer leaves no session behind.
// Admitted participants, the host, the stream key and the presenter's own link still get in;
// with both off, plain WHEP players play it with no token again.
func TestWaitingRoomAndLockGuardTheMedia(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	key := creds{bearer: w.StreamKey}
	wantMedia(t, s, w, "anonymous, room open", creds{}, 200)

	patchRoom(t, s, host, w, `{"waiting_room": true}`)
	before := s.api.Broadcast.Viewers(w.ID)
	wantMedia(t, s, w, "anonymous, waiting room on", creds{}, 401)
	if after := s.api.Broadcast.Viewers(w.ID); after != before {
		t.Errorf("a refused offer left a session: %d viewers, was %d", after, before)
	}
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	if r := whepStatus(t, s, w, ana.Token); r.status != 403 || !strings.Contains(r.body, "waiting for the host") {
		t.Fatalf("whep while waiting: %d %s", r.status, r.body)
	}
	postAs(t, s, host, "/api/webinars/"+w.ID+"/participants/"+ana.ParticipantID+"/admit", 200)
	wantMedia(t, s, w, "admitted Ana", creds{bearer: ana.Token}, 200)
	wantMedia(t, s, w, "the host", host, 200)
	wantMedia(t, s, w, "the stream key", key, 200)
	var link watchLinkAnswer
	s.call(t, key, "GET", "/api/webinars/"+w.ID+"/watch-link", "", "").json(t, &link)
	if link.Token == "" {
		t.Fatalf("the presenter's watch link %q has no token while the waiting room is on", link.WatchURL)
	}
	if r := s.call(t, creds{}, "GET", "/api/webinars/"+w.ID+"/captions?t="+url.QueryEscape(link.Token), "", ""); r.status != 200 {
		t.Errorf("the studio's caption preview with the presenter's link: %d %s", r.status, r.body)
	}

	patchRoom(t, s, host, w, `{"waiting_room": false, "locked": true}`)
	wantMedia(t, s, w, "anonymous, locked", creds{}, 401)
	wantMedia(t, s, w, "admitted Ana, locked", creds{bearer: ana.Token}, 200)

	patchRoom(t, s, host, w, `{"locked": false}`)
	wantMedia(t, s, w, "anonymous, room open again", creds{}, 200)
}

// A watch link's token is no participant: behind the waiting room it must join (by name) and
// be admitted like anyone, then it watches.
func TestLinkTokenJoinsBehindTheWaitingRoom(t *testing.T) {
	s := newAuthServer(t, nil)
	h := s.user(t, "host@school.example", false)
	w := s.webinar(t, h, models.VisibilityLink, "")
	host := creds{session: s.session(t, h)}
	var v webinarView
	s.call(t, host, "GET", "/api/webinars/"+w.ID, "", "").json(t, &v)
	link := linkToken(t, v.WatchURL)
	wantMedia(t, s, w, "the link, room open", creds{bearer: link}, 200)

	patchRoom(t, s, host, w, `{"waiting_room": true}`)
	wantMedia(t, s, w, "the link, waiting room on", creds{bearer: link}, 401)
	ana := joinAs(t, s, w.ID, "Ana", creds{bearer: link}, 201)
	if ana.State != "waiting" {
		t.Fatalf("joined with the link: %q, want waiting", ana.State)
	}
	postAs(t, s, host, "/api/webinars/"+w.ID+"/participants/"+ana.ParticipantID+"/admit", 200)
	wantMedia(t, s, w, "admitted Ana", creds{bearer: ana.Token}, 200)
}

// A participant's WHEP session whose viewer just closes its peer connection (a closed tab:
// no DELETE) leaves the removal tracker, like one ended with DELETE.
func TestClosedViewerLeavesTheTracker(t *testing.T) {
	s, w, _ := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	v := connectViewer(t, s, w, ana.Token)
	if !trackerHolds(s, w.ID) {
		t.Fatal("the tracker does not hold Ana's session")
	}
	_ = v.pc.Close()
	// pion says close_notify at once; ICE failure (about 30 s) is the slow path.
	waitFor(t, 45*time.Second, "the closed session forgotten", func() bool { return !trackerHolds(s, w.ID) })
}

// countIs reads ch until a count event says want, failing after d.
func countIs(t *testing.T, ch *channelClient, want int, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for {
			ev, err := ch.next()
			if err != nil {
				done <- err
				return
			}
			if ev.typ == "count" && ev.data["count"] == float64(want) {
				done <- nil
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("waiting for count %d: %v", want, err)
		}
	case <-time.After(d):
		t.Fatalf("the count did not become %d within %v", want, d)
	}
}

// presentFlags is GET .../participants as name → present.
func presentFlags(t *testing.T, s *authServer, host creds, w models.Webinar) map[string]bool {
	t.Helper()
	var list []struct {
		Name    string `json:"name"`
		State   string `json:"state"`
		Present *bool  `json:"present"`
	}
	s.call(t, host, "GET", "/api/webinars/"+w.ID+"/participants", "", "").json(t, &list)
	out := map[string]bool{}
	for _, p := range list {
		if p.Present == nil {
			t.Fatalf("participant %s has no present flag", p.Name)
		}
		out[p.Name] = *p.Present
	}
	return out
}

// The count is who is there: admitted participants with a channel, caption stream or WHEP
// session open. Closing the tab (the connections just end) takes one out of the count while
// they stay admitted; coming back counts them again; leaving takes them out for good. A
// waiting participant is not counted. The host's list says who is present.
func TestCountFollowsWhoIsPresent(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	const d = 10 * time.Second // debounced to a second; generous for a loaded machine
	hostCh := openChannelSession(t, s, w.ID, host.session, "")

	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	countIs(t, hostCh, 0, d) // joined, but nobody opened anything yet
	anaCh := openChannel(t, s, w.ID, ana.Token, "")
	countIs(t, hostCh, 1, d)
	bobView := connectViewer(t, s, w, bob.Token)
	countIs(t, hostCh, 2, d)
	if got := presentFlags(t, s, host, w); !got["Ana"] || !got["Bob"] {
		t.Fatalf("present %v, want both", got)
	}

	_ = bobView.pc.Close() // Bob's tab closes: no DELETE, no leave
	countIs(t, hostCh, 1, d)
	anaCh.res.Body.Close() // so does Ana's
	countIs(t, hostCh, 0, d)
	if got := presentFlags(t, s, host, w); got["Ana"] || got["Bob"] {
		t.Fatalf("present %v, want neither", got)
	}
	p, err := s.store.Participant(context.Background(), w.ID, ana.ParticipantID)
	if err != nil || p.State != models.StateAdmitted {
		t.Fatalf("Ana after closing her tab: %+v %v, want still admitted", p, err)
	}

	captionStream(t, s, w, ana.Token) // Ana comes back with her token
	countIs(t, hostCh, 1, d)
	postAs(t, s, creds{bearer: ana.Token}, "/api/webinars/"+w.ID+"/leave", 204)
	countIs(t, hostCh, 0, d)

	patchRoom(t, s, host, w, `{"waiting_room": true}`)
	cy := joinAs(t, s, w.ID, "Cy", creds{}, 201)
	openChannel(t, s, w.ID, cy.Token, "") // waiting, listening for the admit
	if got := presentFlags(t, s, host, w); !got["Cy"] {
		t.Fatalf("present %v, want Cy's open channel seen", got)
	}
	postAs(t, s, host, "/api/webinars/"+w.ID+"/participants/"+cy.ParticipantID+"/admit", 200)
	countIs(t, hostCh, 1, d) // counted once admitted, not before (the count was 0 until now)
}

// After "end for everyone" nobody chats, asks, votes, answers or raises a hand, and no caption
// stream opens: 410 like WHEP, join and the channel, and nothing is stored. What was said
// stays readable.
func TestEndedWebinarTakesNoMoreWords(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	base := "/api/webinars/" + w.ID
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	anaC := creds{bearer: ana.Token}
	if r := s.postJSON(t, anaC, base+"/chat", map[string]string{"text": "hello"}); r.status != 201 {
		t.Fatalf("chat before the end: %d %s", r.status, r.body)
	}
	var q struct {
		ID int64 `json:"id"`
	}
	r := s.postJSON(t, anaC, base+"/questions", map[string]any{"text": "Is it recorded?"})
	if r.status != 201 {
		t.Fatalf("question before the end: %d %s", r.status, r.body)
	}
	r.json(t, &q)
	postAs(t, s, host, base+"/end", 204)
	ctx := context.Background()
	chatBefore, _ := s.store.Chat(ctx, w.ID, 0)

	qid := base + "/questions/" + strconv.FormatInt(q.ID, 10)
	for _, c := range []struct {
		what, path string
		who        creds
		body       any
	}{
		{"chat", base + "/chat", anaC, map[string]string{"text": "still there?"}},
		{"the host's chat", base + "/chat", host, map[string]string{"text": "bye"}},
		{"a question", base + "/questions", anaC, map[string]any{"text": "one more?"}},
		{"a vote", qid + "/vote", anaC, nil},
		{"an answer", qid + "/answer", host, map[string]any{"text": "yes", "public": true}},
		{"a raised hand", base + "/hand", anaC, nil},
	} {
		var r reply
		if c.body == nil {
			r = s.call(t, c.who, "POST", c.path, "", "")
		} else {
			r = s.postJSON(t, c.who, c.path, c.body)
		}
		if r.status != 410 || !strings.Contains(r.body, "ended") {
			t.Errorf("%s after the end: %d %s, want 410", c.what, r.status, r.body)
		}
	}
	for _, c := range []creds{anaC, host, {}} {
		if r := s.call(t, c, "GET", base+"/captions", "", ""); r.status != 410 {
			t.Errorf("caption stream after the end: %d %s, want 410", r.status, r.body)
		}
	}
	if chatAfter, _ := s.store.Chat(ctx, w.ID, 0); len(chatAfter) != len(chatBefore) {
		t.Errorf("chat after the end stored %d messages, had %d", len(chatAfter), len(chatBefore))
	}
	qs, _ := s.store.Questions(ctx, w.ID, "")
	if len(qs) != 1 || qs[0].Votes != 0 || qs[0].Answer != "" {
		t.Errorf("questions after the end: %+v, want the one unanswered, unvoted", qs)
	}
	if hs := s.call(t, host, "GET", base+"/hands", "", ""); hs.status != 200 || strings.TrimSpace(hs.body) != "[]" {
		t.Errorf("hands after the end: %d %s", hs.status, hs.body)
	}
	for _, path := range []string{base + "/chat", base + "/questions"} {
		if r := s.call(t, anaC, "GET", path, "", ""); r.status != 200 {
			t.Errorf("reading %s after the end: %d %s", path, r.status, r.body)
		}
	}
}

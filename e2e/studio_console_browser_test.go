package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lectern/bench"
)

// TestBrowserStudioConsole (issue 9 item 8, issue 11's Record button): a signed-in host runs
// a webinar from the studio in headless Chromium against the real server and SQLite, while
// attendees act through the API and their own live channel. One server and one browser serve
// every step, in order: the console's state carries from one to the next (as in a class).
func TestBrowserStudioConsole(t *testing.T) {
	dir := t.TempDir()
	const email, password = "host@school.example", "correct horse battery staple"
	addUser(t, dir, email, password, false)
	addUser(t, dir, "admin@school.example", password, true)
	s := startServer(t, dir)
	hostToken := consoleToken(t, dir, email)
	adminToken := consoleToken(t, dir, "admin@school.example")
	var created struct{ ID, StreamKey string }
	if st := consoleAPI(t, "POST", s.URL+"/api/webinars", hostToken, `{"title":"Console class"}`, &created); st != 201 {
		t.Fatalf("create webinar: %d", st)
	}
	id := created.ID
	webinarURL := s.URL + "/api/webinars/" + id
	if st := consoleAPI(t, "PATCH", webinarURL, hostToken, `{"waiting_room":true}`, nil); st != 200 {
		t.Fatalf("waiting room on: %d", st)
	}

	// The host's fake microphone speaks known sentences, for the caption preview.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wav, _, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: classSentences, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, wav)
	studio := b.tab(t, s.URL+"/login?next="+url.QueryEscape("/studio/"+id))
	signIn(t, studio, email, password)
	waitJS(t, studio, "the host console", `location.pathname === '/studio/`+id+`' && document.body.dataset.console === 'moderator'`, 30*time.Second)
	if on, _ := chromedp.Run(studio, chromedp.Evaluate[bool](`document.getElementById('set-waiting').checked`)); !on {
		t.Error("the waiting room switch does not show the webinar's waiting room as on")
	}
	js(t, studio, `document.getElementById('go').click()`)
	waitJS(t, studio, "the host to go live", `document.getElementById('state').textContent === 'live'`, 30*time.Second)
	waitJS(t, studio, "the go-live timer", `/^live for \d+:\d\d$/.test(document.getElementById('timer').textContent)`, 10*time.Second)

	t.Run("admit from the waiting room", func(t *testing.T) {
		var ana struct {
			Token         string `json:"token"`
			ParticipantID string `json:"participant_id"`
			State         string `json:"state"`
		}
		if st := consoleAPI(t, "POST", webinarURL+"/join", "", `{"name":"Ana"}`, &ana); st != 201 || ana.State != "waiting" {
			t.Fatalf("join: %d %+v, want 201 waiting", st, ana)
		}
		if st := status(t, s.URL, "/api/webinars/"+id+"/captions", ana.Token); st != 403 {
			t.Fatalf("a waiting attendee's caption stream: %d, want 403", st)
		}
		row := `[...document.querySelectorAll('#waiting-list li')].find(li => li.textContent.includes('Ana'))`
		waitJS(t, studio, "Ana in the waiting room", `!!`+row, 15*time.Second)
		js(t, studio, row+`.querySelector('button').click()`)
		waitJS(t, studio, "Ana in the room", `[...document.querySelectorAll('#people-list li')].some(li => li.textContent.includes('Ana'))`, 15*time.Second)
		if got := consoleParticipantState(t, webinarURL, hostToken, ana.ParticipantID); got != "admitted" {
			t.Fatalf("after Admit the API says Ana is %q", got)
		}
		if st := status(t, s.URL, "/api/webinars/"+id+"/captions", ana.Token); st != 200 {
			t.Fatalf("an admitted attendee's caption stream: %d, want 200", st)
		}
		watch := b.tab(t, s.URL+"/watch/"+id+"?t="+url.QueryEscape(ana.Token))
		waitPlaying(t, watch, "the admitted attendee", 30*time.Second)
		chromedp.Run(watch, chromedp.Navigate("about:blank"))
	})

	// Bo joins with the waiting room off (switched off in the console) and listens on his channel.
	js(t, studio, `const w = document.getElementById('set-waiting'); w.click()`)
	waitRoomSetting(t, webinarURL, hostToken, "waiting_room", false)
	var bo struct {
		Token         string `json:"token"`
		ParticipantID string `json:"participant_id"`
		State         string `json:"state"`
	}
	if st := consoleAPI(t, "POST", webinarURL+"/join", "", `{"name":"Bo"}`, &bo); st != 201 || bo.State != "admitted" {
		t.Fatalf("join with the waiting room off: %d %+v", st, bo)
	}
	boEvents := consoleChannel(t, webinarURL, bo.Token)

	// A signed-in host on the watch page has no join token: its WHEP requests carry the session
	// cookie, and with it the CSRF token.
	t.Run("signed-in host on the watch page", func(t *testing.T) {
		watch := b.tab(t, s.URL+"/watch/"+id)
		waitPlaying(t, watch, "the host's watch page", 30*time.Second)
		chromedp.Run(watch, chromedp.Navigate("about:blank"))
	})

	t.Run("chat typed in the studio, deleted in the studio", func(t *testing.T) {
		js(t, studio, `document.getElementById('chat-text').value = 'Welcome, everyone';
			document.getElementById('chat-form').requestSubmit()`)
		var msg struct {
			ID   int64  `json:"id"`
			Text string `json:"text"`
		}
		waitConsoleEvent(t, boEvents, "chat", func(data string) bool {
			return json.Unmarshal([]byte(data), &msg) == nil && msg.Text == "Welcome, everyone"
		})
		// The attendee's message appears in the console by itself.
		if st := consoleAPI(t, "POST", webinarURL+"/chat", bo.Token, `{"text":"Hello from Bo"}`, nil); st != 201 {
			t.Fatalf("attendee chat: %d", st)
		}
		waitJS(t, studio, "Bo's message in the console", `document.getElementById('chat-list').textContent.includes('Hello from Bo')`, 15*time.Second)

		row := `document.querySelector('#chat-list li[data-id="` + strconv.FormatInt(msg.ID, 10) + `"]')`
		js(t, studio, row+`.querySelector('button').click()`)
		waitJS(t, studio, "the delete confirmation", `document.getElementById('confirm').open`, 5*time.Second)
		js(t, studio, `document.getElementById('confirm-ok').click()`)
		waitConsoleEvent(t, boEvents, "chat.deleted", func(data string) bool { return strings.Contains(data, strconv.FormatInt(msg.ID, 10)) })
		waitJS(t, studio, "the message gone from the console", `!`+row, 10*time.Second)
		var seen []struct{ ID int64 }
		consoleAPI(t, "GET", webinarURL+"/chat", bo.Token, "", &seen)
		for _, m := range seen {
			if m.ID == msg.ID {
				t.Fatal("the deleted message is still in the attendee's chat")
			}
		}
	})

	t.Run("questions and hands", func(t *testing.T) {
		var q struct{ ID int64 }
		if st := consoleAPI(t, "POST", webinarURL+"/questions", bo.Token, `{"text":"Is there homework?"}`, &q); st != 201 {
			t.Fatalf("ask: %d", st)
		}
		row := `document.querySelector('#qa-list li[data-id="` + strconv.FormatInt(q.ID, 10) + `"]')`
		waitJS(t, studio, "the question in the console", `!!`+row, 15*time.Second)
		js(t, studio, row+`.querySelector('input').value = 'Yes, chapter 3';
			[...`+row+`.querySelectorAll('button')].find(b => b.textContent === 'Answer for everyone').click()`)
		waitConsoleEvent(t, boEvents, "question.updated", func(data string) bool {
			return strings.Contains(data, `"answer":"Yes, chapter 3"`) && strings.Contains(data, `"answer_public":true`)
		})

		if st := consoleAPI(t, "POST", webinarURL+"/hand", bo.Token, "", nil); st != 200 {
			t.Fatalf("raise hand: %d", st)
		}
		hand := `document.querySelector('#hands-list li[data-pid="` + bo.ParticipantID + `"]')`
		waitJS(t, studio, "Bo's hand in the queue", `!!`+hand, 15*time.Second)
		js(t, studio, `[...`+hand+`.querySelectorAll('button')].find(b => b.textContent === 'Lower hand').click()`)
		waitConsoleEvent(t, boEvents, "hand", func(data string) bool { return strings.Contains(data, `"raised":false`) })
		waitJS(t, studio, "the queue empty", `!`+hand, 10*time.Second)

		// Promote: the route comes from another branch; the console shows the API's answer.
		person := `[...document.querySelectorAll('#people-list li')].find(li => li.textContent.includes('Bo'))`
		js(t, studio, `[...`+person+`.querySelectorAll('button')].find(b => b.textContent === 'Make panelist').click()`)
		waitJS(t, studio, "the promotion's outcome", `/Bo\s+panelist/.test(`+person+`?.textContent || '') ||
			document.getElementById('people-error').textContent !== ''`, 15*time.Second)
		if role := consoleParticipantRole(t, webinarURL, hostToken, bo.ParticipantID); role != "panelist" {
			t.Logf("promote not available on this server: role %q, console says %q", role, text(t, studio, "people-error"))
		}
	})

	t.Run("caption preview", func(t *testing.T) {
		waitJS(t, studio, "spoken words in the caption preview",
			`/weather|seasons|morning|welcome/i.test(document.getElementById('cc-lines').textContent)`, 90*time.Second)
	})

	t.Run("record button", func(t *testing.T) {
		js(t, studio, `document.getElementById('record').click()`)
		waitJS(t, studio, "the recording indicator", `!document.getElementById('rec-badge').classList.contains('hidden') &&
			document.getElementById('record').textContent === 'Stop recording'`, 15*time.Second)
		var info map[string]any
		consoleAPI(t, "GET", webinarURL, hostToken, "", &info)
		if info["recording"] != true {
			t.Fatalf("after Start recording the API says recording %v", info["recording"])
		}
		js(t, studio, `document.getElementById('record').click()`)
		waitJS(t, studio, "the indicator gone", `document.getElementById('rec-badge').classList.contains('hidden')`, 15*time.Second)

		if _, ok := info["recording_allowed"]; !ok {
			t.Fatalf("GET /api/webinars/{id} has no recording_allowed for the host: %v", info)
		}
		var policy map[string]any
		if st := consoleAPI(t, "GET", s.URL+"/api/admin/policy", adminToken, "", &policy); st != 200 {
			t.Fatalf("get policy: %d", st)
		}
		policy["recording"] = "off"
		body, _ := json.Marshal(policy)
		if st := consoleAPI(t, "PUT", s.URL+"/api/admin/policy", adminToken, string(body), nil); st != 200 && st != 204 {
			t.Fatalf("put policy: %d", st)
		}
		consoleAPI(t, "GET", webinarURL, hostToken, "", &info)
		reason, _ := info["recording_blocked"].(string)
		if info["recording_allowed"] != false || reason == "" {
			t.Fatalf("with recording off in the policy the webinar says allowed %v, blocked %q", info["recording_allowed"], reason)
		}
		tab := b.tab(t, s.URL+"/studio/"+id)
		waitJS(t, tab, "the console again", `document.body.dataset.console === 'moderator'`, 30*time.Second)
		if why := text(t, tab, "record-why"); why != reason {
			t.Errorf("Record explains %q, want the server's reason %q", why, reason)
		}
		if disabled, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('record').disabled`)); !disabled {
			t.Error("Record is enabled although the policy forbids recording")
		}
		chromedp.Run(tab, chromedp.Navigate("about:blank"))
	})

	t.Run("stream-key presenter", func(t *testing.T) {
		// Another browser profile: no session cookie, only the studio link's key.
		tab := consoleIsolatedTab(t, b, s.URL+"/studio/"+id+"?key="+url.QueryEscape(created.StreamKey))
		waitJS(t, tab, "the presenter's studio", `document.body.dataset.console === 'presenter'`, 30*time.Second)
		shown, err := chromedp.Run(tab, chromedp.Evaluate[[]bool](`['panels', 'room-tools', 'sign-in-note'].map(id => !document.getElementById(id).classList.contains('hidden'))`))
		if err != nil || shown[0] || shown[1] || !shown[2] {
			t.Errorf("a key-only presenter sees panels/room tools/sign-in note %v (%v), want only the note", shown, err)
		}
		if canGo, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`!document.getElementById('go').disabled`)); !canGo {
			t.Error("a key-only presenter cannot go live")
		}
		chromedp.Run(tab, chromedp.Navigate("about:blank"))
	})

	t.Run("phone width and contrast", func(t *testing.T) {
		if err := chromedp.Do(studio, chromedp.EmulateViewport(390, 844)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, studio, "one column", `document.getElementById('panels').getBoundingClientRect().top >=
			document.querySelector('.console-main').getBoundingClientRect().bottom`, 5*time.Second)
		if w, _ := chromedp.Run(studio, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); w > 390 {
			t.Errorf("the console is %v px wide at a 390 px viewport", w)
		}
		bad, err := chromedp.Run(studio, chromedp.Evaluate[[]string](lowContrast))
		if err != nil {
			t.Fatal(err)
		}
		if len(bad) > 0 {
			t.Errorf("text under 4.5:1 contrast: %v", bad)
		}
		chromedp.Do(studio, chromedp.EmulateViewport(1280, 900))
	})

	t.Run("end for everyone", func(t *testing.T) {
		js(t, studio, `document.getElementById('end-all').click()`)
		waitJS(t, studio, "the end confirmation", `document.getElementById('confirm').open`, 5*time.Second)
		js(t, studio, `document.getElementById('confirm-cancel').click()`)
		time.Sleep(500 * time.Millisecond)
		if st := status(t, s.URL, "/api/webinars/"+id+"/channel", bo.Token); st != 200 {
			t.Fatalf("after Cancel the channel answers %d: the webinar ended anyway", st)
		}
		js(t, studio, `document.getElementById('end-all').click()`)
		waitJS(t, studio, "the end confirmation", `document.getElementById('confirm').open`, 5*time.Second)
		js(t, studio, `document.getElementById('confirm-ok').click()`)
		waitConsoleEvent(t, boEvents, "ended", func(string) bool { return true })
		waitJS(t, studio, "the console ended", `!document.getElementById('ended').classList.contains('hidden') &&
			document.getElementById('state').textContent === 'ended' && document.getElementById('go').disabled`, 15*time.Second)
		if st := status(t, s.URL, "/api/webinars/"+id+"/channel", bo.Token); st != 410 {
			t.Errorf("the channel after the end: %d, want 410", st)
		}
	})

	if foreign := foreignRequests(t, studio, s.URL); len(foreign) > 0 {
		t.Errorf("the studio requested other origins: %v", foreign)
	}
}

// consoleToken is an API token of the account with this email (lectern token create).
func consoleToken(t *testing.T, dir, email string) string {
	t.Helper()
	out, err := exec.Command(binary, "token", "create", "--data", dir, "--email", email).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// consoleAPI sends a JSON request with an optional bearer token and decodes the answer into
// out (when not nil); it returns the status.
func consoleAPI(t *testing.T, method, url, bearer, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, data)
		}
	}
	return res.StatusCode
}

type consoleParticipant struct{ ID, Role, State string }

func consoleParticipants(t *testing.T, webinarURL, hostToken string) []consoleParticipant {
	t.Helper()
	var ps []consoleParticipant
	if st := consoleAPI(t, "GET", webinarURL+"/participants", hostToken, "", &ps); st != 200 {
		t.Fatalf("participants: %d", st)
	}
	return ps
}

func consoleParticipantState(t *testing.T, webinarURL, hostToken, pid string) string {
	for _, p := range consoleParticipants(t, webinarURL, hostToken) {
		if p.ID == pid {
			return p.State
		}
	}
	return ""
}

func consoleParticipantRole(t *testing.T, webinarURL, hostToken, pid string) string {
	for _, p := range consoleParticipants(t, webinarURL, hostToken) {
		if p.ID == pid {
			return p.Role
		}
	}
	return ""
}

// waitRoomSetting waits until GET webinar shows the room switch name at want.
func waitRoomSetting(t *testing.T, webinarURL, hostToken, name string, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var w map[string]any
		consoleAPI(t, "GET", webinarURL, hostToken, "", &w)
		if w[name] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %v, want %v", name, w[name], want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type consoleEvent struct{ Type, Data string }

// consoleChannel reads a participant's live channel in the background until the test ends.
func consoleChannel(t *testing.T, webinarURL, token string) <-chan consoleEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", webinarURL+"/channel", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		t.Fatalf("channel: %d", res.StatusCode)
	}
	ch := make(chan consoleEvent, 64)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev consoleEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && ev.Type != "":
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
				ev = consoleEvent{}
			case strings.HasPrefix(line, "event:"):
				ev.Type = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.Data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	return ch
}

// waitConsoleEvent reads the channel until an event of type typ whose data matches arrives.
func waitConsoleEvent(t *testing.T, ch <-chan consoleEvent, typ string, match func(string) bool) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the channel closed before a %q event", typ)
			}
			if ev.Type == typ && match(ev.Data) {
				return
			}
		case <-timeout:
			t.Fatalf("no matching %q event on the attendee's channel", typ)
		}
	}
}

// consoleIsolatedTab opens url in a new browser context of b: no cookies shared.
func consoleIsolatedTab(t *testing.T, b *browser, url string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return ctx
}

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The watch page as a room (issue 9 item 8): join by name, the waiting room, chat and Q&A
// between two pages, the ended state, and the phone layout, in headless Chromium against
// the real server and its SQLite file.

// joinAs fills the watch page's name form and joins the room.
func joinAs(t *testing.T, tab context.Context, name string) {
	t.Helper()
	waitJS(t, tab, "the name form", `!document.getElementById('name-form').classList.contains('hidden')`, 30*time.Second)
	js(t, tab, `document.getElementById('name').value = `+jsString(name)+`;
		document.getElementById('name-form').requestSubmit()`)
}

// roomHost is a server with an admin (the host of every webinar) holding an API token.
type roomHost struct {
	s     *server
	w     webinar
	token string
	dir   string
}

// newRoomHost starts a server (extra: more serve flags) with one webinar and its host.
func newRoomHost(t *testing.T, title string, extra ...string) roomHost {
	t.Helper()
	dir := t.TempDir()
	const email = "admin@school.example"
	addUser(t, dir, email, "correct horse battery staple", true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "token", "create", "--data", dir, "--email", email).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	w := createWebinar(t, dir, title)
	return roomHost{s: startServer(t, dir, extra...), w: w, token: strings.TrimSpace(string(out)), dir: dir}
}

// api sends a host request and returns the status and body.
func (h roomHost) api(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.s.URL+"/api/webinars/"+h.w.ID+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (h roomHost) must(t *testing.T, method, path, body string, want int) []byte {
	t.Helper()
	st, b := h.api(t, method, path, body)
	if st != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, st, b, want)
	}
	return b
}

// participantID finds a participant by name in the host's list.
func (h roomHost) participantID(t *testing.T, name, state string) string {
	t.Helper()
	var ps []struct{ ID, Name, State string }
	if err := json.Unmarshal(h.must(t, "GET", "/participants", "", 200), &ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name && p.State == state {
			return p.ID
		}
	}
	t.Fatalf("no %s participant %q in %+v", state, name, ps)
	return ""
}

// TestBrowserWatchWaitingRoomAdmit: with the waiting room on, the watch page says it waits;
// the host admits through the API and the video starts without a reload. Admit → first
// frame is logged (issue 9 target: ≤ 1 s).
func TestBrowserWatchWaitingRoomAdmit(t *testing.T) {
	h := newRoomHost(t, "Waiting class")
	h.must(t, "PATCH", "", `{"waiting_room": true}`, 200)
	b := newBrowser(t, "")
	studio := b.tab(t, h.s.URL+"/studio/"+h.w.ID+"?key="+h.w.StreamKey+"&autostart=1")
	waitJS(t, studio, "the studio to go live", `document.getElementById('state').textContent === 'live'`, 30*time.Second)

	watch := b.tab(t, h.s.URL+"/watch/"+h.w.ID)
	joinAs(t, watch, "Ada")
	waitJS(t, watch, "the waiting room", `!document.getElementById('waiting').classList.contains('hidden') &&
		document.getElementById('waiting').textContent.includes('Waiting for the host to let you in') &&
		document.getElementById('player').classList.contains('hidden')`, 15*time.Second)
	waitJS(t, watch, "the live channel open", `document.body.dataset.channel === 'open'`, 15*time.Second)
	// The page keeps its token in its address, so a reload is the same participant.
	if loc, _ := chromedp.Run(watch, chromedp.Evaluate[string](`location.search`)); !strings.HasPrefix(loc, "?t=j1.") {
		t.Errorf("the joined page's address %q carries no participant token", loc)
	}
	pid := h.participantID(t, "Ada", "waiting")
	time.Sleep(time.Second) // waiting is a steady state: nothing plays
	if frames, _ := chromedp.Run(watch, chromedp.Evaluate[float64](`document.getElementById('camera').getVideoPlaybackQuality().totalVideoFrames`)); frames != 0 {
		t.Fatalf("a waiting attendee's page shows %v video frames", frames)
	}

	admitted := time.Now()
	h.must(t, "POST", "/participants/"+pid+"/admit", "", 200)
	waitJS(t, watch, "the first video frame after admission",
		`performance.getEntriesByName('lectern:first-frame').length > 0`, 20*time.Second)
	// Page marks as wall-clock milliseconds, against the moment the test asked to admit.
	marks, err := chromedp.Run(watch, chromedp.Evaluate[[]float64](`['lectern:admitted', 'lectern:offer-sent', 'lectern:first-frame'].map(n =>
		performance.timeOrigin + performance.getEntriesByName(n).at(-1).startTime)`))
	if err != nil {
		t.Fatal(err)
	}
	at := float64(admitted.UnixNano()) / 1e6
	t.Logf("waiting attendee: host admits → first video frame %.0f ms (admit → page hears it %.0f ms → WHEP offer sent %.0f ms → frame %.0f ms)",
		marks[2]-at, marks[0]-at, marks[1]-marks[0], marks[2]-marks[1])
	waitPlaying(t, watch, "the admitted attendee", 30*time.Second)
	if hidden, _ := chromedp.Run(watch, chromedp.Evaluate[bool](`document.getElementById('waiting').classList.contains('hidden')`)); !hidden {
		t.Error("the waiting message stays after admission")
	}
	for _, tab := range []context.Context{studio, watch} {
		if foreign := foreignRequests(t, tab, h.s.URL); len(foreign) > 0 {
			t.Errorf("pages requested other origins: %v", foreign)
		}
		chromedp.Run(tab, chromedp.Navigate("about:blank"))
	}
}

// TestBrowserWatchChatAndQuestions: chat typed in one watch page appears in another; a
// message the host deletes disappears; a question asked anonymously shows without its
// asker's name to the other attendee, who upvotes it once.
func TestBrowserWatchChatAndQuestions(t *testing.T) {
	h := newRoomHost(t, "Chatty class")
	b := newBrowser(t, "")
	ada := b.tab(t, h.s.URL+"/watch/"+h.w.ID)
	joinAs(t, ada, "Ada")
	bo := b.tab(t, h.s.URL+"/watch/"+h.w.ID)
	joinAs(t, bo, "Bo")
	for name, tab := range map[string]context.Context{"Ada": ada, "Bo": bo} {
		waitJS(t, tab, name+"'s chat panel", `!document.getElementById('panel').classList.contains('hidden') &&
			document.body.dataset.channel === 'open'`, 30*time.Second)
	}

	js(t, ada, `document.getElementById('chat-text').value = 'Hello from Ada';
		document.getElementById('chat-form').requestSubmit()`)
	const adaLine = `[...document.querySelectorAll('#chat-list li.msg')].some(li => li.textContent.includes('Hello from Ada') && li.textContent.includes('Ada'))`
	waitJS(t, bo, "Ada's message on Bo's page", adaLine, 15*time.Second)
	if n, _ := chromedp.Run(ada, chromedp.Evaluate[int](`[...document.querySelectorAll('#chat-list li.msg')].filter(li => li.textContent.includes('Hello from Ada')).length`)); n != 1 {
		t.Errorf("Ada's own page lists her message %d times, want once", n)
	}

	// The host deletes it: it disappears from both pages.
	var msgs []struct {
		ID   int64
		Text string
	}
	if err := json.Unmarshal(h.must(t, "GET", "/chat", "", 200), &msgs); err != nil || len(msgs) != 1 {
		t.Fatalf("host's chat %+v (%v)", msgs, err)
	}
	h.must(t, "DELETE", "/chat/"+strconv.FormatInt(msgs[0].ID, 10), "", 204)
	for name, tab := range map[string]context.Context{"Ada": ada, "Bo": bo} {
		waitJS(t, tab, "the deleted message gone from "+name+"'s page", `!(`+adaLine+`)`, 15*time.Second)
	}

	js(t, bo, `document.getElementById('tab-qa').click();
		document.getElementById('qa-text').value = 'Will the slides be shared?';
		document.getElementById('qa-anon').checked = true;
		document.getElementById('qa-form').requestSubmit()`)
	const question = `[...document.querySelectorAll('#qa-list li.question')].find(li => li.textContent.includes('Will the slides be shared?'))`
	waitJS(t, ada, "Bo's question on Ada's page", `!!`+question, 15*time.Second)
	shown, err := chromedp.Run(ada, chromedp.Evaluate[string](question+`.textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(shown, "Bo") || !strings.Contains(shown, "Anonymous") {
		t.Errorf("an anonymous question shows to another attendee as %q", shown)
	}
	waitJS(t, bo, "Bo's own question, with his name", question+`?.textContent.includes('Bo (you)')`, 15*time.Second)

	// Ada upvotes once: the button stays pressed and the count is one, however often clicked.
	js(t, ada, question+`.querySelector('button.vote').click()`)
	waitJS(t, ada, "the vote counted", question+`.querySelector('button.vote').getAttribute('aria-pressed') === 'true' &&
		`+question+`.querySelector('button.vote').textContent.includes('1')`, 15*time.Second)
	js(t, ada, question+`.querySelector('button.vote').click()`)
	waitJS(t, bo, "the vote on Bo's page", question+`?.querySelector('button.vote').textContent.includes('1')`, 15*time.Second)
	var qs []struct{ Votes int }
	if err := json.Unmarshal(h.must(t, "GET", "/questions", "", 200), &qs); err != nil || len(qs) != 1 || qs[0].Votes != 1 {
		t.Errorf("questions after two clicks: %+v (%v), want one question with one vote", qs, err)
	}

	// Bo is on the Q&A tab: a new chat message is counted on the Chat tab until he opens it.
	js(t, ada, `document.getElementById('chat-text').value = 'Slides are on the wiki';
		document.getElementById('chat-form').requestSubmit()`)
	waitJS(t, bo, "the unread count", `document.getElementById('tab-chat').textContent === 'Chat (1 new)'`, 15*time.Second)
	js(t, bo, `document.getElementById('tab-chat').click()`)
	if label := text(t, bo, "tab-chat"); label != "Chat" {
		t.Errorf("after opening the chat its tab says %q", label)
	}

	// Bo raises his hand; the host sees it and lowers it, and Bo's button says so.
	js(t, bo, `document.getElementById('hand').click()`)
	waitJS(t, bo, "the raised hand", `document.getElementById('hand').getAttribute('aria-pressed') === 'true' &&
		document.getElementById('hand').textContent === 'Lower hand'`, 15*time.Second)
	var hands []struct{ Participant, Name string }
	if err := json.Unmarshal(h.must(t, "GET", "/hands", "", 200), &hands); err != nil || len(hands) != 1 || hands[0].Name != "Bo" {
		t.Fatalf("host's hand queue %+v (%v), want Bo's", hands, err)
	}
	h.must(t, "DELETE", "/hands/"+hands[0].Participant, "", 204)
	waitJS(t, bo, "the hand lowered by the host", `document.getElementById('hand').getAttribute('aria-pressed') === 'false' &&
		document.getElementById('hand').textContent === 'Raise hand'`, 15*time.Second)
	for _, tab := range []context.Context{ada, bo} {
		chromedp.Run(tab, chromedp.Navigate("about:blank"))
	}
}

// TestBrowserWatchChatAfterRestart: the server restarts under an open watch page; the page's
// channel comes back, reloads the history and shows every message exactly once, old and new.
func TestBrowserWatchChatAfterRestart(t *testing.T) {
	addr := freeAddr(t)
	h := newRoomHost(t, "Restarted class", "--addr", addr)
	b := newBrowser(t, "")
	ada := b.tab(t, h.s.URL+"/watch/"+h.w.ID)
	joinAs(t, ada, "Ada")
	waitJS(t, ada, "the chat panel", `!document.getElementById('panel').classList.contains('hidden') &&
		document.body.dataset.channel === 'open'`, 30*time.Second)
	h.must(t, "POST", "/chat", `{"text": "before the restart"}`, 201)
	count := func(text string) string {
		return `[...document.querySelectorAll('#chat-list li.msg')].filter(li => li.textContent.includes('` + text + `')).length`
	}
	waitJS(t, ada, "the first message", count("before the restart")+` === 1`, 15*time.Second)

	h.s.stop(t)
	waitJS(t, ada, "the page to notice", `document.body.dataset.channel !== 'open'`, 15*time.Second)
	h.s = startServer(t, h.dir, "--addr", addr)
	waitJS(t, ada, "the channel back", `document.body.dataset.channel === 'open'`, 30*time.Second)
	h.must(t, "POST", "/chat", `{"text": "after the restart"}`, 201)
	waitJS(t, ada, "the new message", count("after the restart")+` === 1`, 15*time.Second)
	time.Sleep(time.Second) // a late duplicate from the history reload would show by now
	for _, text := range []string{"before the restart", "after the restart"} {
		if n, _ := chromedp.Run(ada, chromedp.Evaluate[int](count(text))); n != 1 {
			t.Errorf("%q shows %d times after the restart, want once", text, n)
		}
	}
	chromedp.Run(ada, chromedp.Navigate("about:blank"))
}

// TestBrowserWatchRemovedAndEnded: the recording indicator shows while a recording runs; a
// removed attendee's page says so and stops; after the host ends the webinar the page says
// it has ended, links the transcript, and its video and live channel stop.
func TestBrowserWatchRemovedAndEnded(t *testing.T) {
	h := newRoomHost(t, "Short class")
	b := newBrowser(t, "")
	watch := b.tab(t, h.s.URL+"/watch/"+h.w.ID)
	joinAs(t, watch, "Ada")
	bo := b.tab(t, h.s.URL+"/watch/"+h.w.ID)
	joinAs(t, bo, "Bo")
	for name, tab := range map[string]context.Context{"Ada": watch, "Bo": bo} {
		waitJS(t, tab, name+"'s room", `!document.getElementById('player').classList.contains('hidden') &&
			document.body.dataset.channel === 'open'`, 30*time.Second)
	}
	if shown, _ := chromedp.Run(watch, chromedp.Evaluate[bool](`document.getElementById('recording').offsetParent !== null`)); shown {
		t.Fatal("the recording indicator shows before any recording")
	}
	h.must(t, "POST", "/recording", `{"on": true}`, 200)
	waitJS(t, watch, "the recording indicator", `document.getElementById('recording').offsetParent !== null &&
		document.getElementById('recording').textContent === 'Recording'`, 15*time.Second)
	h.must(t, "POST", "/recording", `{"on": false}`, 200)
	waitJS(t, watch, "the recording indicator gone", `document.getElementById('recording').offsetParent === null`, 15*time.Second)

	h.must(t, "POST", "/participants/"+h.participantID(t, "Bo", "admitted")+"/remove", "", 200)
	waitJS(t, bo, "the removed page", `!document.getElementById('over').classList.contains('hidden') &&
		document.getElementById('over-text').textContent.includes('removed you') &&
		document.getElementById('player').classList.contains('hidden') && document.getElementById('camera').srcObject === null`, 15*time.Second)

	h.must(t, "POST", "/end", "", 204)
	waitJS(t, watch, "the ended state", `!document.getElementById('over').classList.contains('hidden') &&
		document.getElementById('over-title').textContent === 'This webinar has ended' &&
		document.getElementById('player').classList.contains('hidden')`, 15*time.Second)
	href, err := chromedp.Run(watch, chromedp.Evaluate[string](`document.getElementById('over-transcript').href`))
	if err != nil || !strings.Contains(href, "/api/webinars/"+h.w.ID+"/transcript.vtt?t=") {
		t.Errorf("transcript link %q (%v)", href, err)
	}
	if st, _ := chromedp.Run(watch, chromedp.Evaluate[bool](`document.getElementById('camera').srcObject === null &&
		document.getElementById('state').textContent === 'ended'`)); !st {
		t.Error("the ended page still holds its video")
	}
	for _, tab := range []context.Context{watch, bo} {
		chromedp.Run(tab, chromedp.Navigate("about:blank"))
	}
}

// TestBrowserWatchPasscodeAndSettings: a passcode webinar's form takes the name and the
// passcode in one step (a wrong passcode is refused in words); the room then follows the
// webinar's settings: chat to the hosts only, Q&A off, each with its reason.
func TestBrowserWatchPasscodeAndSettings(t *testing.T) {
	h := newRoomHost(t, "Locked-down class")
	h.must(t, "PATCH", "", `{"passcode": "2468", "chat": "hosts", "qa": false}`, 200)
	b := newBrowser(t, "")
	watch := b.tab(t, h.s.URL+"/watch/"+h.w.ID)
	waitJS(t, watch, "the passcode form", `!document.getElementById('join').classList.contains('hidden') &&
		document.getElementById('name-form').classList.contains('hidden')`, 30*time.Second)
	js(t, watch, `document.getElementById('join-name').value = 'Ada';
		document.getElementById('passcode').value = '1111';
		document.getElementById('join').requestSubmit()`)
	waitJS(t, watch, "the wrong passcode refused", `document.getElementById('error').textContent.includes('wrong passcode')`, 15*time.Second)
	js(t, watch, `document.getElementById('passcode').value = '2468';
		document.getElementById('join').requestSubmit()`)
	waitJS(t, watch, "the room", `!document.getElementById('panel').classList.contains('hidden') &&
		document.getElementById('join').classList.contains('hidden') && document.getElementById('error').textContent === ''`, 30*time.Second)
	h.participantID(t, "Ada", "admitted")
	waitJS(t, watch, "chat to the hosts only", `document.getElementById('chat-to').value === 'hosts' &&
		document.querySelector('#chat-to option[value="everyone"]').disabled &&
		document.getElementById('chat-off').textContent.includes('hosts only')`, 15*time.Second)
	waitJS(t, watch, "Q&A off", `document.getElementById('qa-form').classList.contains('hidden') &&
		document.getElementById('qa-off').textContent.includes('Q&A is off')`, 15*time.Second)
	js(t, watch, `document.getElementById('chat-text').value = 'Can you hear me?';
		document.getElementById('chat-form').requestSubmit()`)
	waitJS(t, watch, "the message to the hosts", `[...document.querySelectorAll('#chat-list li.msg')].some(li =>
		li.textContent.includes('Can you hear me?') && li.textContent.includes('to the hosts'))`, 15*time.Second)
	chromedp.Run(watch, chromedp.Navigate("about:blank"))
}

// TestBrowserWatchPhoneLayout: at 390 px the chat and Q&A panel sits below the video, nothing
// overflows sideways, and the page's text and controls keep 4.5:1 contrast.
func TestBrowserWatchPhoneLayout(t *testing.T) {
	h := newRoomHost(t, "A webinar with a rather long title for a phone screen")
	b := newBrowser(t, "")
	watch := b.tab(t, "about:blank")
	if err := chromedp.Do(watch, chromedp.EmulateViewport(390, 844), chromedp.Navigate(h.s.URL+"/watch/"+h.w.ID)); err != nil {
		t.Fatal(err)
	}
	joinAs(t, watch, "Ada")
	waitJS(t, watch, "the room", `!document.getElementById('panel').classList.contains('hidden')`, 30*time.Second)
	js(t, watch, `document.getElementById('chat-text').value = 'Averyveryverylongwordwithoutanyspacesthatmustwrapinsidethepanelratherthanoverflowing';
		document.getElementById('chat-form').requestSubmit()`)
	waitJS(t, watch, "the long message", `document.querySelectorAll('#chat-list li.msg').length === 1`, 15*time.Second)
	geo, err := chromedp.Run(watch, chromedp.Evaluate[map[string]float64](`(() => {
		const s = document.getElementById('stage').getBoundingClientRect();
		const p = document.getElementById('panel').getBoundingClientRect();
		return {stageBottom: s.bottom, panelTop: p.top, panelLeft: p.left, panelRight: p.right,
			scrollWidth: document.documentElement.scrollWidth, width: document.documentElement.clientWidth};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if geo["width"] != 390 {
		t.Fatalf("viewport %v px wide, want 390", geo["width"])
	}
	if geo["panelTop"] < geo["stageBottom"] {
		t.Errorf("at 390 px the panel (top %v) is not below the video (bottom %v)", geo["panelTop"], geo["stageBottom"])
	}
	if geo["scrollWidth"] > geo["width"] || geo["panelRight"] > geo["width"] || geo["panelLeft"] < 0 {
		t.Errorf("at 390 px the page overflows sideways: %v", geo)
	}
	wide, err := chromedp.Run(watch, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')]
		.filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
		.map(e => e.tagName + '#' + e.id + '.' + e.className)`))
	if err != nil || len(wide) > 0 {
		t.Errorf("elements wider than the screen: %v (%v)", wide, err)
	}
	low, err := chromedp.Run(watch, chromedp.Evaluate[[]string](lowContrast))
	if err != nil || len(low) > 0 {
		t.Errorf("text under 4.5:1 contrast: %v (%v)", low, err)
	}
	// Full screen takes the stage, so the captions stay over the video (a real click: the
	// browser allows full screen only on a user's gesture).
	if err := chromedp.Do(watch, chromedp.Click("#fullscreen")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, watch, "the stage in full screen", `document.fullscreenElement?.id === 'stage' &&
		document.fullscreenElement.contains(document.getElementById('captions')) &&
		document.getElementById('fullscreen').textContent === 'Exit full screen'`, 10*time.Second)
	chromedp.Run(watch, chromedp.Navigate("about:blank"))
}

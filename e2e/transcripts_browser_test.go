package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lectern/bench"
)

// speakAndRecord publishes flite speech of classSentences as a WHIP presenter with the
// recording on, and returns once the live transcript holds a final per sentence and the
// recording is stopped: a webinar with a stored live transcript and a finished recording,
// made through the real server.
func speakAndRecord(t *testing.T, url, id, key, bearer string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, ogg, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: classSentences, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := bench.PublishOgg(ctx, url, id, key, ogg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(ctx)
	api := url + "/api/webinars/" + id
	if st := consoleAPI(t, "POST", api+"/recording", bearer, `{"on":true}`, nil); st != 200 {
		t.Fatalf("recording on: %d", st)
	}
	if err := pub.Send(ctx); err != nil {
		t.Fatalf("sending speech: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for liveCues(t, api, bearer) < len(classSentences) {
		if time.Now().After(deadline) {
			t.Fatalf("the live transcript has %d cues, want %d", liveCues(t, api, bearer), len(classSentences))
		}
		time.Sleep(250 * time.Millisecond)
	}
	if st := consoleAPI(t, "POST", api+"/recording", bearer, `{"on":false}`, nil); st != 200 {
		t.Fatalf("recording off: %d", st)
	}
}

type transcriptVersions struct {
	Default  string `json:"default"`
	Versions []struct {
		ID, Kind, State, Source, Error string
		Cues                           int
	} `json:"versions"`
}

func liveCues(t *testing.T, api, bearer string) int {
	t.Helper()
	var list transcriptVersions
	if st := consoleAPI(t, "GET", api+"/transcripts", bearer, "", &list); st != 200 {
		t.Fatalf("GET transcripts: %d", st)
	}
	for _, v := range list.Versions {
		if v.ID == "live" {
			return v.Cues
		}
	}
	return 0
}

// TestBrowserTranscriptVersions (issue 11 items 2 and 5, the pages): a host whose webinar has
// a live transcript (flite speech through a real server) and a recording transcribes the
// recording again from the webinar's page and watches it finish; opens the cue editor on the
// live version, corrects a cue and saves; the corrected version is listed, chosen as the
// default, and transcript.srt then holds the correction while ?version=live does not. The
// processing regions saved on the page show in the API, and regions that leave out the
// engine's disable "Transcribe again" with the reason. Both pages work at 390 px with 4.5:1
// contrast.
func TestBrowserTranscriptVersions(t *testing.T) {
	dir := t.TempDir()
	const email, password = "teacher@school.example", "correct horse battery staple"
	addUser(t, dir, email, password, false)
	s := startServer(t, dir)
	bearer := apiToken(t, dir, email)
	var w struct {
		ID        string `json:"id"`
		StreamKey string `json:"stream_key"`
	}
	if st := consoleAPI(t, "POST", s.URL+"/api/webinars", bearer, `{"title":"Weather class","visibility":"public"}`, &w); st != 201 || w.StreamKey == "" {
		t.Fatalf("create: %d %+v", st, w)
	}
	api := s.URL + "/api/webinars/" + w.ID
	speakAndRecord(t, s.URL, w.ID, w.StreamKey, bearer)

	b := newBrowser(t, "")
	tab := b.tab(t, s.URL+"/login?next=/dashboard/"+w.ID)
	signIn(t, tab, email, password)
	waitJS(t, tab, "the webinar's page", `location.pathname === '/dashboard/`+w.ID+`' && document.body.dataset.ready === '1'`, 30*time.Second)
	waitJS(t, tab, "the live version listed as the default", `(() => { const r = document.querySelector('#versions tr[data-id="live"]');
		return !!r && r.querySelector('input.default-version').checked && !!r.querySelector('a.edit-version'); })()`, 15*time.Second)
	if e := text(t, tab, "error"); e != "" {
		t.Fatalf("the webinar's page shows an error: %q", e)
	}

	// Transcribe the recording again: a new version runs, shows progress, and finishes.
	waitJS(t, tab, "the recording offered for transcribing again", `!!document.querySelector('#retranscribe button.retranscribe:not(:disabled)')`, 15*time.Second)
	js(t, tab, `document.querySelector('#retranscribe button.retranscribe').click()`)
	waitJS(t, tab, "a re-transcription listed", `!!document.querySelector('#versions tr[data-kind="retranscription"]')`, 15*time.Second)
	sawRunning, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`!!document.querySelector('#versions tr[data-state="running"] progress')`))
	waitJS(t, tab, "the re-transcription finished", `document.querySelector('#versions tr[data-kind="retranscription"]').dataset.state === 'done'`, 90*time.Second)
	t.Logf("progress bar seen while running: %v", sawRunning)
	var list transcriptVersions
	consoleAPI(t, "GET", api+"/transcripts", bearer, "", &list)
	for _, v := range list.Versions {
		if v.Kind == "retranscription" && (v.State != "done" || v.Cues == 0) {
			t.Errorf("re-transcribed version %+v, want done with cues", v)
		}
	}

	// The cue editor on the live version: change the first cue, delete the last (after a
	// "no", which keeps it, then a "yes"), save.
	liveN := liveCues(t, api, bearer)
	js(t, tab, `document.querySelector('#versions tr[data-id="live"] a.edit-version').click()`)
	waitJS(t, tab, "the cue editor", `location.pathname === '/dashboard/`+w.ID+`/transcripts/live' && document.body.dataset.ready === '1' && document.querySelectorAll('#cues li').length === `+strconv.Itoa(liveN), 15*time.Second)
	times, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('#cues .cue-time').textContent`))
	if !strings.Contains(times, " – ") || !strings.Contains(times, ":") || !strings.Contains(times, ".") {
		t.Errorf("cue time shown as %q, want mm:ss.s – mm:ss.s", times)
	}
	if leave, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented; })()`)); leave {
		t.Error("the editor warns about leaving before anything changed")
	}
	const corrected = "Good morning, zebras of the seventh grade."
	js(t, tab, `const ta = document.querySelector('#cues textarea.cue-text'); ta.value = `+jsString(corrected)+`; ta.dispatchEvent(new Event('input'))`)
	waitJS(t, tab, "the change counted", `document.getElementById('changes').textContent.startsWith('1 cue changed') && !document.getElementById('save').disabled`, 5*time.Second)
	if leave, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented; })()`)); !leave {
		t.Error("the editor does not warn about leaving with unsaved changes")
	}
	lastWords, _ := chromedp.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll('#cues textarea.cue-text')].pop().value`))
	js(t, tab, `window.confirm = () => false; [...document.querySelectorAll('#cues button.delete-cue')].pop().click()`)
	if n, _ := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('#cues li').length`)); n != liveN {
		t.Fatalf("declining the confirmation deleted the cue anyway: %d cues left of %d", n, liveN)
	}
	js(t, tab, `window.confirm = () => true; [...document.querySelectorAll('#cues button.delete-cue')].pop().click()`)
	waitJS(t, tab, "the cue deleted", `document.querySelectorAll('#cues li').length === `+strconv.Itoa(liveN-1)+` &&
		document.getElementById('changes').textContent === '1 cue changed, 1 cue deleted, not saved yet.'`, 5*time.Second)
	checkNarrow(t, tab, s.URL, "the cue editor")
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1200, 900)); err != nil {
		t.Fatal(err)
	}
	js(t, tab, `document.getElementById('save').click()`)
	waitJS(t, tab, "back on the webinar's page with the corrected version", `location.pathname === '/dashboard/`+w.ID+`' && document.body.dataset.ready === '1' &&
		!!document.querySelector('#versions tr[data-kind="edit"]') && document.getElementById('notice').textContent.includes('saved as a new version')`, 30*time.Second)
	js(t, tab, `const r = document.querySelector('#versions tr[data-kind="edit"] input.default-version'); r.checked = true; r.dispatchEvent(new Event('change'))`)
	waitJS(t, tab, "the corrected version chosen", `document.getElementById('notice').textContent.includes('is now the default download')`, 15*time.Second)
	consoleAPI(t, "GET", api+"/transcripts", bearer, "", &list)
	if list.Default == "live" || list.Default == "" {
		t.Fatalf("default after choosing the corrected version: %q", list.Default)
	}
	for _, v := range list.Versions {
		if v.ID == list.Default && (v.Kind != "edit" || v.Source != "live" || v.Cues != liveN-1) {
			t.Errorf("the default version %+v, want an edit of live with %d cues", v, liveN-1)
		}
	}
	// Subtitle lines wrap at about 42 characters: compare the words.
	flat := func(b []byte) string { return strings.Join(strings.Fields(string(b)), " ") }
	if srt := flat(get(t, api+"/transcript.srt")); !strings.Contains(srt, corrected) || strings.Contains(srt, lastWords) {
		t.Errorf("transcript.srt (default) misses the correction or keeps the deleted cue %q:\n%s", lastWords, srt)
	}
	if srt := flat(get(t, api+"/transcript.srt?version=live")); strings.Contains(srt, "zebras") || !strings.Contains(srt, lastWords) {
		t.Errorf("transcript.srt?version=live changed or lost its last cue %q:\n%s", lastWords, srt)
	}
	// The page's per-version links download that version.
	href, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('#versions tr[data-kind="edit"] a[data-format="vtt"]').href`))
	if !strings.Contains(href, "?version=") || !strings.Contains(flat(get(t, href)), corrected) {
		t.Errorf("the corrected version's WebVTT link %q does not give the correction", href)
	}

	// Processing regions: saved through the settings form, shown by the API; regions that
	// leave out the engine's ("local") disable "Transcribe again" and say why.
	js(t, tab, `document.getElementById('s-regions').value = ' eu-west, eu-central '; document.getElementById('settings').requestSubmit()`)
	waitJS(t, tab, "the settings saved", `document.getElementById('notice').textContent === 'Settings saved.'`, 15*time.Second)
	var got struct{ Regions []string }
	consoleAPI(t, "GET", api, bearer, "", &got)
	if strings.Join(got.Regions, ",") != "eu-west,eu-central" {
		t.Errorf("regions after saving: %q", got.Regions)
	}
	waitJS(t, tab, "Transcribe again disabled with the reason", `document.querySelector('#retranscribe button.retranscribe').disabled &&
		document.getElementById('retranscribe-blocked').textContent.includes('"local"')`, 15*time.Second)
	js(t, tab, `document.getElementById('s-regions').value = 'eu west!'; document.getElementById('settings').requestSubmit()`)
	waitJS(t, tab, "the bad label refused", `document.getElementById('error').textContent.includes('not a region label')`, 15*time.Second)
	consoleAPI(t, "GET", api, bearer, "", &got)
	if strings.Join(got.Regions, ",") != "eu-west,eu-central" {
		t.Errorf("a refused label changed the regions: %q", got.Regions)
	}
	js(t, tab, `document.getElementById('s-regions').value = ''; document.getElementById('settings').requestSubmit()`)
	waitJS(t, tab, "any region again", `document.getElementById('notice').textContent === 'Settings saved.' && !document.querySelector('#retranscribe button.retranscribe').disabled`, 15*time.Second)
	got.Regions = nil // an empty list is left out of the answer
	if consoleAPI(t, "GET", api, bearer, "", &got); len(got.Regions) != 0 {
		t.Errorf("regions after clearing: %q", got.Regions)
	}

	// Regions changed elsewhere (another co-host, a script) after the page loaded: the
	// server refuses, and the page shows its reason.
	if st := consoleAPI(t, "PATCH", api, bearer, `{"regions":["eu-west"]}`, nil); st != 200 {
		t.Fatalf("PATCH regions: %d", st)
	}
	js(t, tab, `document.querySelector('#retranscribe button.retranscribe').click()`)
	waitJS(t, tab, "the server's refusal shown", `document.getElementById('error').textContent.includes('region "local"')`, 15*time.Second)

	js(t, tab, `document.querySelector('#versions tr[data-kind="edit"] details').open = true`)
	checkNarrow(t, tab, s.URL, "the webinar's page")
	chromedp.Run(tab, chromedp.Navigate("about:blank"))
}

// checkNarrow: at 390 px wide nothing sticks out, all text has 4.5:1 contrast, and nothing
// came from another origin.
func checkNarrow(t *testing.T, tab context.Context, origin, page string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if w, _ := chromedp.Run(tab, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		wide, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`))
		t.Errorf("%s is %d px wide in a 390 px window: %v", page, w, wide)
	}
	if low, err := chromedp.Run(tab, chromedp.Evaluate[[]string](lowContrast)); err != nil || len(low) > 0 {
		t.Errorf("%s: text below 4.5:1 contrast: %v (%v)", page, low, err)
	}
	if foreign := foreignRequests(t, tab, origin); len(foreign) > 0 {
		t.Errorf("%s requested other origins: %v", page, foreign)
	}
}

// TestBrowserTranscribeAgainNotConfigured: on a server without a re-transcription engine the
// webinar's page offers the recording but disables "Transcribe again" and says why.
func TestBrowserTranscribeAgainNotConfigured(t *testing.T) {
	dir := t.TempDir()
	const email, password = "teacher@school.example", "correct horse battery staple"
	addUser(t, dir, email, password, false)
	s := startServer(t, dir, "--retranscribe-engine", "none")
	bearer := apiToken(t, dir, email)
	var w struct {
		ID        string `json:"id"`
		StreamKey string `json:"stream_key"`
	}
	if st := consoleAPI(t, "POST", s.URL+"/api/webinars", bearer, `{"title":"Plain class","visibility":"public"}`, &w); st != 201 || w.StreamKey == "" {
		t.Fatalf("create: %d %+v", st, w)
	}
	speakAndRecord(t, s.URL, w.ID, w.StreamKey, bearer)

	b := newBrowser(t, "")
	tab := b.tab(t, s.URL+"/login?next=/dashboard/"+w.ID)
	signIn(t, tab, email, password)
	waitJS(t, tab, "the webinar's page", `location.pathname === '/dashboard/`+w.ID+`' && document.body.dataset.ready === '1'`, 30*time.Second)
	waitJS(t, tab, "Transcribe again disabled with the reason", `(() => { const b = document.querySelector('#retranscribe button.retranscribe');
		return !!b && b.disabled && document.getElementById('retranscribe-blocked').textContent.includes('not set up on this server'); })()`, 15*time.Second)
	if e := text(t, tab, "error"); e != "" {
		t.Errorf("the webinar's page shows an error: %q", e)
	}
	chromedp.Run(tab, chromedp.Navigate("about:blank"))
}

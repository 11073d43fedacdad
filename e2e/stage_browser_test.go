package e2e

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lectern/bench"
)

// TestBrowserStagePanel (issue 10): a host and a panelist go live from two studio pages
// (signed in, fake camera and microphone, no stream key); a watch page shows the large tile
// and a strip tile, both presenters named; the host mutes the panelist from the console's
// stage panel and the panelist's studio says it was the host. Both fake microphones speak
// (flite): the watch page names each speaker's captions, and the transcript stores both.
func TestBrowserStagePanel(t *testing.T) {
	dir := t.TempDir()
	const password = "correct horse battery staple"
	addUser(t, dir, "host@school.example", password, false)
	addUser(t, dir, "panel@school.example", password, false)
	s := startServer(t, dir)
	hostToken := consoleToken(t, dir, "host@school.example")
	var created struct{ ID string }
	if st := consoleAPI(t, "POST", s.URL+"/api/webinars", hostToken, `{"title":"Panel class","visibility":"public"}`, &created); st != 201 {
		t.Fatalf("create webinar: %d", st)
	}
	id := created.ID
	if st := consoleAPI(t, "PUT", s.URL+"/api/webinars/"+id+"/members", hostToken, `{"email":"panel@school.example","role":"panelist"}`, nil); st != 200 {
		t.Fatalf("panelist member: %d", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wav, _, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: classSentences, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, wav)
	goLive := func(email, name string) context.Context {
		t.Helper()
		tab := consoleIsolatedTab(t, b, s.URL+"/login?next="+url.QueryEscape("/studio/"+id))
		signIn(t, tab, email, password)
		waitJS(t, tab, name+"'s studio", `location.pathname === '/studio/`+id+`' && document.body.dataset.ready === '1'`, 30*time.Second)
		js(t, tab, `document.getElementById('speaker').value = `+jsString(name)+`; document.getElementById('go').click()`)
		waitJS(t, tab, name+" live", `document.getElementById('state').textContent === 'live'`, 30*time.Second)
		return tab
	}
	host := goLive("host@school.example", "Hana Host")
	panel := goLive("panel@school.example", "Pavel Panel")

	watch := b.tab(t, s.URL+"/watch/"+id)
	joinAs(t, watch, "Viewer")
	// Caption lines come and go; remember every speaker label the page ever shows.
	js(t, watch, `window.ccNames = new Set(); new MutationObserver(() => {
		for (const l of document.querySelectorAll('#captions .line')) {
			const m = /^(Hana Host|Pavel Panel):/.exec(l.textContent);
			if (m) window.ccNames.add(m[1]);
		} }).observe(document.getElementById('captions'), { childList: true, subtree: true, characterData: true })`)
	// Both names on the stage: the large tile's label and the strip's visible tile, whose
	// own video plays.
	const shown = `(() => {
		const tiles = [...document.querySelectorAll('#strip .tile:not(.hidden)')];
		const names = tiles.map(t => t.querySelector('figcaption').textContent);
		names.push(document.getElementById('speaker').textContent);
		return names; })()`
	waitJS(t, watch, "both presenters named on the watch page", `(() => { const n = `+shown+`;
		return n.some(x => x.startsWith('Hana Host')) && n.some(x => x.startsWith('Pavel Panel')) &&
			!document.getElementById('strip').classList.contains('hidden'); })()`, 30*time.Second)
	waitJS(t, watch, "the strip tile's video playing", `[...document.querySelectorAll('#strip .tile:not(.hidden) video')]
		.some(v => v.getVideoPlaybackQuality().totalVideoFrames > 5 && v.videoWidth > 0)`, 30*time.Second)
	waitJS(t, watch, "the large tile's video playing", `document.getElementById('camera').getVideoPlaybackQuality().totalVideoFrames > 5`, 30*time.Second)
	if names, err := chromedp.Run(watch, chromedp.Evaluate[[]string](shown)); err == nil {
		t.Logf("watch page names: %q", names)
	}

	waitJS(t, watch, "both speakers' captions named on the watch page", `window.ccNames.size === 2`, 90*time.Second)

	// The host mutes the panelist's microphone from the stage panel.
	row := `[...document.querySelectorAll('#stage-list li')].find(li => li.textContent.includes('Pavel Panel'))`
	waitJS(t, host, "the panelist in the host's stage panel", `!!`+row, 15*time.Second)
	js(t, host, row+`.querySelector('[data-action="audio-mute"]').click()`)
	waitJS(t, panel, "muted by the host on the panelist's studio", `(() => { const n = document.getElementById('host-muted');
		return !n.classList.contains('hidden') && /muted by the host/.test(n.textContent) &&
			document.getElementById('mic').textContent === 'Unmute microphone'; })()`, 15*time.Second)
	waitJS(t, watch, "the watch page shows the panelist's microphone off", `[...document.querySelectorAll('#strip .tile, #speaker')]
		.some(e => /Pavel Panel/.test(e.textContent) && /microphone off|muted/.test(e.textContent))`, 15*time.Second)
	// The host asks to unmute; the panelist accepts.
	waitJS(t, host, "the ask button", `!!`+row+`.querySelector('[data-action="audio-ask"]')`, 15*time.Second)
	js(t, host, row+`.querySelector('[data-action="audio-ask"]').click()`)
	waitJS(t, panel, "the ask prompt", `!document.getElementById('ask').classList.contains('hidden')`, 15*time.Second)
	js(t, panel, `document.getElementById('ask-yes').click()`)
	waitJS(t, host, "the panelist's microphone on again", `!!`+row+` && !/microphone off/.test(`+row+`.textContent)`, 15*time.Second)
	for _, tab := range []context.Context{host, panel, watch} {
		if low, err := chromedp.Run(tab, chromedp.Evaluate[[]string](lowContrast)); err != nil || len(low) > 0 {
			t.Errorf("text under 4.5:1 contrast: %v %v", low, err)
		}
		if foreign := foreignRequests(t, tab, s.URL); len(foreign) > 0 {
			t.Fatalf("pages requested other origins: %v", foreign)
		}
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lectern/bench"
)

// browser is a headless Debian Chromium with a fake camera and microphone.
type browser struct {
	ctx context.Context
}

func newBrowser(t *testing.T, fakeAudioWAV string) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (make test installs Debian's chromium package)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	if fakeAudioWAV != "" {
		opts = append(opts, chromedp.Flag("use-file-for-fake-audio-capture", fakeAudioWAV))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return &browser{ctx: ctx}
}

// tab opens url in a new tab.
func (b *browser) tab(t *testing.T, url string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return ctx
}

// foreignRequests lists what a page loaded or fetched from anywhere but origin, from the
// browser's own resource timing (scripts, styles, images, fetch and EventSource).
func foreignRequests(t *testing.T, ctx context.Context, origin string) []string {
	t.Helper()
	urls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[location.href, ...performance.getEntriesByType('resource').map(e => e.name)]`))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range urls {
		if !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			out = append(out, u)
		}
	}
	return out
}

// waitJS evaluates expr every 200 ms until it returns true or the timeout passes.
func waitJS(t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('state')?.textContent || '') + ' | ' + (document.getElementById('error')?.textContent || '')`))
			t.Fatalf("timed out waiting for %s (err %v, page state %q)", what, err, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// videoProgress reads how many frames the watch page's camera video has shown and its time.
const videoProgress = `(() => { const v = document.getElementById('camera');
  return [v.getVideoPlaybackQuality().totalVideoFrames, v.currentTime, v.videoWidth]; })()`

func TestBrowserStudioToWatch(t *testing.T) {
	dir := t.TempDir()
	w := createWebinar(t, dir, "Browser class")
	s := startServer(t, dir)
	b := newBrowser(t, "")

	studio := b.tab(t, s.URL+"/studio/"+w.ID+"?key="+w.StreamKey+"&autostart=1")
	waitJS(t, studio, "the studio to go live", `document.getElementById('state').textContent === 'live'`, 30*time.Second)

	watch := b.tab(t, s.URL+"/watch/"+w.ID)
	joinAs(t, watch, "Viewer")
	waitJS(t, watch, "video frames on the watch page",
		`document.getElementById('camera').getVideoPlaybackQuality().totalVideoFrames > 10`, 30*time.Second)
	first, err := chromedp.Run(watch, chromedp.Evaluate[[]float64](videoProgress))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	second, err := chromedp.Run(watch, chromedp.Evaluate[[]float64](videoProgress))
	if err != nil {
		t.Fatal(err)
	}
	if second[0] <= first[0] || second[1] <= first[1] || second[2] == 0 {
		t.Fatalf("video is not playing: frames/time/width %v then %v", first, second)
	}
	// What a viewer waits: offer sent → first frame shown (logged; timing is not asserted).
	if ms, err := chromedp.Run(watch, chromedp.Evaluate[float64](`performance.getEntriesByName('lectern:first-frame')[0].startTime -
		performance.getEntriesByName('lectern:offer-sent')[0].startTime`)); err == nil {
		t.Logf("Chromium viewer: WHEP offer sent → first frame %.0f ms", ms)
	} else {
		t.Errorf("join marks missing: %v", err)
	}
	waitJS(t, watch, "the viewer count", `/1 watching/.test(document.getElementById('viewers').textContent)`, 15*time.Second)
	if muted, _ := chromedp.Run(watch, chromedp.Evaluate[bool](`document.getElementById('camera').muted`)); !muted {
		t.Error("watch page should start muted (autoplay policy) and offer an unmute button")
	}
	for _, tab := range []context.Context{studio, watch} {
		if foreign := foreignRequests(t, tab, s.URL); len(foreign) > 0 {
			t.Fatalf("pages requested other origins: %v", foreign)
		}
	}
}

// TestBrowserCaptions: the studio's fake microphone plays a flite recording of known
// sentences; the watch page's caption area shows their words.
func TestBrowserCaptions(t *testing.T) {
	dir := t.TempDir()
	w := createWebinar(t, dir, "Browser captions")
	s := startServer(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wav, _, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: classSentences, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, wav)
	watch := b.tab(t, s.URL+"/watch/"+w.ID)
	joinAs(t, watch, "Viewer")
	studio := b.tab(t, s.URL+"/studio/"+w.ID+"?key="+w.StreamKey+"&autostart=1&speaker=Ada")
	waitJS(t, studio, "the studio to go live", `document.getElementById('state').textContent === 'live'`, 30*time.Second)
	waitJS(t, watch, "spoken words in the caption area",
		`/weather|seasons|morning|welcome/i.test(document.getElementById('captions').textContent)`, 60*time.Second)
	// At most two lines are shown, each about 42 characters.
	lines, err := chromedp.Run(watch, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#captions .line')].map(e => e.firstChild.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) > 2 {
		t.Errorf("caption area shows %d lines: %q", len(lines), lines)
	}
	for _, l := range lines {
		if len([]rune(l)) > 42 {
			t.Errorf("caption line longer than 42 characters: %q", l)
		}
	}
	// The presenter's name from the studio travels with every stored final.
	deadline := time.Now().Add(40 * time.Second)
	for {
		var doc struct {
			Captions []struct {
				Speaker string `json:"speaker"`
			} `json:"captions"`
		}
		err := json.Unmarshal(get(t, s.URL+"/api/webinars/"+w.ID+"/transcript.json"), &doc)
		cues := doc.Captions
		if err == nil && len(cues) > 0 {
			if cues[0].Speaker != "Ada" {
				t.Errorf("speaker %q, want Ada", cues[0].Speaker)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no final in the transcript after the browser session (%v)", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

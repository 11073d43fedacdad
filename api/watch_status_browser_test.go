package api

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lectern/captions"
)

// The watch page shows viewers, in Debian's headless Chromium, when captions are delayed
// or paused, and clears the line once they are back.
func TestWatchPageShowsCaptionStatus(t *testing.T) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	ts := newTestServer(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/watch/"+ts.webinar.ID)); err != nil {
		t.Fatal(err)
	}
	// The page joins the room by name first; captions open once admitted.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const f = document.getElementById('name-form');
			if (f.classList.contains('hidden')) return false;
			document.getElementById('name').value = 'Viewer'; f.requestSubmit(); return true; })()`)); err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watch page never asked for a name")
		}
	}
	r, err := ts.live.Room(context.Background(), ts.webinar)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); r.Hub().Languages()["en"] == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the watch page never opened its caption stream")
		}
	}
	wait := func(what, expr string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page never showed %s", what)
			}
		}
	}
	r.Hub().PublishStatus(captions.Status{State: "delayed", LagMS: 4200})
	wait("captions delayed", `(() => { const s = document.querySelector('#captions #cc-status');
		return !!s && s.dataset.state === 'delayed' && s.textContent.includes('delayed') && s.textContent.includes('4 s'); })()`)
	r.Hub().PublishStatus(captions.Status{State: "paused", LagMS: 0})
	wait("captions paused", `document.querySelector('#cc-status')?.dataset.state === 'paused'`)
	r.Hub().PublishStatus(captions.Status{State: "ok"})
	wait("the status line cleared", `document.querySelector('#cc-status') === null`)
}

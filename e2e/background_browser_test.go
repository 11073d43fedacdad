package e2e

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// recordPeers keeps every RTCPeerConnection the page makes in window.__pcs, so the test can
// see which track the studio's WHIP sender carries. It runs before the page's own scripts
// (through DevTools, not the page, so the page's CSP is untouched).
const recordPeers = `(() => { const P = window.RTCPeerConnection; window.__pcs = [];
  window.RTCPeerConnection = class extends P { constructor(...a) { super(...a); window.__pcs.push(this); } }; })()`

// sentVideo describes the video track on the live WHIP sender: "canvas" for the effect's
// canvas.captureStream() track, "camera" for the camera itself.
const sentVideo = `(() => { const pc = (window.__pcs || []).filter(p => p.connectionState === 'connected').at(-1);
  const s = pc && pc.getSenders().find(s => s.track && s.track.kind === 'video');
  return !s ? '' : s.track instanceof CanvasCaptureMediaStreamTrack ? 'canvas' : 'camera'; })()`

// framesEncoded sums what the studio has encoded and sent on its video senders.
const framesEncoded = `(async () => { let n = 0; for (const pc of window.__pcs || []) {
  (await pc.getStats()).forEach(r => { if (r.type === 'outbound-rtp' && r.kind === 'video') n += r.framesEncoded || 0; }); }
  return n; })()`

// TestBrowserVirtualBackground (issue 10 item 5): in headless Chromium with the fake camera, the
// presenter turns blur on while live; the WHIP sender then carries the canvas track that
// MediaPipe's segmentation draws (replaceTrack, same session) and frames keep flowing. A server
// whose model files cannot be loaded gets no background option at all.
func TestBrowserVirtualBackground(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "web", "static", "mediapipe", "VERSION")); err != nil {
		t.Skip("MediaPipe model files were not fetched (scripts/fetch-mediapipe.sh could not reach the npm registry); the studio hides the option")
	}
	dir := t.TempDir()
	w := createWebinar(t, dir, "Background class")
	s := startServer(t, dir)
	b := newBrowser(t, "")

	studio, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(studio, chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		_, err := cdp.Call(ctx, tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordPeers})
		return err
	}), chromedp.Navigate(s.URL+"/studio/"+w.ID+"?key="+w.StreamKey+"&autostart=1")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, studio, "the background choice", `!document.getElementById('bg-row').classList.contains('hidden')`, 30*time.Second)
	waitJS(t, studio, "the studio to go live", `document.getElementById('state').textContent === 'live'`, 30*time.Second)
	waitJS(t, studio, "the camera on the WHIP sender", sentVideo+` === 'camera'`, 10*time.Second)

	js(t, studio, `(() => { const s = document.getElementById('bg'); s.value = 'blur'; s.dispatchEvent(new Event('change')); })()`)
	waitJS(t, studio, "the blurred canvas track on the WHIP sender", sentVideo+` === 'canvas'`, 60*time.Second)
	waitJS(t, studio, "frames counted by the page", `Number(document.getElementById('bg').dataset.fps) > 0`, 60*time.Second)
	first, err := chromedp.Run(studio, chromedp.Evaluate[float64](framesEncoded, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	second, err := chromedp.Run(studio, chromedp.Evaluate[float64](framesEncoded, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	fps, _ := chromedp.Run(studio, chromedp.Evaluate[string](`document.getElementById('bg').dataset.fps`))
	t.Logf("blur at 640×360: %s frames a second drawn in the page, %.1f encoded a second", fps, (second-first)/3)
	if second <= first {
		t.Fatalf("no video frames sent with blur on: framesEncoded %v then %v", first, second)
	}
	if live, _ := chromedp.Run(studio, chromedp.Evaluate[string](`document.getElementById('state').textContent`)); live != "live" {
		t.Fatalf("turning blur on broke the session: state %q", live)
	}

	// An uploaded picture replaces the background: the fake camera shows no person, so the
	// preview (what is sent) is the picture's magenta nearly everywhere. On a phone-wide page.
	if err := chromedp.Do(studio, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	js(t, studio, `(() => { const s = document.getElementById('bg'); s.value = 'image'; s.dispatchEvent(new Event('change')); })()`)
	if err := chromedp.Do(studio, chromedp.SetUploadFiles("#bg-file", []string{magentaPNG(t)})); err != nil {
		t.Fatal(err)
	}
	waitJS(t, studio, "the uploaded picture behind the presenter", `(() => { const v = document.getElementById('preview');
	  const c = document.createElement('canvas'); c.width = 64; c.height = 36; const x = c.getContext('2d');
	  x.drawImage(v, 0, 0, 64, 36); const [r, g, b] = x.getImageData(2, 2, 1, 1).data; return r > 200 && g < 60 && b > 200; })()`, 30*time.Second)
	if w, _ := chromedp.Run(studio, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the studio with the background choice is %d px wide in a 390 px window", w)
	}
	if low, err := chromedp.Run(studio, chromedp.Evaluate[[]string](lowContrast)); err != nil || len(low) > 0 {
		t.Errorf("studio text below 4.5:1 contrast: %v (%v)", low, err)
	}

	js(t, studio, `(() => { const s = document.getElementById('bg'); s.value = 'none'; s.dispatchEvent(new Event('change')); })()`)
	waitJS(t, studio, "the camera back on the WHIP sender", sentVideo+` === 'camera'`, 10*time.Second)
	if foreign := foreignRequests(t, studio, s.URL); len(foreign) > 0 {
		t.Fatalf("the studio requested other origins: %v", foreign)
	}

	t.Run("hidden without the model", func(t *testing.T) {
		tab, cancel := chromedp.NewContext(b.ctx)
		t.Cleanup(cancel)
		// The browser gets 404 for every model file, as from a build that could not fetch them.
		if err := chromedp.Do(tab, notFound("*/static/mediapipe/*"), chromedp.Navigate(s.URL+"/studio/"+w.ID+"?key="+w.StreamKey)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, tab, "the studio's model check", `document.getElementById('bg-row').dataset.model === 'missing'`, 30*time.Second)
		if shown, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`!document.getElementById('bg-row').classList.contains('hidden')`)); shown {
			t.Fatal("the background choice is shown though the model files are missing")
		}
	})
}

// notFound answers 404 to the tab's requests whose URL matches pattern, without asking the
// server: the page sees what a server built without those files would answer.
func notFound(pattern string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		paused := cdp.Events(ctx, tab, fetch.RequestPaused)
		go func() {
			for ev, err := range paused {
				if err != nil {
					return
				}
				cdp.Call(ctx, tab, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 404})
			}
		}()
		_, err := cdp.Call(ctx, tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}})
		return err
	})
}

// magentaPNG writes a small magenta picture for the upload.
func magentaPNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 90))
	draw.Draw(img, img.Bounds(), &image.Uniform{C: color.RGBA{R: 255, B: 255, A: 255}}, image.Point{}, draw.Src)
	path := filepath.Join(t.TempDir(), "background.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

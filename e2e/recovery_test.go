package e2e

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// freeAddr is a loopback address nothing listens on now, so a server can be started on it,
// killed, and started again on the same address.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// text reads an element's text in a page ("" when it is missing).
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('`+id+`')?.textContent || ''`))
	if err != nil {
		t.Fatalf("reading #%s: %v", id, err)
	}
	return s
}

// waitPlaying waits until the watch page's camera video shows new frames and its time moves.
func waitPlaying(t *testing.T, ctx context.Context, what string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		first, err1 := chromedp.Run(ctx, chromedp.Evaluate[[]float64](videoProgress))
		time.Sleep(1500 * time.Millisecond)
		second, err2 := chromedp.Run(ctx, chromedp.Evaluate[[]float64](videoProgress))
		if err1 == nil && err2 == nil && second[0] > first[0] && second[1] > first[1] && second[2] > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: video not playing (frames/time/width %v then %v; badge %q, notice %q, error %q)", what, first, second,
				text(t, ctx, "state"), text(t, ctx, "notice"), text(t, ctx, "error"))
		}
	}
}

// TestBrowserPagesRecoverFromServerCrash (issue 8 item 5): with the studio live and a viewer
// watching, the server is killed (SIGKILL, as a crash) and started again on the same address
// and data directory. Both pages say what happened while it is down, and recover by
// themselves: the studio publishes again and the viewer's video plays again.
func TestBrowserPagesRecoverFromServerCrash(t *testing.T) {
	dir := t.TempDir()
	w := createWebinar(t, dir, "Crash class")
	addr := freeAddr(t)
	s := startServer(t, dir, "--addr", addr)
	b := newBrowser(t, "")

	studio := b.tab(t, s.URL+"/studio/"+w.ID+"?key="+w.StreamKey+"&autostart=1")
	waitJS(t, studio, "the studio to go live", `document.getElementById('state').textContent === 'live'`, 30*time.Second)
	watch := b.tab(t, s.URL+"/watch/"+w.ID)
	joinAs(t, watch, "Viewer")
	waitPlaying(t, watch, "before the crash", 30*time.Second)
	waitJS(t, watch, "the live badge", `document.getElementById('state').textContent === 'live'`, 15*time.Second)

	s.kill()
	killed := time.Now()

	// While it is down: the studio says the connection is lost and when it tries again; the
	// viewer is told it is reconnecting, with no red live badge and no raw fetch error.
	waitJS(t, watch, "the watch page to notice the dead connection",
		`/reconnecting/i.test(document.getElementById('notice').textContent) && document.getElementById('state').textContent !== 'live'`, 20*time.Second)
	noticed := time.Since(killed)
	waitJS(t, studio, "the studio to say it lost the connection",
		`/Connection lost — reconnecting in \d+ s/.test(document.getElementById('notice').textContent)`, 30*time.Second)
	studioNoticed := time.Since(killed)
	t.Logf("after SIGKILL: watch page said %q within %v; studio %q within %v (badge %q)", text(t, watch, "notice"),
		noticed.Round(100*time.Millisecond), text(t, studio, "notice"), studioNoticed.Round(100*time.Millisecond), text(t, studio, "state"))
	// The contract is "within a few seconds"; generous for a loaded 2-core machine, and well
	// under the ~25 s a frozen picture used to stay "live".
	if noticed > 12*time.Second {
		t.Errorf("the watch page took %v to notice the server was gone", noticed)
	}
	for name, tab := range map[string]context.Context{"studio": studio, "watch": watch} {
		if e := text(t, tab, "error") + text(t, tab, "notice"); strings.Contains(e, "Failed to fetch") {
			t.Errorf("%s shows a raw fetch error: %q", name, e)
		}
	}
	// Stay down long enough for both pages to fail at least one attempt against a closed port.
	time.Sleep(3 * time.Second)

	s2 := startServer(t, dir, "--addr", addr)
	if s2.URL != s.URL {
		t.Fatalf("restarted on %s, want %s", s2.URL, s.URL)
	}
	restarted := time.Now()
	waitJS(t, studio, "the studio to be live again",
		`document.getElementById('state').textContent === 'live' && document.getElementById('notice').textContent === 'Live again'`, 60*time.Second)
	waitPlaying(t, watch, "after the restart", 60*time.Second)
	waitJS(t, watch, "the live badge again", `document.getElementById('state').textContent === 'live'`, 15*time.Second)
	t.Logf("recovered %v after the restart; studio %q, watch %q", time.Since(restarted).Round(100*time.Millisecond),
		text(t, studio, "notice"), text(t, watch, "notice"))
	for name, tab := range map[string]context.Context{"studio": studio, "watch": watch} {
		if e := text(t, tab, "error"); e != "" {
			t.Errorf("%s error after recovery: %q", name, e)
		}
		// Leave before the server stops: shutting down with open streams is item 1's test.
		chromedp.Run(tab, chromedp.Navigate("about:blank"))
	}
}

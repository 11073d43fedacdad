package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// lowContrast lists the visible, enabled text and controls of the page whose text colour
// reaches less than 4.5:1 against the nearest opaque background (WCAG 2 relative luminance).
const lowContrast = `(() => {
  const rgb = (c) => c.match(/[\d.]+/g).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const opaque = (c) => c !== 'transparent' && !(c.startsWith('rgba') && rgb(c)[3] === 0);
  const bg = (e) => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; if (opaque(c)) return c; } return 'rgb(255, 255, 255)'; };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  return [...document.querySelectorAll('button, a, label, select, input, p, h1, h2, h3, h4, td, th, span, li')]
    .filter((e) => e.offsetParent !== null && !e.disabled && (e.textContent.trim() !== '' || e.tagName === 'INPUT' || e.tagName === 'SELECT'))
    .map((e) => [e.id || e.tagName + '.' + e.className, ratio(getComputedStyle(e).color, bg(e))])
    .filter(([, r]) => r < 4.5).map(([n, r]) => n + ' ' + r.toFixed(2));
})()`

// apiToken makes an API token for email with the CLI, as an admin would for a script.
func apiToken(t *testing.T, dir, email string) string {
	t.Helper()
	out, err := exec.Command(binary, "token", "create", "--data", dir, "--email", email).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// webinarSettings is what GET /api/webinars/{id} reports to a host about the room switches.
type webinarSettings struct {
	Chat        string `json:"chat"`
	QA          bool   `json:"qa"`
	WaitingRoom bool   `json:"waiting_room"`
	Locked      bool   `json:"locked"`
	WatchURL    string `json:"watch_url"`
}

// memberRole is email's role in the webinar as GET .../members reports it ("" not a member).
func memberRole(t *testing.T, base, id, bearer, email string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/webinars/"+id+"/members", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ms []struct{ Email, Role string }
	decodeJSON(t, res, &ms)
	for _, m := range ms {
		if m.Email == email {
			return m.Role
		}
	}
	return ""
}

func getSettings(t *testing.T, base, id, bearer string) (webinarSettings, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/webinars/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v webinarSettings
	json.NewDecoder(res.Body).Decode(&v)
	return v, res.StatusCode
}

// TestBrowserWebinarPage (issue 9 item 8): a signed-in host opens a webinar's page from the
// dashboard, turns the waiting room on and limits chat to hosts, and the API reports it; every
// transcript and chat/Q&A download the page lists answers 200; rotating the watch link asks
// first (no: nothing changes), then the old link fails; delete asks, and the page is gone.
// The page works at 390 px wide with 4.5:1 contrast, and a signed-out browser gets a page
// that says to sign in.
func TestBrowserWebinarPage(t *testing.T) {
	dir := t.TempDir()
	const email, password = "host@school.example", "correct horse battery staple"
	addUser(t, dir, email, password, false)
	addUser(t, dir, "co@school.example", password, false)
	s := startServer(t, dir)
	bearer := apiToken(t, dir, email)
	b := newBrowser(t, "")

	tab := b.tab(t, s.URL+"/login?next=/dashboard")
	signIn(t, tab, email, password)
	waitJS(t, tab, "the dashboard", `location.pathname === '/dashboard' && document.getElementById('who').textContent !== ''`, 30*time.Second)
	js(t, tab, `document.getElementById('title').value = 'Managed class';
		document.getElementById('visibility').value = 'link';
		document.getElementById('create').requestSubmit()`)
	waitJS(t, tab, "the webinar's page link in the list", `!!document.querySelector('#webinars a.manage-link')`, 15*time.Second)
	js(t, tab, `document.querySelector('#webinars a.manage-link').click()`)
	waitJS(t, tab, "the webinar's page", `location.pathname.startsWith('/dashboard/') && document.body.dataset.ready === '1'`, 30*time.Second)
	id, err := chromedp.Run(tab, chromedp.Evaluate[string](`location.pathname.split('/').pop()`))
	if err != nil {
		t.Fatal(err)
	}
	if e := text(t, tab, "error"); e != "" {
		t.Fatalf("the webinar's page shows an error: %q", e)
	}
	if before, st := getSettings(t, s.URL, id, bearer); st != 200 || before.WaitingRoom || before.Chat != "everyone" {
		t.Fatalf("before: %d %+v", st, before)
	}

	// Settings: waiting room on, chat to hosts only.
	js(t, tab, `document.getElementById('s-waiting').checked = true;
		document.getElementById('s-chat').value = 'hosts';
		document.getElementById('settings').requestSubmit()`)
	waitJS(t, tab, "the settings saved", `document.getElementById('notice').textContent === 'Settings saved.'`, 15*time.Second)
	if after, st := getSettings(t, s.URL, id, bearer); st != 200 || !after.WaitingRoom || after.Chat != "hosts" || after.Locked || !after.QA {
		t.Errorf("after saving: %d %+v, want waiting room on, chat hosts, the rest unchanged", st, after)
	}

	// Downloads: every transcript format and the chat and Q&A exports answer 200 to the
	// signed-in browser.
	statuses, err := chromedp.Run(tab, chromedp.Evaluate[map[string]int](`(async () => {
		const out = {};
		for (const a of document.querySelectorAll('#transcripts a, #exports a')) out[new URL(a.href).pathname.split('/').pop()] = (await fetch(a.href)).status;
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"transcript.srt", "transcript.vtt", "transcript.ttml", "transcript.ssa", "transcript.stl", "transcript.txt", "transcript.json",
		"chat.txt", "chat.json", "questions.txt", "questions.json"} {
		if statuses[f] != 200 {
			t.Errorf("download %s: %d (page lists %v)", f, statuses[f], statuses)
		}
	}

	// People: add a co-host by email, make them a panelist, remove them (after a yes).
	js(t, tab, `document.getElementById('m-email').value = 'co@school.example';
		document.getElementById('m-role').value = 'cohost';
		document.getElementById('add-member').requestSubmit()`)
	waitJS(t, tab, "the co-host listed", `[...document.querySelectorAll('#members tbody tr')].some(r => r.textContent.includes('co@school.example') && r.querySelector('select').value === 'cohost')`, 15*time.Second)
	if got := memberRole(t, s.URL, id, bearer, "co@school.example"); got != "cohost" {
		t.Errorf("after adding: the API says the co-host's role is %q", got)
	}
	const coRow = `[...document.querySelectorAll('#members tbody tr')].find(r => r.textContent.includes('co@school.example'))`
	js(t, tab, `const sel = `+coRow+`.querySelector('select'); sel.value = 'panelist'; sel.dispatchEvent(new Event('change'))`)
	waitJS(t, tab, "the role changed", `document.getElementById('notice').textContent.includes('is now panelist')`, 15*time.Second)
	if got := memberRole(t, s.URL, id, bearer, "co@school.example"); got != "panelist" {
		t.Errorf("after the role change: %q", got)
	}
	js(t, tab, `window.confirm = () => true; `+coRow+`.querySelector('button.remove-member').click()`)
	waitJS(t, tab, "the member gone", `!`+coRow, 15*time.Second)
	if got := memberRole(t, s.URL, id, bearer, "co@school.example"); got != "" {
		t.Errorf("after removing: still %q", got)
	}

	// The stream key: rotated after a yes, and the page shows the new one.
	oldKey, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('stream-key').value`))
	if st := status(t, s.URL, "/api/webinars/"+id+"/watch-link", oldKey); st != 200 {
		t.Fatalf("the stream key the page shows gets no watch link: %d", st)
	}
	js(t, tab, `window.confirm = () => true; document.getElementById('rotate-key').click()`)
	waitJS(t, tab, "the new stream key shown", `document.getElementById('stream-key').value !== `+jsString(oldKey)+` && document.getElementById('studio-url').value.includes(encodeURIComponent(document.getElementById('stream-key').value))`, 15*time.Second)
	if st := status(t, s.URL, "/api/webinars/"+id+"/watch-link", oldKey); st != 401 {
		t.Errorf("the old stream key still gets a watch link: %d", st)
	}

	// Rotate the watch link: a "no" to the confirmation changes nothing, a "yes" kills it.
	oldURL, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('watch-url').value`))
	u, perr := url.Parse(oldURL)
	if err != nil || perr != nil || u.Query().Get("t") == "" {
		t.Fatalf("watch link %q (%v %v)", oldURL, err, perr)
	}
	oldToken := u.Query().Get("t")
	if st := status(t, s.URL, "/api/webinars/"+id, oldToken); st != 200 {
		t.Fatalf("watch link before rotation: %d", st)
	}
	js(t, tab, `window.confirm = () => false; document.getElementById('rotate-link').click()`)
	time.Sleep(500 * time.Millisecond)
	if st := status(t, s.URL, "/api/webinars/"+id, oldToken); st != 200 {
		t.Fatalf("declining the confirmation rotated the link anyway: %d", st)
	}
	js(t, tab, `window.confirm = () => true; document.getElementById('rotate-link').click()`)
	deadline := time.Now().Add(15 * time.Second)
	for status(t, s.URL, "/api/webinars/"+id, oldToken) != 401 {
		if time.Now().After(deadline) {
			t.Fatal("the old watch link still works after rotating it")
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitJS(t, tab, "the new watch link shown", `document.getElementById('watch-url').value !== `+jsString(oldURL), 15*time.Second)
	newURL, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('watch-url').value`))
	if nu, err := url.Parse(newURL); err != nil || status(t, s.URL, "/api/webinars/"+id, nu.Query().Get("t")) != 200 {
		t.Errorf("the new watch link %q does not work", newURL)
	}

	// A phone: nothing wider than 390 px, every control readable.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/dashboard/" + id, "/dashboard"} {
		if err := chromedp.Do(tab, chromedp.Navigate(s.URL+page)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, tab, page+" loaded", `document.getElementById('who').textContent !== '' && document.querySelector('tbody tr') !== null`, 15*time.Second)
		if w, _ := chromedp.Run(tab, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
			wide, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`))
			t.Errorf("%s is %d px wide in a 390 px window: %v", page, w, wide)
		}
		if low, err := chromedp.Run(tab, chromedp.Evaluate[[]string](lowContrast)); err != nil || len(low) > 0 {
			t.Errorf("%s: text below 4.5:1 contrast: %v (%v)", page, low, err)
		}
		if foreign := foreignRequests(t, tab, s.URL); len(foreign) > 0 {
			t.Errorf("%s requested other origins: %v", page, foreign)
		}
	}

	// Signed out, the page says to sign in and links back here.
	stranger := newBrowser(t, "")
	gate := stranger.tab(t, s.URL+"/dashboard/"+id)
	if got := text(t, gate, "error-title"); got != "Sign in to continue" {
		t.Errorf("signed-out browser on the webinar's page sees %q", got)
	}
	if href, _ := chromedp.Run(gate, chromedp.Evaluate[string](`document.getElementById('error-action').getAttribute('href')`)); href != "/login?next=%2Fdashboard%2F"+id {
		t.Errorf("sign-in link %q", href)
	}

	// Delete, after a confirmation: back to the list, and the webinar is gone.
	if err := chromedp.Do(tab, chromedp.Navigate(s.URL+"/dashboard/"+id)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the webinar's page", `document.body.dataset.ready === '1'`, 15*time.Second)
	js(t, tab, `window.confirm = () => true; document.getElementById('delete').click()`)
	waitJS(t, tab, "the list after deleting", `location.pathname === '/dashboard'`, 15*time.Second)
	if _, st := getSettings(t, s.URL, id, bearer); st != 404 {
		t.Errorf("after delete: GET webinar %d, want 404", st)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(s.URL+"/dashboard/"+id)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, tab, "error-title"); got != "No such webinar" {
		t.Errorf("the deleted webinar's page shows %q", got)
	}
	for _, c := range []context.Context{tab, gate} {
		chromedp.Run(c, chromedp.Navigate("about:blank"))
	}
}

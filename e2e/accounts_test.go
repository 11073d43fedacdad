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

// addUser runs `lectern user add` with the password on stdin, as an admin would.
func addUser(t *testing.T, dir, email, password string, admin bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"user", "add", "--data", dir, "--email", email, "--password-stdin"}
	if admin {
		args = append(args, "--admin")
	}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
}

// js runs a statement list in the page and fails the test if it throws.
func js(t *testing.T, ctx context.Context, body string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { `+body+`; return true; })()`)); err != nil {
		t.Fatalf("page script %q: %v", body, err)
	}
}

// TestBrowserSignInDashboardAndPrivateWatch: a host signs in, creates a link-only webinar on
// the dashboard, and an attendee (another browser, no cookies) opens its watch link; a viewer
// without the link is refused; no page asks any other origin for anything.
func TestBrowserSignInDashboardAndPrivateWatch(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "host@school.example", "correct horse battery staple", false)
	s := startServer(t, dir)
	b := newBrowser(t, "")

	login := b.tab(t, s.URL+"/login?next=/dashboard")
	waitJS(t, login, "the sign-in form", `document.body.dataset.ready === '1'`, 15*time.Second)
	js(t, login, `document.getElementById('email').value = 'host@school.example';
		document.getElementById('password').value = 'correct horse battery staple';
		document.getElementById('password-form').requestSubmit()`)
	waitJS(t, login, "the dashboard after sign-in", `location.pathname === '/dashboard' && document.getElementById('who').textContent.includes('host@school.example')`, 30*time.Second)

	js(t, login, `document.getElementById('title').value = 'Browser webinar';
		document.getElementById('visibility').value = 'link';
		document.getElementById('create').requestSubmit()`)
	waitJS(t, login, "the new webinar in the list", `[...document.querySelectorAll('#webinars tbody tr')].some(r => r.textContent.includes('Browser webinar'))`, 15*time.Second)
	watchURL, err := chromedp.Run(login, chromedp.Evaluate[string](`document.querySelector('#webinars tbody tr .watch-link').href`))
	if err != nil {
		t.Fatal(err)
	}
	studioURL, _ := chromedp.Run(login, chromedp.Evaluate[string](`document.querySelector('#webinars tbody tr .studio-link').href`))
	u, err := url.Parse(watchURL)
	if err != nil || u.Query().Get("t") == "" || !strings.HasPrefix(watchURL, s.URL+"/watch/") || !strings.Contains(studioURL, "/studio/") {
		t.Fatalf("dashboard links: watch %q studio %q", watchURL, studioURL)
	}

	// Account settings: the 2FA QR code renders under the CSP, and a token is shown once.
	account := b.tab(t, s.URL+"/account")
	waitJS(t, account, "the account page", `!document.getElementById('enrol').classList.contains('hidden')`, 15*time.Second)
	js(t, account, `document.getElementById('enrol').click()`)
	waitJS(t, account, "the QR code", `document.getElementById('qr').naturalWidth === 256 && document.getElementById('secret').textContent.length >= 16`, 15*time.Second)
	js(t, account, `document.getElementById('token-name').value = 'OBS';
		document.getElementById('new-token').requestSubmit()`)
	waitJS(t, account, "the new API token", `document.getElementById('token-value').textContent.startsWith('lct_') &&
		document.querySelectorAll('#tokens tbody tr').length === 1`, 15*time.Second)

	// The presenter: the studio link alone (no session) goes live on the private webinar.
	att := newBrowser(t, "")
	studio := att.tab(t, studioURL+"&autostart=1")
	waitJS(t, studio, "the studio to go live with the key", `document.getElementById('state').textContent === 'live'`, 30*time.Second)

	// The attendee: a separate browser profile, so no session cookie, only the link's token.
	watch := att.tab(t, watchURL)
	waitJS(t, watch, "the watch page to load with the token", `document.getElementById('title').textContent === 'Browser webinar'`, 30*time.Second)
	joinAs(t, watch, "Attendee")
	waitJS(t, watch, "video through WHEP with the token",
		`document.getElementById('camera').getVideoPlaybackQuality().totalVideoFrames > 10`, 30*time.Second)
	if e, _ := chromedp.Run(watch, chromedp.Evaluate[string](`document.getElementById('error').textContent`)); e != "" {
		t.Errorf("watch page error: %q", e)
	}
	href, _ := chromedp.Run(watch, chromedp.Evaluate[string](`document.getElementById('transcript').href`))
	if !strings.Contains(href, "?t=") {
		t.Errorf("transcript link lacks the token: %q", href)
	}

	// Without the link's token: refused, and the page says so.
	stranger := att.tab(t, s.URL+u.Path)
	waitJS(t, stranger, "the refusal", `document.getElementById('error').textContent.includes('join link')`, 30*time.Second)

	// The contract for scripts: `lectern token create` prints a token that creates webinars.
	out, err := exec.Command(binary, "token", "create", "--data", dir, "--email", "host@school.example").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	req, _ := http.NewRequest("POST", s.URL+"/api/webinars", strings.NewReader(`{"title":"Registered class","visibility":"registration"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(out)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID        string `json:"id"`
		StreamKey string `json:"stream_key"`
	}
	json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if res.StatusCode != 201 || created.ID == "" || created.StreamKey == "" {
		t.Fatalf("POST /api/webinars with a CLI token: %d %+v", res.StatusCode, created)
	}
	// A stranger registers on the watch page and gets in.
	reg := att.tab(t, s.URL+"/watch/"+created.ID)
	waitJS(t, reg, "the registration form", `!document.getElementById('register').classList.contains('hidden')`, 30*time.Second)
	js(t, reg, `document.getElementById('reg-name').value = 'Grace';
		document.getElementById('reg-email').value = 'grace@example.org';
		document.getElementById('register').requestSubmit()`)
	waitJS(t, reg, "the registered watch page", `location.search.startsWith('?t=') && document.getElementById('title').textContent === 'Registered class'`, 30*time.Second)

	for _, tab := range []context.Context{login, account, studio, watch, stranger, reg} {
		if foreign := foreignRequests(t, tab, s.URL); len(foreign) > 0 {
			t.Fatalf("pages requested other origins: %v", foreign)
		}
	}
}

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

// signIn fills the sign-in form of a /login page already open in tab and submits it.
func signIn(t *testing.T, tab context.Context, email, password string) {
	t.Helper()
	waitJS(t, tab, "the sign-in form", `document.body.dataset.ready === '1'`, 15*time.Second)
	js(t, tab, `document.getElementById('email').value = `+jsString(email)+`;
		document.getElementById('password').value = `+jsString(password)+`;
		document.getElementById('password-form').requestSubmit()`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowserSignInNextStaysOnSite (issue 8 item 9): whatever ?next= says, a browser that
// signs in lands on this site: on the page named when it is one of ours, else the dashboard.
func TestBrowserSignInNextStaysOnSite(t *testing.T) {
	dir := t.TempDir()
	const email, password = "host@school.example", "correct horse battery staple"
	addUser(t, dir, email, password, false)
	s := startServer(t, dir)
	b := newBrowser(t, "")
	cases := []struct{ next, want string }{
		{"/%5Cevil.example/pwn", "/dashboard"},
		{"/%09/evil.example/pwn", "/dashboard"},
		{"//evil.example/pwn", "/dashboard"},
		{"https://evil.example/pwn", "/dashboard"},
		{"javascript:alert(document.domain)", "/dashboard"},
		{"/%5C%5Cevil.example", "/dashboard"},
		{"/account?from=login", "/account?from=login"},
	}
	for _, c := range cases {
		// next is put in the URL as an attacker's link would carry it: already encoded.
		tab := b.tab(t, s.URL+"/login?next="+c.next)
		signIn(t, tab, email, password)
		var loc string
		deadline := time.Now().Add(20 * time.Second)
		for {
			l, err := chromedp.Run(tab, chromedp.Location())
			if loc = l; err == nil && !strings.HasPrefix(loc, s.URL+"/login") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("next=%s: still on %q after signing in", c.next, loc)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if loc != s.URL+c.want {
			t.Errorf("next=%s: signed in and landed on %q, want %q", c.next, loc, s.URL+c.want)
		}
	}
}

// TestBrowserErrorPageAndFavicon (issue 8 item 7): a browser that opens a missing page gets a
// readable page, not raw JSON; every page has the embedded icon.
func TestBrowserErrorPageAndFavicon(t *testing.T) {
	dir := t.TempDir()
	w := createWebinar(t, dir, "Icon class")
	s := startServer(t, dir)
	b := newBrowser(t, "")
	for path, title := range map[string]string{"/no/such/page": "Page not found", "/watch/nosuch": "No such webinar"} {
		tab := b.tab(t, s.URL+path)
		got, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('error-title')?.textContent || document.body.innerText`))
		if err != nil || got != title {
			t.Errorf("%s shows %q (%v), want the %q page", path, got, err, title)
		}
	}
	// /account is left out here: signed out, it moves on to /login at once. Its HTML is
	// checked below.
	for _, path := range []string{"/no/such/page", "/login", "/studio/" + w.ID, "/watch/" + w.ID} {
		tab := b.tab(t, s.URL+path)
		// The icon the page links decodes as an image under the page's own CSP.
		ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(async () => {
			const link = document.querySelector('link[rel="icon"]');
			if (!link || new URL(link.href).origin !== location.origin) return false;
			const img = new Image();
			img.src = link.href;
			await img.decode();
			return img.naturalWidth > 0;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil || !ok {
			t.Errorf("%s: no working favicon (%v)", path, err)
		}
		if foreign := foreignRequests(t, tab, s.URL); len(foreign) > 0 {
			t.Errorf("%s requested other origins: %v", path, foreign)
		}
	}
	for _, path := range []string{"/login", "/account", "/studio/" + w.ID, "/watch/" + w.ID} {
		if body := string(get(t, s.URL+path)); !strings.Contains(body, `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`) {
			t.Errorf("%s links no icon", path)
		}
	}
	res, err := http.Get(s.URL + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("/favicon.ico: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestBrowserStudioWatchLinkAndJoinGate (issue 8 items 6 and 7): on a registration webinar
// with a passcode, the studio's "Open the watch page" link works for a presenter with only
// the stream key and for the signed-in host; a stranger sees the registration form alone
// until registered, then the player.
func TestBrowserStudioWatchLinkAndJoinGate(t *testing.T) {
	dir := t.TempDir()
	const email, password = "host@school.example", "correct horse battery staple"
	addUser(t, dir, email, password, false)
	s := startServer(t, dir)
	out, err := exec.Command(binary, "token", "create", "--data", dir, "--email", email).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	req, _ := http.NewRequest("POST", s.URL+"/api/webinars", strings.NewReader(`{"title":"Gated class","visibility":"registration","passcode":"2468"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(out)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID        string `json:"id"`
		StudioURL string `json:"studio_url"`
	}
	json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if res.StatusCode != 201 || created.StudioURL == "" {
		t.Fatalf("create: %d %+v", res.StatusCode, created)
	}

	// The presenter with only the studio link (stream key, no account) goes live and opens
	// the watch page from the studio's link.
	presenter := newBrowser(t, "")
	studio := presenter.tab(t, created.StudioURL+"&autostart=1")
	waitJS(t, studio, "the studio to go live", `document.getElementById('state').textContent === 'live'`, 30*time.Second)
	checkWatchLink(t, presenter, studio, s.URL, created.ID, "key holder")

	// The signed-in host opens the studio without a key.
	host := newBrowser(t, "")
	login := host.tab(t, s.URL+"/login?next="+url.QueryEscape("/studio/"+created.ID))
	signIn(t, login, email, password)
	waitJS(t, login, "the studio after sign-in", `location.pathname === '/studio/`+created.ID+`' && document.body.dataset.ready === '1'`, 30*time.Second)
	checkWatchLink(t, host, login, s.URL, created.ID, "signed-in host")

	// A stranger: the registration form, and nothing else, until registered.
	stranger := newBrowser(t, "")
	reg := stranger.tab(t, s.URL+"/watch/"+created.ID)
	waitJS(t, reg, "the registration form", `!document.getElementById('register').classList.contains('hidden')`, 30*time.Second)
	shown, err := chromedp.Run(reg, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main > *, header > *')]
		.filter(e => e.offsetParent !== null && (e.textContent.trim() !== '' || e.tagName === 'SECTION')).map(e => e.id || e.tagName)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(shown, ",") != "title,register" {
		t.Errorf("before registering the page shows %v, want only the title and the registration form", shown)
	}
	js(t, reg, `document.getElementById('reg-name').value = 'Grace';
		document.getElementById('reg-email').value = 'grace@example.org';
		document.getElementById('reg-passcode-input').value = '2468';
		document.getElementById('register').requestSubmit()`)
	waitJS(t, reg, "the player after registering", `location.search.startsWith('?t=') &&
		!document.getElementById('player').classList.contains('hidden') && document.getElementById('register').classList.contains('hidden')`, 30*time.Second)
	waitPlaying(t, reg, "the registered viewer", 30*time.Second)

	for _, tab := range []context.Context{studio, login, reg} {
		chromedp.Run(tab, chromedp.Navigate("about:blank"))
	}
}

// checkWatchLink follows the studio's "Open the watch page" link in the same browser: it
// carries a join token, and the watch page plays without a form or an error.
func checkWatchLink(t *testing.T, b *browser, studio context.Context, base, id, who string) {
	t.Helper()
	waitJS(t, studio, who+": the studio's signed watch link", `new URL(document.getElementById('watch-link').href).searchParams.get('t') !== null`, 15*time.Second)
	href, err := chromedp.Run(studio, chromedp.Evaluate[string](`document.getElementById('watch-link').href`))
	if err != nil || !strings.HasPrefix(href, base+"/watch/"+id+"?t=") {
		t.Fatalf("%s: watch link %q (%v)", who, href, err)
	}
	watch := b.tab(t, href)
	joinAs(t, watch, "Presenter preview")
	waitPlaying(t, watch, who+" following the studio's watch link", 30*time.Second)
	hidden, _ := chromedp.Run(watch, chromedp.Evaluate[bool](`document.getElementById('register').classList.contains('hidden') && document.getElementById('join').classList.contains('hidden')`))
	if e := text(t, watch, "error"); e != "" || !hidden {
		t.Errorf("%s: watch page from the studio link: error %q, forms hidden %v", who, e, hidden)
	}
	chromedp.Run(watch, chromedp.Navigate("about:blank"))
}

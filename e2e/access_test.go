package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// status is the status of GET path with a bearer token.
func status(t *testing.T, base, path, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestBrowserRevokeAndRotate (issue 8, item 17): on the dashboard a host revokes a registration
// and rotates a link-only webinar's watch link, each after a confirmation; the revoked
// registrant's and the old link's tokens stop working. The account page lists the sign-in.
func TestBrowserRevokeAndRotate(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "host@school.example", "correct horse battery staple", false)
	s := startServer(t, dir)
	b := newBrowser(t, "")

	tab := b.tab(t, s.URL+"/login?next=/dashboard")
	waitJS(t, tab, "the sign-in form", `document.body.dataset.ready === '1'`, 15*time.Second)
	js(t, tab, `document.getElementById('email').value = 'host@school.example';
		document.getElementById('password').value = 'correct horse battery staple';
		document.getElementById('password-form').requestSubmit()`)
	waitJS(t, tab, "the dashboard", `location.pathname === '/dashboard' && document.getElementById('who').textContent !== ''`, 30*time.Second)
	for _, w := range []struct{ title, vis string }{{"Linked class", "link"}, {"Registered class", "registration"}} {
		js(t, tab, `document.getElementById('title').value = '`+w.title+`';
			document.getElementById('visibility').value = '`+w.vis+`';
			document.getElementById('create').requestSubmit()`)
		waitJS(t, tab, w.title+" in the list", `[...document.querySelectorAll('#webinars tbody tr')].some(r => r.textContent.includes('`+w.title+`'))`, 15*time.Second)
	}
	rowOf := func(title string) string {
		return `[...document.querySelectorAll('#webinars tbody tr')].find(r => r.textContent.includes('` + title + `'))`
	}
	regID, err := chromedp.Run(tab, chromedp.Evaluate[string](rowOf("Registered class")+`.dataset.id`))
	if err != nil {
		t.Fatal(err)
	}

	// Someone registers (no account, another client).
	res, err := http.Post(s.URL+"/api/webinars/"+regID+"/register", "application/json", strings.NewReader(`{"name":"Bo","email":"bo@home.example"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct{ Token string }
	decodeJSON(t, res, &reg)
	if status(t, s.URL, "/api/webinars/"+regID, reg.Token) != 200 {
		t.Fatal("registration token does not work")
	}

	// Revoke it from the dashboard; the confirmation is answered yes.
	js(t, tab, `window.confirm = () => true;
		document.querySelector('tr.manage[data-id="`+regID+`"] details').open = true`)
	waitJS(t, tab, "the registration listed", `document.querySelector('tr.manage[data-id="`+regID+`"] tbody tr')?.textContent.includes('bo@home.example')`, 15*time.Second)
	js(t, tab, `document.querySelector('tr.manage[data-id="`+regID+`"] button.revoke').click()`)
	waitJS(t, tab, "the registration shown revoked", `document.querySelector('tr.manage[data-id="`+regID+`"] tbody tr').textContent.includes('revoked')`, 15*time.Second)
	if st := status(t, s.URL, "/api/webinars/"+regID, reg.Token); st != 401 {
		t.Errorf("revoked registration's token: %d, want 401", st)
	}

	// Rotate the link-only webinar's link: the old one dies, the dashboard shows a new one.
	oldURL, _ := chromedp.Run(tab, chromedp.Evaluate[string](rowOf("Linked class")+`.querySelector('.watch-link').href`))
	linkID, _ := chromedp.Run(tab, chromedp.Evaluate[string](rowOf("Linked class")+`.dataset.id`))
	u, err := url.Parse(oldURL)
	if err != nil || u.Query().Get("t") == "" {
		t.Fatalf("watch link %q", oldURL)
	}
	if status(t, s.URL, "/api/webinars/"+linkID, u.Query().Get("t")) != 200 {
		t.Fatal("link token does not work before rotation")
	}
	js(t, tab, `document.querySelector('tr.manage[data-id="`+linkID+`"] button.rotate-link').click()`)
	deadline := time.Now().Add(15 * time.Second)
	for status(t, s.URL, "/api/webinars/"+linkID, u.Query().Get("t")) != 401 {
		if time.Now().After(deadline) {
			t.Fatal("old link still works after Rotate link")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The link dies on the server before the dashboard has the answer and shows the new one.
	waitJS(t, tab, "the new link shown", rowOf("Linked class")+`.querySelector('.watch-link').href !== `+strconv.Quote(oldURL), 15*time.Second)
	newURL, _ := chromedp.Run(tab, chromedp.Evaluate[string](rowOf("Linked class")+`.querySelector('.watch-link').href`))
	nu, _ := url.Parse(newURL)
	if st := status(t, s.URL, "/api/webinars/"+linkID, nu.Query().Get("t")); st != 200 {
		t.Errorf("new link from the dashboard: %d", st)
	}

	account := b.tab(t, s.URL+"/account")
	waitJS(t, account, "the sign-in in the security events", `!!document.querySelector('#events tr[data-action="signin.success"]')`, 15*time.Second)
}

func decodeJSON(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil || res.StatusCode >= 300 {
		t.Fatalf("%d: %v", res.StatusCode, err)
	}
}

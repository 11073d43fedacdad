package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lectern/webhook"
)

// received is one request a test webhook receiver got.
type received struct {
	path, signature string
	body            []byte
}

// webhookReceiver is an HTTP endpoint on loopback that hands every request it gets to the test.
func webhookReceiver(t *testing.T) (*httptest.Server, <-chan received) {
	t.Helper()
	ch := make(chan received, 32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case ch <- received{path: r.URL.Path, signature: r.Header.Get("X-Lectern-Signature"), body: body}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// TestBrowserAdminPolicyAndWebhooks (issue 11, items 3 and 7): an admin sets the policy in
// the console (a bad value shows the server's refusal and changes nothing; every field saves;
// retention warns and asks first); a host's open studio console then shows Record disabled
// with the policy's reason, and a participant cannot chat. The admin adds a webhook to a
// receiver on loopback (--webhook-allow-loopback), the host ends the webinar, a signed
// webinar.ended arrives and the console's delivery log shows it. The host manages the
// webinar's own webhooks on its page.
func TestBrowserAdminPolicyAndWebhooks(t *testing.T) {
	dir := t.TempDir()
	const admin, host, password = "admin@school.example", "host@school.example", "correct horse battery staple"
	addUser(t, dir, admin, password, true)
	addUser(t, dir, host, password, false)
	recv, deliveries := webhookReceiver(t)
	s := startServer(t, dir, "--webhook-allow-loopback")
	hostToken, adminToken := consoleToken(t, dir, host), consoleToken(t, dir, admin)
	var created struct{ ID string }
	if st := consoleAPI(t, "POST", s.URL+"/api/webinars", hostToken, `{"title":"Policy class"}`, &created); st != 201 {
		t.Fatalf("create webinar: %d", st)
	}
	id := created.ID
	webinarURL := s.URL + "/api/webinars/" + id
	b := newBrowser(t, "")

	// The host's console is open before the admin changes anything: Record works.
	studio := consoleIsolatedTab(t, b, s.URL+"/login?next="+url.QueryEscape("/studio/"+id))
	signIn(t, studio, host, password)
	waitJS(t, studio, "the host console", `location.pathname === '/studio/`+id+`' && document.body.dataset.console === 'moderator'`, 30*time.Second)
	if ok, _ := chromedp.Run(studio, chromedp.Evaluate[bool](`!document.getElementById('record').disabled && document.getElementById('record-why').textContent === ''`)); !ok {
		t.Fatal("Record is not available before the policy forbids it")
	}

	console := b.tab(t, s.URL+"/login?next=/admin")
	signIn(t, console, admin, password)
	waitJS(t, console, "the policy form", `location.pathname === '/admin' && document.body.dataset.ready === '1' &&
		!document.getElementById('p-retention').disabled`, 30*time.Second)
	before := adminPolicy(t, s.URL, adminToken)

	t.Run("a bad value shows the server's refusal and changes nothing", func(t *testing.T) {
		js(t, console, `document.getElementById('p-regions').value = 'eu west';
			document.getElementById('p-recording').value = 'off';
			document.getElementById('policy').requestSubmit()`)
		waitJS(t, console, "the server's refusal beside the form", `document.getElementById('policy-error').textContent.includes('allowed_regions')`, 15*time.Second)
		if after := adminPolicy(t, s.URL, adminToken); !reflect.DeepEqual(after, before) {
			t.Errorf("a refused save changed the policy: %v, was %v", after, before)
		}
	})

	t.Run("every field saves", func(t *testing.T) {
		js(t, console, `const v = (id, x) => { document.getElementById(id).value = x; };
			v('p-chat', 'off'); v('p-qa', 'off'); v('p-recording', 'off'); v('p-regions', 'local, eu');
			document.getElementById('p-waiting').checked = true;
			document.getElementById('p-free-plan').click();
			v('p-retention', '30');
			document.getElementById('p-retention').dispatchEvent(new Event('input'))`)
		waitJS(t, console, "the retention warning", `(() => { const w = document.getElementById('p-retention-warn');
			return !w.classList.contains('hidden') && w.textContent.includes('30 days') && w.textContent.includes('deleted'); })()`, 5*time.Second)
		if v, _ := chromedp.Run(console, chromedp.Evaluate[string](`document.getElementById('p-duration').value`)); v != "40" {
			t.Errorf("the free-plan preset set the duration to %q, want 40", v)
		}
		// Deleting old data asks first; "Cancel" saves nothing.
		js(t, console, `document.getElementById('policy').requestSubmit()`)
		waitJS(t, console, "the retention confirmation", `document.getElementById('confirm-dialog').open &&
			document.getElementById('confirm-text').textContent.includes('30 days')`, 10*time.Second)
		js(t, console, `document.getElementById('confirm-no').click()`)
		waitJS(t, console, "the dialog to close", `!document.getElementById('confirm-dialog').open`, 10*time.Second)
		if after := adminPolicy(t, s.URL, adminToken); !reflect.DeepEqual(after, before) {
			t.Fatalf("Cancel saved the policy: %v", after)
		}
		js(t, console, `document.getElementById('policy').requestSubmit()`)
		waitJS(t, console, "the retention confirmation", `document.getElementById('confirm-dialog').open`, 10*time.Second)
		js(t, console, `document.getElementById('confirm-yes').click()`)
		waitJS(t, console, "the policy saved", `document.getElementById('policy-state').textContent.startsWith('Saved') &&
			document.getElementById('policy-error').textContent === ''`, 15*time.Second)
		want := map[string]any{"chat": "off", "qa": "off", "recording": "off", "waiting_room_default": true,
			"passcode_required": false, "max_duration_minutes": 40.0, "allowed_regions": []any{"local", "eu"},
			"retention_days": 30.0, "require_2fa": false}
		if got := adminPolicy(t, s.URL, adminToken); !reflect.DeepEqual(got, want) {
			t.Errorf("saved policy %v, want %v", got, want)
		}
	})

	t.Run("the host's Record button is disabled with the reason", func(t *testing.T) {
		var info struct {
			RecordingAllowed *bool  `json:"recording_allowed"`
			RecordingBlocked string `json:"recording_blocked"`
		}
		consoleAPI(t, "GET", webinarURL, hostToken, "", &info)
		if info.RecordingAllowed == nil || *info.RecordingAllowed || info.RecordingBlocked == "" {
			t.Fatalf("with recording off the webinar says allowed %v, blocked %q", info.RecordingAllowed, info.RecordingBlocked)
		}
		// The console already open reads the webinar every few seconds: no reload needed.
		waitJS(t, studio, "Record disabled with the policy's reason", `document.getElementById('record').disabled &&
			document.getElementById('record-why').textContent === `+jsString(info.RecordingBlocked), 30*time.Second)
		if st := consoleAPI(t, "POST", webinarURL+"/recording", hostToken, `{"on":true}`, nil); st != 403 {
			t.Errorf("starting a recording against the policy: %d, want 403", st)
		}
	})

	t.Run("chat off: a participant gets 403, the watch page offers no chat", func(t *testing.T) {
		var ana struct{ Token string }
		if st := consoleAPI(t, "POST", webinarURL+"/join", "", `{"name":"Ana"}`, &ana); st != 201 {
			t.Fatalf("join: %d", st)
		}
		st, msg := apiError(t, "POST", webinarURL+"/chat", ana.Token, `{"text":"Hello"}`)
		if st != 403 || msg == "" {
			t.Errorf("chat with the policy's chat off: %d %q, want 403 with a reason", st, msg)
		}
		watch := consoleIsolatedTab(t, b, s.URL+"/watch/"+id)
		joinAs(t, watch, "Bo")
		waitJS(t, watch, "the chat-off note", `document.getElementById('chat-form').classList.contains('hidden') &&
			!document.getElementById('chat-off').classList.contains('hidden') &&
			document.getElementById('chat-off').textContent.includes('Chat is off')`, 30*time.Second)
		chromedp.Run(watch, chromedp.Navigate("about:blank"))
	})

	var secret string
	t.Run("the admin adds a webhook", func(t *testing.T) {
		js(t, console, `document.getElementById('wh-url').value = `+jsString(recv.URL+"/hook")+`;
			document.getElementById('add-webhook').requestSubmit()`)
		waitJS(t, console, "the secret shown once", `!document.getElementById('wh-secret-out').classList.contains('hidden') &&
			document.getElementById('wh-secret').value.startsWith('whsec_') &&
			document.querySelectorAll('#webhooks tbody tr[data-id]').length === 1`, 15*time.Second)
		secret, _ = chromedp.Run(console, chromedp.Evaluate[string](`document.getElementById('wh-secret').value`))
		row, _ := chromedp.Run(console, chromedp.Evaluate[string](`document.querySelector('#webhooks tbody tr[data-id]').textContent`))
		if !strings.Contains(row, "127.0.0.1") || !strings.Contains(row, "every webinar") || !strings.Contains(row, "ends") {
			t.Errorf("the webhook's row says %q", row)
		}
	})

	t.Run("the host ends the webinar: a signed delivery, in the log", func(t *testing.T) {
		js(t, studio, `document.getElementById('end-all').click()`)
		waitJS(t, studio, "the end confirmation", `document.getElementById('confirm').open`, 5*time.Second)
		js(t, studio, `document.getElementById('confirm-ok').click()`)
		r := waitDelivery(t, deliveries, "webinar.ended")
		if err := webhook.Verify(secret, r.signature, r.body, time.Now()); err != nil {
			t.Errorf("the delivery's signature does not verify with the secret the console showed: %v", err)
		}
		if err := webhook.Verify(secret+"x", r.signature, r.body, time.Now()); err == nil {
			t.Error("the signature verifies with a wrong secret too")
		}
		var ev struct {
			WebinarID string `json:"webinar_id"`
		}
		json.Unmarshal(r.body, &ev)
		if r.path != "/hook" || ev.WebinarID != id {
			t.Errorf("delivery to %s about %q, want /hook about %s", r.path, ev.WebinarID, id)
		}
		// The log is read on demand; a second read finds the attempt once it is logged.
		deadline := time.Now().Add(20 * time.Second)
		for {
			js(t, console, `document.querySelector('#webhooks tbody tr[data-id] button[data-action="log"]').click()`)
			ok, _ := chromedp.Run(console, chromedp.Evaluate[bool](`!document.getElementById('wh-log').classList.contains('hidden') &&
				document.querySelector('#deliveries tbody tr[data-event="webinar.ended"][data-status="204"]') !== null`))
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the delivery log shows no delivered webinar.ended")
			}
			time.Sleep(500 * time.Millisecond)
		}
		row, _ := chromedp.Run(console, chromedp.Evaluate[string](`document.querySelector('#deliveries tbody tr[data-event="webinar.ended"]').textContent`))
		if !strings.Contains(row, "delivered") {
			t.Errorf("the log row says %q", row)
		}
	})

	t.Run("console at phone width, contrast", func(t *testing.T) {
		phoneCheck(t, console, "the admin console")
	})

	t.Run("the admin deletes the webhook after confirming", func(t *testing.T) {
		del := `document.querySelector('#webhooks tbody tr[data-id] button[data-action="delete"]').click()`
		js(t, console, del)
		waitJS(t, console, "the delete confirmation", `document.getElementById('confirm-dialog').open`, 10*time.Second)
		js(t, console, `document.getElementById('confirm-no').click()`)
		waitJS(t, console, "the dialog to close", `!document.getElementById('confirm-dialog').open`, 10*time.Second)
		if n := len(adminWebhooks(t, s.URL, adminToken)); n != 1 {
			t.Fatalf("after Cancel there are %d webhooks, want 1", n)
		}
		js(t, console, del)
		waitJS(t, console, "the delete confirmation", `document.getElementById('confirm-dialog').open`, 10*time.Second)
		js(t, console, `document.getElementById('confirm-yes').click()`)
		waitJS(t, console, "the empty list", `document.querySelectorAll('#webhooks tbody tr[data-id]').length === 0 &&
			document.getElementById('wh-log').classList.contains('hidden')`, 15*time.Second)
		if n := len(adminWebhooks(t, s.URL, adminToken)); n != 0 {
			t.Errorf("after Delete there are %d webhooks", n)
		}
	})

	t.Run("the host's webhooks on the webinar's page", func(t *testing.T) {
		if err := chromedp.Do(studio, chromedp.Navigate(s.URL+"/dashboard/"+id)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, studio, "the webhooks section", `document.getElementById('webhooks-section').dataset.ready === '1' &&
			!document.getElementById('wh-empty').classList.contains('hidden')`, 30*time.Second)
		js(t, studio, `document.getElementById('wh-url').value = `+jsString(recv.URL+"/class")+`;
			document.getElementById('wh-format').value = 'slack';
			document.getElementById('add-webhook').requestSubmit()`)
		waitJS(t, studio, "the secret and the row", `document.getElementById('wh-secret').value.startsWith('whsec_') &&
			document.querySelectorAll('#webhooks tbody tr').length === 1`, 15*time.Second)
		var hs []struct{ URL, Format, WebinarID string }
		if st := consoleAPI(t, "GET", webinarURL+"/webhooks", hostToken, "", &hs); st != 200 || len(hs) != 1 || hs[0].URL != recv.URL+"/class" || hs[0].Format != "slack" {
			t.Fatalf("the webinar's webhooks: %d %+v", st, hs)
		}
		if all := adminWebhooks(t, s.URL, adminToken); len(all) != 1 || all[0]["webinar_id"] != id {
			t.Errorf("the admin's list: %v, want the webinar's endpoint", all)
		}
		phoneCheck(t, studio, "the webinar's page")
		js(t, studio, `window.confirm = () => false; document.querySelector('#webhooks button.delete-webhook').click()`)
		if consoleAPI(t, "GET", webinarURL+"/webhooks", hostToken, "", &hs); len(hs) != 1 {
			t.Fatal("declining the confirmation deleted the webhook")
		}
		js(t, studio, `window.confirm = () => true; document.querySelector('#webhooks button.delete-webhook').click()`)
		waitJS(t, studio, "the empty list", `!document.getElementById('wh-empty').classList.contains('hidden')`, 15*time.Second)
		if consoleAPI(t, "GET", webinarURL+"/webhooks", hostToken, "", &hs); len(hs) != 0 {
			t.Errorf("after Delete the webinar has %d webhooks", len(hs))
		}
	})

	t.Run("the last two switches save too", func(t *testing.T) {
		js(t, console, `document.getElementById('p-passcode').checked = true;
			document.getElementById('policy-state').textContent = '';
			document.getElementById('policy').requestSubmit()`)
		waitJS(t, console, "the policy saved", `document.getElementById('policy-state').textContent.startsWith('Saved')`, 15*time.Second)
		if p := adminPolicy(t, s.URL, adminToken); p["passcode_required"] != true {
			t.Errorf("passcode_required %v after saving it on", p["passcode_required"])
		}
		// Two-factor for everyone takes hold at once: the admin's own token (no two-factor)
		// is refused from then on.
		js(t, console, `document.getElementById('p-2fa').checked = true;
			document.getElementById('policy-state').textContent = '';
			document.getElementById('policy').requestSubmit()`)
		waitJS(t, console, "the policy saved", `document.getElementById('policy-state').textContent.startsWith('Saved') &&
			document.getElementById('p-2fa').checked`, 15*time.Second)
		if st, msg := apiError(t, "GET", s.URL+"/api/admin/policy", adminToken, ""); st != 403 || !strings.Contains(msg, "two-factor") {
			t.Errorf("with require_2fa saved, an admin without two-factor gets %d %q, want 403", st, msg)
		}
	})

	if f := foreignRequests(t, console, s.URL); len(f) > 0 {
		t.Errorf("the console loaded from elsewhere: %v", f)
	}
}

func adminPolicy(t *testing.T, base, token string) map[string]any {
	t.Helper()
	var p map[string]any
	if st := consoleAPI(t, "GET", base+"/api/admin/policy", token, "", &p); st != 200 {
		t.Fatalf("get policy: %d", st)
	}
	return p
}

func adminWebhooks(t *testing.T, base, token string) []map[string]any {
	t.Helper()
	var hs []map[string]any
	if st := consoleAPI(t, "GET", base+"/api/admin/webhooks", token, "", &hs); st != 200 {
		t.Fatalf("list webhooks: %d", st)
	}
	return hs
}

// apiError sends a request expected to fail and returns its status and JSON error message.
func apiError(t *testing.T, method, url, bearer, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e struct{ Error string }
	json.NewDecoder(res.Body).Decode(&e)
	return res.StatusCode, e.Error
}

// waitDelivery waits for the receiver to get an event of type typ.
func waitDelivery(t *testing.T, ch <-chan received, typ string) received {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r := <-ch:
			var ev struct{ Type string }
			if json.Unmarshal(r.body, &ev) == nil && ev.Type == typ {
				return r
			}
		case <-timeout:
			t.Fatalf("no %s delivery within 30 s", typ)
		}
	}
}

// phoneCheck: at 390 px nothing is wider than the screen and all text has 4.5:1 contrast.
func phoneCheck(t *testing.T, tab context.Context, what string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	defer chromedp.Do(tab, chromedp.EmulateViewport(1280, 900))
	time.Sleep(300 * time.Millisecond)
	if w, _ := chromedp.Run(tab, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); w > 390 {
		wide, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')]
			.filter((e) => e.offsetParent !== null && e.getBoundingClientRect().right > 391)
			.map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)`))
		t.Errorf("%s is %v px wide at a 390 px viewport; too wide: %v", what, w, wide)
	}
	bad, err := chromedp.Run(tab, chromedp.Evaluate[[]string](lowContrast))
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("%s: text under 4.5:1 contrast: %v", what, bad)
	}
}

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminInvitesAUser (issue 11, item 7): an admin adds a person from the console
// and copies the invite link; the person opens it in another browser, chooses a password and
// signs in; they are no admin, so /admin tells them so kindly. The admin then disables them
// through the confirmation dialog, with a reason.
func TestBrowserAdminInvitesAUser(t *testing.T) {
	dir := t.TempDir()
	const admin, password = "admin@school.example", "correct horse battery staple"
	const newcomer, theirs = "new.teacher@school.example", "a violin in the attic"
	addUser(t, dir, admin, password, true)
	s := startServer(t, dir)
	b := newBrowser(t, "")

	console := b.tab(t, s.URL+"/login?next=/admin")
	signIn(t, console, admin, password)
	waitJS(t, console, "the admin console", `location.pathname === '/admin' && document.body.dataset.ready === '1' &&
		!document.getElementById('console').classList.contains('hidden') &&
		document.querySelectorAll('#users tbody tr').length === 1`, 30*time.Second)
	js(t, console, `document.getElementById('new-email').value = `+jsString(newcomer)+`;
		document.getElementById('new-name').value = 'Grace';
		document.getElementById('add-user').requestSubmit()`)
	waitJS(t, console, "the invite link", `document.getElementById('invite-url').value.includes('/invite#') &&
		!document.getElementById('invite-out').classList.contains('hidden') &&
		document.querySelector('#users tbody tr[data-email="`+newcomer+`"]') !== null`, 15*time.Second)
	link, err := chromedp.Run(console, chromedp.Evaluate[string](`document.getElementById('invite-url').value`))
	if err != nil || !strings.HasPrefix(link, s.URL+"/invite#") {
		t.Fatalf("invite link %q %v", link, err)
	}
	if f := foreignRequests(t, console, s.URL); len(f) > 0 {
		t.Errorf("the console loaded from elsewhere: %v", f)
	}

	// A fresh browser profile: no cookies, only the link.
	other := newBrowser(t, "")
	inv := other.tab(t, link)
	waitJS(t, inv, "the password form", `document.body.dataset.ready === '1' &&
		!document.getElementById('password-form').classList.contains('hidden') &&
		document.getElementById('for').textContent.includes(`+jsString(newcomer)+`)`, 15*time.Second)
	if loc, _ := chromedp.Run(inv, chromedp.Location()); strings.Contains(loc, "#") {
		t.Errorf("the link's secret stays in the address bar: %q", loc)
	}
	js(t, inv, `document.getElementById('password').value = 'too short';
		document.getElementById('password2').value = 'too short';
		document.getElementById('password-form').requestSubmit()`)
	waitJS(t, inv, "the password policy's refusal", `document.getElementById('error').textContent.includes('at least 10')`, 15*time.Second)
	js(t, inv, `document.getElementById('password').value = `+jsString(theirs)+`;
		document.getElementById('password2').value = `+jsString(theirs)+`;
		document.getElementById('password-form').requestSubmit()`)
	waitJS(t, inv, "the password to be set", `!document.getElementById('done').classList.contains('hidden')`, 20*time.Second)

	// The link is spent: opening it again says so.
	again := other.tab(t, link)
	waitJS(t, again, "the spent link's message", `!document.getElementById('dead').classList.contains('hidden') &&
		document.getElementById('dead-text').textContent.includes('does not work any more')`, 15*time.Second)

	js(t, inv, `document.getElementById('signin-link').click()`)
	waitJS(t, inv, "the sign-in page", `location.pathname === '/login'`, 15*time.Second)
	signIn(t, inv, newcomer, theirs)
	waitJS(t, inv, "the dashboard of the new account", `location.pathname === '/dashboard' &&
		document.getElementById('who').textContent.includes(`+jsString(newcomer)+`)`, 30*time.Second)
	page := other.tab(t, s.URL+"/admin")
	waitJS(t, page, "the not-an-admin message", `document.body.dataset.ready === '1' &&
		!document.getElementById('not-admin').classList.contains('hidden') &&
		document.getElementById('console').classList.contains('hidden')`, 15*time.Second)

	// The policy form sends back what the server knows (whichever fields it supports) and saves.
	js(t, console, `document.getElementById('policy').requestSubmit()`)
	waitJS(t, console, "the policy saved", `document.getElementById('policy-state').textContent.startsWith('Saved') &&
		document.getElementById('error').textContent === ''`, 15*time.Second)

	// Back in the console: the audit log shows it, and disabling asks first.
	js(t, console, `document.getElementById('audit-filter').requestSubmit()`)
	waitJS(t, console, "the accepted invite in the audit log", `document.querySelector('#audit tbody tr[data-action="user.invite_accepted"]') !== null`, 15*time.Second)
	row := `document.querySelector('#users tbody tr[data-email="` + newcomer + `"]')`
	js(t, console, row+`.querySelector('button[data-action="disable"]').click()`)
	waitJS(t, console, "the confirmation dialog", `document.getElementById('confirm-dialog').open`, 10*time.Second)
	js(t, console, `document.getElementById('confirm-no').click()`)
	waitJS(t, console, "the dialog to close", `!document.getElementById('confirm-dialog').open`, 10*time.Second)
	if got, _ := chromedp.Run(console, chromedp.Evaluate[string](row+`.textContent`)); strings.Contains(got, "Disabled") {
		t.Fatal("Cancel disabled the account")
	}
	js(t, console, row+`.querySelector('button[data-action="disable"]').click()`)
	waitJS(t, console, "the confirmation dialog", `document.getElementById('confirm-dialog').open`, 10*time.Second)
	js(t, console, `document.getElementById('confirm-reason').value = 'moved to another school';
		document.getElementById('confirm-yes').click()`)
	waitJS(t, console, "the dialog to close", `!document.getElementById('confirm-dialog').open`, 10*time.Second)
	waitJS(t, console, "the disabled row", row+`.textContent.includes('Disabled: moved to another school')`, 15*time.Second)

	// Their signed-in browser is signed out at once.
	dash := other.tab(t, s.URL+"/dashboard")
	waitJS(t, dash, "the disabled account sent to sign in", `location.pathname === '/login'`, 15*time.Second)
}

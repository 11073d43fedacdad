package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lectern/models"
)

func TestParseToken(t *testing.T) {
	good := NewToken()
	if len(good) != 43 {
		t.Fatalf("token length %d", len(good))
	}
	if NewToken() == good {
		t.Fatal("two tokens equal")
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{good, true},
		{"", false},
		{good[:42], false},
		{good + "A", false},
		{good[:42] + "+", false}, // std alphabet
		{good[:42] + "=", false},
		{strings.Repeat("A", 42) + "B", false}, // non-canonical trailing bits
		{strings.Repeat("A", 43), true},
	} {
		_, err := ParseToken(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseToken(%q) err=%v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add(NewToken())
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add("lectern_session=abc; Path=/")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseToken(s)
		if err != nil {
			return
		}
		if got != s || len(s) != 43 {
			t.Fatalf("ParseToken(%q) = %q", s, got)
		}
	})
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Bearer abc", "abc"},
		{"bearer abc", "abc"},
		{"BEARER abc", "abc"},
		{"Basic abc", ""},
		{"Bearer ", ""},
		{"Bearerabc", ""},
		{"", ""},
		{"Bearer " + strings.Repeat("x", 600), ""},
	} {
		if got := BearerToken(tc.in); got != tc.want {
			t.Errorf("BearerToken(%.30q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer lct_x", "", "Bearer", "Basic dXNlcjpwdw=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := BearerToken(h)
		if got != "" && (len(h) > 512 || !strings.HasSuffix(h, got) || len(got) != len(h)-7) {
			t.Fatalf("BearerToken(%q) = %q", h, got)
		}
	})
}

func newSessions(t *testing.T) (*Sessions, *models.Store, *fakeClock) {
	s := openStore(t)
	clk := newFakeClock()
	return &Sessions{Store: s, Policy: DefaultSessionPolicy(), Clock: clk.Now}, s, clk
}

func TestSessionLifecycle(t *testing.T) {
	m, store, clk := newSessions(t)
	ctx := context.Background()
	u := mustUser(t, store, "a@example.org")
	token, sess, err := m.Create(ctx, u.ID, false, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if sess.IDHash == token || sess.IDHash != models.HashToken(token) {
		t.Error("the stored id is not the token's hash")
	}
	if _, err := store.AuthSession(ctx, token); !errors.Is(err, models.ErrNotFound) {
		t.Error("session findable by its plaintext token")
	}
	if !CheckCSRF(token, sess.CSRFToken) {
		t.Error("stored CSRF token does not match the session")
	}
	got, gu, err := m.Lookup(ctx, token)
	if err != nil || got.IDHash != sess.IDHash || gu.ID != u.ID {
		t.Fatalf("Lookup = %v, %v", gu.ID, err)
	}
	// Activity within the idle timeout keeps the session alive...
	for range 3 {
		clk.Add(7 * time.Hour)
		if _, _, err := m.Lookup(ctx, token); err != nil {
			t.Fatalf("active session refused at %v: %v", clk.Now(), err)
		}
	}
	// ...but not past the absolute timeout.
	for clk.Now().Before(sess.ExpiresAt) {
		clk.Add(7 * time.Hour)
		m.Lookup(ctx, token)
	}
	if _, _, err := m.Lookup(ctx, token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("after the absolute timeout: %v", err)
	}
	if uu, _ := store.User(ctx, u.ID); uu.LastSeenAt.IsZero() {
		t.Error("session use did not count as account activity")
	}
}

func TestSessionRefusals(t *testing.T) {
	m, store, clk := newSessions(t)
	ctx := context.Background()
	u := mustUser(t, store, "a@example.org")
	for _, tc := range []struct {
		name  string
		setup func(token string)
		want  error
	}{
		{"idle", func(string) { clk.Add(8 * time.Hour) }, ErrInvalidToken},
		{"revoked", func(tok string) { m.Revoke(ctx, tok) }, ErrInvalidToken},
		{"revoked everywhere", func(string) { store.RevokeUserSessions(ctx, u.ID, "", clk.Now()) }, ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store.SetUserDisabled(ctx, u.ID, false, "")
			tok, _, err := m.Create(ctx, u.ID, false, "", "")
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(tok)
			_, _, err = m.Lookup(ctx, tok)
			if !errors.Is(err, tc.want) {
				t.Errorf("Lookup = %v, want %v", err, tc.want)
			}
		})
	}
	// A session of a disabled account is refused even if it was not revoked (here: made after).
	store.SetUserDisabled(ctx, u.ID, true, "left")
	tok, _, _ := m.Create(ctx, u.ID, false, "", "")
	if _, _, err := m.Lookup(ctx, tok); !errors.Is(err, ErrAccountDisabled) {
		t.Errorf("disabled account's session: %v", err)
	}
	for _, bad := range []string{"", "x", NewToken(), strings.Repeat("A", 43)} {
		if _, _, err := m.Lookup(ctx, bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Lookup(%q) = %v", bad, err)
		}
	}
}

func TestMFAPendingSession(t *testing.T) {
	m, store, clk := newSessions(t)
	ctx := context.Background()
	u := mustUser(t, store, "a@example.org")
	tok, sess, err := m.Create(ctx, u.ID, true, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if sess.ExpiresAt.Sub(clk.Now()) != m.Policy.MFAPending {
		t.Errorf("pending session lives %v", sess.ExpiresAt.Sub(clk.Now()))
	}
	if _, _, err := m.Lookup(ctx, tok); !errors.Is(err, ErrMFARequired) {
		t.Errorf("pending session used as a full one: %v", err)
	}
	if _, _, err := m.LookupPending(ctx, tok); err != nil {
		t.Errorf("LookupPending: %v", err)
	}
	full, _, _ := m.Create(ctx, u.ID, false, "", "")
	if _, _, err := m.LookupPending(ctx, full); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("full session accepted as pending: %v", err)
	}
	clk.Add(m.Policy.MFAPending)
	if _, _, err := m.LookupPending(ctx, tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("pending session after its 5 minutes: %v", err)
	}
}

func TestCookies(t *testing.T) {
	m, store, _ := newSessions(t)
	u := mustUser(t, store, "a@example.org")
	tok, sess, _ := m.Create(context.Background(), u.ID, false, "", "")
	for _, secure := range []bool{false, true} {
		c := m.Cookie(tok, sess, secure)
		if !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Value != tok ||
			c.MaxAge != int(m.Policy.Absolute.Seconds()) {
			t.Errorf("cookie %+v", c)
		}
		if err := c.Valid(); err != nil {
			t.Errorf("cookie invalid: %v", err)
		}
		clr := m.ClearCookie(secure)
		if clr.MaxAge >= 0 || clr.Name != c.Name || !clr.HttpOnly {
			t.Errorf("clear cookie %+v", clr)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(m.Cookie(tok, sess, false))
	if got := m.TokenFromRequest(r); got != tok {
		t.Errorf("TokenFromRequest = %q", got)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: m.Policy.CookieName, Value: "junk"})
	if got := m.TokenFromRequest(r); got != "" {
		t.Errorf("TokenFromRequest(junk) = %q", got)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	if IsTLS(r, false) || !IsTLS(r, true) {
		t.Error("IsTLS trusts or ignores X-Forwarded-Proto wrongly")
	}
}

func TestAPIUser(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	u := mustUser(t, store, "a@example.org")
	tok, plain, err := store.CreateAPIToken(ctx, u.ID, "script")
	if err != nil {
		t.Fatal(err)
	}
	got, gu, err := APIUser(ctx, store, plain, nil)
	if err != nil || got.ID != tok.ID || gu.ID != u.ID {
		t.Fatalf("APIUser = %v %v %v", got.ID, gu.ID, err)
	}
	for _, bad := range []string{"", "lct_", NewToken(), "lct_" + NewToken(), plain[:len(plain)-1] + "x"} {
		if _, _, err := APIUser(ctx, store, bad, nil); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("APIUser(%q) = %v", bad, err)
		}
	}
	store.SetUserDisabled(ctx, u.ID, true, "gone")
	if _, _, err := APIUser(ctx, store, plain, nil); !errors.Is(err, ErrAccountDisabled) {
		t.Errorf("disabled account's token: %v", err)
	}
}

func TestCSRF(t *testing.T) {
	a, b := NewToken(), NewToken()
	for _, tc := range []struct {
		session, header string
		want            bool
	}{
		{a, CSRFToken(a), true},
		{a, CSRFToken(b), false},
		{a, "", false},
		{"", CSRFToken(""), false},
		{a, a, false}, // the session token itself is not the CSRF token
		{a, CSRFToken(a) + "x", false},
		{a, strings.ToUpper(CSRFToken(a)), false},
	} {
		if got := CheckCSRF(tc.session, tc.header); got != tc.want {
			t.Errorf("CheckCSRF(%q, %q) = %v", tc.session, tc.header, got)
		}
	}
	if CSRFToken(a) != CSRFToken(a) || CSRFToken(a) == CSRFToken(b) {
		t.Error("CSRF token is not a function of the session")
	}
}

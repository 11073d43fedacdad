package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/auth"
	"lectern/broadcast"
	"lectern/captions"
	"lectern/live"
	"lectern/models"
)

// testClock is a settable clock for sign-in, 2FA and rate-limit tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cheapArgon2 keeps password tests fast under -race; the real parameters are auth's business.
var cheapArgon2 = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const testPassword = "correct horse battery staple"

var (
	cheapHashOnce sync.Once
	cheapHash     string
)

// passwordHash is testPassword hashed once with cheapArgon2.
func passwordHash(t testing.TB) string {
	cheapHashOnce.Do(func() {
		h, err := auth.HashPasswordWith(testPassword, cheapArgon2)
		if err != nil {
			panic(err)
		}
		cheapHash = h
	})
	return cheapHash
}

// authServer is the full API with accounts on, a fixed clock and cheap hashing.
type authServer struct {
	*httptest.Server
	api   *Server
	store *models.Store
	clock *testClock
}

func newAuthServer(t testing.TB, edit func(*Deps)) *authServer {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{IncludeLoopback: true, Interfaces: []string{"lo"}, Logger: quietLogger()}, reg)
	if err != nil {
		t.Fatal(err)
	}
	lm := live.New(live.Config{Store: store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: quietLogger()})
	clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	d := Deps{Store: store, Broadcast: bc, Live: lm, Gatherer: reg, Logger: quietLogger(),
		Secret: []byte("0123456789abcdef0123456789abcdef"), Clock: clk.Now, Argon2: cheapArgon2}
	if edit != nil {
		edit(&d)
	}
	srv := New(d)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		lm.Close()
		hs.Close()
		bc.Close()
		store.Close()
	})
	return &authServer{Server: hs, api: srv, store: store, clock: clk}
}

// user creates an account with testPassword.
func (s *authServer) user(t testing.TB, email string, admin bool) models.User {
	t.Helper()
	u, err := s.store.CreateUser(context.Background(), models.NewUser{Email: email, PasswordHash: passwordHash(t), Admin: admin})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// session signs u in directly (no password round trip) and returns its cookie token.
func (s *authServer) session(t testing.TB, u models.User) string {
	t.Helper()
	tok, _, err := s.api.auth.sessions.Create(context.Background(), u.ID, false, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// webinar creates a webinar owned by owner with the given visibility and passcode.
func (s *authServer) webinar(t testing.TB, owner models.User, vis models.Visibility, passcode string) models.Webinar {
	t.Helper()
	ctx := context.Background()
	w, err := s.store.CreateWebinar(ctx, models.NewWebinar{Title: "Class of " + owner.Email})
	if err != nil {
		t.Fatal(err)
	}
	set := models.WebinarSettings{WebinarID: w.ID, OwnerID: owner.ID, Visibility: vis}
	if passcode != "" {
		if set.PasscodeHash, err = auth.HashPasswordWith(passcode, cheapArgon2); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.SaveWebinarSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	return w
}

// creds is how a request authenticates.
type creds struct {
	session string // cookie token (the CSRF header is added for writes unless noCSRF)
	bearer  string
	noCSRF  bool
}

type reply struct {
	status int
	header http.Header
	body   string
	res    *http.Response
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("%d %q: %v", r.status, r.body, err)
	}
}

// call sends one request. Server-sent event streams are not read (they never end): only the
// status and headers count.
func (s *authServer) call(t *testing.T, c creds, method, path, ctype, body string) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: "lectern_session", Value: c.session})
		if !c.noCSRF && unsafeMethod(method) {
			req.Header.Set(auth.CSRFHeader, auth.CSRFToken(c.session))
		}
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out := reply{status: res.StatusCode, header: res.Header, res: res}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		out.body = string(b)
	}
	return out
}

func (s *authServer) postJSON(t *testing.T, c creds, path string, v any) reply {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return s.call(t, c, "POST", path, "application/json", string(b))
}

// snapshot is everything a refused request must leave alone (the audit log aside: refusals
// are worth recording): every webinar and account, and the details of those named in ids.
func (s *authServer) snapshot(t *testing.T, ids ...string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	ws, err := s.store.Webinars(ctx)
	if err != nil {
		t.Fatal(err)
	}
	us, err := s.store.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	enc.Encode([]any{ws, us})
	for _, id := range ids {
		if _, err := s.store.Webinar(ctx, id); err == nil {
			set, _ := s.store.WebinarSettings(ctx, id)
			ms, _ := s.store.Members(ctx, id)
			rs, _ := s.store.Registrations(ctx, id)
			finals, _ := s.store.Finals(ctx, id, 0)
			enc.Encode([]any{set, set.PasscodeHash, ms, rs, len(finals)})
			continue
		}
		ts, _ := s.store.APITokens(ctx, id)
		ss, _ := s.store.UserSessions(ctx, id, s.clock.Now())
		left, _ := s.store.RecoveryCodesLeft(ctx, id)
		full, _ := s.store.User(ctx, id)
		enc.Encode([]any{ts, ss, left, full.PasswordHash, full.TOTPSecret})
	}
	v, _ := s.store.SiteSetting(ctx, settingRequire2FA, "")
	enc.Encode(v)
	return b.String()
}

func auditFilter(action string) models.AuditFilter { return models.AuditFilter{Action: action} }

func newLegacy() models.NewWebinar { return models.NewWebinar{Title: "Made by the old CLI"} }

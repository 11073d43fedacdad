package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"lectern/auth"
	"lectern/models"
)

// costlyArgon2 makes a check take milliseconds, so that concurrent requests really overlap
// in the hasher (cheapArgon2 finishes before the next request arrives).
var costlyArgon2 = auth.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// fromAddr sends a JSON POST as if from the client address ip (the server trusts the
// loopback proxy's X-Forwarded-For in these tests) and returns the status and body.
func fromAddr(t *testing.T, s *authServer, ip, session, path string, body any) (int, http.Header, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(string(b)))
	if err != nil {
		t.Error(err)
		return 0, nil, ""
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "lectern_session", Value: session})
		req.Header.Set(auth.CSRFHeader, auth.CSRFToken(session))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil, ""
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(out)
}

func behindProxy(d *Deps) { d.TrustProxy = true }

// userWith creates an account whose password hash has the given cost.
func userWith(t *testing.T, s *authServer, email string, p auth.Argon2Params) models.User {
	t.Helper()
	h, err := auth.HashPasswordWith(testPassword, p)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.store.CreateUser(context.Background(), models.NewUser{Email: email, PasswordHash: h})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestConcurrentWrongPasswordsAreLimited (issue 8, item 11): 30 wrong passwords sent at once
// from one address get exactly 5 password checks (the policy: 5 a minute); the other 25 are
// refused with 429 before any hashing.
func TestConcurrentWrongPasswordsAreLimited(t *testing.T) {
	s := newAuthServer(t, behindProxy)
	userWith(t, s, "ada@school.example", costlyArgon2)
	before := auth.HashesComputed(auth.ForSignIn)
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, h, _ := fromAddr(t, s, "192.0.2.10", "", "/api/login", loginRequest{Email: "ada@school.example", Password: "wrong guess number one"})
			mu.Lock()
			statuses[st]++
			mu.Unlock()
			if st == http.StatusTooManyRequests && h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}()
	}
	wg.Wait()
	if statuses[401] != 5 || statuses[429] != 25 {
		t.Errorf("statuses %v, want 5×401 and 25×429", statuses)
	}
	if got := auth.HashesComputed(auth.ForSignIn) - before; got != 5 {
		t.Errorf("%d passwords hashed, want 5", got)
	}
}

// TestPasscodeFloodDoesNotStarveSignIns (item 11): while a flood of correct-passcode joins
// fills the hasher, 8 real sign-ins from 8 addresses all succeed (they queue apart, and first).
func TestPasscodeFloodDoesNotStarveSignIns(t *testing.T) {
	s := newAuthServer(t, behindProxy)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityPublic, "")
	set, err := s.store.WebinarSettings(context.Background(), w.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A passcode hash costlier still, so the flood keeps the join queue full.
	floodArgon2 := auth.Argon2Params{MemoryKiB: 32 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	if set.PasscodeHash, err = auth.HashPasswordWith("4321", floodArgon2); err != nil {
		t.Fatal(err)
	}
	if err := s.store.SaveWebinarSettings(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		userWith(t, s, fmt.Sprintf("teacher%d@school.example", i), cheapArgon2)
	}
	started := auth.HashesComputed(auth.ForPasscode)
	var wg sync.WaitGroup
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fromAddr(t, s, "198.51.100.7", "", "/api/webinars/"+w.ID+"/join", joinRequest{Passcode: "4321"})
		}()
	}
	// Sign in once the flood is hashing.
	for deadline := time.Now().Add(20 * time.Second); auth.HashesComputed(auth.ForPasscode)-started < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the join flood never reached the hasher")
		}
		time.Sleep(time.Millisecond)
	}
	got := make([]int, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _, _ = fromAddr(t, s, fmt.Sprintf("203.0.113.%d", i+1), "", "/api/login",
				loginRequest{Email: fmt.Sprintf("teacher%d@school.example", i), Password: testPassword})
		}()
	}
	wg.Wait()
	for i, st := range got {
		if st != http.StatusOK {
			t.Errorf("sign-in %d during a join flood: %d, want 200", i, st)
		}
	}
}

// TestCorrectJoinsLimitedPerAddress (item 11): correct passcodes, too, cost a hash each, so one
// address gets PasscodeCheckPolicy's checks a minute, then 429 with Retry-After; another
// address is not affected.
func TestCorrectJoinsLimitedPerAddress(t *testing.T) {
	s := newAuthServer(t, behindProxy)
	host := s.user(t, "host@school.example", false)
	w := s.webinar(t, host, models.VisibilityPublic, "4321")
	n := auth.PasscodeCheckPolicy().MaxFailures
	for i := range n {
		if st, _, body := fromAddr(t, s, "198.51.100.7", "", "/api/webinars/"+w.ID+"/join", joinRequest{Passcode: "4321"}); st != 200 {
			t.Fatalf("join %d: %d %s", i, st, body)
		}
	}
	st, h, body := fromAddr(t, s, "198.51.100.7", "", "/api/webinars/"+w.ID+"/join", joinRequest{Passcode: "4321"})
	if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(body, `"error"`) {
		t.Errorf("join %d from one address: %d %s (Retry-After %q), want 429", n+1, st, body, h.Get("Retry-After"))
	}
	if st, _, body := fromAddr(t, s, "198.51.100.8", "", "/api/webinars/"+w.ID+"/join", joinRequest{Passcode: "4321"}); st != 200 {
		t.Errorf("join from another address: %d %s", st, body)
	}
}

// TestGuesserCannotLockOwnerOut (item 12): wrong passwords from other addresses never refuse
// the owner at theirs; past the account-wide budget they slow it down, and the owner sees it
// in their account's security events. The guessing address itself is locked out.
func TestGuesserCannotLockOwnerOut(t *testing.T) {
	s := newAuthServer(t, behindProxy)
	var mu sync.Mutex
	var waits []time.Duration
	s.api.auth.signIn.Sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return nil
	}
	u := s.user(t, "ada@school.example", false)
	wrong := loginRequest{Email: u.Email, Password: "not her password"}
	right := loginRequest{Email: u.Email, Password: testPassword}
	for i := range 5 {
		if st, _, _ := fromAddr(t, s, "192.0.2.66", "", "/api/login", wrong); st != 401 {
			t.Fatalf("guess %d: %d", i, st)
		}
	}
	if st, _, _ := fromAddr(t, s, "192.0.2.66", "", "/api/login", right); st != 429 {
		t.Errorf("the guessing address after 5 failures: %d, want 429", st)
	}
	if st, _, body := fromAddr(t, s, "198.51.100.20", "", "/api/login", right); st != 200 {
		t.Fatalf("owner at a fresh address after 5 guesses elsewhere: %d %s, want 200", st, body)
	}
	// A distributed guesser: 4 wrong passwords from each of 10 addresses.
	for a := range 10 {
		for range 4 {
			if st, _, _ := fromAddr(t, s, fmt.Sprintf("203.0.113.%d", a+1), "", "/api/login", wrong); st != 401 {
				t.Fatalf("guess from address %d: %d", a, st)
			}
		}
	}
	st, _, body := fromAddr(t, s, "198.51.100.21", "", "/api/login", right)
	if st != 200 {
		t.Fatalf("owner after 40 guesses from 10 addresses: %d %s, want 200", st, body)
	}
	mu.Lock()
	last := waits[len(waits)-1]
	mu.Unlock()
	if last != auth.SlowMax {
		t.Errorf("owner's sign-in waited %v, want the slow-down %v", last, auth.SlowMax)
	}
	session := ""
	for _, c := range s.lastCookies(t, "198.51.100.22", right) {
		if c.Name == "lectern_session" {
			session = c.Value
		}
	}
	var events []models.AuditEvent
	s.call(t, creds{session: session}, "GET", "/api/account/events", "", "").json(t, &events)
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Action] = true
	}
	if !seen[auth.EventSignInThrottled] || !seen[auth.EventSignIn] {
		t.Errorf("owner's security events %v: want %s and %s", seen, auth.EventSignInThrottled, auth.EventSignIn)
	}
}

// lastCookies signs in with in from ip and returns the cookies set.
func (s *authServer) lastCookies(t *testing.T, ip string, in loginRequest) []*http.Cookie {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/login", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	return res.Cookies()
}

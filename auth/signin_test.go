package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lectern/models"
)

type signInFixture struct {
	s     *SignIn
	store *models.Store
	clk   *fakeClock
	user  models.User
	waits []time.Duration // the account-wide slow-downs asked for, instead of sleeping
}

const goodPassword = "correct horse battery staple"

// testSignInArgon2 differs from the fixture's hash, so the first sign-in upgrades it.
var testSignInArgon2 = Argon2Params{MemoryKiB: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newSignIn(t *testing.T) *signInFixture {
	store := openStore(t)
	clk := newFakeClock()
	tf, err := NewTwoFactor(store, testSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	tf.Clock = clk.Now
	h, _ := HashPasswordWith(goodPassword, cheapArgon2)
	u, err := store.CreateUser(context.Background(), models.NewUser{Email: "ada@example.org", PasswordHash: h})
	if err != nil {
		t.Fatal(err)
	}
	f := &signInFixture{
		s: &SignIn{Store: store, Guard: NewSignInGuard(clk.Now), TwoFactor: tf, Clock: clk.Now, Argon2: testSignInArgon2,
			Sessions: &Sessions{Store: store, Policy: DefaultSessionPolicy(), Clock: clk.Now}},
		store: store, clk: clk, user: u,
	}
	f.s.Sleep = func(_ context.Context, d time.Duration) error { f.waits = append(f.waits, d); return nil }
	return f
}

func TestPasswordSignIn(t *testing.T) {
	f := newSignIn(t)
	ctx := context.Background()
	res, err := f.s.Password(ctx, "ADA@example.org", goodPassword, "192.0.2.1", "test")
	if err != nil || res.MFARequired || res.User.ID != f.user.ID {
		t.Fatalf("Password = %+v, %v", res, err)
	}
	if _, _, err := f.s.Sessions.Lookup(ctx, res.Token); err != nil {
		t.Errorf("new session: %v", err)
	}
	// The old hash was upgraded to the configured parameters on the way.
	if !NeedsRehashWith(f.user.PasswordHash, testSignInArgon2) {
		t.Fatal("fixture hash already has the sign-in parameters")
	}
	if u, _ := f.store.User(ctx, f.user.ID); NeedsRehashWith(u.PasswordHash, testSignInArgon2) || u.LastLoginAt.IsZero() {
		t.Errorf("after sign-in: rehash=%v last login %v", NeedsRehashWith(u.PasswordHash, testSignInArgon2), u.LastLoginAt)
	}
	res2, _ := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", "test")
	if res2.Token == res.Token {
		t.Error("sign-in reused a session id")
	}
	for _, tc := range []struct{ email, pw string }{
		{"ada@example.org", "wrong password"},
		{"nobody@example.org", goodPassword},
		{"", ""},
	} {
		if _, err := f.s.Password(ctx, tc.email, tc.pw, "192.0.2.2", ""); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Password(%q, %q) = %v", tc.email, tc.pw, err)
		}
	}
	ev, _ := f.store.AuditEvents(ctx, models.AuditFilter{Action: EventSignInFailed})
	if len(ev) != 3 || ev[0].ActorID != "" {
		t.Errorf("failures audited: %+v", ev)
	}
	for _, e := range ev {
		if strings.Contains(string(e.Detail), "wrong password") {
			t.Error("a tried password reached the audit log")
		}
	}
}

// The test: the 6th wrong password in a minute gets 429; the lockout lifts after its time.
func TestSixthWrongPasswordIs429(t *testing.T) {
	f := newSignIn(t)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		if _, err := f.s.Password(ctx, "ada@example.org", "wrong password", "192.0.2.1", ""); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
		f.clk.Add(time.Second)
	}
	_, err := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", "")
	var rl *RateLimitedError
	if !errors.As(err, &rl) || RetryAfter(rl.Wait) != "55" {
		t.Fatalf("6th attempt (even with the right password): %v, want rate limited for 55 s", err)
	}
	// Not from another address: a guesser must not lock the owner out (issue 8, item 12).
	if _, err := f.s.Password(ctx, "ada@example.org", goodPassword, "198.51.100.1", ""); err != nil {
		t.Fatalf("owner at another address: %v", err)
	}
	f.clk.Add(rl.Wait)
	if _, err := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", ""); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

func TestLockoutLiftsAfterItsTime(t *testing.T) {
	f := newSignIn(t)
	ctx := context.Background()
	p := SignInPolicy()
	var rl *RateLimitedError
	for i := 0; i < p.LockoutAfter; {
		_, err := f.s.Password(ctx, "ada@example.org", "wrong password", "192.0.2.1", "")
		if errors.As(err, &rl) {
			f.clk.Add(rl.Wait)
			continue
		}
		i++
	}
	_, err := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", "")
	if !errors.As(err, &rl) || rl.Wait != p.LockoutFor {
		t.Fatalf("locked account: %v", err)
	}
	if ev, _ := f.store.AuditEvents(ctx, models.AuditFilter{Action: EventLockout}); len(ev) != 1 {
		t.Errorf("lockout audited %d times", len(ev))
	}
	f.clk.Add(p.LockoutFor)
	if _, err := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.99", ""); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

func TestDisabledAndSSOOnly(t *testing.T) {
	f := newSignIn(t)
	ctx := context.Background()
	f.store.SetUserDisabled(ctx, f.user.ID, true, "disabled after 90 days")
	if _, err := f.s.Password(ctx, "ada@example.org", "wrong password", "192.0.2.1", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong password on a disabled account revealed it: %v", err)
	}
	_, err := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", "")
	var de *DisabledError
	if !errors.As(err, &de) || de.Reason != "disabled after 90 days" || !errors.Is(err, ErrAccountDisabled) {
		t.Errorf("disabled account: %v", err)
	}
	if _, err := f.s.Start(ctx, models.User{Disabled: true}, "", "", "sso", false); !errors.Is(err, ErrAccountDisabled) {
		t.Errorf("Start of a disabled account: %v", err)
	}
	f.store.SetUserDisabled(ctx, f.user.ID, false, "")
	f.s.SSOOnly = true
	if _, err := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", ""); !errors.Is(err, ErrSSOOnly) {
		t.Errorf("SSO-only: %v", err)
	}
	f.store.SetUserAdmin(ctx, f.user.ID, true)
	if _, err := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", ""); err != nil {
		t.Errorf("admin break-glass under SSO-only: %v", err)
	}
}

// The 2FA flow end to end, with a fixed clock.
func TestTwoFactorSignIn(t *testing.T) {
	f := newSignIn(t)
	ctx := context.Background()
	secret, codes := enrol(t, f.s.TwoFactor, f.clk, f.user)
	f.clk.Add(time.Minute)
	res, err := f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", "")
	if err != nil || !res.MFARequired {
		t.Fatalf("Password with 2FA = %+v, %v", res, err)
	}
	if _, _, err := f.s.Sessions.Lookup(ctx, res.Token); !errors.Is(err, ErrMFARequired) {
		t.Errorf("pending session usable: %v", err)
	}
	if _, err := f.s.SecondFactor(ctx, res.Token, "000000", "192.0.2.1", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong code: %v", err)
	}
	full, err := f.s.SecondFactor(ctx, res.Token, codeAt(t, secret, f.clk.Now()), "192.0.2.1", "")
	if err != nil || full.MFARequired || full.Token == res.Token {
		t.Fatalf("SecondFactor = %+v, %v", full, err)
	}
	if _, _, err := f.s.Sessions.Lookup(ctx, full.Token); err != nil {
		t.Errorf("full session: %v", err)
	}
	if _, _, err := f.s.Sessions.LookupPending(ctx, res.Token); err == nil {
		t.Error("the pending session survived")
	}
	// Recovery code instead of TOTP.
	f.clk.Add(time.Minute)
	res, _ = f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", "")
	if _, err := f.s.SecondFactor(ctx, res.Token, strings.ToUpper(codes[0]), "192.0.2.1", ""); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	res, _ = f.s.Password(ctx, "ada@example.org", goodPassword, "192.0.2.1", "")
	if _, err := f.s.SecondFactor(ctx, res.Token, codes[0], "192.0.2.1", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("recovery code reused: %v", err)
	}
	// Guessing codes hits the rate limit.
	var rl *RateLimitedError
	limited := false
	for range 10 {
		_, err := f.s.SecondFactor(ctx, res.Token, "123456", "192.0.2.1", "")
		if errors.As(err, &rl) {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("2FA code guessing not rate limited")
	}
	if ev, _ := f.store.AuditEvents(ctx, models.AuditFilter{Action: EventRecoveryCodeUsed}); len(ev) != 1 || !strings.Contains(string(ev[0].Detail), `"left":9`) {
		t.Errorf("recovery audit: %+v", ev)
	}
}

func TestNeedsTOTPEnrolment(t *testing.T) {
	if NeedsTOTPEnrolment(false, models.User{}) || !NeedsTOTPEnrolment(true, models.User{}) || NeedsTOTPEnrolment(true, models.User{TOTPEnabled: true}) {
		t.Error("NeedsTOTPEnrolment wrong")
	}
}

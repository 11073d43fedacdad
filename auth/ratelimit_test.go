package auth

import (
	"fmt"
	"testing"
	"time"
)

// fail reserves and fails one sign-in attempt, which must be allowed.
func fail(t *testing.T, g *SignInGuard, email, ip string) {
	t.Helper()
	at, err := g.Reserve(email, ip)
	if err != nil {
		t.Fatalf("attempt on %s from %s refused: %v", email, ip, err)
	}
	at.Fail()
}

func refused(g *SignInGuard, email, ip string) (bool, time.Duration) {
	at, err := g.Reserve(email, ip)
	if err != nil {
		return true, err.(*RateLimitedError).Wait
	}
	at.Cancel()
	return false, 0
}

func TestSixthFailureInAMinuteIsRefused(t *testing.T) {
	clk := newFakeClock()
	g := NewSignInGuard(clk.Now)
	const email, ip = "ada@example.org", "192.0.2.7:5555"
	for range 5 {
		fail(t, g, email, ip)
		clk.Add(5 * time.Second)
	}
	no, wait := refused(g, email, ip)
	if !no {
		t.Fatal("6th attempt within a minute allowed")
	}
	// The first failure was 25 s ago: it ages out in 35 s.
	if wait != 35*time.Second || RetryAfter(wait) != "35" {
		t.Errorf("Retry-After %v (%s), want 35 s", wait, RetryAfter(wait))
	}
	// Another account from this address is refused too (the address is attacking), but the
	// account from another address is not: nobody can lock an owner out from elsewhere.
	if no, _ := refused(g, "bob@example.org", ip); !no {
		t.Error("another account from the same address allowed")
	}
	if no, _ := refused(g, email, "198.51.100.1:1"); no {
		t.Error("same account from another address refused")
	}
	clk.Add(wait)
	if no, _ := refused(g, email, ip); no {
		t.Error("still refused after Retry-After")
	}
}

// TestReserveIsAtomic: reservations made before any outcome is known count, so 30 attempts
// in flight at once get 5 reservations, and the refusals say "retry in a second".
func TestReserveIsAtomic(t *testing.T) {
	g := NewSignInGuard(newFakeClock().Now)
	var held []*SignInAttempt
	for i := range 30 {
		at, err := g.Reserve("ada@example.org", "192.0.2.7")
		if err != nil {
			if i < 5 {
				t.Fatalf("attempt %d refused: %v", i, err)
			}
			if w := err.(*RateLimitedError).Wait; w != pendingWait {
				t.Errorf("refused while others are in flight: wait %v, want %v", w, pendingWait)
			}
			continue
		}
		held = append(held, at)
	}
	if len(held) != 5 {
		t.Fatalf("%d attempts reserved at once, want 5", len(held))
	}
	// A cancelled attempt gives its place back; a failed one keeps it for the window.
	held[0].Cancel()
	if no, _ := refused(g, "ada@example.org", "192.0.2.7"); no {
		t.Error("cancelled reservation still held")
	}
	for _, at := range held[1:] {
		at.Fail()
	}
	at, err := g.Reserve("ada@example.org", "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	at.Fail()
	if no, wait := refused(g, "ada@example.org", "192.0.2.7"); !no || wait != time.Minute {
		t.Errorf("after 5 failures: refused=%v wait=%v, want 1m", no, wait)
	}
}

// TestAccountIsSlowedNotLocked: failures from many addresses never refuse the account at a
// fresh address; past SlowAfter they only slow it, growing to SlowMax.
func TestAccountIsSlowedNotLocked(t *testing.T) {
	clk := newFakeClock()
	g := NewSignInGuard(clk.Now)
	const email = "ada@example.org"
	throttled := 0
	for i := range 60 {
		at, err := g.Reserve(email, fmt.Sprintf("203.0.113.%d", i))
		if err != nil {
			t.Fatalf("failure %d refused: %v", i, err)
		}
		if _, th := at.Fail(); th {
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("owner told %d times, want once", throttled)
	}
	at, err := g.Reserve(email, "198.51.100.9")
	if err != nil {
		t.Fatalf("owner at a fresh address refused: %v", err)
	}
	if at.Delay != SlowMax {
		t.Errorf("delay %v after 60 failures, want %v", at.Delay, SlowMax)
	}
	at.Succeed()
	at, _ = g.Reserve(email, "198.51.100.9")
	if at.Delay != 0 {
		t.Errorf("delay %v after the owner's success, want 0", at.Delay)
	}
	if got := slowDown(SlowAfter); got != SlowStep {
		t.Errorf("slowDown(%d) = %v, want %v", SlowAfter, got, SlowStep)
	}
}

func TestLockoutLifts(t *testing.T) {
	clk := newFakeClock()
	p := SignInPolicy()
	l := NewLimiter(p, clk.Now)
	locked := false
	for i := 1; i <= p.LockoutAfter; i++ {
		// Pace the failures to stay under the per-minute limit: only the streak counts.
		ok, wait := allow(l, "k")
		if !ok {
			clk.Add(wait)
		}
		locked = l.Fail("k")
		if locked != (i == p.LockoutAfter) {
			t.Fatalf("failure %d: locked=%v", i, locked)
		}
	}
	ok, wait := allow(l, "k")
	if ok || wait != p.LockoutFor {
		t.Fatalf("after lockout: ok=%v wait=%v, want %v", ok, wait, p.LockoutFor)
	}
	l.Succeed("k") // a right password during the lockout does not lift it
	clk.Add(p.LockoutFor - time.Second)
	if ok, wait := allow(l, "k"); ok || wait != time.Second {
		t.Errorf("1 s before the end: ok=%v wait=%v", ok, wait)
	}
	clk.Add(time.Second)
	if ok, _ := allow(l, "k"); !ok {
		t.Error("lockout did not lift after its time")
	}
}

func TestStreakGoesCold(t *testing.T) {
	clk := newFakeClock()
	p := SignInPolicy()
	l := NewLimiter(p, clk.Now)
	// One failure every 16 minutes forever never locks: the streak resets each time.
	for range 3 * p.LockoutAfter {
		if l.Fail("k") {
			t.Fatal("slow failures locked the account")
		}
		clk.Add(p.LockoutFor + time.Minute)
	}
}

func TestSuccessResetsAccountNotAddress(t *testing.T) {
	clk := newFakeClock()
	g := NewSignInGuard(clk.Now)
	for range 4 {
		fail(t, g, "ada@example.org", "192.0.2.1")
	}
	at, err := g.Reserve("ada@example.org", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	at.Succeed()
	if got := g.Pair.Failures(accountKey("ada@example.org") + "|" + IPKey("192.0.2.1")); got != 0 {
		t.Errorf("%d failures of the account at the address after a success", got)
	}
	fail(t, g, "ada@example.org", "192.0.2.1")
	if no, _ := refused(g, "eve@example.org", "192.0.2.1"); !no {
		t.Error("address counter reset by a success on an account")
	}
	if no, _ := refused(g, "ADA@example.org ", "198.51.100.9"); no {
		t.Error("email case changes the key")
	}
}

func TestLimiterMemoryBound(t *testing.T) {
	clk := newFakeClock()
	p := SignInPolicy()
	p.MaxKeys = 100
	l := NewLimiter(p, clk.Now)
	for i := range 1000 {
		l.Fail(fmt.Sprint("k", i))
		clk.Add(time.Millisecond)
		if l.Len() > p.MaxKeys {
			t.Fatalf("%d keys held, bound %d", l.Len(), p.MaxKeys)
		}
	}
	// The newest key survives the evictions (the least recently failed go first).
	if ok, _ := allow(l, "k999"); !ok {
		t.Error("one failure refuses")
	}
	for range 5 {
		l.Fail("k999")
	}
	if ok, _ := allow(l, "k999"); ok {
		t.Error("recent key lost")
	}
	// Idle keys go first: after a quiet hour a sweep empties the table.
	clk.Add(time.Hour)
	l.Fail("new")
	if l.Len() != 1 {
		t.Errorf("%d keys after the sweep, want 1", l.Len())
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:443":                  "ip:192.0.2.1",
		"192.0.2.1":                      "ip:192.0.2.1",
		"::ffff:192.0.2.1":               "ip:192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443":     "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:ffff:ff": "ip:2001:db8:1:2::/64",
		"not an ip":                      "ip:not an ip",
	} {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", 15 * time.Minute: "900"} {
		if got := RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestPasscodeLimiter(t *testing.T) {
	clk := newFakeClock()
	p := PasscodePolicy()
	l := NewLimiter(p, clk.Now)
	key := "webinar-1|" + IPKey("192.0.2.1")
	for range p.MaxFailures {
		l.Fail(key)
	}
	if ok, _ := allow(l, key); ok {
		t.Error("passcode guessing not limited")
	}
	if ok, _ := allow(l, "webinar-2|"+IPKey("192.0.2.1")); !ok {
		t.Error("another webinar's passcode limited")
	}
}

// allow asks l whether key may make an attempt now, without counting one.
func allow(l *Limiter, key string) (bool, time.Duration) {
	r, wait := l.Reserve(key)
	if r == nil {
		return false, wait
	}
	r.Cancel()
	return true, 0
}

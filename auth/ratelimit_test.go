package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestSixthFailureInAMinuteIsRefused(t *testing.T) {
	clk := newFakeClock()
	g := NewSignInGuard(clk.Now)
	const email, ip = "ada@example.org", "192.0.2.7:5555"
	for i := 1; i <= 5; i++ {
		if ok, _ := g.Allow(email, ip); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		g.Fail(email, ip)
		clk.Add(5 * time.Second)
	}
	ok, wait := g.Allow(email, ip)
	if ok {
		t.Fatal("6th attempt within a minute allowed")
	}
	// The first failure was 25 s ago: it ages out in 35 s.
	if wait != 35*time.Second || RetryAfter(wait) != "35" {
		t.Errorf("Retry-After %v (%s), want 35 s", wait, RetryAfter(wait))
	}
	// Another address is refused too (the account is under attack) and another account from
	// this address too (the address is attacking).
	if ok, _ := g.Allow(email, "198.51.100.1:1"); ok {
		t.Error("same account from another address allowed")
	}
	if ok, _ := g.Allow("bob@example.org", ip); ok {
		t.Error("another account from the same address allowed")
	}
	if ok, _ := g.Allow("bob@example.org", "198.51.100.1:1"); !ok {
		t.Error("unrelated account and address refused")
	}
	clk.Add(wait)
	if ok, _ := g.Allow(email, ip); !ok {
		t.Error("still refused after Retry-After")
	}
}

func TestLockoutLifts(t *testing.T) {
	clk := newFakeClock()
	p := SignInPolicy()
	l := NewLimiter(p, clk.Now)
	locked := false
	for i := 1; i <= p.LockoutAfter; i++ {
		// Pace the failures to stay under the per-minute limit: only the streak counts.
		ok, wait := l.Allow("k")
		if !ok {
			clk.Add(wait)
		}
		locked = l.Fail("k")
		if locked != (i == p.LockoutAfter) {
			t.Fatalf("failure %d: locked=%v", i, locked)
		}
	}
	ok, wait := l.Allow("k")
	if ok || wait != p.LockoutFor {
		t.Fatalf("after lockout: ok=%v wait=%v, want %v", ok, wait, p.LockoutFor)
	}
	l.Succeed("k") // a right password during the lockout does not lift it
	clk.Add(p.LockoutFor - time.Second)
	if ok, wait := l.Allow("k"); ok || wait != time.Second {
		t.Errorf("1 s before the end: ok=%v wait=%v", ok, wait)
	}
	clk.Add(time.Second)
	if ok, _ := l.Allow("k"); !ok {
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
		g.Fail("ada@example.org", "192.0.2.1")
	}
	g.Succeed("ada@example.org")
	g.Fail("ada@example.org", "192.0.2.1")
	if ok, _ := g.Allow("ada@example.org", "198.51.100.9"); !ok {
		t.Error("account still limited after a success")
	}
	if ok, _ := g.Allow("eve@example.org", "192.0.2.1"); ok {
		t.Error("address counter reset by a success on an account")
	}
	if ok, _ := g.Allow("ADA@example.org ", "198.51.100.9"); !ok {
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
	if ok, _ := l.Allow("k999"); !ok {
		t.Error("one failure refuses")
	}
	for range 5 {
		l.Fail("k999")
	}
	if ok, _ := l.Allow("k999"); ok {
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
	if ok, _ := l.Allow(key); ok {
		t.Error("passcode guessing not limited")
	}
	if ok, _ := l.Allow("webinar-2|" + IPKey("192.0.2.1")); !ok {
		t.Error("another webinar's passcode limited")
	}
}

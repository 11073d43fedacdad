package auth

import (
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	"lectern/models"
)

// LimitPolicy is a failure-counting limiter's rules.
type LimitPolicy struct {
	Window      time.Duration // failures are counted over this sliding window
	MaxFailures int           // this many failures in Window refuse further attempts until the oldest ages out
	// LockoutAfter failures in a row (without a success, each within LockoutFor of the previous)
	// lock the key for LockoutFor; 0 disables lockout.
	LockoutAfter int
	LockoutFor   time.Duration
	MaxKeys      int // memory bound: at most this many keys are remembered
}

// SignInPolicy: 5 failures a minute, then 429; 20 failures in a row lock for 15 minutes.
// An honest user mistyping does not reach either; a guesser gets ~100 tries an hour per
// account and per address instead of thousands a second.
func SignInPolicy() LimitPolicy {
	return LimitPolicy{Window: time.Minute, MaxFailures: 5, LockoutAfter: 20, LockoutFor: 15 * time.Minute, MaxKeys: 100_000}
}

// PasscodePolicy for webinar passcodes (often short and numeric, so guessing is the risk):
// 5 failures a minute, 10 in a row lock for 30 minutes, per webinar and address.
func PasscodePolicy() LimitPolicy {
	return LimitPolicy{Window: time.Minute, MaxFailures: 5, LockoutAfter: 10, LockoutFor: 30 * time.Minute, MaxKeys: 100_000}
}

// Limiter counts failures per key (an account, an IP address, a webinar+address) and says
// when a key must wait. It is safe for concurrent use and holds at most MaxKeys keys.
type Limiter struct {
	policy LimitPolicy
	clock  Clock

	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	fails       []time.Time // failures within Window, oldest first, at most MaxFailures
	streak      int         // failures in a row
	lastFail    time.Time
	lockedUntil time.Time
}

// NewLimiter makes a Limiter; clock may be nil (wall clock).
func NewLimiter(p LimitPolicy, clock Clock) *Limiter {
	if p.MaxKeys <= 0 {
		p.MaxKeys = 100_000
	}
	if p.MaxFailures <= 0 {
		p.MaxFailures = 5
	}
	return &Limiter{policy: p, clock: clock, entries: make(map[string]*limitEntry)}
}

// Allow reports whether key may make an attempt now, and if not, how long until it may.
// It does not count the attempt: call Fail or Succeed with the outcome.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.clock.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		return true, 0
	}
	return l.check(e, now)
}

func (l *Limiter) check(e *limitEntry, now time.Time) (bool, time.Duration) {
	if now.Before(e.lockedUntil) {
		return false, e.lockedUntil.Sub(now)
	}
	e.prune(now, l.policy.Window)
	if len(e.fails) >= l.policy.MaxFailures {
		return false, e.fails[0].Add(l.policy.Window).Sub(now)
	}
	return true, 0
}

func (e *limitEntry) prune(now time.Time, window time.Duration) {
	i := 0
	for i < len(e.fails) && !now.Before(e.fails[i].Add(window)) {
		i++
	}
	e.fails = e.fails[i:]
}

// Fail records a failed attempt and reports whether it started a lockout.
func (l *Limiter) Fail(key string) (lockedOut bool) {
	now := l.clock.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		l.makeRoom(now)
		e = &limitEntry{}
		l.entries[key] = e
	}
	e.prune(now, l.policy.Window)
	if len(e.fails) >= l.policy.MaxFailures {
		e.fails = e.fails[1:]
	}
	e.fails = append(e.fails, now)
	if l.policy.LockoutFor > 0 && !e.lastFail.IsZero() && now.Sub(e.lastFail) >= l.policy.LockoutFor {
		e.streak = 0 // an old streak has gone cold
	}
	e.streak++
	e.lastFail = now
	if l.policy.LockoutAfter > 0 && e.streak >= l.policy.LockoutAfter {
		e.lockedUntil = now.Add(l.policy.LockoutFor)
		e.streak = 0
		return true
	}
	return false
}

// Succeed forgets key's failures (but not a running lockout: a correct password during a
// lockout is still refused, or the lockout would only slow guessing, not stop it).
func (l *Limiter) Succeed(key string) {
	now := l.clock.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entries[key]; e != nil && !now.Before(e.lockedUntil) {
		delete(l.entries, key)
	}
}

// Len is the number of keys remembered (for tests and a gauge).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// makeRoom keeps the map under MaxKeys: first it drops keys with nothing left to remember,
// then, if an attacker filled the table with live keys, the least recently failed one. A
// sweep frees many slots at once, so its O(n) cost is paid rarely.
func (l *Limiter) makeRoom(now time.Time) {
	if len(l.entries) < l.policy.MaxKeys {
		return
	}
	for k, e := range l.entries {
		if l.idle(e, now) {
			delete(l.entries, k)
		}
	}
	for len(l.entries) >= l.policy.MaxKeys {
		var oldestKey string
		var oldest time.Time
		for k, e := range l.entries {
			if oldestKey == "" || e.lastFail.Before(oldest) {
				oldestKey, oldest = k, e.lastFail
			}
		}
		delete(l.entries, oldestKey)
	}
}

// idle: not locked, no failures in the window, and the streak has gone cold.
func (l *Limiter) idle(e *limitEntry, now time.Time) bool {
	if now.Before(e.lockedUntil) {
		return false
	}
	if now.Sub(e.lastFail) < l.policy.Window {
		return false
	}
	return l.policy.LockoutAfter == 0 || now.Sub(e.lastFail) >= l.policy.LockoutFor
}

// RetryAfter formats a wait for the Retry-After header: whole seconds, rounded up, at least 1.
func RetryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// IPKey is the limiter key of a client address: the address itself for IPv4, its /64 for IPv6
// (one host usually owns a whole /64, so counting single v6 addresses would not limit it).
func IPKey(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip := net.ParseIP(addr)
	if ip == nil {
		return "ip:" + addr
	}
	if v4 := ip.To4(); v4 != nil {
		return "ip:" + v4.String()
	}
	return "ip:" + ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// SignInGuard applies the sign-in limits per account and per client address: an attack on one
// account from many addresses, and on many accounts from one address, are both slowed.
type SignInGuard struct {
	Account *Limiter
	IP      *Limiter
}

// NewSignInGuard uses SignInPolicy for both limiters.
func NewSignInGuard(clock Clock) *SignInGuard {
	return &SignInGuard{Account: NewLimiter(SignInPolicy(), clock), IP: NewLimiter(SignInPolicy(), clock)}
}

// Allow is checked before any password hashing; when false, answer 429 with
// Retry-After: RetryAfter(wait), and do not check the password at all.
func (g *SignInGuard) Allow(email, addr string) (ok bool, wait time.Duration) {
	ok1, w1 := g.Account.Allow(accountKey(email))
	ok2, w2 := g.IP.Allow(IPKey(addr))
	return ok1 && ok2, max(w1, w2)
}

// Fail records a failed sign-in; lockedOut reports that the account just got locked (audit it).
func (g *SignInGuard) Fail(email, addr string) (lockedOut bool) {
	lockedOut = g.Account.Fail(accountKey(email))
	g.IP.Fail(IPKey(addr))
	return lockedOut
}

// Succeed clears the account's failures. The address's are kept: otherwise an attacker with
// one valid account could reset their own address's counter between guesses at others.
func (g *SignInGuard) Succeed(email string) {
	g.Account.Succeed(accountKey(email))
}

func accountKey(email string) string {
	if len(email) > 320 {
		email = email[:320]
	}
	return "acct:" + models.NormalizeEmail(email)
}

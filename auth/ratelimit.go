package auth

import (
	"math"
	"net"
	"strconv"
	"sync"
	"time"
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
// It applies per client address and per (account, address): an honest user mistyping does not
// reach either; a guesser gets ~100 tries an hour per address instead of thousands a second.
func SignInPolicy() LimitPolicy {
	return LimitPolicy{Window: time.Minute, MaxFailures: 5, LockoutAfter: 20, LockoutFor: 15 * time.Minute, MaxKeys: 100_000}
}

// PasscodePolicy for webinar passcodes (often short and numeric, so guessing is the risk):
// 5 failures a minute, 10 in a row lock for 30 minutes, per webinar and address.
func PasscodePolicy() LimitPolicy {
	return LimitPolicy{Window: time.Minute, MaxFailures: 5, LockoutAfter: 10, LockoutFor: 30 * time.Minute, MaxKeys: 100_000}
}

// PasscodeCheckPolicy bounds passcode checks, right or wrong, per client address: 60 a minute,
// enough for a classroom behind one NAT address joining at once, while a flood of correct
// passcodes cannot buy unbounded hashing. Used with Take.
func PasscodeCheckPolicy() LimitPolicy {
	return LimitPolicy{Window: time.Minute, MaxFailures: 60, MaxKeys: 10_000}
}

// RegistrationAddressPolicy: 20 registrations per 10 minutes from one client address (a class
// registering from a school's one address fits). Used with Take.
func RegistrationAddressPolicy() LimitPolicy {
	return LimitPolicy{Window: 10 * time.Minute, MaxFailures: 20, MaxKeys: 10_000}
}

// RegistrationWebinarPolicy: 120 registrations a minute for one webinar from everywhere, a
// busy announcement's rate, so that a botnet cannot fill the table. Used with Take.
func RegistrationWebinarPolicy() LimitPolicy {
	return LimitPolicy{Window: time.Minute, MaxFailures: 120, MaxKeys: 10_000}
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
	pending     int         // attempts reserved and not yet settled: they count as failures until then
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

func (l *Limiter) check(e *limitEntry, now time.Time) (bool, time.Duration) {
	if now.Before(e.lockedUntil) {
		return false, e.lockedUntil.Sub(now)
	}
	e.prune(now, l.policy.Window)
	if len(e.fails) >= l.policy.MaxFailures {
		return false, e.fails[0].Add(l.policy.Window).Sub(now)
	}
	if len(e.fails)+e.pending >= l.policy.MaxFailures {
		// Only attempts still being checked stand in the way: one of them settles within a
		// hash's time.
		return false, pendingWait
	}
	return true, 0
}

// pendingWait is the Retry-After of a key refused only because of attempts in flight.
const pendingWait = time.Second

// Reservation is one attempt let through by Reserve. Until it is settled (Fail, Succeed or
// Cancel, exactly once) it counts as a failure, so that concurrent attempts cannot all pass
// the check before any of them has failed.
type Reservation struct {
	l   *Limiter
	key string
}

// Reserve atomically checks key and, when it may make an attempt now, holds one for it. Call
// it before the costly check (hashing), and settle the reservation with the outcome. When
// refused it returns nil and how long to wait.
func (l *Limiter) Reserve(key string) (*Reservation, time.Duration) {
	now := l.clock.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(key, now)
	if ok, wait := l.check(e, now); !ok {
		return nil, wait
	}
	e.pending++
	return &Reservation{l: l, key: key}, 0
}

// Take is a plain rate limit: it atomically checks key and, when allowed, counts the attempt
// whatever its outcome (MaxFailures attempts per Window). Registrations and passcode checks
// per address use it.
func (l *Limiter) Take(key string) (ok bool, wait time.Duration) {
	now := l.clock.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(key, now)
	if ok, wait := l.check(e, now); !ok {
		return false, wait
	}
	e.fails = append(e.fails, now)
	e.lastFail = now
	return true, 0
}

// entry returns key's entry, making one (and room for it) when there is none.
func (l *Limiter) entry(key string, now time.Time) *limitEntry {
	e := l.entries[key]
	if e == nil {
		l.makeRoom(now)
		e = &limitEntry{}
		l.entries[key] = e
	}
	return e
}

// unreserve gives back a reservation's hold, if its entry is still there (under memory
// pressure makeRoom may have dropped it).
func (l *Limiter) unreserve(key string) {
	if e := l.entries[key]; e != nil && e.pending > 0 {
		e.pending--
	}
}

// Fail settles the attempt as a failure and reports whether it started a lockout.
func (r *Reservation) Fail() (lockedOut bool) {
	now := r.l.clock.now()
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	// In one critical section: between giving back the hold and counting the failure, another
	// attempt could otherwise slip through.
	r.l.unreserve(r.key)
	return r.l.fail(r.key, now)
}

// Succeed settles the attempt as a success: the key's failures are forgotten (see Limiter.Succeed).
func (r *Reservation) Succeed() {
	now := r.l.clock.now()
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	r.l.unreserve(r.key)
	r.l.succeed(r.key, now)
}

// Cancel settles an attempt that was never judged (the hasher was busy, the store failed): it
// counts neither way.
func (r *Reservation) Cancel() {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	r.l.unreserve(r.key)
}

// Failures is how many failures key has within the window (attempts in flight not counted).
func (l *Limiter) Failures(key string) int {
	now := l.clock.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		return 0
	}
	e.prune(now, l.policy.Window)
	return len(e.fails)
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
	return l.fail(key, now)
}

func (l *Limiter) fail(key string, now time.Time) bool {
	e := l.entry(key, now)
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
	l.succeed(key, now)
}

func (l *Limiter) succeed(key string, now time.Time) {
	if e := l.entries[key]; e != nil && !now.Before(e.lockedUntil) {
		if e.pending > 0 { // other attempts are still in flight: keep their holds
			e.fails, e.streak = nil, 0
			return
		}
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

// idle: not locked, nothing in flight, no failures in the window, and the streak has gone cold.
func (l *Limiter) idle(e *limitEntry, now time.Time) bool {
	if now.Before(e.lockedUntil) || e.pending > 0 {
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

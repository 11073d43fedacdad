package auth

import (
	"time"

	"lectern/models"
)

// AccountPolicy counts one account's failures from every address over a quarter of an hour.
// It never refuses (that would let anyone lock a known account out): past SlowAfter failures
// each attempt on the account waits, see SignInGuard.slowDown.
func AccountPolicy() LimitPolicy {
	return LimitPolicy{Window: 15 * time.Minute, MaxFailures: 50, MaxKeys: 20_000}
}

// Account-wide slow-down: after SlowAfter failures in AccountPolicy's window, each attempt on
// the account waits SlowStep more per failure beyond, at most SlowMax. A distributed guesser
// is held to its per-address limits and slowed; the owner, from any address, still gets in.
const (
	SlowAfter = 10
	SlowStep  = 500 * time.Millisecond
	SlowMax   = 5 * time.Second
)

// SignInGuard applies the sign-in limits. Refusals (429) happen per client address (an attack
// on many accounts from one address) and per account and address (the lockout): a guesser at
// one address never locks the owner out at another. Per account, across addresses, attempts
// are only slowed and the owner told.
type SignInGuard struct {
	IP      *Limiter // per client address
	Pair    *Limiter // per (account, address)
	Account *Limiter // per account from anywhere: never refuses
}

// NewSignInGuard uses SignInPolicy per address and per (account, address), AccountPolicy per account.
func NewSignInGuard(clock Clock) *SignInGuard {
	return &SignInGuard{IP: NewLimiter(SignInPolicy(), clock), Pair: NewLimiter(SignInPolicy(), clock),
		Account: NewLimiter(AccountPolicy(), clock)}
}

// SignInAttempt is a reserved sign-in attempt. Settle it exactly once with Fail, Succeed or Cancel.
type SignInAttempt struct {
	g       *SignInGuard
	account string
	ip      *Reservation
	pair    *Reservation
	// Delay is how long to wait before checking the password: the account-wide slow-down.
	Delay time.Duration
}

// Reserve atomically checks the limits and holds an attempt, before any password hashing.
// When refused it returns a *RateLimitedError: answer 429 with Retry-After, check nothing.
func (g *SignInGuard) Reserve(email, addr string) (*SignInAttempt, error) {
	acct, ipKey := accountKey(email), IPKey(addr)
	ipRes, w1 := g.IP.Reserve(ipKey)
	if ipRes == nil {
		return nil, &RateLimitedError{Wait: w1}
	}
	pairRes, w2 := g.Pair.Reserve(acct + "|" + ipKey)
	if pairRes == nil {
		ipRes.Cancel()
		return nil, &RateLimitedError{Wait: w2}
	}
	return &SignInAttempt{g: g, account: acct, ip: ipRes, pair: pairRes, Delay: slowDown(g.Account.Failures(acct))}, nil
}

func slowDown(failures int) time.Duration {
	if failures < SlowAfter {
		return 0
	}
	return min(time.Duration(failures-SlowAfter+1)*SlowStep, SlowMax)
}

// Fail records a failed attempt. lockedOut: this address is now locked out of the account
// (audit it); throttled: the account just crossed SlowAfter failures from anywhere (tell its owner).
func (a *SignInAttempt) Fail() (lockedOut, throttled bool) {
	a.ip.Fail()
	lockedOut = a.pair.Fail()
	a.g.Account.Fail(a.account)
	return lockedOut, a.g.Account.Failures(a.account) == SlowAfter
}

// Succeed clears the account's failures at this address and everywhere. The address's own are
// kept: otherwise an attacker with one valid account could reset their address's counter
// between guesses at others.
func (a *SignInAttempt) Succeed() {
	a.ip.Cancel()
	a.pair.Succeed()
	a.g.Account.Succeed(a.account)
}

// Cancel gives the attempt back unjudged (the hasher was busy, the store failed).
func (a *SignInAttempt) Cancel() {
	a.ip.Cancel()
	a.pair.Cancel()
}

func accountKey(email string) string {
	if len(email) > 320 {
		email = email[:320]
	}
	return "acct:" + models.NormalizeEmail(email)
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"lectern/models"
)

// RateLimitedError refuses an attempt before any password is checked; answer 429 with
// Retry-After: RetryAfter(e.Wait).
type RateLimitedError struct{ Wait time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many attempts, retry in %v", e.Wait)
}

// DisabledError is returned only after the right password, so a guesser learns nothing; the
// reason is for the sign-in page ("disabled after 90 days without use...").
type DisabledError struct{ Reason string }

func (e *DisabledError) Error() string { return "account disabled: " + e.Reason }

// Is lets errors.Is(err, ErrAccountDisabled) match.
func (e *DisabledError) Is(target error) bool { return target == ErrAccountDisabled }

// ErrSSOOnly: the password was right but policy says to use single sign-on.
var ErrSSOOnly = errors.New("sign in with single sign-on")

// SignIn runs the password and second-factor steps with every rule of issue 5 in one place:
// rate limits first, the same work for unknown emails as for known ones, disabled accounts
// told only after the right password, hash parameters upgraded on the way, a new session id
// at each step, an audit event for every outcome.
type SignIn struct {
	Store     *models.Store
	Guard     *SignInGuard
	Sessions  *Sessions
	TwoFactor *TwoFactor
	SSOOnly   bool         // password sign-in only for admins
	Argon2    Argon2Params // zero: DefaultArgon2; hashes with other parameters are upgraded
	Clock     Clock
	// Sleep waits out the account-wide slow-down; nil: a timer. Tests record the waits instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (s *SignIn) params() Argon2Params {
	if s.Argon2 == (Argon2Params{}) {
		return DefaultArgon2
	}
	return s.Argon2
}

// SignInResult is a started session. When MFARequired, Token is a pending session good only
// for SecondFactor (send it as the session cookie; it lasts Policy.MFAPending).
type SignInResult struct {
	Token       string
	Session     models.AuthSession
	User        models.User
	MFARequired bool
}

// Password checks email and password. Errors: *RateLimitedError, ErrInvalidCredentials,
// *DisabledError, ErrSSOOnly, ErrBusy, or a store error (500).
func (s *SignIn) Password(ctx context.Context, email, password, ip, userAgent string) (SignInResult, error) {
	email = models.NormalizeEmail(email)
	// The attempt is reserved before any hashing, so concurrent guesses cannot all pass the
	// check first. Refusals are not audited one by one: that would let a flood write the
	// database. The lockout that a flood causes is audited once.
	at, err := s.Guard.Reserve(email, ip)
	if err != nil {
		return SignInResult{}, err
	}
	if err := s.wait(ctx, at.Delay); err != nil {
		at.Cancel()
		return SignInResult{}, err
	}
	u, err := s.Store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		at.Cancel()
		return SignInResult{}, err
	}
	known := err == nil
	var ok bool
	if !known || u.PasswordHash == "" {
		DummyVerifyWith(password, s.params()) // an unknown email costs what a known one costs
	} else if ok, err = VerifyPassword(password, u.PasswordHash); errors.Is(err, ErrBusy) {
		at.Cancel()
		return SignInResult{}, err
	}
	if !ok {
		s.failed(ctx, at, u, known, email, ip, "password")
		return SignInResult{}, ErrInvalidCredentials
	}
	if u.Disabled {
		s.audit(ctx, EventSignInFailed, "", email, ip, map[string]any{"reason": "disabled"})
		at.Cancel()
		return SignInResult{}, &DisabledError{Reason: u.DisabledReason}
	}
	at.Succeed()
	if s.SSOOnly && !u.Admin {
		return SignInResult{}, ErrSSOOnly
	}
	if NeedsRehashWith(u.PasswordHash, s.params()) {
		// Best effort: a failure here must not fail a correct sign-in.
		if h, err := HashPasswordWith(password, s.params()); err == nil {
			s.Store.SetPasswordHash(ctx, u.ID, h)
		}
	}
	if u.TOTPEnabled {
		return s.pending(ctx, u, ip, userAgent)
	}
	return s.finish(ctx, u, ip, userAgent, "password")
}

// pending starts a half session, good only for SecondFactor.
func (s *SignIn) pending(ctx context.Context, u models.User, ip, userAgent string) (SignInResult, error) {
	tok, sess, err := s.Sessions.Create(ctx, u.ID, true, ip, userAgent)
	if err != nil {
		return SignInResult{}, err
	}
	return SignInResult{Token: tok, Session: sess, User: u, MFARequired: true}, nil
}

// failed settles a failed attempt and records it. The account's owner (when the email has an
// account) is told, in the security events of their account page, when an address gets
// locked out of it and when failures from everywhere start slowing its sign-ins down.
func (s *SignIn) failed(ctx context.Context, at *SignInAttempt, u models.User, known bool, email, ip, step string) {
	locked, throttled := at.Fail()
	if step == "password" {
		s.audit(ctx, EventSignInFailed, "", email, ip, nil)
	} else {
		s.audit(ctx, Event2FAFailed, u.ID, u.Email, ip, map[string]any{"method": step})
	}
	target := email
	if known {
		target = u.ID
	}
	if locked {
		s.audit(ctx, EventLockout, "", target, ip, map[string]any{"step": step,
			"minutes": s.Guard.Pair.policy.LockoutFor.Minutes(), "scope": "this address only"})
	}
	if throttled && known {
		s.audit(ctx, EventSignInThrottled, "", u.ID, ip, map[string]any{"failures": SlowAfter,
			"minutes": s.Guard.Account.policy.Window.Minutes()})
	}
}

// wait sleeps d (the account-wide slow-down) unless ctx ends first.
func (s *SignIn) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SecondFactor completes a pending sign-in with a TOTP code or a recovery code (xxxx-xxxx).
// The pending session is revoked and a new one issued. Errors as Password's.
func (s *SignIn) SecondFactor(ctx context.Context, pendingToken, code, ip, userAgent string) (SignInResult, error) {
	pending, u, err := s.Sessions.LookupPending(ctx, pendingToken)
	if err != nil {
		return SignInResult{}, err
	}
	at, err := s.Guard.Reserve(u.Email, ip)
	if err != nil {
		return SignInResult{}, err
	}
	method := "totp"
	if len(strings.TrimSpace(code)) > 6 {
		method = "recovery_code"
		err = s.TwoFactor.UseRecoveryCode(ctx, u.ID, code)
	} else {
		err = s.TwoFactor.Verify(ctx, u.ID, strings.TrimSpace(code))
	}
	if errors.Is(err, ErrInvalidCredentials) {
		s.failed(ctx, at, u, true, u.Email, ip, method)
		return SignInResult{}, ErrInvalidCredentials
	}
	if err != nil {
		at.Cancel()
		return SignInResult{}, err
	}
	at.Succeed()
	if err := s.Store.RevokeAuthSession(ctx, pending.IDHash, s.Clock.now()); err != nil {
		return SignInResult{}, err
	}
	if method == "recovery_code" {
		left, _ := s.Store.RecoveryCodesLeft(ctx, u.ID)
		s.audit(ctx, EventRecoveryCodeUsed, u.ID, u.ID, ip, map[string]any{"left": left})
	}
	return s.finish(ctx, u, ip, userAgent, method)
}

// finish starts the full session of a completed sign-in (SSO callers use it too, via Start).
func (s *SignIn) finish(ctx context.Context, u models.User, ip, userAgent, method string) (SignInResult, error) {
	tok, sess, err := s.Sessions.Create(ctx, u.ID, false, ip, userAgent)
	if err != nil {
		return SignInResult{}, err
	}
	if err := s.Store.RecordLogin(ctx, u.ID, s.Clock.now()); err != nil {
		return SignInResult{}, err
	}
	s.audit(ctx, EventSignIn, u.ID, u.ID, ip, map[string]any{"method": method})
	return SignInResult{Token: tok, Session: sess, User: u}, nil
}

// Start begins a session for an account another way has vouched for (an SSO callback after
// OIDC.SignIn). An account with TOTP enrolled still owes its second factor, unless
// secondFactorDone (the provider asserted one and is trusted to, OIDC.SecondFactorDone): then
// the result is a pending session for SecondFactor, as after a password.
func (s *SignIn) Start(ctx context.Context, u models.User, ip, userAgent, method string, secondFactorDone bool) (SignInResult, error) {
	if u.Disabled {
		return SignInResult{}, &DisabledError{Reason: u.DisabledReason}
	}
	if u.TOTPEnabled && !secondFactorDone {
		return s.pending(ctx, u, ip, userAgent)
	}
	return s.finish(ctx, u, ip, userAgent, method)
}

// audit records an event; a failing audit write is not a reason to refuse a sign-in, so the
// error is dropped here (the store's own errors surface elsewhere).
func (s *SignIn) audit(ctx context.Context, action, actor, target, ip string, detail map[string]any) {
	Record(ctx, s.Store, action, actor, target, ip, detail)
}

// NeedsTOTPEnrolment says whether u must enrol 2FA before doing anything else, under an admin
// policy requiring it for everyone (the API lets such a session reach only the enrolment pages).
func NeedsTOTPEnrolment(requireForAll bool, u models.User) bool {
	return requireForAll && !u.TOTPEnabled
}

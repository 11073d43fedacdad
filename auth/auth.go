// Package auth holds Lectern's account and access rules: password hashing, session cookies,
// CSRF, two-factor, rate limits, join tokens, OpenID Connect sign-in and the role table. It
// keeps no SQL (package models stores everything) and routes no HTTP (package api does); it
// uses net/http types only for cookies and the OIDC client.
package auth

import (
	"errors"
	"time"
)

// Errors a caller maps to HTTP statuses. They are deliberately coarse: a refused sign-in does
// not say whether the email, the password or the code was wrong.
var (
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrInvalidToken       = errors.New("invalid or expired token")
	ErrAccountDisabled    = errors.New("account disabled")
)

// Clock returns the current time; tests inject a fixed one.
type Clock func() time.Time

func (c Clock) now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

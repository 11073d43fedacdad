package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"lectern/models"
)

// TOTP parameters: the ones every authenticator app supports (RFC 6238 defaults).
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew accepts the previous and next 30 s step, for phones whose clocks drift.
	totpSkew = 1
)

// ErrTOTPEnrolled: enrolling again needs 2FA switched off first (which the API should guard
// with a fresh password or code), so a stolen session cannot silently replace the factor.
var ErrTOTPEnrolled = errors.New("two-factor already enabled")

// TwoFactor enrols, checks and removes TOTP and recovery codes. TOTP secrets are stored sealed
// (AES-GCM, bound to the user id); recovery codes are stored as keyed hashes.
type TwoFactor struct {
	Store  *models.Store
	Issuer string // shown in the authenticator app, e.g. "Lectern (school.example)"
	Clock  Clock
	sealer *Sealer
	pepper []byte // recovery code hash key
}

// NewTwoFactor derives its keys from the server secret (LoadOrCreateSecret).
func NewTwoFactor(store *models.Store, serverSecret []byte, issuer string) (*TwoFactor, error) {
	s, err := NewSealer(DeriveKey(serverSecret, "totp-secret"))
	if err != nil {
		return nil, err
	}
	if issuer == "" {
		issuer = "Lectern"
	}
	return &TwoFactor{Store: store, Issuer: issuer, sealer: s, pepper: DeriveKey(serverSecret, "recovery-code")}, nil
}

// Enrolment is what the account page shows while setting up an authenticator app.
type Enrolment struct {
	Secret    string // base32, for typing in by hand
	URL       string // otpauth://totp/...
	QRPNG     []byte // the URL as a QR code
	QRDataURL string // the same PNG as a data: URL (needs img-src data: in the CSP)
}

// Begin creates and stores (sealed, not yet active) a new TOTP secret for u.
func (t *TwoFactor) Begin(ctx context.Context, u models.User) (Enrolment, error) {
	u, err := t.Store.User(ctx, u.ID) // the caller's copy may be stale
	if err != nil {
		return Enrolment{}, err
	}
	if u.TOTPEnabled {
		return Enrolment{}, ErrTOTPEnrolled
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: t.Issuer, AccountName: u.Email, Period: totpPeriod,
		SecretSize: 20, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, fmt.Errorf("totp: %w", err)
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return Enrolment{}, fmt.Errorf("totp qr: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("totp qr: %w", err)
	}
	err = t.Store.SetTOTPSecret(ctx, u.ID, t.sealer.Seal([]byte(key.Secret()), "totp:"+u.ID))
	if errors.Is(err, models.ErrConflict) {
		return Enrolment{}, ErrTOTPEnrolled
	}
	if err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes(),
		QRDataURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// Confirm checks the first code from the user's app against the pending secret, turns 2FA on
// and returns the 10 recovery codes, to be shown once.
func (t *TwoFactor) Confirm(ctx context.Context, userID, code string) ([]string, error) {
	u, err := t.Store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.TOTPEnabled {
		return nil, ErrTOTPEnrolled
	}
	step, ok := t.match(u, code)
	if !ok {
		return nil, ErrInvalidCredentials
	}
	codes, hashes := t.newRecoveryCodes(u.ID)
	if err := t.Store.EnableTOTP(ctx, u.ID, step, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// Verify checks a TOTP code at sign-in. A code is accepted once: the step it belongs to is
// recorded, and that step or an earlier one is refused afterwards (a code seen over a
// shoulder or in a proxy log cannot be replayed).
func (t *TwoFactor) Verify(ctx context.Context, userID, code string) error {
	u, err := t.Store.User(ctx, userID)
	if err != nil {
		return err
	}
	if !u.TOTPEnabled {
		return ErrInvalidCredentials
	}
	step, ok := t.match(u, code)
	if !ok {
		return ErrInvalidCredentials
	}
	fresh, err := t.Store.UseTOTPStep(ctx, u.ID, step)
	if err != nil {
		return err
	}
	if !fresh {
		return ErrInvalidCredentials
	}
	return nil
}

// Disable turns 2FA off and deletes the secret and recovery codes.
func (t *TwoFactor) Disable(ctx context.Context, userID string) error {
	return t.Store.DisableTOTP(ctx, userID)
}

// match returns the time step whose code equals code, trying every step in the skew window
// (all of them, so timing does not tell which matched).
func (t *TwoFactor) match(u models.User, code string) (int64, bool) {
	if len(code) != totpDigits.Length() || u.TOTPSecret == "" {
		return 0, false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	secret, err := t.sealer.Open(u.TOTPSecret, "totp:"+u.ID)
	if err != nil {
		return 0, false
	}
	now := t.Clock.now().Unix() / totpPeriod
	var found int64
	ok := false
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := now + d
		if step <= 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(string(secret), uint64(step), hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			found, ok = step, true
		}
	}
	return found, ok
}

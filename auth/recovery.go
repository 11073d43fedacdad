package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// RecoveryCodeCount is how many single-use recovery codes a 2FA enrolment gets.
const RecoveryCodeCount = 10

// recoveryAlphabet is Crockford's base32 (no i, l, o, u): 8 characters carry 40 bits, and a
// code read over the phone or copied from paper is hard to get wrong.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// newRecoveryCodes returns RecoveryCodeCount codes "xxxx-xxxx" and their hashes for storage.
func (t *TwoFactor) newRecoveryCodes(userID string) (codes, hashes []string) {
	b := make([]byte, 8)
	for range RecoveryCodeCount {
		rand.Read(b)
		var sb strings.Builder
		for i, x := range b {
			if i == 4 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[x&31])
		}
		c := sb.String()
		codes = append(codes, c)
		hashes = append(hashes, t.hashRecoveryCode(userID, c))
	}
	return codes, hashes
}

// hashRecoveryCode is keyed with a server-secret-derived pepper: 40 bits would be quick to
// brute-force from a stolen database with a plain hash, not without the key file.
func (t *TwoFactor) hashRecoveryCode(userID, code string) string {
	m := hmac.New(sha256.New, t.pepper)
	m.Write([]byte(userID + "\x00" + normalizeRecoveryCode(code)))
	return hex.EncodeToString(m.Sum(nil))
}

// normalizeRecoveryCode accepts what people type: any case, spaces or no dash, and the letters
// Crockford maps to digits.
func normalizeRecoveryCode(code string) string {
	if len(code) > 32 {
		return ""
	}
	var sb strings.Builder
	for _, r := range strings.ToLower(code) {
		switch r {
		case '-', ' ':
			continue
		case 'o':
			r = '0'
		case 'i', 'l':
			r = '1'
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// UseRecoveryCode signs in with a recovery code instead of a TOTP code; each code works once.
func (t *TwoFactor) UseRecoveryCode(ctx context.Context, userID, code string) error {
	if len(normalizeRecoveryCode(code)) != 8 {
		return ErrInvalidCredentials
	}
	ok, err := t.Store.UseRecoveryCode(ctx, userID, t.hashRecoveryCode(userID, code))
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidCredentials
	}
	return nil
}

// RegenerateRecoveryCodes replaces an account's recovery codes with 10 new ones.
func (t *TwoFactor) RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes, hashes := t.newRecoveryCodes(userID)
	if err := t.Store.ReplaceRecoveryCodes(ctx, userID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

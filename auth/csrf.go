package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// CSRFHeader is where pages send the CSRF token on every cookie-authenticated write.
const CSRFHeader = "X-CSRF-Token"

// CSRFToken is the session's CSRF token: an HMAC of the session token. It is bound to the
// session (a token from another session, or from before sign-in, does not pass), needs no
// storage, and does not reveal the session token, so pages may read it (from the session
// endpoint or a meta tag) while the session cookie stays HttpOnly.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("lectern csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether header is the CSRF token of the session.
// SameSite=Lax already stops most cross-site writes; this covers old browsers, same-site
// subdomains and methods Lax lets through.
func CheckCSRF(sessionToken, header string) bool {
	if sessionToken == "" || header == "" {
		return false
	}
	return hmac.Equal([]byte(CSRFToken(sessionToken)), []byte(header))
}

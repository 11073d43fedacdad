package edge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"lectern/auth"
)

// TokenPrefix starts a node's bearer token on another node's WHEP endpoint.
const TokenPrefix = "node."

// tokenPurpose separates the node-pull key from every other key derived from the secret.
const tokenPurpose = "node-pull"

// Token is the bearer an edge sends with its WHEP pull of webinar: "node." and the base64url
// HMAC-SHA256 of the webinar id under a key derived from the server secret every node of a
// cluster shares. It names one webinar, so a token seen on the wire opens no other.
func Token(secret []byte, webinar string) string {
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(mac(secret, webinar))
}

// ValidToken reports whether bearer is a node's pull token for webinar. With no secret there
// is no cluster and no token is valid (an empty key would let anyone make one).
func ValidToken(secret []byte, webinar, bearer string) bool {
	enc, ok := strings.CutPrefix(bearer, TokenPrefix)
	if !ok || len(secret) == 0 || len(enc) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(enc) // Strict: one spelling per token
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(secret, webinar))
}

func mac(secret []byte, webinar string) []byte {
	m := hmac.New(sha256.New, auth.DeriveKey(secret, tokenPurpose))
	m.Write([]byte(webinar))
	return m.Sum(nil)
}

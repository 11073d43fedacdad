package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// The server's stateless tokens (join, publish) share one shape:
// <prefix><base64url JSON claims>.<base64url MAC>, the MAC over everything before the last dot.

// seal encodes and signs claims; a token longer than maxLen is refused.
func seal(prefix string, claims any, mac func(signed string) []byte, maxLen int) (string, error) {
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := prefix + base64.RawURLEncoding.EncodeToString(body)
	tok := signed + "." + base64.RawURLEncoding.EncodeToString(mac(signed))
	if len(tok) > maxLen {
		return "", fmt.Errorf("claims too long")
	}
	return tok, nil
}

// unseal checks a token's MAC in constant time and decodes its claims into claims; anything
// wrong is ErrInvalidToken. Only a token the server signed reaches the JSON decoder.
func unseal(token, prefix string, maxLen int, mac func(signed string) []byte, claims any) error {
	if len(token) > maxLen || !strings.HasPrefix(token, prefix) {
		return ErrInvalidToken
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(prefix) {
		return ErrInvalidToken
	}
	signed, sig := token[:dot], token[dot+1:]
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(signed)) {
		return ErrInvalidToken
	}
	body, err := base64.RawURLEncoding.Strict().DecodeString(signed[len(prefix):])
	if err != nil || json.Unmarshal(body, claims) != nil {
		return ErrInvalidToken
	}
	return nil
}

// tokenID is n random bytes, base64url: two tokens with the same claims are never equal.
func tokenID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

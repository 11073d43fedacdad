package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// PublishClaims is what a per-member publish token carries: who may go on a webinar's stage.
type PublishClaims struct {
	Webinar string `json:"w"`
	Member  string `json:"m"` // user id
	Expires int64  `json:"e"` // unix seconds
	ID      string `json:"i"` // random: two tokens are never equal
}

// PublishPrefix versions the format and tells a publish token from other bearers.
const PublishPrefix = "pub1."

// MaxPublishTokenLen bounds what VerifyPublish looks at.
const MaxPublishTokenLen = 400

// PublishTokens signs and checks publish tokens: pub1.<base64url JSON claims>.<base64url MAC>,
// HMAC-SHA256 under a key derived from the server secret. The MAC also covers the webinar's
// stream key, so rotating the stream key revokes every publish token of the webinar at once
// without any stored state; the member's role is checked on every use, so demoting or
// removing the member revokes theirs.
type PublishTokens struct {
	key   []byte
	Clock Clock
}

// NewPublishTokens derives the signing key from the server secret.
func NewPublishTokens(serverSecret []byte) *PublishTokens {
	return &PublishTokens{key: DeriveKey(serverSecret, "publish-token")}
}

func (p *PublishTokens) mac(signed, streamKey string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(signed))
	m.Write([]byte{0})
	m.Write([]byte(streamKey))
	return m.Sum(nil)
}

// Issue signs claims for the webinar whose current stream key is streamKey.
func (p *PublishTokens) Issue(c PublishClaims, streamKey string) (string, error) {
	if c.Webinar == "" || c.Member == "" || c.Expires <= p.Clock.now().Unix() {
		return "", fmt.Errorf("publish token: need a webinar, a member and a future expiry")
	}
	if c.ID == "" {
		b := make([]byte, 9)
		rand.Read(b)
		c.ID = base64.RawURLEncoding.EncodeToString(b)
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("publish token: %w", err)
	}
	signed := PublishPrefix + base64.RawURLEncoding.EncodeToString(body)
	tok := signed + "." + base64.RawURLEncoding.EncodeToString(p.mac(signed, streamKey))
	if len(tok) > MaxPublishTokenLen {
		return "", fmt.Errorf("publish token: claims too long")
	}
	return tok, nil
}

// Verify checks a token's signature (in constant time) against the webinar and its current
// stream key, and its expiry; it returns the claims. The caller checks the member's role.
func (p *PublishTokens) Verify(token, webinarID, streamKey string) (PublishClaims, error) {
	if len(token) > MaxPublishTokenLen || !strings.HasPrefix(token, PublishPrefix) {
		return PublishClaims{}, ErrInvalidToken
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(PublishPrefix) {
		return PublishClaims{}, ErrInvalidToken
	}
	signed, sig := token[:dot], token[dot+1:]
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, p.mac(signed, streamKey)) {
		return PublishClaims{}, ErrInvalidToken
	}
	body, err := base64.RawURLEncoding.Strict().DecodeString(signed[len(PublishPrefix):])
	if err != nil {
		return PublishClaims{}, ErrInvalidToken
	}
	var c PublishClaims
	if err := json.Unmarshal(body, &c); err != nil || c.Webinar != webinarID || c.Member == "" {
		return PublishClaims{}, ErrInvalidToken
	}
	if p.Clock.now().Unix() >= c.Expires {
		return PublishClaims{}, ErrInvalidToken
	}
	return c, nil
}

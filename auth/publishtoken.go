package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
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
		c.ID = tokenID(9)
	}
	tok, err := seal(PublishPrefix, c, func(signed string) []byte { return p.mac(signed, streamKey) }, MaxPublishTokenLen)
	if err != nil {
		return "", fmt.Errorf("publish token: %w", err)
	}
	return tok, nil
}

// Verify checks a token's signature (in constant time) against the webinar and its current
// stream key, and its expiry; it returns the claims. The caller checks the member's role.
func (p *PublishTokens) Verify(token, webinarID, streamKey string) (PublishClaims, error) {
	var c PublishClaims
	err := unseal(token, PublishPrefix, MaxPublishTokenLen, func(signed string) []byte { return p.mac(signed, streamKey) }, &c)
	if err != nil || c.Webinar != webinarID || c.Member == "" || p.Clock.now().Unix() >= c.Expires {
		return PublishClaims{}, ErrInvalidToken
	}
	return c, nil
}

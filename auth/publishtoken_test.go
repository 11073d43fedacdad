package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPublishTokenVerify(t *testing.T) {
	clk := newFakeClock()
	p := NewPublishTokens(testSecret)
	p.Clock = clk.Now
	claims := PublishClaims{Webinar: "w1", Member: "u1", Expires: clk.Now().Add(time.Hour).Unix()}
	tok, err := p.Issue(claims, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Verify(tok, "w1", "key-1")
	claims.ID = got.ID
	if err != nil || got != claims || got.ID == "" {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	other := NewPublishTokens([]byte("a different server secret......."))
	other.Clock = clk.Now
	forged, _ := other.Issue(claims, "key-1")
	parts := strings.Split(tok, ".")
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	swapped := strings.Replace(string(body), `"u1"`, `"u2"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(swapped)) + "." + parts[2]
	for name, c := range map[string]struct{ tok, webinar, key string }{
		"empty":           {"", "w1", "key-1"},
		"other secret":    {forged, "w1", "key-1"},
		"tampered member": {tampered, "w1", "key-1"},
		"other webinar":   {tok, "w2", "key-1"},
		"rotated key":     {tok, "w1", "key-2"},
		"truncated sig":   {tok[:len(tok)-1], "w1", "key-1"},
		"join prefix":     {"j1." + strings.TrimPrefix(tok, PublishPrefix), "w1", "key-1"},
		"no signature":    {parts[0] + "." + parts[1], "w1", "key-1"},
		"too long":        {tok + strings.Repeat("A", MaxPublishTokenLen), "w1", "key-1"},
	} {
		if _, err := p.Verify(c.tok, c.webinar, c.key); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, want ErrInvalidToken", name, err)
		}
	}
	clk.Add(time.Hour)
	if _, err := p.Verify(tok, "w1", "key-1"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired token: %v", err)
	}
	if _, err := p.Issue(PublishClaims{Webinar: "w1", Member: "u1", Expires: clk.Now().Unix()}, "k"); err == nil {
		t.Error("issued a token that is already expired")
	}
}

// FuzzPublishTokenVerify: whatever a client sends as its bearer, Verify neither panics nor
// accepts anything but what Issue signed.
func FuzzPublishTokenVerify(f *testing.F) {
	p := NewPublishTokens(testSecret)
	good, _ := p.Issue(PublishClaims{Webinar: "w1", Member: "u1", Expires: time.Now().Add(time.Hour).Unix()}, "k")
	f.Add(good)
	f.Add("pub1..")
	f.Add("pub1.e30.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := p.Verify(tok, "w1", "k")
		if err == nil && tok != good {
			t.Fatalf("accepted %q as %+v", tok, c)
		}
	})
}

package edge

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	other := make([]byte, 32)
	rand.Read(other)
	tok := Token(secret, "w1")
	if !strings.HasPrefix(tok, TokenPrefix) || !ValidToken(secret, "w1", tok) {
		t.Fatalf("own token %q refused", tok)
	}
	for name, c := range map[string]struct {
		secret        []byte
		webinar, bear string
	}{
		"other webinar":  {secret, "w2", tok},
		"other secret":   {other, "w1", tok},
		"no secret":      {nil, "w1", Token(nil, "w1")},
		"no prefix":      {secret, "w1", strings.TrimPrefix(tok, TokenPrefix)},
		"truncated":      {secret, "w1", tok[:len(tok)-1]},
		"padded base64":  {secret, "w1", tok + "="},
		"a flipped char": {secret, "w1", tok[:len(tok)-1] + flip(tok[len(tok)-1])},
		"empty":          {secret, "w1", ""},
	} {
		if ValidToken(c.secret, c.webinar, c.bear) {
			t.Errorf("%s: accepted", name)
		}
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestReadAnswer(t *testing.T) {
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	cases := []struct {
		name        string
		status      int
		ctype, body string
		ok          bool
		msg         string
	}{
		{"answer", http.StatusCreated, "application/sdp", sdp, true, ""},
		{"answer with charset", http.StatusCreated, "application/sdp; charset=utf-8", sdp, true, ""},
		{"json error", http.StatusConflict, "application/json", `{"error":"not here"}`, false, "not here"},
		{"plain error", http.StatusBadGateway, "text/plain", "oops", false, "502"},
		{"wrong type", http.StatusCreated, "text/plain", sdp, false, "content type"},
		{"not sdp", http.StatusCreated, "application/sdp", "hello", false, "not SDP"},
		{"too big", http.StatusCreated, "application/sdp", sdp + strings.Repeat("a=x\r\n", maxAnswerBytes/5+1), false, "larger"},
	}
	for _, c := range cases {
		got, err := readAnswer(c.status, c.ctype, bytes.NewBufferString(c.body))
		if c.ok != (err == nil) || c.ok && got != c.body || !c.ok && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %q, %v", c.name, got, err)
		}
	}
}

func FuzzReadAnswer(f *testing.F) {
	f.Add(201, "application/sdp", []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"))
	f.Add(409, "application/json", []byte(`{"error":"x","origin":"http://a"}`))
	f.Add(201, "application/sdp; x=\"", []byte("v=0"))
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		got, err := readAnswer(status, ctype, bytes.NewReader(body))
		if err == nil && (status != http.StatusCreated || got != string(body) || len(body) > maxAnswerBytes) {
			t.Fatalf("accepted status %d, %d bytes", status, len(body))
		}
	})
}

func FuzzValidToken(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	f.Add("w1", Token(secret, "w1"))
	f.Add("w1", "node.")
	f.Add("", "node.AAAA")
	f.Fuzz(func(t *testing.T, webinar, bearer string) {
		if ValidToken(secret, webinar, bearer) && bearer != Token(secret, webinar) {
			t.Fatalf("accepted %q for %q, which is not its token", bearer, webinar)
		}
	})
}

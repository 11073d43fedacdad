package api

import (
	"bytes"
	"errors"
	"testing"

	"github.com/labstack/echo/v4"

	"lectern/models"
)

// FuzzDecodeJSON feeds arbitrary bodies to every JSON request type of the API: decoding never
// panics, and every refusal is a 4xx HTTP error (never a 500 from a malformed body).
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@b.example","password":"correct horse battery staple"}`,
		`{"title":"Class","visibility":"registration","language":"pt-BR","passcode":"1234","starts_at":"2026-01-02T15:04:05Z"}`,
		`{"title":null,"visibility":"secret"}`,
		`{"code":"123456"}{"code":"1"}`,
		`{"email":"x","role":"host","extra":1}`,
		`{"require_2fa":"yes"}`,
		`[1,2,3]`, `"str"`, ``, `{`, "{\"name\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	targets := []func() any{
		func() any { return &loginRequest{} }, func() any { return &codeRequest{} }, func() any { return &webinarRequest{} },
		func() any { return &memberRequest{} }, func() any { return &registerRequest{} }, func() any { return &joinRequest{} },
		func() any { return &tokenRequest{} }, func() any { return &disable2FARequest{} }, func() any { return &disableRequest{} },
		func() any { return &models.Policy{} },
		func() any { return &chatRequest{} }, func() any { return &questionRequest{} }, func() any { return &answerRequest{} },
		func() any { return &handRequest{} },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, mk := range targets {
			v := mk()
			err := decodeJSON("application/json; charset=utf-8", bytes.NewReader(body), v)
			if err == nil {
				if wr, ok := v.(*webinarRequest); ok {
					if cerr := wr.check(); cerr != nil {
						err = cerr
					}
				}
			}
			if err == nil {
				continue
			}
			var he *echo.HTTPError
			if !errors.As(err, &he) || he.Code < 400 || he.Code >= 500 {
				t.Fatalf("%T: %q gave %v", v, body, err)
			}
		}
	})
}

func TestDecodeJSONRefusals(t *testing.T) {
	var in loginRequest
	for _, tc := range []struct {
		ctype, body string
		want        int
	}{
		{"text/plain", `{}`, 415},
		{"application/json", `{"email":"a","pasword":"typo"}`, 400},
		{"application/json", `{"email":"a"} {"email":"b"}`, 400},
		{"application/json", `{"email":"` + string(bytes.Repeat([]byte("a"), maxJSONBody)) + `"}`, 413},
	} {
		err := decodeJSON(tc.ctype, bytes.NewReader([]byte(tc.body)), &in)
		var he *echo.HTTPError
		if !errors.As(err, &he) || he.Code != tc.want {
			t.Errorf("%s %.40q: %v, want %d", tc.ctype, tc.body, err, tc.want)
		}
	}
}

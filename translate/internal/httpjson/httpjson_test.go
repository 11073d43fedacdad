package httpjson

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lectern/translate"
)

func TestDoAndWrap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Key") != "k" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"nope"}`))
			return
		}
		if r.URL.Path == "/big" {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(strings.Repeat("x", 10000)))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	h := http.Header{"X-Key": {"k"}}
	b, err := Do(context.Background(), srv.Client(), http.MethodPost, srv.URL, h, map[string]int{"a": 1})
	if err != nil || string(b) != `{"ok":true}` {
		t.Fatalf("%s, %v", b, err)
	}
	_, err = Do(context.Background(), srv.Client(), http.MethodPost, srv.URL, nil, map[string]int{})
	err = Wrap("x", err, func(b []byte) string { return Text(b) }, Classify)
	if !errors.Is(err, translate.ErrAuth) || !strings.Contains(err.Error(), "HTTP 403") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("403: %v", err)
	}
	_, err = Do(context.Background(), srv.Client(), http.MethodPost, srv.URL+"/big", h, map[string]int{})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 502 || len(se.Body) != 4096 {
		t.Errorf("502: %v", err)
	}
	if msg := Wrap("x", err, Text, Classify).Error(); len(msg) > 300 {
		t.Errorf("error message not bounded: %d bytes", len(msg))
	}
}

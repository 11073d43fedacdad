package libretranslate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lectern/translate"
)

const apiKey = "lt-key-1"

// fakeLT speaks LibreTranslate's API: q as a string or an array, api_key in the body,
// {"error": …} bodies with 400/403/429/500.
type fakeLT struct {
	status   atomic.Int32
	hang     atomic.Bool
	mu       sync.Mutex
	requests []map[string]any
}

func (f *fakeLT) fail(w http.ResponseWriter, code int, msg string) {
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":%q}`, msg)
}

func (f *fakeLT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet && r.URL.Path == "/languages" {
		fmt.Fprint(w, `[{"code":"en","name":"English","targets":["en","es","fr"]},{"code":"es","name":"Spanish","targets":["en","es"]}]`)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/translate" {
		http.NotFound(w, r)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.fail(w, 400, "Invalid request: missing q parameter")
		return
	}
	if f.hang.Load() {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	if s := f.status.Load(); s != 0 {
		f.fail(w, int(s), map[int32]string{429: "Too many request limits violations", 500: "Cannot translate text: model crashed", 400: "Invalid request"}[s])
		return
	}
	if req["api_key"] != apiKey {
		f.fail(w, 403, "Invalid API key")
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if req["format"] != "text" {
		f.fail(w, 400, "Invalid request: format")
		return
	}
	prefix := req["target"].(string) + ":"
	switch q := req["q"].(type) {
	case string:
		_ = json.NewEncoder(w).Encode(map[string]any{"translatedText": prefix + q})
	case []any:
		var out []string
		for _, s := range q {
			out = append(out, prefix+s.(string))
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"translatedText": out})
	default:
		f.fail(w, 400, "Invalid request: missing q parameter")
	}
}

func setup(t *testing.T, key string) (*fakeLT, *Translator) {
	t.Helper()
	f := &fakeLT{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	tr, err := New(Config{URL: srv.URL + "/", APIKey: key, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	return f, tr
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestTranslateBatches(t *testing.T) {
	f, tr := setup(t, apiKey)
	texts := make([]string, 23)
	for i := range texts {
		texts[i] = fmt.Sprintf("line %d", i)
	}
	texts[4] = ""
	out, err := tr.Translate(ctx(t), texts, "en", "es")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range out {
		want := "es:" + texts[i]
		if i == 4 {
			want = ""
		}
		if s != want {
			t.Errorf("out[%d] = %q, want %q", i, s, want)
		}
	}
	if len(f.requests) != 3 {
		t.Fatalf("%d requests, want 3 (10+10+2)", len(f.requests))
	}
	if r := f.requests[0]; r["source"] != "en" || r["target"] != "es" || len(r["q"].([]any)) != 10 {
		t.Errorf("request %v", r)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		status int32
		want   error
		msg    string
	}{
		{429, translate.ErrRateLimited, "Too many request"},
		{500, nil, "model crashed"},
		{400, nil, "Invalid request"},
	} {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			f, tr := setup(t, apiKey)
			f.status.Store(c.status)
			_, err := tr.Translate(ctx(t), []string{"hello"}, "en", "es")
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v, want the server's message %q", err, c.msg)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	_, tr := setup(t, "wrong")
	if _, err := tr.Translate(ctx(t), []string{"hello"}, "en", "es"); !errors.Is(err, translate.ErrAuth) || !strings.Contains(err.Error(), "Invalid API key") {
		t.Errorf("wrong key: err = %v, want ErrAuth", err)
	}
}

func TestTimeout(t *testing.T) {
	f, tr := setup(t, apiKey)
	f.hang.Store(true)
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := tr.Translate(c, []string{"hello"}, "en", "es"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestLanguages(t *testing.T) {
	_, tr := setup(t, apiKey)
	pairs, err := tr.Languages(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []translate.Pair{{From: "en", To: "es"}, {From: "en", To: "fr"}, {From: "es", To: "en"}}
	if fmt.Sprint(pairs) != fmt.Sprint(want) {
		t.Errorf("pairs %v, want %v", pairs, want)
	}
}

func TestParseSingleString(t *testing.T) {
	out, err := parseTranslation([]byte(`{"translatedText":"¡Hola!"}`), 1)
	if err != nil || out[0] != "¡Hola!" {
		t.Fatalf("%q, %v", out, err)
	}
	if _, err := parseTranslation([]byte(`{"translatedText":["a"]}`), 2); err == nil {
		t.Error("count mismatch accepted")
	}
}

func FuzzParseTranslation(f *testing.F) {
	f.Add([]byte(`{"translatedText":"¡Hola!"}`), 1)
	f.Add([]byte(`{"translatedText":["a","b"]}`), 2)
	f.Add([]byte(`{"translatedText":null}`), 0)
	f.Add([]byte(`{"error":"x"}`), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		out, err := parseTranslation(b, n)
		if err == nil && len(out) != n {
			t.Fatalf("%d results for %d", len(out), n)
		}
	})
}

func FuzzParseLanguages(f *testing.F) {
	f.Add([]byte(`[{"code":"en","name":"English","targets":["es","en"]}]`))
	f.Add([]byte(`[{"code":"","targets":null}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pairs, _ := parseLanguages(b)
		for _, p := range pairs {
			if p.From == p.To || p.From == "" || p.To == "" {
				t.Fatalf("bad pair %+v", p)
			}
		}
	})
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"error":"Invalid API key"}`))
	f.Add([]byte(`Internal Server Error`))
	f.Fuzz(func(t *testing.T, b []byte) { _ = errorMessage(b) })
}

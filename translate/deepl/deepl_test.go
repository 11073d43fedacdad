package deepl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lectern/translate"
)

const key = "0f3c-secret:fx"

// fakeDeepL speaks DeepL API v2: header auth, JSON bodies, 50 texts per request, and the
// statuses DeepL documents. status forces an error answer; hang makes it never answer.
type fakeDeepL struct {
	status  atomic.Int32
	hang    atomic.Bool
	short   atomic.Bool // answer one translation too few
	mu      sync.Mutex
	batches []translateRequest
}

func (f *fakeDeepL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "DeepL-Auth-Key "+key {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"Wrong endpoint. Use https://api.deepl.com"}`)
		return
	}
	if f.hang.Load() {
		// Read the body first: only then does the server notice the client going away.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	if s := f.status.Load(); s != 0 {
		w.WriteHeader(int(s))
		msg := map[int32]string{429: "Too many requests", 456: "Quota exceeded", 500: "Internal server error", 503: "Service unavailable"}[s]
		fmt.Fprintf(w, `{"message":%q}`, msg)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v2/languages":
		if r.URL.Query().Get("type") == "target" {
			fmt.Fprint(w, `[{"language":"DE","name":"German","supports_formality":true},{"language":"EN-GB","name":"English (British)","supports_formality":false},{"language":"EN-US","name":"English (American)","supports_formality":false},{"language":"ES","name":"Spanish","supports_formality":true}]`)
		} else {
			fmt.Fprint(w, `[{"language":"DE","name":"German"},{"language":"EN","name":"English"},{"language":"ES","name":"Spanish"}]`)
		}
	case r.Method == http.MethodPost && r.URL.Path == "/v2/translate":
		if r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"message":"Bad request"}`)
			return
		}
		var req translateRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.TargetLang == "" || len(req.Text) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"message":"Value for 'target_lang' not supported."}`)
			return
		}
		if len(req.Text) > MaxBatch {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprint(w, `{"message":"Request Entity Too Large"}`)
			return
		}
		f.mu.Lock()
		f.batches = append(f.batches, req)
		f.mu.Unlock()
		type tr struct {
			DetectedSourceLanguage string `json:"detected_source_language"`
			Text                   string `json:"text"`
		}
		var res struct {
			Translations []tr `json:"translations"`
		}
		for _, t := range req.Text {
			res.Translations = append(res.Translations, tr{req.SourceLang, req.TargetLang + ":" + t})
		}
		if f.short.Load() {
			res.Translations = res.Translations[1:]
		}
		_ = json.NewEncoder(w).Encode(res)
	default:
		http.NotFound(w, r)
	}
}

func setup(t *testing.T) (*fakeDeepL, *Translator) {
	t.Helper()
	f := &fakeDeepL{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	tr, err := New(Config{Key: key, URL: srv.URL})
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

func TestTranslateBatchesOf50(t *testing.T) {
	f, tr := setup(t)
	texts := make([]string, 120)
	for i := range texts {
		texts[i] = fmt.Sprintf("line %d", i)
	}
	texts[7], texts[60] = "", "  " // not sent: DeepL bills characters
	out, err := tr.Translate(ctx(t), texts, "en", "es")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range out {
		want := "ES:" + texts[i]
		if i == 7 || i == 60 {
			want = ""
		}
		if s != want {
			t.Errorf("out[%d] = %q, want %q", i, s, want)
		}
	}
	if len(f.batches) != 3 || len(f.batches[0].Text) != 50 || len(f.batches[1].Text) != 50 || len(f.batches[2].Text) != 18 {
		t.Errorf("batches of %d, %d, %d; want 50, 50, 18", len(f.batches[0].Text), len(f.batches[1].Text), len(f.batches[2].Text))
	}
	if f.batches[0].SourceLang != "EN" || f.batches[0].TargetLang != "ES" {
		t.Errorf("langs %q→%q", f.batches[0].SourceLang, f.batches[0].TargetLang)
	}
	// English targets need a variant.
	if _, err := tr.Translate(ctx(t), []string{"hola"}, "es", "en"); err != nil {
		t.Fatal(err)
	}
	if got := f.batches[3].TargetLang; got != "EN-US" {
		t.Errorf("target for en = %q, want EN-US", got)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		status int32
		want   error
		msg    string
	}{
		{429, translate.ErrRateLimited, "Too many requests"},
		{456, translate.ErrQuota, "Quota exceeded"},
		{500, nil, "Internal server error"},
		{503, nil, "Service unavailable"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			f, tr := setup(t)
			f.status.Store(c.status)
			_, err := tr.Translate(ctx(t), []string{"hello"}, "en", "es")
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
			if c.want == nil && (errors.Is(err, translate.ErrQuota) || errors.Is(err, translate.ErrRateLimited)) {
				t.Errorf("err = %v: a server error is not a quota or rate limit", err)
			}
			if !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), fmt.Sprint(c.status)) {
				t.Errorf("err = %v, want status and DeepL's message", err)
			}
		})
	}
}

func TestWrongKeyIsAuthError(t *testing.T) {
	f := &fakeDeepL{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	tr, _ := New(Config{Key: "wrong", URL: srv.URL})
	_, err := tr.Translate(ctx(t), []string{"hello"}, "en", "es")
	if !errors.Is(err, translate.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if _, err := tr.Languages(ctx(t)); !errors.Is(err, translate.ErrAuth) {
		t.Fatalf("Languages err = %v, want ErrAuth", err)
	}
}

func TestTimeout(t *testing.T) {
	f, tr := setup(t)
	f.hang.Store(true)
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := tr.Translate(c, []string{"hello"}, "en", "es")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestCountMismatchIsAnError(t *testing.T) {
	f, tr := setup(t)
	f.short.Store(true)
	if _, err := tr.Translate(ctx(t), []string{"a", "b"}, "en", "es"); err == nil || !strings.Contains(err.Error(), "1 translations for 2") {
		t.Fatalf("err = %v", err)
	}
}

func TestLanguages(t *testing.T) {
	_, tr := setup(t)
	pairs, err := tr.Languages(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[translate.Pair]bool{}
	for _, p := range pairs {
		got[p] = true
	}
	for _, p := range []translate.Pair{{From: "en", To: "es"}, {From: "de", To: "en"}, {From: "es", To: "de"}} {
		if !got[p] {
			t.Errorf("missing %+v", p)
		}
	}
	if got[translate.Pair{From: "en", To: "en"}] || len(pairs) != 6 {
		t.Errorf("pairs %+v", pairs)
	}
}

func TestHostFromKey(t *testing.T) {
	free, _ := New(Config{Key: "abc:fx"})
	pro, _ := New(Config{Key: "abc"})
	if free.URL() != "https://api-free.deepl.com" || pro.URL() != "https://api.deepl.com" {
		t.Errorf("hosts %s, %s", free.URL(), pro.URL())
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no key accepted")
	}
}

func FuzzParseTranslations(f *testing.F) {
	f.Add([]byte(`{"translations":[{"detected_source_language":"EN","text":"Hola"}]}`), 1)
	f.Add([]byte(`{"translations":[]}`), 0)
	f.Add([]byte(`{"translations":null}`), 2)
	f.Add([]byte(`[1,2]`), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		out, err := parseTranslations(b, n)
		if err == nil && len(out) != n {
			t.Fatalf("%d results for %d", len(out), n)
		}
	})
}

func FuzzParseLanguages(f *testing.F) {
	f.Add([]byte(`[{"language":"EN-GB","name":"English"},{"language":"DE","name":"German"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"language":"EN"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		langs, err := parseLanguages(b)
		if err == nil && len(langs) == 0 {
			t.Fatal("no error and no languages")
		}
		for _, l := range langs {
			if l == "" || strings.Contains(l, "-") {
				t.Fatalf("bad code %q", l)
			}
		}
	})
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"message":"Quota exceeded"}`))
	f.Add([]byte(`{"message":"Bad request","detail":"Value for 'target_lang' not supported."}`))
	f.Add([]byte(`<html>502</html>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = errorMessage(b)
	})
}

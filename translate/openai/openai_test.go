package openai

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

const key = "sk-test-123"

// fakeChat speaks the chat-completions API. mode picks a misbehaviour: "" answers well,
// "chatty" adds commentary, "short" drops a line, "fenced" wraps JSON in a code fence,
// "hang" never answers, "NNN" or "NNN:code" answers that status with an OpenAI error body.
type fakeChat struct {
	mode  atomic.Value
	mu    sync.Mutex
	reqs  []chatRequest
	lines []int
}

func (f *fakeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	mode, _ := f.mode.Load().(string)
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Authorization") != "Bearer "+key {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
		return
	}
	if mode == "hang" {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	var status int
	var code string
	if n, _ := fmt.Sscanf(mode, "%d", &status); n == 1 {
		_, code, _ = strings.Cut(mode, ":")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"fake error %d","type":"server_error","code":%q}}`, status, code)
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) != 2 {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":{"message":"bad request","type":"invalid_request_error","code":null}}`)
		return
	}
	var lines []string
	if err := json.Unmarshal([]byte(req.Messages[1].Content), &lines); err != nil {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":{"message":"user content is not a JSON array","type":"test","code":null}}`)
		return
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.lines = append(f.lines, len(lines))
	f.mu.Unlock()
	out := make([]string, len(lines))
	for i, s := range lines {
		out[i] = "es:" + s
	}
	if mode == "short" {
		out = out[1:]
	}
	content, _ := json.Marshal(out)
	c := string(content)
	switch mode {
	case "chatty":
		c = "Sure! Here is the translation:\n" + c
	case "fenced":
		c = "```json\n" + c + "\n```"
	}
	resp := map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": c}}},
		"usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
	}
	_ = json.NewEncoder(w).Encode(resp)
}

func setup(t *testing.T, mode string) (*fakeChat, *Translator) {
	t.Helper()
	f := &fakeChat{}
	f.mode.Store(mode)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	tr, err := New(Config{URL: srv.URL + "/v1", Key: key, Model: "test-model", BatchSize: 4})
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

func TestTranslateBatchesAndPrompt(t *testing.T) {
	f, tr := setup(t, "")
	texts := []string{"one", "two", "", "three", "four", "five"}
	out, err := tr.Translate(ctx(t), texts, "en", "es")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"es:one", "es:two", "", "es:three", "es:four", "es:five"}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Errorf("out %q, want %q", out, want)
	}
	if fmt.Sprint(f.lines) != "[4 1]" {
		t.Errorf("batches %v, want [4 1]", f.lines)
	}
	r := f.reqs[0]
	if r.Model != "test-model" || r.Temperature != 0 || r.Messages[0].Role != "system" || r.Messages[1].Role != "user" {
		t.Errorf("request %+v", r)
	}
	sys := r.Messages[0].Content
	for _, s := range []string{"exactly 4", "English", "Spanish", "Translate only"} {
		if !strings.Contains(sys, s) {
			t.Errorf("system prompt lacks %q:\n%s", s, sys)
		}
	}
}

func TestFencedAnswerAccepted(t *testing.T) {
	_, tr := setup(t, "fenced")
	out, err := tr.Translate(ctx(t), []string{"a", "b"}, "en", "es")
	if err != nil || out[1] != "es:b" {
		t.Fatalf("%q, %v", out, err)
	}
}

func TestBadAnswersRejected(t *testing.T) {
	for _, mode := range []string{"chatty", "short"} {
		_, tr := setup(t, mode)
		if out, err := tr.Translate(ctx(t), []string{"a", "b"}, "en", "es"); err == nil {
			t.Errorf("%s: accepted %q", mode, out)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		mode string
		want error
	}{
		{"429:rate_limit_exceeded", translate.ErrRateLimited},
		{"429:insufficient_quota", translate.ErrQuota},
		{"500", nil},
		{"503", nil},
	} {
		t.Run(c.mode, func(t *testing.T) {
			_, tr := setup(t, c.mode)
			_, err := tr.Translate(ctx(t), []string{"a"}, "en", "es")
			if err == nil || !strings.Contains(err.Error(), "fake error") {
				t.Fatalf("err = %v", err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
			if c.want == nil && (errors.Is(err, translate.ErrQuota) || errors.Is(err, translate.ErrRateLimited)) {
				t.Errorf("err = %v wrongly classified", err)
			}
		})
	}
	f := &fakeChat{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	tr, _ := New(Config{URL: srv.URL, Key: "wrong", Model: "m"})
	if _, err := tr.Translate(ctx(t), []string{"a"}, "en", "es"); !errors.Is(err, translate.ErrAuth) {
		t.Errorf("wrong key: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	_, tr := setup(t, "hang")
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := tr.Translate(c, []string{"a"}, "en", "es"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestLanguages(t *testing.T) {
	tr, _ := New(Config{URL: "http://x", Model: "m", Languages: []string{"en", "es", "fr"}})
	pairs, _ := tr.Languages(context.Background())
	if len(pairs) != 6 {
		t.Errorf("pairs %v", pairs)
	}
}

func FuzzParseCompletion(f *testing.F) {
	f.Add([]byte(`{"choices":[{"index":0,"message":{"role":"assistant","content":"[\"hola\"]"},"finish_reason":"stop"}]}`), 1)
	f.Add([]byte(`{"choices":[{"message":{"content":"`+"```json\\n[\\\"a\\\",\\\"b\\\"]\\n```"+`"}}]}`), 2)
	f.Add([]byte(`{"choices":[{"message":{"content":"Sure: [\"a\"]"},"finish_reason":"length"}]}`), 1)
	f.Add([]byte(`{"choices":[]}`), 0)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		out, err := parseCompletion(b, n)
		if err == nil && len(out) != n {
			t.Fatalf("%d lines for %d", len(out), n)
		}
	})
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`))
	f.Add([]byte(`{"error":{"message":"x","code":42}}`))
	f.Add([]byte(`upstream connect error`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = errorMessage(b)
		_ = errorCode(b)
	})
}

package whisper

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"lectern/transcribe"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	cfg.Logger = quiet
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func field(r fakeRequest, k string) string {
	if v := r.Fields[k]; len(v) == 1 {
		return v[0]
	}
	return strings.Join(r.Fields[k], "|")
}

func TestWhisperCppRequestAndResult(t *testing.T) {
	f := newFake(t, APIWhisperCpp)
	f.reply = replySegments(APIWhisperCpp, seg{0, 0.8, "Hello world.", 0.01}, seg{0.8, 1.5, "How are you?", 0.02})
	e := newEngine(t, Config{URLs: []string{f.URL() + "/"}, APIKey: "secret"})
	pcm := tone(1.5, 0.3)
	res, err := e.Transcribe(context.Background(), pcm, transcribe.Options{Language: "en-GB", Prompt: "Good morning."})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	for k, want := range map[string]string{
		"response_format": "verbose_json", "temperature": "0", "no_speech_thold": "0.6",
		"language": "en", "prompt": "Good morning.", "model": "",
	} {
		if got := field(r, k); got != want {
			t.Errorf("field %s = %q, want %q", k, got, want)
		}
	}
	if r.Auth != "" {
		t.Errorf("whisper.cpp got Authorization %q; the key is for OpenAI-style servers only", r.Auth)
	}
	if r.Rate != 16000 || r.Chans != 1 || r.Bits != 16 || len(r.Samples) != len(pcm) {
		t.Errorf("WAV %d Hz %d ch %d bit %d samples, want 16000/1/16/%d", r.Rate, r.Chans, r.Bits, len(r.Samples), len(pcm))
	}
	for _, i := range []int{0, 100, 5000} {
		if want := int16(pcm[i] * 32767); r.Samples[i] != want {
			t.Errorf("sample %d = %d, want %d", i, r.Samples[i], want)
		}
	}
	if res.Text != "Hello world. How are you?" || res.Language != "en" || len(res.Segments) != 2 {
		t.Fatalf("result %+v", res)
	}
	s := res.Segments[1]
	if s.Start != 800*time.Millisecond || s.End != 1500*time.Millisecond || s.NoSpeechProb != 0.02 {
		t.Errorf("segment %+v", s)
	}
	if len(s.Words) != 1 || s.Words[0].Text != "How are you?" || s.Words[0].Start != 800*time.Millisecond {
		t.Errorf("words %+v", s.Words)
	}
	if !e.Punctuates() || e.Name() != "whisper" || e.Region() != "remote" {
		t.Errorf("Punctuates %v Name %q Region %q", e.Punctuates(), e.Name(), e.Region())
	}
}

func TestOpenAIRequestAndResult(t *testing.T) {
	f := newFake(t, APIOpenAI)
	f.reply = replySegments(APIOpenAI, seg{0.5, 1.25, "Bonjour à tous.", 0.05})
	e := newEngine(t, Config{URLs: []string{f.URL()}, API: APIOpenAI, APIKey: "sk-test", Model: "whisper-large-v3",
		Temperature: 0.2, Language: "fr", Region: "eu"})
	res, err := e.Transcribe(context.Background(), tone(2, 0.3), transcribe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	for k, want := range map[string]string{
		"model": "whisper-large-v3", "response_format": "verbose_json", "timestamp_granularities[]": "segment",
		"language": "fr", "temperature": "0.2", "no_speech_thold": "", "prompt": "",
	} {
		if got := field(r, k); got != want {
			t.Errorf("field %s = %q, want %q", k, got, want)
		}
	}
	if r.Auth != "Bearer sk-test" {
		t.Errorf("Authorization %q", r.Auth)
	}
	if res.Text != "Bonjour à tous." || len(res.Segments) != 1 || res.Segments[0].Start != 500*time.Millisecond ||
		res.Segments[0].End != 1250*time.Millisecond {
		t.Errorf("result %+v", res)
	}
	if e.Name() != "openai" || e.Region() != "eu" {
		t.Errorf("Name %q Region %q", e.Name(), e.Region())
	}
}

func TestSpreadsAcrossURLs(t *testing.T) {
	// Nine calls at once over three servers that each take a moment: all servers must be
	// used, and none may serve two at once (whisper.cpp serves one at a time).
	var fakes []*fakeServer
	var urls []string
	for range 3 {
		f := newFake(t, APIWhisperCpp)
		f.reply = func(r fakeRequest, w http.ResponseWriter, req *http.Request) {
			time.Sleep(20 * time.Millisecond) // long enough for the others to queue
			replySegments(APIWhisperCpp, seg{0, 1, "ok", 0})(r, w, req)
		}
		fakes = append(fakes, f)
		urls = append(urls, f.URL())
	}
	e := newEngine(t, Config{URLs: urls})
	var wg sync.WaitGroup
	errs := make(chan error, 9)
	for range 9 {
		wg.Go(func() {
			if _, err := e.Transcribe(context.Background(), tone(0.5, 0.3), transcribe.Options{}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for i, f := range fakes {
		n := len(f.requests())
		total += n
		if n == 0 {
			t.Errorf("server %d got no requests", i)
		}
		if f.maxSeen > 1 {
			t.Errorf("server %d served %d requests at once; whisper.cpp serves one", i, f.maxSeen)
		}
	}
	if total != 9 {
		t.Errorf("%d requests for 9 calls", total)
	}
}

func TestFailover(t *testing.T) {
	down := newFake(t, APIWhisperCpp)
	down.srv.Close() // connection refused
	broken := newFake(t, APIWhisperCpp)
	broken.reply = replyStatus(500, `{"error":"failed to process audio"}`)
	good := newFake(t, APIWhisperCpp)
	e := newEngine(t, Config{URLs: []string{down.URL(), broken.URL(), good.URL()}})
	for i := range 3 {
		res, err := e.Transcribe(context.Background(), tone(0.5, 0.3), transcribe.Options{})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if res.Text != "Hello world." {
			t.Errorf("call %d: %q", i, res.Text)
		}
	}
	// The first call tried all three; afterwards the failed servers cool down.
	if n := len(broken.requests()); n != 1 {
		t.Errorf("broken server got %d requests, want 1 (then cooling down)", n)
	}
	if n := len(good.requests()); n != 3 {
		t.Errorf("good server got %d requests, want 3", n)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name      string
		api       string
		status    int
		body      string
		retryable bool
		message   string
	}{
		{"whisper.cpp 500", APIWhisperCpp, 500, `{"error":"failed to process audio"}`, true, "failed to process audio"},
		{"openai 429", APIOpenAI, 429, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`, true, "Rate limit reached"},
		{"openai 401", APIOpenAI, 401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`, false, "Incorrect API key"},
		{"400 plain body", APIWhisperCpp, 400, "bad request", false, "bad request"},
		{"503 empty body", APIWhisperCpp, 503, "", true, "(empty body)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := newFake(t, c.api), newFake(t, c.api)
			a.reply = replyStatus(c.status, c.body)
			b.reply = replyStatus(c.status, c.body)
			e := newEngine(t, Config{URLs: []string{a.URL(), b.URL()}, API: c.api})
			_, err := e.Transcribe(context.Background(), tone(0.5, 0.3), transcribe.Options{})
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("err %v (%T), want *StatusError", err, err)
			}
			if se.Status != c.status || !strings.Contains(se.Message, c.message) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("err %v", err)
			}
			if Retryable(err) != c.retryable {
				t.Errorf("Retryable = %v", Retryable(err))
			}
			tries := len(a.requests()) + len(b.requests())
			if c.retryable && tries != 2 {
				t.Errorf("retryable error tried %d servers, want both", tries)
			}
			if !c.retryable && tries != 1 {
				t.Errorf("client error tried %d servers, want 1 (it would fail everywhere)", tries)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	f := newFake(t, APIWhisperCpp)
	release := make(chan struct{})
	defer close(release)
	f.reply = func(_ fakeRequest, w http.ResponseWriter, req *http.Request) {
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}
	e := newEngine(t, Config{URLs: []string{f.URL()}, Timeout: 50 * time.Millisecond})
	_, err := e.Transcribe(context.Background(), tone(0.5, 0.3), transcribe.Options{})
	var te *TransportError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || !Retryable(err) {
		t.Errorf("err %v (%T), want a retryable TransportError wrapping DeadlineExceeded", err, err)
	}

	// The caller's own cancellation is not the server's fault: not retryable.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	e2 := newEngine(t, Config{URLs: []string{f.URL()}})
	_, err = e2.Transcribe(ctx, tone(0.5, 0.3), transcribe.Options{})
	if !errors.Is(err, context.Canceled) || Retryable(err) {
		t.Errorf("cancelled: err %v, retryable %v", err, Retryable(err))
	}
}

func TestHallucinationGuard(t *testing.T) {
	f := newFake(t, APIWhisperCpp)
	e := newEngine(t, Config{URLs: []string{f.URL()}})

	// Near-silence is not sent at all.
	rng := rand.New(rand.NewPCG(3, 4))
	hiss := make([]float32, 32000)
	for i := range hiss {
		hiss[i] = float32(rng.NormFloat64() * 0.001)
	}
	for name, pcm := range map[string][]float32{"empty": nil, "zeros": make([]float32, 16000), "hiss": hiss} {
		res, err := e.Transcribe(context.Background(), pcm, transcribe.Options{})
		if err != nil || res.Text != "" || len(res.Segments) != 0 {
			t.Errorf("%s: %+v, %v", name, res, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests for silent audio", n)
	}

	// 0–1 s loud, 1–3 s near silence: a stock phrase is believed over speech only.
	pcm := append(tone(1, 0.3), hiss...)
	f.reply = replySegments(APIWhisperCpp,
		seg{0, 0.5, "Thank you.", 0.1},                     // said: kept
		seg{0.5, 1, "We begin at nine.", 0.1},              // kept
		seg{1, 1.5, "Thank you.", 0.1},                     // on silence: dropped
		seg{1.5, 2, "Thanks for watching!", 0.2},           // on silence: dropped
		seg{1, 2, "[BLANK_AUDIO]", 0.1},                    // annotation: dropped
		seg{1, 2, "(music)", 0.1},                          // annotation: dropped
		seg{0, 1, "Some words.", 0.9},                      // no_speech_prob: dropped
		seg{0, 1, "I'm sorry. I'm sorry. I'm sorry.", 0.1}, // loop: dropped
		seg{0, 1, "go go go go go go go go go go go", 0.1}, // loop: dropped
		seg{0, 1, "No, no, no, that is not it.", 0.1},      // kept: speech, not a loop
	)
	res, err := e.Transcribe(context.Background(), pcm, transcribe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "Thank you. We begin at nine. No, no, no, that is not it."
	if res.Text != want {
		t.Errorf("guarded text %q, want %q", res.Text, want)
	}
}

func TestRepeatLoopAndAnnotation(t *testing.T) {
	for text, want := range map[string]bool{
		"the the the the the the":          true,
		"I'm sorry. I'm sorry. I'm sorry.": true,
		"you know you know you know what":  true,
		"no, no, no":                       false,
		"we will we will rock you":         false,
		"a b c a b c":                      false,
		"one two three four one two three four one two three four": true,
	} {
		if got := repeatLoop(text); got != want {
			t.Errorf("repeatLoop(%q) = %v", text, got)
		}
	}
	for text, want := range map[string]bool{
		"[BLANK_AUDIO]": true, "(music)": true, "♪♪": true, "*applause*": true, " ": true,
		"Hello (world)": false, "[x] and [y]": false, "Hello.": false,
	} {
		if got := annotation(text); got != want {
			t.Errorf("annotation(%q) = %v", text, got)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{URLs: []string{"localhost:8080"}},
		{URLs: []string{"ftp://x"}},
		{URLs: []string{"http://x"}, API: "grpc"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	e := newEngine(t, Config{URLs: []string{"http://127.0.0.1:1"}, API: APIOpenAI})
	if e.cfg.MaxInFlight != 4 || e.cfg.Model != "whisper-1" || e.cfg.NoSpeechThreshold != 0.6 {
		t.Errorf("defaults %+v", e.cfg)
	}
}

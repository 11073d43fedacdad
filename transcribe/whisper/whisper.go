package whisper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"lectern/transcribe"
)

// Engine sends audio to Whisper servers. It is safe for concurrent use.
type Engine struct {
	cfg Config
	bal *balancer
}

var _ transcribe.Engine = (*Engine)(nil)

// maxResponse bounds what is read from a server (a verbose_json answer for 30 s of audio
// is a few tens of kB).
const maxResponse = 8 << 20

// New checks the configuration; it does not contact the servers.
func New(cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, bal: newBalancer(cfg.URLs, cfg.MaxInFlight)}, nil
}

func (e *Engine) Name() string {
	if e.cfg.API == APIOpenAI {
		return "openai"
	}
	return "whisper"
}

func (e *Engine) Region() string   { return e.cfg.Region }
func (e *Engine) Punctuates() bool { return true }

// Transcribe sends pcm to one server, failing over to the others on connection errors,
// timeouts, 5xx and 429. Near-silent audio is answered with nothing, without a request.
func (e *Engine) Transcribe(ctx context.Context, pcm []float32, opts transcribe.Options) (transcribe.Result, error) {
	lang := opts.Language
	if lang == "" {
		lang = e.cfg.Language
	}
	// Whisper servers take ISO 639-1 codes ("en"), not BCP-47 tags ("en-GB").
	lang, _, _ = strings.Cut(strings.ToLower(lang), "-")
	if loudestFrameRMS(pcm) < e.cfg.SilenceRMS {
		return transcribe.Result{Language: lang}, nil
	}
	body, contentType := e.request(pcm, lang, opts.Prompt)
	tried := make(map[*endpoint]bool, len(e.cfg.URLs))
	var lastErr error
	for {
		ep, err := e.bal.acquire(ctx, tried)
		if errors.Is(err, errAllTried) && lastErr != nil {
			return transcribe.Result{}, lastErr
		}
		if err != nil {
			return transcribe.Result{}, err
		}
		tried[ep] = true
		v, err := e.post(ctx, ep.url, body, contentType)
		// A cancelled caller is not the server's fault: no cool-down for it.
		e.bal.release(ep, err != nil && Retryable(err) && ctx.Err() == nil)
		if err == nil {
			return e.result(v, pcm, lang), nil
		}
		if ctx.Err() != nil {
			return transcribe.Result{}, fmt.Errorf("whisper %s: %w", ep.url, ctx.Err())
		}
		if !Retryable(err) {
			return transcribe.Result{}, err
		}
		e.cfg.Logger.Warn("whisper server failed, trying another", "url", ep.url, "err", err)
		lastErr = err
	}
}

// request builds the multipart body once; failover resends the same bytes.
func (e *Engine) request(pcm []float32, lang, prompt string) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="audio.wav"`)
	h.Set("Content-Type", "audio/wav")
	fw, _ := mw.CreatePart(h) // writes to a bytes.Buffer cannot fail
	fw.Write(encodeWAV(pcm))
	field := func(k, v string) { mw.WriteField(k, v) }
	temp := strconv.FormatFloat(e.cfg.Temperature, 'f', -1, 64)
	switch e.cfg.API {
	case APIOpenAI:
		field("model", e.cfg.Model)
		field("response_format", "verbose_json")
		field("timestamp_granularities[]", "segment")
		field("temperature", temp)
	default:
		field("response_format", "verbose_json")
		field("temperature", temp)
		field("no_speech_thold", strconv.FormatFloat(e.cfg.NoSpeechThreshold, 'f', -1, 64))
	}
	if lang != "" {
		field("language", lang)
	}
	if prompt != "" {
		field("prompt", prompt)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func (e *Engine) endpoint(base string) string {
	if e.cfg.API == APIOpenAI {
		return base + "/v1/audio/transcriptions"
	}
	return base + "/inference"
}

// post makes one attempt against one server.
func (e *Engine) post(ctx context.Context, base string, body []byte, contentType string) (verboseJSON, error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint(base), bytes.NewReader(body))
	if err != nil {
		return verboseJSON{}, fmt.Errorf("whisper %s: %w", base, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if e.cfg.API == APIOpenAI && e.cfg.APIKey != "" {
		// Only OpenAI-style servers get the key: a whisper.cpp box on the LAN has no use for it.
		req.Header.Set("Authorization", "Bearer "+e.cfg.APIKey)
	}
	start := time.Now()
	resp, err := e.cfg.HTTPClient.Do(req)
	if err != nil {
		return verboseJSON{}, &TransportError{URL: base, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return verboseJSON{}, &TransportError{URL: base, Err: fmt.Errorf("reading response: %w", err)}
	}
	if resp.StatusCode/100 != 2 {
		return verboseJSON{}, &StatusError{URL: base, Status: resp.StatusCode, Message: errorMessage(data)}
	}
	v, err := parseVerboseJSON(data)
	if err != nil {
		return verboseJSON{}, fmt.Errorf("whisper %s: %w", base, err)
	}
	e.cfg.Logger.Debug("whisper response", "url", base, "segments", len(v.Segments), "took", time.Since(start))
	return v, nil
}

// result converts the answer and applies the hallucination guard.
func (e *Engine) result(v verboseJSON, pcm []float32, lang string) transcribe.Result {
	audio := time.Duration(len(pcm)) * time.Second / transcribe.SampleRate
	res := transcribe.Result{Language: languageCode(v.Language)}
	if res.Language == "" {
		res.Language = lang
	}
	var texts []string
	for _, s := range v.Segments {
		seg := s.segment(audio)
		if why := e.dropReason(s, seg, pcm); why != "" {
			e.cfg.Logger.Debug("whisper segment dropped", "reason", why, "text", seg.Text, "no_speech_prob", s.NoSpeechProb)
			continue
		}
		res.Segments = append(res.Segments, seg)
		texts = append(texts, seg.Text)
	}
	res.Text = strings.Join(texts, " ")
	return res
}

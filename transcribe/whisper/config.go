// Package whisper is the remote speech-to-text engine: a whisper.cpp server
// (POST /inference) or any OpenAI-compatible server (POST /v1/audio/transcriptions),
// spread over several URLs, with a guard against Whisper's hallucinations.
package whisper

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// API names the request format a server speaks.
const (
	APIWhisperCpp = "whispercpp" // whisper.cpp examples/server: POST {url}/inference
	APIOpenAI     = "openai"     // POST {url}/v1/audio/transcriptions, bearer key
)

// Config describes the servers and the decoding options. Zero values take the defaults.
type Config struct {
	URLs        []string // base URLs, e.g. http://10.0.0.5:8080; requests are spread across them
	API         string   // APIWhisperCpp (default) or APIOpenAI
	APIKey      string   // bearer key, sent to OpenAI-style servers only
	Model       string   // OpenAI-style model name; default "whisper-1"
	Language    string   // spoken language when the request's Options do not say; "" = server default
	Temperature float64  // sampling temperature; 0 is greedy
	// NoSpeechThreshold drops segments whose no_speech_prob is above it (default 0.6, as
	// Whisper's own) and is sent to whisper.cpp as no_speech_thold.
	NoSpeechThreshold float64
	Timeout           time.Duration // per request attempt; default 30 s
	Region            string        // processing-region label of the servers; default "remote"
	HTTPClient        *http.Client  // default: a client with no overall timeout (Timeout applies)
	// MaxInFlight is the requests one URL serves at once; more wait. whisper.cpp serves one
	// at a time per process, so the default is 1 for it and 4 for OpenAI-style servers.
	MaxInFlight int
	// SilenceRMS: audio whose loudest 20 ms frame is quieter than this (default 0.005,
	// about -46 dBFS) is not sent at all: Whisper invents text on silence.
	SilenceRMS float64
	// QuietRMS: a segment whose audio is quieter than this (default 0.02, about -34 dBFS)
	// and whose text is one of Whisper's stock phrases ("Thank you.") is dropped.
	QuietRMS float64
	Logger   *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if len(c.URLs) == 0 {
		return c, fmt.Errorf("whisper: no server URLs")
	}
	urls := make([]string, len(c.URLs))
	for i, raw := range c.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("whisper: bad server URL %q (want http[s]://host[:port][/path])", raw)
		}
		urls[i] = strings.TrimRight(raw, "/")
	}
	c.URLs = urls
	switch c.API {
	case "":
		c.API = APIWhisperCpp
	case APIWhisperCpp, APIOpenAI:
	default:
		return c, fmt.Errorf("whisper: unknown API %q (want %q or %q)", c.API, APIWhisperCpp, APIOpenAI)
	}
	if c.Model == "" {
		c.Model = "whisper-1"
	}
	if c.NoSpeechThreshold <= 0 {
		c.NoSpeechThreshold = 0.6
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Region == "" {
		c.Region = "remote"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 1
		if c.API == APIOpenAI {
			c.MaxInFlight = 4
		}
	}
	if c.SilenceRMS <= 0 {
		c.SilenceRMS = 0.005
	}
	if c.QuietRMS <= 0 {
		c.QuietRMS = 0.02
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

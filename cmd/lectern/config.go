package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config is everything `lectern serve` can be told. Defaults live in defaultConfig and
// nowhere else; flags set fields, and a LECTERN_<FLAG> environment variable fills any flag
// not given on the command line (so defaults < environment < flags).
type Config struct {
	Addr      string
	Data      string
	PublicURL string // base URL printed in links; empty = derived from the request / addr
	LogLevel  string

	// WebRTC
	UDPPortMin, UDPPortMax uint
	NAT1To1IPs             string // comma-separated public IPs to advertise
	IncludeLoopback        bool   // offer 127.0.0.1 candidates (local tests and benches)
	ICEInterfaces          string // comma-separated interfaces to gather ICE candidates on ("" = all)
	ViewerQueue            int
	PLIInterval            time.Duration

	ShutdownTimeout time.Duration

	Auth AuthConfig // accounts, SSO (authconfig.go)

	// Speech to text
	Engine        string // sphinx, whisper, openai or none
	EngineURLs    string // comma-separated server URLs for whisper / openai
	EngineKey     string
	EngineModel   string
	EngineRegion  string
	SpeechWorkers int
	CaptionFinals string // accurate or fast

	// Translation, in preference order
	Translators  string // comma-separated: apertium, libretranslate, deepl, openai; "" or none = off
	LibreURL     string
	LibreKey     string
	LibreRegion  string
	DeepLKey     string
	DeepLURL     string
	OpenAIURL    string
	OpenAIKey    string
	OpenAIModel  string
	OpenAIRegion string
	PreTranslate string // languages translated even before anyone reads them
}

func defaultConfig() Config {
	return Config{
		Addr:            ":8080",
		Data:            "./lectern-data",
		LogLevel:        "info",
		Auth:            AuthConfig{AuditRetentionDays: 365},
		ViewerQueue:     1024,
		PLIInterval:     500 * time.Millisecond,
		ShutdownTimeout: 10 * time.Second,
		Engine:          "sphinx",
		CaptionFinals:   "accurate",
		Translators:     "apertium",
	}
}

// bindServeFlags registers serve's flags on fs, writing into c.
func bindServeFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "HTTP listen address")
	fs.StringVar(&c.Data, "data", c.Data, "data directory (SQLite database)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "public base URL used in printed links")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.UintVar(&c.UDPPortMin, "udp-port-min", c.UDPPortMin, "lowest UDP port for WebRTC (0 = any)")
	fs.UintVar(&c.UDPPortMax, "udp-port-max", c.UDPPortMax, "highest UDP port for WebRTC (0 = any)")
	fs.StringVar(&c.NAT1To1IPs, "nat-ips", c.NAT1To1IPs, "comma-separated public IPs to advertise in ICE candidates")
	fs.BoolVar(&c.IncludeLoopback, "ice-loopback", c.IncludeLoopback, "offer loopback ICE candidates (local testing)")
	fs.StringVar(&c.ICEInterfaces, "ice-interfaces", c.ICEInterfaces, "comma-separated network interfaces for ICE candidates (empty = all; lo = loopback only)")
	fs.IntVar(&c.ViewerQueue, "viewer-queue", c.ViewerQueue, "RTP packets queued per viewer before drops")
	fs.DurationVar(&c.PLIInterval, "pli-interval", c.PLIInterval, "minimum gap between keyframe requests to the presenter")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown limit")
	bindPipelineFlags(fs, c)
	bindAuthFlags(fs, &c.Auth)
}

func bindPipelineFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Engine, "engine", c.Engine, "speech engine: sphinx (embedded), whisper (whisper.cpp server), openai (/v1/audio/transcriptions) or none")
	fs.StringVar(&c.EngineURLs, "engine-url", c.EngineURLs, "comma-separated URLs of whisper / openai speech servers")
	fs.StringVar(&c.EngineKey, "engine-key", c.EngineKey, "API key of the openai speech server")
	fs.StringVar(&c.EngineModel, "engine-model", c.EngineModel, "model name for the openai speech server")
	fs.StringVar(&c.EngineRegion, "engine-region", c.EngineRegion, "processing-region label of the speech servers")
	fs.IntVar(&c.SpeechWorkers, "speech-workers", c.SpeechWorkers, "speech engine calls in parallel (0 = cores)")
	fs.StringVar(&c.CaptionFinals, "caption-finals", c.CaptionFinals, "accurate: re-decode each utterance whole for its final (lower error rate); fast: the streaming result (final sooner)")
	fs.StringVar(&c.Translators, "translators", c.Translators, "translators in preference order: apertium, libretranslate, deepl, openai (none = off)")
	fs.StringVar(&c.LibreURL, "libretranslate-url", c.LibreURL, "LibreTranslate server URL")
	fs.StringVar(&c.LibreKey, "libretranslate-key", c.LibreKey, "LibreTranslate API key")
	fs.StringVar(&c.LibreRegion, "libretranslate-region", c.LibreRegion, "processing-region label of LibreTranslate")
	fs.StringVar(&c.DeepLKey, "deepl-key", c.DeepLKey, "DeepL API key (keys ending in :fx use the free API)")
	fs.StringVar(&c.DeepLURL, "deepl-url", c.DeepLURL, "DeepL API base URL (default from the key)")
	fs.StringVar(&c.OpenAIURL, "openai-translate-url", c.OpenAIURL, "OpenAI-compatible chat completions server for translation")
	fs.StringVar(&c.OpenAIKey, "openai-translate-key", c.OpenAIKey, "its API key")
	fs.StringVar(&c.OpenAIModel, "openai-translate-model", c.OpenAIModel, "its model name")
	fs.StringVar(&c.OpenAIRegion, "openai-translate-region", c.OpenAIRegion, "its processing-region label")
}

// parseFlags parses args, then fills every flag not given on the command line from its
// LECTERN_* environment variable (flag "udp-port-min" ↔ LECTERN_UDP_PORT_MIN).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "LECTERN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

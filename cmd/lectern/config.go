package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"lectern/api"
	"lectern/cluster"
)

// Config is everything `lectern serve` can be told. Defaults live in defaultConfig and
// nowhere else; flags set fields, and a LECTERN_<FLAG> environment variable fills any flag
// not given on the command line (so defaults < environment < flags).
type Config struct {
	Addr      string
	Data      string
	Store     string // "" or "sqlite": the SQLite file in Data; postgres://...: PostgreSQL
	PublicURL string // base URL of links handed out; empty = the request's origin (API) or Addr (CLI)
	LogLevel  string

	// HTTP limits. Caption streams are exempt from Read/WriteTimeout by design (api.pump);
	// StreamsPerAddr caps how many one client address holds open (0 = no cap).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	StreamsPerAddr                         int

	// WebRTC
	UDPPortMin, UDPPortMax uint
	NAT1To1IPs             string // comma-separated public IPs to advertise
	IncludeLoopback        bool   // offer 127.0.0.1 candidates (local tests and benches)
	ICEInterfaces          string // comma-separated interfaces to gather ICE candidates on ("" = all)
	ViewerQueue            int
	PLIInterval            time.Duration

	ShutdownTimeout time.Duration

	WebhookLoopback bool // webhooks may be http://127.0.0.1 / localhost (tests, development)

	Auth AuthConfig // accounts, SSO (authconfig.go)

	Cluster ClusterConfig // several nodes (clusterconfig.go)

	// Speech to text
	Engine        string // sphinx, whisper, openai or none
	EngineURLs    string // comma-separated server URLs for whisper / openai
	EngineKey     string
	EngineModel   string
	EngineRegion  string
	SpeechWorkers int
	// After class: the engine that transcribes recordings again ("" = like --engine).
	RetranscribeEngine string
	RetranscribeURLs   string
	RetranscribeRegion string
	CaptionFinals      string // accurate or fast

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
		Cluster:         ClusterConfig{Lease: cluster.DefaultLease, Capacity: 200},
		ViewerQueue:     1024,
		PLIInterval:     500 * time.Millisecond,
		ShutdownTimeout: 10 * time.Second,
		// A request body of a few KiB takes well under a second; 30 s is room for a slow
		// phone link, not for a client dripping bytes to hold a connection.
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   60 * time.Second, // the largest response is a transcript export
		IdleTimeout:    60 * time.Second,
		StreamsPerAddr: api.DefaultStreamsPerAddr,
		Engine:         "sphinx",
		CaptionFinals:  "accurate",
		Translators:    "apertium",
	}
}

// bindServeFlags registers serve's flags on fs, writing into c.
func bindServeFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "HTTP listen address")
	fs.StringVar(&c.Data, "data", c.Data, "data directory (SQLite database, recordings)")
	fs.StringVar(&c.Store, "store", c.Store, storeUsage)
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "public base URL of the links the API returns, e.g. https://webinars.example.org (empty = the request's origin)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.UintVar(&c.UDPPortMin, "udp-port-min", c.UDPPortMin, "lowest UDP port for WebRTC (0 = any)")
	fs.UintVar(&c.UDPPortMax, "udp-port-max", c.UDPPortMax, "highest UDP port for WebRTC (0 = any)")
	fs.StringVar(&c.NAT1To1IPs, "nat-ips", c.NAT1To1IPs, "comma-separated public IPs to advertise in ICE candidates")
	fs.BoolVar(&c.IncludeLoopback, "ice-loopback", c.IncludeLoopback, "offer loopback ICE candidates (local testing)")
	fs.StringVar(&c.ICEInterfaces, "ice-interfaces", c.ICEInterfaces, "comma-separated network interfaces for ICE candidates (empty = all; lo = loopback only)")
	fs.IntVar(&c.ViewerQueue, "viewer-queue", c.ViewerQueue, "RTP packets queued per viewer before drops")
	fs.DurationVar(&c.PLIInterval, "pli-interval", c.PLIInterval, "minimum gap between keyframe requests to the presenter")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown limit")
	bindClusterFlags(fs, &c.Cluster)
	fs.DurationVar(&c.ReadTimeout, "read-timeout", c.ReadTimeout, "longest time to read a request, body included (caption streams exempt)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", c.WriteTimeout, "longest time to write a response (caption streams exempt)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "how long an idle keep-alive connection stays open")
	fs.IntVar(&c.StreamsPerAddr, "streams-per-addr", c.StreamsPerAddr, "caption streams and live channels one client address may hold open at once (0 = no cap)")
	fs.BoolVar(&c.WebhookLoopback, "webhook-allow-loopback", c.WebhookLoopback, "accept webhook endpoints at http://127.0.0.1 or http://localhost (testing and development only; otherwise https is required)")
	bindPipelineFlags(fs, c)
	bindAuthFlags(fs, &c.Auth)
}

func bindPipelineFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Engine, "engine", c.Engine, "speech engine: sphinx (embedded), whisper (whisper.cpp server), openai (/v1/audio/transcriptions) or none")
	fs.StringVar(&c.EngineURLs, "engine-url", c.EngineURLs, "comma-separated URLs of whisper / openai speech servers")
	fs.StringVar(&c.EngineKey, "engine-key", c.EngineKey, "API key of the openai speech server")
	fs.StringVar(&c.EngineModel, "engine-model", c.EngineModel, "model name for the openai speech server")
	fs.StringVar(&c.EngineRegion, "engine-region", c.EngineRegion, "processing-region label of the speech servers")
	fs.StringVar(&c.RetranscribeEngine, "retranscribe-engine", c.RetranscribeEngine, "engine that transcribes recordings again after class (sphinx, whisper, openai, none; default: like --engine); --engine-key and --engine-model apply to it too")
	fs.StringVar(&c.RetranscribeURLs, "retranscribe-url", c.RetranscribeURLs, "comma-separated URLs of its whisper / openai servers")
	fs.StringVar(&c.RetranscribeRegion, "retranscribe-region", c.RetranscribeRegion, "processing-region label of its servers")
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

// validate rejects settings that would otherwise be silently changed or misread: a UDP port
// beyond 65535 used to wrap around in a uint16 cast (70000 became 4464).
func (c Config) validate() error {
	if err := validatePortRange(c.UDPPortMin, c.UDPPortMax); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if err := validatePublicURL(c.PublicURL); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--read-timeout", c.ReadTimeout}, {"--write-timeout", c.WriteTimeout}, {"--idle-timeout", c.IdleTimeout}, {"--shutdown-timeout", c.ShutdownTimeout}} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be positive, got %s", d.name, d.v)
		}
	}
	if c.StreamsPerAddr < 0 {
		return fmt.Errorf("--streams-per-addr must be 0 (no cap) or more, got %d", c.StreamsPerAddr)
	}
	return c.Cluster.validate()
}

// validatePortRange accepts no range (both 0) or 1 <= min <= max <= 65535.
func validatePortRange(lo, hi uint) error {
	switch {
	case lo == 0 && hi == 0:
		return nil
	case lo == 0 || hi == 0:
		return fmt.Errorf("--udp-port-min and --udp-port-max go together: give both or neither (got %d and %d)", lo, hi)
	case lo > 65535 || hi > 65535:
		return fmt.Errorf("--udp-port-min/max must be UDP ports from 1 to 65535 (got %d and %d)", lo, hi)
	case lo > hi:
		return fmt.Errorf("--udp-port-min %d is above --udp-port-max %d", lo, hi)
	}
	return nil
}

// validatePublicURL wants an absolute http(s) URL with no query or fragment, since links
// are made by appending paths to it.
func validatePublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url %q: want an absolute http or https URL such as https://webinars.example.org", s)
	}
	return nil
}

// baseURL is where printed links point: the public URL if configured, else the listen
// address as a local client would reach it (":8080" and "0.0.0.0:8080" → localhost:8080).
func baseURL(publicURL, addr string) string {
	if publicURL != "" {
		return strings.TrimRight(publicURL, "/")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
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

package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestValidatePorts(t *testing.T) {
	for _, tc := range []struct {
		min, max uint
		wantErr  string // "" = valid
	}{
		{0, 0, ""},
		{1, 65535, ""},
		{50000, 50100, ""},
		{50000, 50000, ""},
		{70000, 70100, "1 to 65535"},
		{50000, 70000, "1 to 65535"},
		{65536, 65536, "1 to 65535"},
		{50100, 50000, "above"},
		{50000, 0, "both or neither"},
		{0, 50000, "both or neither"},
	} {
		c := defaultConfig()
		c.UDPPortMin, c.UDPPortMax = tc.min, tc.max
		err := c.validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%d-%d: %v", tc.min, tc.max, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%d-%d: got %v, want an error saying %q", tc.min, tc.max, err, tc.wantErr)
		}
	}
}

// TestServeRefusesBadPort: the flag reaches validation (70000 used to wrap to 4464 in a
// uint16 cast), and serve stops before it opens the store or a socket.
func TestServeRefusesBadPort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the old code would start and stop at once; the new one never starts
	for _, env := range []bool{false, true} {
		args := []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--engine", "none", "--translators", "none"}
		if env {
			t.Setenv("LECTERN_UDP_PORT_MIN", "70000")
			t.Setenv("LECTERN_UDP_PORT_MAX", "70010")
		} else {
			args = append(args, "--udp-port-min", "70000", "--udp-port-max", "70010")
		}
		err := run(ctx, args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--udp-port-min") {
			t.Errorf("env %v: serve with port 70000: %v", env, err)
		}
	}
}

func TestValidateOther(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"public url without scheme": func(c *Config) { c.PublicURL = "webinars.example.org" },
		"public url with query":     func(c *Config) { c.PublicURL = "https://x.example/?a=b" },
		"ftp public url":            func(c *Config) { c.PublicURL = "ftp://x.example" },
		"zero read timeout":         func(c *Config) { c.ReadTimeout = 0 },
		"negative stream cap":       func(c *Config) { c.StreamsPerAddr = -1 },
	} {
		c := defaultConfig()
		mod(&c)
		if c.validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := defaultConfig()
	c.PublicURL = "https://webinars.example.org/lectern/"
	if err := c.validate(); err != nil {
		t.Errorf("good public URL: %v", err)
	}
}

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct{ public, addr, want string }{
		{"", ":8080", "http://localhost:8080"},
		{"", "0.0.0.0:9000", "http://localhost:9000"},
		{"", "[::]:9000", "http://localhost:9000"},
		{"", "192.0.2.7:8080", "http://192.0.2.7:8080"},
		{"", "[2001:db8::1]:443", "http://[2001:db8::1]:443"},
		{"", "webinars.example.org:8080", "http://webinars.example.org:8080"},
		{"https://w.example/", ":8080", "https://w.example"},
	} {
		if got := baseURL(tc.public, tc.addr); got != tc.want {
			t.Errorf("baseURL(%q, %q) = %q, want %q", tc.public, tc.addr, got, tc.want)
		}
	}
}

// TestWebinarCreateLinks: printed links follow --public-url, then LECTERN_PUBLIC_URL, then
// --addr / LECTERN_ADDR, instead of a fixed http://localhost:8080.
func TestWebinarCreateLinks(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--public-url", "https://webinars.example.org/"}, nil, "https://webinars.example.org/watch/"},
		{nil, map[string]string{"LECTERN_PUBLIC_URL": "https://env.example.org"}, "https://env.example.org/watch/"},
		{[]string{"--addr", "192.0.2.7:9000"}, nil, "http://192.0.2.7:9000/watch/"},
		{nil, map[string]string{"LECTERN_ADDR": ":9001"}, "http://localhost:9001/watch/"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out, err := runCLI(t, "", append([]string{"webinar", "create", "--data", dir, "--title", "T"}, tc.args...)...)
			if err != nil || !strings.Contains(out, "watch:      "+tc.want) {
				t.Fatalf("%v: %v\n%s", tc.args, err, out)
			}
		})
	}
	if _, err := runCLI(t, "", "webinar", "create", "--data", dir, "--title", "T", "--public-url", "localhost"); err == nil {
		t.Error("a public URL without scheme was accepted")
	}
}

// TestHTTPServerLimits: the defaults bound every connection (only ReadHeaderTimeout was set,
// so a dripped body or an idle keep-alive could hold a connection forever).
func TestHTTPServerLimits(t *testing.T) {
	srv := newHTTPServer(defaultConfig(), nil)
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout,
		"ReadTimeout": srv.ReadTimeout, "WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		if d <= 0 || d > 2*time.Minute {
			t.Errorf("%s = %s", name, d)
		}
	}
}

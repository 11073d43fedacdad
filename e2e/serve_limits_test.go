package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDataDirectoryLock: a second server on the same data directory exits at once with a
// message naming the directory and the running server's PID; the admin commands still work
// beside the running server and print links to where it listens; once it stops, the
// directory can be served again.
func TestDataDirectoryLock(t *testing.T) {
	noRaceExitPause(t)
	dir := t.TempDir()
	s := startServer(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	second := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0", "--data", dir, "--engine", "none", "--translators", "none")
	second.Stderr = &stderr
	err := second.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || ctx.Err() != nil {
		t.Fatalf("second server on %s: %v (%s)", dir, err, stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, dir) || !strings.Contains(msg, "pid "+strconv.Itoa(s.cmd.Process.Pid)) {
		t.Fatalf("second server's message does not name the directory and the holder: %q", msg)
	}

	w := createWebinar(t, dir, "Created beside a running server")
	if !strings.HasPrefix(w.WatchURL, s.URL+"/watch/") {
		t.Errorf("webinar create printed %s, but the server listens on %s", w.WatchURL, s.URL)
	}
	add := exec.CommandContext(ctx, binary, "user", "add", "--data", dir, "--email", "ada@school.example", "--password-stdin")
	add.Stdin = strings.NewReader("correct horse battery staple\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add beside the server: %v %s", err, out)
	}

	sigterm(t, s, 3*time.Second)
	startServer(t, dir) // the lock went with the process
}

// TestConnectionTimeouts: a request body dripped one byte every 5 s is cut after the read
// timeout, and an idle keep-alive connection is closed after the idle timeout. Before, both
// stayed open for as long as the client liked.
func TestConnectionTimeouts(t *testing.T) {
	s := startServer(t, t.TempDir(), "--read-timeout", "2s", "--idle-timeout", "2s")
	addr := strings.TrimPrefix(s.URL, "http://")

	t.Run("slow body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		io.WriteString(c, "POST /api/login HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		go func() { // the drip, until the server hangs up
			for {
				time.Sleep(5 * time.Second)
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		waitClosed(t, c, start, 15*time.Second)
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		r := bufio.NewReader(c)
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Close {
			t.Fatalf("healthz: %d, close %v", res.StatusCode, res.Close)
		}
		waitClosed(t, c, time.Now(), 15*time.Second)
	})
}

// waitClosed reads c until the server closes it, failing if that takes longer than limit.
func waitClosed(t *testing.T, c net.Conn, start time.Time, limit time.Duration) {
	t.Helper()
	c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %s", limit)
	}
	t.Logf("server closed the connection after %s", time.Since(start).Round(10*time.Millisecond))
}

// TestPublicURL: with --public-url the links the API returns and those `webinar create`
// prints beside the server use it, not the listen address or http://localhost:8080.
func TestPublicURL(t *testing.T) {
	dir := t.TempDir()
	const public = "https://webinars.example.org"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	add := exec.CommandContext(ctx, binary, "user", "add", "--data", dir, "--email", "host@school.example", "--password-stdin")
	add.Stdin = strings.NewReader("correct horse battery staple\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	tok, err := exec.CommandContext(ctx, binary, "token", "create", "--data", dir, "--email", "host@school.example").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, "--public-url", public+"/")

	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/api/webinars", strings.NewReader(`{"title":"Linked"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got webinar
	json.NewDecoder(res.Body).Decode(&got)
	res.Body.Close()
	for _, u := range []string{got.WatchURL, got.WHEPURL, got.WHIPURL, got.StudioURL} {
		if !strings.HasPrefix(u, public+"/") {
			t.Errorf("API returned %d with link %q, want it under %s", res.StatusCode, u, public)
		}
	}
	if w := createWebinar(t, dir, "Printed"); !strings.HasPrefix(w.WatchURL, public+"/watch/") {
		t.Errorf("webinar create beside the server printed %s", w.WatchURL)
	}
}

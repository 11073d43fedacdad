package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the lectern executable built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lectern-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "lectern")
	build := exec.Command("go", "build", "-race", "-o", binary, "lectern/cmd/lectern")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building lectern:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `lectern serve` process.
type server struct {
	URL  string
	Data string
	cmd  *exec.Cmd
	done chan error
}

// startServer runs `lectern serve` on a free loopback port with data in dir and waits until
// it answers /healthz. The process is stopped (SIGTERM, then SIGKILL) when the test ends.
func startServer(t *testing.T, dir string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--ice-loopback", "--ice-interfaces", "lo", "--log-level", "warn"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Stderr = testWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{Data: dir, cmd: cmd, done: make(chan error, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "lectern listening on "); ok {
				urlc <- u
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case s.URL = <-urlc:
	case err := <-s.done:
		t.Fatalf("server exited before listening: %v", err)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not start")
	}
	t.Cleanup(func() { s.stop(t) })
	waitHealthy(t, s.URL)
	return s
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", url)
}

// stop ends the server gracefully and checks it exits cleanly within its shutdown limit.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Error("server did not shut down within 20s of SIGTERM")
	}
}

// kill ends the server with SIGKILL, as a crash would.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// webinar is the JSON `lectern webinar create --json` prints.
type webinar struct {
	ID        string `json:"id"`
	StreamKey string `json:"stream_key"`
	WHIPURL   string `json:"whip_url"`
	WHEPURL   string `json:"whep_url"`
	WatchURL  string `json:"watch_url"`
	StudioURL string `json:"studio_url"`
}

func createWebinar(t *testing.T, dir, title string) webinar {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "webinar", "create", "--data", dir, "--title", title, "--json").Output()
	if err != nil {
		t.Fatalf("webinar create: %v", err)
	}
	var w webinar
	if err := json.Unmarshal(out, &w); err != nil {
		t.Fatalf("webinar create printed %q: %v", out, err)
	}
	if w.ID == "" || len(w.StreamKey) < 22 || w.WHIPURL == "" || w.WHEPURL == "" || w.WatchURL == "" {
		t.Fatalf("webinar create JSON incomplete: %s", out)
	}
	return w
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("server: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

func TestServeAndCreateWhileRunning(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	w := createWebinar(t, dir, "Created while the server runs")
	res, err := http.Get(s.URL + "/api/webinars/" + w.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var info struct {
		Title string `json:"title"`
		Live  bool   `json:"live"`
	}
	json.NewDecoder(res.Body).Decode(&info)
	if res.StatusCode != 200 || info.Title != "Created while the server runs" || info.Live {
		t.Fatalf("server does not see the new webinar: %d %+v", res.StatusCode, info)
	}
	out, err := exec.Command(binary, "webinar", "list", "--data", dir).Output()
	if err != nil || !strings.Contains(string(out), w.ID) {
		t.Fatalf("webinar list: %v %s", err, out)
	}
}

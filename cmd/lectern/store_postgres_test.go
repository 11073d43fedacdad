package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lectern/auth"
	"lectern/captions"
	"lectern/internal/pgtest"
	"lectern/models"
)

// With LECTERN_TEST_STORE=postgres this binary has a PostgreSQL server, and the tests that
// open a store (housekeeping, retention, the admin commands) run against it.
func TestMain(m *testing.M) { pgtest.Main(m, nil) }

// testDBs maps a test's data directory to its PostgreSQL database.
var testDBs sync.Map

// testStoreURL is the --store of a test's data directory: "" (its SQLite file), or under
// PostgreSQL a database of its own, the same each time dir is asked for.
func testStoreURL(t *testing.T, dir string) string {
	t.Helper()
	if !pgtest.Enabled() {
		return ""
	}
	u, ok := testDBs.Load(dir)
	if !ok {
		u, _ = testDBs.LoadOrStore(dir, pgtest.NewDatabase(t))
	}
	return u.(string)
}

// openTestStore opens the store of a test's data directory (see testStoreURL).
func openTestStore(t *testing.T, ctx context.Context, dir string) (*models.Store, error) {
	t.Helper()
	return models.OpenURL(ctx, testStoreURL(t, dir), dir)
}

// TestPostgresStoreCLIAndTwoNodes: `lectern webinar create --store postgres://... --json`
// works like --data; two servers on their own data directories and the same PostgreSQL both
// start (the data directory's lock does not stand in the way), serve the transcript stored
// through the shared store, and use the store's server secret instead of a file of their own:
// a participant's token from one node works on the other.
func TestPostgresStoreCLIAndTwoNodes(t *testing.T) {
	if !pgtest.Enabled() {
		t.Skip("needs " + pgtest.EnvStore + "=postgres")
	}
	url := pgtest.NewDatabase(t)
	out, err := runCLI(t, "", "webinar", "create", "--store", url, "--data", t.TempDir(), "--title", "Shared", "--json")
	if err != nil {
		t.Fatalf("webinar create: %v", err)
	}
	var w models.Webinar
	if err := json.Unmarshal([]byte(out), &w); err != nil || w.ID == "" {
		t.Fatalf("webinar create printed %q: %v", out, err)
	}
	t.Setenv("LECTERN_STORE", url) // the environment works like the flag
	if out, err := runCLI(t, "", "webinar", "list", "--data", t.TempDir()); err != nil || !strings.Contains(out, w.ID) {
		t.Fatalf("webinar list through LECTERN_STORE: %q %v", out, err)
	}
	saveFinal(t, url, w.ID, "the shared transcript")

	var bases []string
	for _, dir := range []string{t.TempDir(), t.TempDir()} {
		base := startServe(t, dir, url)
		body := get(t, base+"/api/webinars/"+w.ID+"/transcript.srt", "")
		if !strings.Contains(body, "the shared transcript") {
			t.Fatalf("node on %s: transcript %q", dir, body)
		}
		if _, err := os.Stat(filepath.Join(dir, auth.SecretFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("node on %s made its own secret file (%v): nodes would not share tokens", dir, err)
		}
		bases = append(bases, base)
	}
	// A participant's token from one node works on the other: they sign with the same secret.
	resp, err := http.Post(bases[0]+"/api/webinars/"+w.ID+"/join", "application/json", strings.NewReader(`{"name":"Ada"}`))
	if err != nil {
		t.Fatal(err)
	}
	var joined struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&joined)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || joined.Token == "" {
		t.Fatalf("join on node 1: %s %+v", resp.Status, joined)
	}
	get(t, bases[1]+"/api/webinars/"+w.ID+"/chat", joined.Token)
}

func saveFinal(t *testing.T, url, webinar, text string) {
	t.Helper()
	ctx := context.Background()
	store, err := models.OpenURL(ctx, url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	seg := models.Segment{Webinar: webinar, Session: "s1",
		Caption: captions.Caption{ID: "c1", Seq: 1, StartMS: 0, EndMS: 1500, Text: text, Lang: "en"}}
	if err := store.SaveSegment(ctx, seg); err != nil {
		t.Fatal(err)
	}
}

// startServe runs `lectern serve` on dir and store until the test ends and returns its URL.
func startServe(t *testing.T, dir, store string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--store", store, "--addr", "127.0.0.1:0",
			"--engine", "none", "--translators", "none", "--log-level", "warn"}, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve on %s: %v", dir, err)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if u := runningServerURL(dir); u != "" {
			return u
		}
		select {
		case err := <-done:
			t.Fatalf("serve on %s ended: %v", dir, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("serve on %s did not start within 60s", dir)
	return ""
}

// get fetches url (with a bearer token when not "") and wants 200.
func get(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	return string(b)
}

package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lectern/captions"
)

// openCaptions starts a caption stream and, when it is accepted, reads its first line.
func openCaptions(t *testing.T, ctx context.Context, client *http.Client, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	r := bufio.NewReader(res.Body)
	if res.StatusCode == http.StatusOK {
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
			t.Fatalf("first line %q, %v", line, err)
		}
	}
	return res, r
}

// TestCaptionStreamCapPerAddress: one address may hold DefaultStreamsPerAddr caption streams;
// the next gets a clear 429 JSON error, and closing one frees its slot.
func TestCaptionStreamCapPerAddress(t *testing.T) {
	ts := newTestServer(t)
	url := ts.URL + "/api/webinars/" + ts.webinar.ID + "/captions"
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var first context.CancelFunc
	for i := range DefaultStreamsPerAddr {
		sctx, scancel := context.WithCancel(ctx)
		if i == 0 {
			first = scancel
		} else {
			defer scancel()
		}
		if res, _ := openCaptions(t, sctx, client, url); res.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i+1, res.StatusCode)
		}
	}
	res, r := openCaptions(t, ctx, client, url)
	body, _ := io.ReadAll(r)
	var e apiError
	if res.StatusCode != http.StatusTooManyRequests || json.Unmarshal(body, &e) != nil ||
		!strings.Contains(e.Error, "caption streams") || res.Header.Get("Retry-After") == "" {
		t.Fatalf("stream %d: %d %s %v", DefaultStreamsPerAddr+1, res.StatusCode, body, res.Header)
	}

	first()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, _ := openCaptions(t, ctx, client, url)
		if res.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream's slot was never freed: %d", res.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCaptionStreamShutdown: BeginShutdown ends a caption stream with a shutdown event that
// asks the client to reconnect later, and the response then ends.
func TestCaptionStreamShutdown(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, r := openCaptions(t, ctx, http.DefaultClient, ts.URL+"/api/webinars/"+ts.webinar.ID+"/captions")
	ts.api.BeginShutdown()
	rest, err := io.ReadAll(r) // returns only when the server ends the response
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rest), "event: shutdown\nretry: ") || !strings.Contains(string(rest), `"reason":"server shutting down"`) {
		t.Fatalf("stream ended with %q", rest)
	}
	// A stream that starts after shutdown began ends at once, the same way.
	_, r = openCaptions(t, ctx, http.DefaultClient, ts.URL+"/api/webinars/"+ts.webinar.ID+"/captions")
	if rest, _ := io.ReadAll(r); !strings.Contains(string(rest), "event: shutdown") {
		t.Fatalf("late stream: %q", rest)
	}
}

// TestCaptionStreamOutlivesRequestTimeouts: the server's ReadTimeout and WriteTimeout bound
// requests, not caption streams; a stream still delivers captions after both have passed.
func TestCaptionStreamOutlivesRequestTimeouts(t *testing.T) {
	ts := newTestServer(t)
	srv := httptest.NewUnstartedServer(ts.api)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv.Start()
	defer srv.Close()
	room, err := ts.live.Room(context.Background(), ts.webinar)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, r := openCaptions(t, ctx, http.DefaultClient, srv.URL+"/api/webinars/"+ts.webinar.ID+"/captions")
	time.Sleep(time.Second)
	room.Hub().Publish(captions.Caption{ID: "late", Seq: room.Hub().NextSeq(), Final: true, Text: "Still here.", Lang: "en"})
	if got := readEvents(t, r, 1); got[0].data.Text != "Still here." {
		t.Fatalf("got %+v", got)
	}
}

package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/live"
	"lectern/models"
	"lectern/transcribe"
)

// gatedEngine is a speech engine whose warm-up finishes when the test says so.
type gatedEngine struct{ gate chan struct{} }

func (e gatedEngine) Name() string   { return "gated" }
func (e gatedEngine) Region() string { return "local" }
func (e gatedEngine) Warm(ctx context.Context, n int) error {
	select {
	case <-e.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (e gatedEngine) Transcribe(context.Context, []float32, transcribe.Options) (transcribe.Result, error) {
	return transcribe.Result{}, nil
}

type statusBody struct {
	Captions struct {
		Engine     string   `json:"engine"`
		Region     string   `json:"region"`
		Ready      bool     `json:"ready"`
		Workers    int      `json:"workers"`
		State      string   `json:"state"`
		LagSeconds *float64 `json:"lag_seconds"`
	} `json:"captions"`
}

func getStatus(t *testing.T, url string) statusBody {
	t.Helper()
	res, err := http.Get(url + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st statusBody
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d: %v", res.StatusCode, err)
	}
	return st
}

// /api/status says whether the speech engine is warm yet: the server answers at once at
// start-up and the engine loads in the background.
func TestStatusReportsCaptionReadiness(t *testing.T) {
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{Logger: quietLogger()}, reg)
	if err != nil {
		t.Fatal(err)
	}
	eng := gatedEngine{gate: make(chan struct{})}
	tc := transcribe.DefaultConfig()
	tc.Workers = 2
	pool, err := transcribe.NewPool(eng, tc, reg)
	if err != nil {
		t.Fatal(err)
	}
	lm := live.New(live.Config{Store: store, Broadcast: bc, Pool: pool, Transcribe: tc, Metrics: captions.NewMetrics(reg), Logger: quietLogger()})
	srv := httptest.NewServer(New(Deps{Store: store, Broadcast: bc, Live: lm, Gatherer: reg, Logger: quietLogger(), EngineName: "gated"}))
	t.Cleanup(func() { lm.Close(); srv.Close(); pool.Close(); bc.Close(); store.Close() })

	st := getStatus(t, srv.URL)
	if c := st.Captions; c.Ready || c.Engine != "gated" || c.Region != "local" || c.Workers != 2 || c.State != "ok" || c.LagSeconds == nil {
		t.Fatalf("before warming: %+v", c)
	}
	close(eng.gate)
	<-pool.Warmed()
	if c := getStatus(t, srv.URL).Captions; !c.Ready {
		t.Fatalf("after warming: %+v", c)
	}
}

// Without an engine, captions are reported off.
func TestStatusCaptionsOff(t *testing.T) {
	ts := newTestServer(t)
	if c := getStatus(t, ts.URL).Captions; c.Ready || c.State != "off" {
		t.Errorf("captions %+v", c)
	}
}

// A caption reader gets the room's status as an SSE event of its own type.
func TestCaptionStreamCarriesStatus(t *testing.T) {
	ts := newTestServer(t)
	res, err := http.Get(ts.URL + "/api/webinars/" + ts.webinar.ID + "/captions")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r, err := ts.live.Room(context.Background(), ts.webinar)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	<-lines // "retry: 2000": the stream is subscribed
	r.Hub().PublishStatus(captions.Status{State: "delayed", LagMS: 4200})
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < 2 {
		select {
		case l := <-lines:
			if l != "" {
				got = append(got, l)
			}
		case <-timeout:
			t.Fatalf("got %q", got)
		}
	}
	if want := "event: status|data: {\"state\":\"delayed\",\"lag_ms\":4200}"; strings.Join(got, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(got, "|"), want)
	}
}

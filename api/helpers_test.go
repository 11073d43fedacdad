package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/live"
	"lectern/models"
)

// testServer is a full API over a real SQLite file and a real broadcast server.
type testServer struct {
	*httptest.Server
	store   *models.Store
	api     *Server
	bc      *broadcast.Server
	live    *live.Manager
	webinar models.Webinar
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{IncludeLoopback: true, Interfaces: []string{"lo"}, Logger: quietLogger()}, reg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "Test class"})
	if err != nil {
		t.Fatal(err)
	}
	lm := live.New(live.Config{Store: store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: quietLogger()})
	api := New(Deps{Store: store, Broadcast: bc, Live: lm, Gatherer: reg, Logger: quietLogger()})
	srv := httptest.NewServer(api)
	ts := &testServer{Server: srv, api: api, store: store, bc: bc, live: lm, webinar: w}
	t.Cleanup(func() {
		lm.Close()
		srv.Close()
		bc.Close()
		store.Close()
	})
	return ts
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// do sends a request with an optional bearer token and content type and returns the response
// with its body read.
func (ts *testServer) do(t *testing.T, method, path, contentType, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

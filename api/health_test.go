//go:build linux

package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/internal/tinyfs"
	"lectern/live"
	"lectern/models"
)

// TestFullDiskDegradedHealth: when the database cannot write (a real full filesystem),
// /healthz stays 200 but says degraded, /api/status says why and the write errors are
// counted; the first write after space returns clears it (issue 8, item 15).
func TestFullDiskDegradedHealth(t *testing.T) {
	dir := tinyfs.Mount(t, 4<<20)
	ctx := context.Background()
	store, err := models.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(store.Collector())
	bc, err := broadcast.New(broadcast.Config{Logger: quietLogger()}, reg)
	if err != nil {
		t.Fatal(err)
	}
	lm := live.New(live.Config{Store: store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: quietLogger()})
	srv := httptest.NewServer(New(Deps{Store: store, Broadcast: bc, Live: lm, Gatherer: reg, Logger: quietLogger(),
		Secret: []byte("0123456789abcdef0123456789abcdef"), Argon2: cheapArgon2}))
	ts := &testServer{Server: srv, store: store}
	t.Cleanup(func() { lm.Close(); srv.Close(); bc.Close(); store.Close() })

	if res, body := ts.do(t, "GET", "/healthz", "", "", ""); res.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("healthz before: %d %q", res.StatusCode, body)
	}
	if _, err := store.CreateUser(ctx, models.NewUser{Email: "ada@example.com", PasswordHash: passwordHash(t)}); err != nil {
		t.Fatal(err)
	}
	free := tinyfs.Fill(t, dir)
	if err := store.Audit(ctx, models.AuditEvent{Action: "test.write", Detail: json.RawMessage(`{"pad":"` + strings.Repeat("x", 8192) + `"}`)}); !errors.Is(err, models.ErrStorage) {
		t.Fatalf("a write on a full disk: err = %v, want ErrStorage", err)
	}
	// A request that must write answers 503 with Retry-After, not a 500.
	res, body := ts.do(t, "POST", "/api/login", "application/json", "", `{"email":"ada@example.com","password":"`+testPassword+`"}`)
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("sign-in on a full disk: %d %s, want 503 with Retry-After", res.StatusCode, body)
	}
	res, body = ts.do(t, "GET", "/healthz", "", "", "")
	if res.StatusCode != 200 || !strings.HasPrefix(body, "degraded: storage") {
		t.Fatalf("healthz on a full disk: %d %q, want 200 degraded: storage ...", res.StatusCode, body)
	}
	var st struct {
		Storage models.StorageHealth `json:"storage"`
	}
	_, body = ts.do(t, "GET", "/api/status", "", "", "")
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Storage.OK || st.Storage.Error == "" || st.Storage.WriteErrors == 0 {
		t.Fatalf("status on a full disk: %s (%v)", body, err)
	}
	if _, body := ts.do(t, "GET", "/metrics", "", "", ""); strings.Contains(body, "lectern_store_write_errors_total 0") ||
		!strings.Contains(body, "lectern_store_degraded 1") {
		t.Fatalf("metrics on a full disk lack the write error:\n%s", grepLines(body, "lectern_store_"))
	}

	free()
	if err := store.Audit(ctx, models.AuditEvent{Action: "test.write"}); err != nil {
		t.Fatal(err)
	}
	if _, body := ts.do(t, "GET", "/healthz", "", "", ""); body != "ok\n" {
		t.Fatalf("healthz after space returned: %q", body)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

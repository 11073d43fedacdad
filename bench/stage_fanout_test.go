package bench

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"
)

// A stage of three publishers (the stream key and two panelists, each in its own slot) and a
// few viewers offering the watch page's slot m-lines: every viewer hears all three voices and
// gets every publisher's packets, counted per publisher so the loss figure stays right.
func TestStageFanoutAgainstShim(t *testing.T) {
	s, h, err := newShimServer()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	srv := ts.URL
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	cfg := FanoutConfig{URL: srv, Room: "stage", StreamKey: "secret", Viewers: 4, Duration: 2 * time.Second, VideoKbps: 500,
		Publishers: 3, PanelistTokens: []string{"panelist-ann", "panelist-bob"}, PanelistVideoKbps: 200}
	if _, err := Fanout(ctx, FanoutConfig{URL: srv, Room: "stage", StreamKey: "secret", Viewers: 1, Duration: time.Second, Publishers: 3}); err == nil {
		t.Error("3 publishers without panelist tokens: no error")
	}
	rep, err := Fanout(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if rep.Connected != 4 || len(rep.PerPublisher) != 3 {
		t.Fatalf("connected %d, %d publishers reported, want 4 and 3", rep.Connected, len(rep.PerPublisher))
	}
	for i, p := range rep.PerPublisher {
		if p.ViewersWithAudio != 4 {
			t.Errorf("publisher %d's audio reached %d of 4 viewers", i+1, p.ViewersWithAudio)
		}
		if p.Sent == 0 || p.Delivered < 4*p.Sent*95/100 {
			t.Errorf("publisher %d: sent %d, delivered %d to 4 viewers", i+1, p.Sent, p.Delivered)
		}
	}
	if rep.Expected != 4*rep.Sent || rep.LossPercent > 2 {
		t.Errorf("expected %d (sent %d × 4), loss %.2f %%", rep.Expected, rep.Sent, rep.LossPercent)
	}
	waitUntil(t, 10*time.Second, func() bool { return s.Viewers("stage") == 0 && !s.Live("stage") })
}

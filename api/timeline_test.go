package api

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// The JSON transcript says where each presenter session starts on the webinar's timeline.
func TestTranscriptJSONListsSessions(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	for _, s := range []struct {
		id string
		at time.Time
	}{{"first", t0}, {"again", t0.Add(42 * time.Second)}} {
		if _, err := ts.store.StartSession(ctx, ts.webinar.ID, s.id, s.at); err != nil {
			t.Fatal(err)
		}
	}
	ts.storeFinals(t, "Good morning, class.")
	res, body := ts.do(t, "GET", "/api/webinars/"+ts.webinar.ID+"/transcript.json", "", "", "")
	var doc struct {
		Sessions []struct {
			ID      string `json:"id"`
			StartMS int64  `json:"start_ms"`
		} `json:"sessions"`
		Captions []struct {
			Text string `json:"text"`
		} `json:"captions"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &doc) != nil {
		t.Fatalf("json: %d %s", res.StatusCode, body)
	}
	if len(doc.Sessions) != 2 || doc.Sessions[0].ID != "first" || doc.Sessions[0].StartMS != 0 ||
		doc.Sessions[1].ID != "again" || doc.Sessions[1].StartMS != 42000 || len(doc.Captions) != 1 {
		t.Fatalf("transcript %s", body)
	}
}

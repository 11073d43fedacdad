package captions

import (
	"encoding/json"
	"testing"
)

func TestEncodeStatus(t *testing.T) {
	f := EncodeStatus(Status{State: "delayed", LagMS: 4200})
	want := "event: status\ndata: {\"state\":\"delayed\",\"lag_ms\":4200}\n\n"
	if string(f.SSE) != want {
		t.Errorf("SSE\n got %q\nwant %q", f.SSE, want)
	}
	var st Status
	if err := json.Unmarshal(f.JSON, &st); err != nil || st.State != "delayed" || st.LagMS != 4200 {
		t.Errorf("JSON %s: %+v %v", f.JSON, st, err)
	}
	if f.Seq != 0 || f.Final {
		t.Errorf("a status frame must not look like a final: %+v", f)
	}
}

// A status reaches readers of every language; a viewer who joins while captions are behind
// learns it at once (also when resuming), and not once they are ok again.
func TestPublishStatus(t *testing.T) {
	h := NewHub(HubConfig{})
	en, es := h.Subscribe("en"), h.Subscribe("es")
	defer en.Close()
	defer es.Close()
	h.PublishStatus(Status{State: "paused", LagMS: 3000})
	for _, s := range []*Subscriber{en, es} {
		if f := <-s.Frames(); string(f.JSON) != `{"state":"paused","lag_ms":3000}` {
			t.Errorf("%s got %s", s.Lang(), f.JSON)
		}
	}
	late := h.Subscribe("en")
	if f := <-late.Frames(); string(f.JSON) != `{"state":"paused","lag_ms":3000}` {
		t.Errorf("a late subscriber got %s", f.JSON)
	}
	late.Close()
	resumed, _, err := h.Resume("en", 5, func(string, int64) ([]Caption, error) {
		return []Caption{{ID: "a", Seq: 6, Final: true, Lang: "en"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if f := <-resumed.Frames(); string(f.JSON) != `{"state":"paused","lag_ms":3000}` {
		t.Errorf("a resumed subscriber got %s", f.JSON)
	}
	resumed.Close()
	h.PublishStatus(Status{State: "ok"})
	<-en.Frames()
	fresh := h.Subscribe("en")
	defer fresh.Close()
	select {
	case f := <-fresh.Frames():
		t.Errorf("a subscriber joining while ok got %s", f.JSON)
	default:
	}
	h.Close()
	h.PublishStatus(Status{State: "delayed"}) // no panic after Close
}

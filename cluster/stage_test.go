package cluster

import (
	"testing"
	"time"
)

// A stage end sent on B reaches C (and not B itself); a malformed one is refused.
func TestStageEndRelayed(t *testing.T) {
	ts := startTestServer(t)
	b, c := openNode(t, ts, "b"), openNode(t, ts, "c")
	got := make(chan StageEnd, 4)
	for _, n := range []*Bus{b, c} {
		if err := n.OnStageEnd(func(e StageEnd) { got <- e }); err != nil {
			t.Fatal(err)
		}
	}
	// Subscriptions in place before publishing; a command without a key is refused.
	_ = b.nc.Flush()
	_ = c.nc.Flush()
	_ = b.nc.Publish(subjStageEnd, []byte(`{"webinar":"w"}`))
	want := StageEnd{Webinar: "w", Key: "member:u1", Member: "u1", Participant: "u.u1"}
	b.EndStage(want)
	select {
	case e := <-got:
		if e != want {
			t.Fatalf("got %+v, want %+v", e, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stage end did not reach the other node")
	}
	select {
	case e := <-got:
		t.Fatalf("a second delivery %+v (own echo or the malformed command)", e)
	case <-time.After(300 * time.Millisecond):
	}
}

package cluster

import (
	"encoding/json"
	"testing"
	"time"
)

// A stage command sent on B reaches C (and not B itself); malformed ones are refused.
func TestStageCommandRelayed(t *testing.T) {
	ts := startTestServer(t)
	b, c := openNode(t, ts, "b"), openNode(t, ts, "c")
	got := make(chan StageCommand, 4)
	for _, n := range []*Bus{b, c} {
		if err := n.OnStage(func(e StageCommand) { got <- e }); err != nil {
			t.Fatal(err)
		}
	}
	// Subscriptions in place before publishing; commands without a key or op are refused.
	_ = b.nc.Flush()
	_ = c.nc.Flush()
	_ = b.nc.Publish(subjStage, []byte(`{"op":"end","webinar":"w"}`))
	_ = b.nc.Publish(subjStage, []byte(`{"op":"explode","webinar":"w","key":"k"}`))
	want := StageCommand{Op: StageMute, Webinar: "w", Key: "member:u1", Member: "u1", Participant: "u.u1", Audio: "muted"}
	b.SendStage(want)
	select {
	case e := <-got:
		if e != want {
			t.Fatalf("got %+v, want %+v", e, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stage command did not reach the other node")
	}
	select {
	case e := <-got:
		t.Fatalf("a second delivery %+v (own echo or a malformed command)", e)
	case <-time.After(300 * time.Millisecond):
	}
}

// Commands from the network are acted on only when whole: a known op, a webinar, and a
// session key where the op needs one.
func FuzzStageCommand(f *testing.F) {
	f.Add([]byte(`{"op":"mute","webinar":"w","key":"k","audio":"muted"}`))
	f.Add([]byte(`{"op":"spotlight","webinar":"w"}`))
	f.Add([]byte(`{"op":"end","webinar":"w"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c StageCommand
		if json.Unmarshal(data, &c) != nil || !c.valid() {
			return
		}
		if c.Webinar == "" || c.Op != StageSpotlight && c.Key == "" ||
			c.Op != StageEnd && c.Op != StageMute && c.Op != StageSpotlight {
			t.Fatalf("accepted %+v", c)
		}
	})
}

package broadcast

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"
)

// An edge's pull carries the origin's whole stage: a viewer of the edge with slot m-lines
// (the watch page's offer) hears every publisher on its own slot, byte-identical, and sees
// the others' cameras on theirs; a plain viewer of the edge gets the origin's active speaker.
func TestRelayCarriesTheStage(t *testing.T) {
	origin, edge := newTestServer(t, Config{}), newTestServer(t, Config{})
	var pubs []*stagePub
	for i, key := range []string{"a", "b", "c"} {
		p, err := newStagePub(t, origin, "r", key, byte(0xa0+i))
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	stop := make(chan struct{})
	// a is by far the loudest: the active speaker on the origin, and so on the edge.
	wg := pump(t, pubs, func(i int) uint8 { return uint8(10 + 30*i) }, stop)
	defer wg.Wait()
	defer close(stop)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pull, err := edge.Relay(ctx, "r", func(ctx context.Context, offer string) (string, error) {
		s, err := origin.Subscribe(ctx, "r", offer)
		return s.Answer, err
	})
	if err != nil {
		t.Fatal(err)
	}
	slots := newStageViewer(t, edge, "r", MaxStage, 2+MaxStage)
	plain := newStageViewer(t, edge, "r", 1, 1)

	waitFor(t, 15*time.Second, "every voice on its slot and the others' cameras at the edge", func() bool {
		c := slots.counts()
		for k := range pubs {
			if c[fmt.Sprintf("audio-slot%d", k)][byte(0xa0+k)] < 50 {
				return false
			}
		}
		return c["camera-slot1"][0xa1] >= 10 && c["camera-slot2"][0xa2] >= 10 && c["camera"][0xa0] >= 10
	})
	waitFor(t, 15*time.Second, "the active speaker for the edge's plain viewer", func() bool {
		c := plain.counts()
		return c["audio"][0xa0] >= 50 && c["camera"][0xa0] >= 10
	})
	for _, g := range slots.received() {
		if g.video {
			if g.track == "camera-slot0" {
				t.Fatalf("the active speaker's camera came twice: on the main m-line and its slot")
			}
			continue
		}
		slot := int(g.track[len(g.track)-1] - '0')
		if g.publisher != byte(0xa0+slot) {
			t.Fatalf("slot %d carried publisher %#x's audio", slot, g.publisher)
		}
		if want := pubs[slot].log.get(false, binary.BigEndian.Uint32(g.payload[4:8])); string(want) != string(g.payload) {
			t.Fatalf("slot %d: payload differs from what publisher %d sent", slot, slot)
		}
	}
	for _, g := range plain.received() {
		if !g.video && g.publisher != 0xa0 {
			t.Fatalf("the edge's plain viewer heard publisher %#x, not the active speaker", g.publisher)
		}
	}
	select {
	case <-pull.Done:
		t.Fatal("the pull ended")
	default:
	}
}

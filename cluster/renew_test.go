package cluster

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// A renewal whose answer was lost (it timed out while NATS was slow, yet was written) leaves
// the entry at a revision the holder does not know: the holder keeps its webinar, and another
// node still cannot claim it.
func TestRenewAfterUnseenOwnWrite(t *testing.T) {
	ts := startTestServer(t)
	a, b := openNode(t, ts, "a"), openNode(t, ts, "b")
	ctx := context.Background()
	if _, mine, err := a.ClaimOrigin(ctx, "w6"); err != nil || !mine {
		t.Fatalf("a's claim: mine=%v %v", mine, err)
	}
	val, _ := json.Marshal(a.cfg.Self)
	if _, err := a.origins.Put(ctx, "w6", val); err != nil { // the write whose answer a never got
		t.Fatal(err)
	}
	for range 3 {
		time.Sleep(testLease)
		if !a.Originates("w6") {
			t.Fatal("a gave up its own origin entry after a renewal it did not see")
		}
		if o, mine, err := b.ClaimOrigin(ctx, "w6"); err != nil || mine || o.ID != "a" {
			t.Fatalf("b's claim while a holds: %+v mine=%v %v", o, mine, err)
		}
	}
}

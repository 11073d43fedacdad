package whisper

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBalancer(t *testing.T) {
	b := newBalancer([]string{"a", "b"}, 1)
	ctx := context.Background()
	none := map[*endpoint]bool{}
	a, _ := b.acquire(ctx, none)
	c, _ := b.acquire(ctx, none)
	if a == c {
		t.Fatalf("both requests on %s while the other URL is idle", a.url)
	}

	// Both busy: a third request waits for a slot.
	got := make(chan *endpoint)
	go func() {
		ep, _ := b.acquire(ctx, none)
		got <- ep
	}()
	select {
	case ep := <-got:
		t.Fatalf("acquired %s while every URL was busy", ep.url)
	case <-time.After(20 * time.Millisecond):
	}
	b.release(a, false)
	if ep := <-got; ep != a {
		t.Errorf("waiter got %s, want the freed %s", ep.url, a.url)
	}
	b.release(a, false)

	// A failed URL cools down: the healthy one is preferred, even if busier would tie.
	b.release(c, true)
	for range 3 {
		ep, _ := b.acquire(ctx, none)
		if ep != a {
			t.Errorf("picked cooling %s over healthy %s", ep.url, a.url)
		}
		b.release(ep, false)
	}
	// With the healthy URL tried, the cooling one is still used rather than failing.
	if ep, err := b.acquire(ctx, map[*endpoint]bool{a: true}); err != nil || ep != c {
		t.Errorf("acquire excluding %s: %v, %v", a.url, ep, err)
	} else {
		b.release(ep, false)
	}
	if _, err := b.acquire(ctx, map[*endpoint]bool{a: true, c: true}); !errors.Is(err, errAllTried) {
		t.Errorf("all tried: err %v", err)
	}

	// A waiting request gives up with its context.
	x, _ := b.acquire(ctx, none)
	y, _ := b.acquire(ctx, none)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.acquire(cctx, none); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
	b.release(x, false)
	b.release(y, false)
}

package models

import (
	"context"
	"errors"
	"testing"
)

// An event reaches the account-wide endpoints and the webinar's own that subscribed to it,
// never another webinar's; deleting the webinar deletes its endpoints.
func TestWebhookTargets(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	w1, _ := s.CreateWebinar(ctx, NewWebinar{Title: "One"})
	w2, _ := s.CreateWebinar(ctx, NewWebinar{Title: "Two"})
	mk := func(webinar string, events ...string) Webhook {
		h, err := s.CreateWebhook(ctx, Webhook{WebinarID: webinar, URL: "https://h.example/" + webinar, Secret: "s", Events: events, Format: "json"})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	acct := mk("", "webinar.ended", "webinar.started")
	own := mk(w1.ID, "webinar.ended")
	mk(w1.ID, "participant.joined")
	mk(w2.ID, "webinar.ended")
	got, err := s.WebhookTargets(ctx, w1.ID, "webinar.ended")
	if err != nil {
		t.Fatal(err)
	}
	// Created within one millisecond, the two may come in either order (ties go by random id).
	if len(got) == 2 && got[0].ID == own.ID {
		got[0], got[1] = got[1], got[0]
	}
	if len(got) != 2 || got[0].ID != acct.ID || got[1].ID != own.ID || got[1].Secret != "s" {
		t.Fatalf("targets %+v, want the account's and w1's webinar.ended endpoints", got)
	}
	if hs, _ := s.Webhooks(ctx, w1.ID, false); len(hs) != 2 {
		t.Fatalf("w1 has %d endpoints, want 2", len(hs))
	}
	if hs, _ := s.Webhooks(ctx, "", false); len(hs) != 1 || hs[0].WebinarID != "" {
		t.Fatalf("account-wide %+v", hs)
	}
	if err := s.DeleteWebinar(ctx, w1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhook(ctx, own.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("endpoint of a deleted webinar: %v", err)
	}
	if hs, _ := s.Webhooks(ctx, "", true); len(hs) != 2 {
		t.Fatalf("%d endpoints left, want 2", len(hs))
	}
}

// The delivery log keeps the newest webhookLogKeep attempts per endpoint and goes with it.
func TestWebhookDeliveryLogTrimmed(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	h, err := s.CreateWebhook(ctx, Webhook{URL: "https://h.example/", Secret: "s", Events: []string{"webinar.ended"}, Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range webhookLogKeep + 10 {
		if err := s.AddWebhookDelivery(ctx, WebhookDelivery{WebhookID: h.ID, EventID: "evt", EventType: "webinar.ended", Attempt: i + 1, Status: 500}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.WebhookDeliveries(ctx, h.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != webhookLogKeep || ds[0].Attempt != webhookLogKeep+10 || ds[len(ds)-1].Attempt != 11 {
		t.Fatalf("%d kept, newest %d, oldest %d", len(ds), ds[0].Attempt, ds[len(ds)-1].Attempt)
	}
	if err := s.DeleteWebhook(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, h.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.AddWebhookDelivery(ctx, WebhookDelivery{WebhookID: h.ID, EventID: "late", Attempt: 1}); err != nil {
		t.Fatalf("an attempt finishing after its endpoint was deleted: %v", err)
	}
	if ds, _ := s.WebhookDeliveries(ctx, h.ID, 10); len(ds) != 0 {
		t.Fatalf("log of a deleted endpoint: %d rows", len(ds))
	}
}

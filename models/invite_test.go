package models

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRedeemInviteOnce: of many concurrent redemptions of one invite exactly one sets the
// password; an expired or replaced invite sets nothing.
func TestRedeemInviteOnce(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "invited@example.org")
	now := time.Now().UTC().Truncate(time.Second)
	if err := s.AddInvite(ctx, "h1", Invite{UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.RedeemInvite(ctx, "h1", "hash-"+string(rune('a'+i)), now)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, ErrNotFound):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d redemptions succeeded, want 1", ok.Load())
	}
	if _, _, err := s.OpenInvite(ctx, "h1", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("a spent invite opens: %v", err)
	}

	// Expiry is exclusive: at ExpiresAt the invite is dead.
	if err := s.AddInvite(ctx, "h2", Invite{UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RedeemInvite(ctx, "h2", "late", now.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired invite redeemed: %v", err)
	}
	// A newer invite replaces the older.
	if err := s.AddInvite(ctx, "h3", Invite{UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.OpenInvite(ctx, "h2", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("a replaced invite opens: %v", err)
	}
	got, _ := s.User(ctx, u.ID)
	if got.PasswordHash == "late" || got.PasswordHash == "$argon2id$x" {
		t.Errorf("password hash %q", got.PasswordHash)
	}
	if _, usr, err := s.OpenInvite(ctx, "h3", now); err != nil || usr.ID != u.ID {
		t.Errorf("newest invite: %v %v", usr, err)
	}
}

// TestLastAdminGuards: the guarded changes keep one enabled admin; the plain ones (the CLI's)
// do not ask.
func TestLastAdminGuards(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	a := mustUser(t, s, "a@example.org")
	b := mustUser(t, s, "b@example.org")
	if err := s.SetUserAdmin(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserAdminKeepingOne(ctx, a.ID, false); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("unmade the last admin: %v", err)
	}
	if err := s.DisableUserKeepingAdmin(ctx, a.ID, "x"); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("disabled the last admin: %v", err)
	}
	if err := s.DisableUserKeepingAdmin(ctx, b.ID, "left"); err != nil {
		t.Errorf("disabling a non-admin: %v", err)
	}
	if err := s.SetUserAdminKeepingOne(ctx, "nosuch", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing account: %v", err)
	}
	if err := s.SetUserAdminKeepingOne(ctx, b.ID, true); err != nil {
		t.Fatal(err)
	}
	// b is an admin but disabled: a is still the last enabled one.
	if err := s.SetUserAdminKeepingOne(ctx, a.ID, false); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("a disabled admin counted: %v", err)
	}
	if err := s.SetUserDisabled(ctx, b.ID, false, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableUserKeepingAdmin(ctx, a.ID, "x"); err != nil {
		t.Errorf("with two enabled admins: %v", err)
	}
}

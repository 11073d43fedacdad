package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"lectern/models"
)

func TestAccountOperations(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	if _, err := CreateAccount(ctx, store, NewAccount{Email: "a@example.org", Password: "password123"}, "", ""); !errors.Is(err, ErrPasswordCommon) {
		t.Errorf("common password: %v", err)
	}
	u, err := CreateAccount(ctx, store, NewAccount{Email: "A@example.org", Name: "Ada", Password: goodPassword, Admin: true}, "", "")
	if err != nil || !u.Admin || u.Email != "a@example.org" || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("CreateAccount = %+v, %v", u, err)
	}
	if ok, _ := VerifyPassword(goodPassword, u.PasswordHash); !ok {
		t.Error("stored hash does not verify")
	}
	if _, err := CreateAccount(ctx, store, NewAccount{Email: "a@example.org", Password: goodPassword}, "", ""); !errors.Is(err, models.ErrConflict) {
		t.Errorf("duplicate: %v", err)
	}

	sessions := NewSessions(store)
	keep, keepSess, _ := sessions.Create(ctx, u.ID, false, "", "")
	other, _, _ := sessions.Create(ctx, u.ID, false, "", "")
	if err := ChangePassword(ctx, store, u, "short", keepSess.IDHash, ""); !errors.Is(err, ErrPasswordTooShort) {
		t.Errorf("short new password: %v", err)
	}
	if err := ChangePassword(ctx, store, u, "a completely new passphrase", keepSess.IDHash, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sessions.Lookup(ctx, keep); err != nil {
		t.Errorf("the changing session was signed out: %v", err)
	}
	if _, _, err := sessions.Lookup(ctx, other); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("other session survived a password change: %v", err)
	}

	tok, plain, err := IssueAPIToken(ctx, store, u.ID, "ci", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := APIUser(ctx, store, plain, nil); err != nil {
		t.Errorf("new token: %v", err)
	}
	if err := RevokeAPIToken(ctx, store, u.ID, tok.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := APIUser(ctx, store, plain, nil); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("revoked token: %v", err)
	}
	if err := SetDisabled(ctx, store, "admin-1", u.ID, true, "left", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sessions.Lookup(ctx, keep); err == nil {
		t.Error("disabled account's session still works")
	}
	for _, ev := range []string{EventUserCreated, EventPasswordChanged, EventTokenCreated, EventTokenRevoked, EventAccountDisabled} {
		if got, _ := store.AuditEvents(ctx, models.AuditFilter{Action: ev}); len(got) != 1 {
			t.Errorf("%s audited %d times", ev, len(got))
		}
	}
	all, _ := store.AuditEvents(ctx, models.AuditFilter{Limit: 1000})
	for _, e := range all {
		if strings.Contains(string(e.Detail), plain) || strings.Contains(string(e.Detail), goodPassword) {
			t.Errorf("secret in audit detail: %s", e.Detail)
		}
	}
}

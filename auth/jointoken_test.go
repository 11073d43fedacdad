package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"lectern/models"
)

func TestJoinTokenVerify(t *testing.T) {
	clk := newFakeClock()
	j := NewJoinTokens(testSecret)
	j.Clock = clk.Now
	claims := JoinClaims{Webinar: "w1", Role: models.RoleAttendee, Registration: "r1", Expires: clk.Now().Add(time.Hour).Unix()}
	tok, err := j.Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	got, err := j.Verify(tok)
	if len(got.ID) != 16 {
		t.Errorf("token id %q", got.ID)
	}
	claims.ID = got.ID
	if err != nil || got != claims {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	other := NewJoinTokens([]byte("a different server secret......."))
	other.Clock = clk.Now
	forged, _ := other.Issue(claims)

	// Tamper with the claims: make the role "host" and keep the old signature.
	parts := strings.Split(tok, ".")
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	hostBody := strings.Replace(string(body), `"attendee"`, `"host"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(hostBody)) + "." + parts[2]

	for name, bad := range map[string]string{
		"empty":            "",
		"other key":        forged,
		"tampered role":    tampered,
		"truncated sig":    tok[:len(tok)-1],
		"extra sig char":   tok + "A",
		"no prefix":        strings.TrimPrefix(tok, joinPrefix),
		"wrong version":    "j2." + strings.TrimPrefix(tok, joinPrefix),
		"no signature":     parts[0] + "." + parts[1],
		"empty signature":  parts[0] + "." + parts[1] + ".",
		"too long":         tok + strings.Repeat("A", MaxJoinTokenLen),
		"padded signature": tok + "=",
	} {
		if _, err := j.Verify(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, want ErrInvalidToken", name, err)
		}
	}
	clk.Add(time.Hour)
	if _, err := j.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired token: %v", err)
	}
}

func TestJoinTokenIssueRefuses(t *testing.T) {
	j := NewJoinTokens(testSecret)
	future := time.Now().Add(time.Hour).Unix()
	for name, c := range map[string]JoinClaims{
		"no webinar":  {Role: models.RoleAttendee, Expires: future},
		"bad role":    {Webinar: "w", Role: "admin", Expires: future},
		"past expiry": {Webinar: "w", Role: models.RoleAttendee, Expires: time.Now().Add(-time.Second).Unix()},
		"huge claims": {Webinar: strings.Repeat("w", 2000), Role: models.RoleAttendee, Expires: future},
	} {
		if _, err := j.Issue(c); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
}

func TestJoinTokenRevocation(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "Private class"})
	if err != nil {
		t.Fatal(err)
	}
	w2, _ := store.CreateWebinar(ctx, models.NewWebinar{Title: "Other"})
	reg, err := store.CreateRegistration(ctx, models.NewRegistration{WebinarID: w.ID, Name: "Grace", Email: "grace@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	j := NewJoinTokens(testSecret)
	tok, err := j.IssueForRegistration(ctx, store, reg, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := j.VerifyActive(ctx, store, tok, w.ID, false)
	if err != nil || c.Registration != reg.ID || c.Role != models.RoleAttendee {
		t.Fatalf("VerifyActive = %+v, %v", c, err)
	}
	if _, err := j.VerifyActive(ctx, store, tok, w2.ID, false); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token used for another webinar: %v", err)
	}
	// A token without a registration is only good where the caller allows it.
	bare, _ := j.Issue(JoinClaims{Webinar: w.ID, Role: models.RoleAttendee, Expires: time.Now().Add(time.Hour).Unix()})
	if _, err := j.VerifyActive(ctx, store, bare, w.ID, false); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("unregistered token accepted: %v", err)
	}
	if _, err := j.VerifyActive(ctx, store, bare, w.ID, true); err != nil {
		t.Errorf("unregistered token refused where allowed: %v", err)
	}
	// A validly signed token naming an unknown registration is refused.
	ghost, _ := j.Issue(JoinClaims{Webinar: w.ID, Role: models.RoleAttendee, Registration: "ghost", Expires: time.Now().Add(time.Hour).Unix()})
	if _, err := j.VerifyActive(ctx, store, ghost, w.ID, true); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of an unknown registration: %v", err)
	}
	// A signed token for the registration with a role it was not given (say, leaked signing
	// of an old token) is refused: the store holds the one current token.
	panel, _ := j.Issue(JoinClaims{Webinar: w.ID, Role: models.RolePanelist, Registration: reg.ID, Expires: time.Now().Add(time.Hour).Unix()})
	if _, err := j.VerifyActive(ctx, store, panel, w.ID, false); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token with an upgraded role: %v", err)
	}
	// Reissuing replaces the old token.
	tok2, err := j.IssueForRegistration(ctx, store, reg, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.VerifyActive(ctx, store, tok, w.ID, false); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("replaced token still works: %v", err)
	}
	if _, err := j.VerifyActive(ctx, store, tok2, w.ID, false); err != nil {
		t.Fatalf("new token: %v", err)
	}
	// Revoking the registration stops its token.
	if err := store.RevokeRegistration(ctx, w.ID, reg.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := j.VerifyActive(ctx, store, tok2, w.ID, false); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("revoked token still works: %v", err)
	}
}

// FuzzJoinTokenVerify: join tokens come from URLs. Verify must never panic, and anything it
// accepts must be a token this key signed: re-issuing its claims gives the same string.
func FuzzJoinTokenVerify(f *testing.F) {
	j := NewJoinTokens(testSecret)
	j.Clock = func() time.Time { return time.Unix(1_800_000_000, 0) }
	good, _ := j.Issue(JoinClaims{Webinar: "w1", Role: models.RoleAttendee, Registration: "r1", Expires: 1_900_000_000})
	for _, s := range []string{good, "", "j1.", "j1..", "j1.e30.", good + "=", strings.Replace(good, "j1.", "j1.A", 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := j.Verify(s)
		if err != nil {
			return
		}
		again, err := j.Issue(c)
		if err != nil {
			t.Fatalf("accepted claims %+v cannot be reissued: %v", c, err)
		}
		if again != s {
			t.Fatalf("accepted %q, which is not what Issue makes (%q)", s, again)
		}
	})
}

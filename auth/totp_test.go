package auth

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"lectern/models"
)

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTwoFactor(t *testing.T) (*TwoFactor, *models.Store, *fakeClock, models.User) {
	store := openStore(t)
	clk := newFakeClock()
	tf, err := NewTwoFactor(store, testSecret, "Lectern test")
	if err != nil {
		t.Fatal(err)
	}
	tf.Clock = clk.Now
	return tf, store, clk, mustUser(t, store, "ada@example.org")
}

// enrol runs Begin and Confirm and returns the secret and recovery codes.
func enrol(t *testing.T, tf *TwoFactor, clk *fakeClock, u models.User) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e, err := tf.Begin(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := tf.Confirm(ctx, u.ID, codeAt(t, e.Secret, clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret, codes
}

func TestTOTPEnrolment(t *testing.T) {
	tf, store, clk, u := newTwoFactor(t)
	ctx := context.Background()
	e, err := tf.Begin(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(e.URL)
	if err != nil || pu.Scheme != "otpauth" || pu.Host != "totp" || pu.Query().Get("secret") != e.Secret || pu.Query().Get("issuer") != "Lectern test" {
		t.Errorf("otpauth URL %q", e.URL)
	}
	if img, err := png.Decode(bytes.NewReader(e.QRPNG)); err != nil || img.Bounds().Dx() != 256 {
		t.Errorf("QR PNG: %v", err)
	}
	if !strings.HasPrefix(e.QRDataURL, "data:image/png;base64,") {
		t.Errorf("data URL %.40q", e.QRDataURL)
	}
	stored, _ := store.User(ctx, u.ID)
	if stored.TOTPEnabled || stored.TOTPSecret == "" || strings.Contains(stored.TOTPSecret, e.Secret) {
		t.Errorf("pending enrolment stored as enabled=%v secret=%q (plain %q)", stored.TOTPEnabled, stored.TOTPSecret, e.Secret)
	}
	if err := tf.Verify(ctx, u.ID, codeAt(t, e.Secret, clk.Now())); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("sign-in code accepted before confirmation: %v", err)
	}
	if _, err := tf.Confirm(ctx, u.ID, "000000"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong confirmation code: %v", err)
	}
	confirm := codeAt(t, e.Secret, clk.Now())
	codes, err := tf.Confirm(ctx, u.ID, confirm)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCodeCount {
		t.Fatalf("%d recovery codes", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 9 || c[4] != '-' || seen[c] {
			t.Errorf("recovery code %q malformed or repeated", c)
		}
		seen[c] = true
	}
	if err := tf.Verify(ctx, u.ID, confirm); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("the confirmation code was replayed at sign-in: %v", err)
	}
	if _, err := tf.Begin(ctx, u); !errors.Is(err, ErrTOTPEnrolled) { // u is the stale pre-2FA copy
		t.Errorf("re-enrolment over an active factor: %v", err)
	}
}

func TestTOTPVerify(t *testing.T) {
	tf, _, clk, u := newTwoFactor(t)
	ctx := context.Background()
	secret, _ := enrol(t, tf, clk, u)
	clk.Add(5 * time.Minute)
	for _, tc := range []struct {
		name   string
		offset time.Duration // of the code's time from the server's
		code   string        // overrides the generated code
		want   error
	}{
		{"current step", 0, "", nil},
		{"replay of the same code", 0, "", ErrInvalidCredentials},
		{"phone 30 s ahead", 30 * time.Second, "", nil},
		{"older than the last used step", -30 * time.Second, "", ErrInvalidCredentials},
		{"phone 60 s ahead is outside the skew", 90 * time.Second, "", ErrInvalidCredentials},
		{"not digits", 0, "12345a", ErrInvalidCredentials},
		{"too short", 0, "12345", ErrInvalidCredentials},
		{"too long", 0, "1234567", ErrInvalidCredentials},
		{"empty", 0, "", ErrInvalidCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.code
			if code == "" && tc.name != "empty" {
				code = codeAt(t, secret, clk.Now().Add(tc.offset))
			}
			if err := tf.Verify(ctx, u.ID, code); !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	// A phone 30 s behind is accepted too, once time has moved on.
	clk.Add(2 * time.Minute)
	if err := tf.Verify(ctx, u.ID, codeAt(t, secret, clk.Now().Add(-30*time.Second))); err != nil {
		t.Errorf("phone 30 s behind: %v", err)
	}
}

func TestTOTPSecretBoundToUser(t *testing.T) {
	tf, store, clk, u := newTwoFactor(t)
	ctx := context.Background()
	secret, _ := enrol(t, tf, clk, u)
	v := mustUser(t, store, "eve@example.org")
	// Eve copies Ada's sealed secret into her own row (say, via an SQL injection elsewhere).
	ada, _ := store.User(ctx, u.ID)
	store.SetTOTPSecret(ctx, v.ID, ada.TOTPSecret)
	clk.Add(time.Minute)
	if _, err := tf.Confirm(ctx, v.ID, codeAt(t, secret, clk.Now())); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("a sealed secret opened for another user: %v", err)
	}
	other, _ := NewTwoFactor(store, []byte("another server secret, 32 bytes"), "")
	other.Clock = clk.Now
	if err := other.Verify(ctx, u.ID, codeAt(t, secret, clk.Now())); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("secret opened with another server key: %v", err)
	}
}

func TestRecoveryCodes(t *testing.T) {
	tf, store, clk, u := newTwoFactor(t)
	ctx := context.Background()
	_, codes := enrol(t, tf, clk, u)
	spaced := strings.ToUpper(strings.Replace(codes[1], "-", " ", 1))
	for _, tc := range []struct {
		name, code string
		want       error
	}{
		{"first use", codes[0], nil},
		{"second use", codes[0], ErrInvalidCredentials},
		{"upper case with a space", spaced, nil},
		{"no dash", strings.Replace(codes[2], "-", "", 1), nil},
		{"unknown", "0000-0000", ErrInvalidCredentials},
		{"too short", "abc", ErrInvalidCredentials},
		{"too long", strings.Repeat("a", 100), ErrInvalidCredentials},
	} {
		if err := tf.UseRecoveryCode(ctx, u.ID, tc.code); !errors.Is(err, tc.want) {
			t.Errorf("%s: UseRecoveryCode = %v, want %v", tc.name, err, tc.want)
		}
	}
	v := mustUser(t, store, "eve@example.org")
	if err := tf.UseRecoveryCode(ctx, v.ID, codes[3]); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Ada's code worked for Eve: %v", err)
	}
	if n, _ := store.RecoveryCodesLeft(ctx, u.ID); n != RecoveryCodeCount-3 {
		t.Errorf("%d codes left", n)
	}
	fresh, err := tf.RegenerateRecoveryCodes(ctx, u.ID)
	if err != nil || len(fresh) != RecoveryCodeCount {
		t.Fatal(err)
	}
	if err := tf.UseRecoveryCode(ctx, u.ID, codes[4]); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("an old code survived regeneration: %v", err)
	}
	if err := tf.Disable(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := tf.UseRecoveryCode(ctx, u.ID, fresh[0]); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("code worked after 2FA was disabled: %v", err)
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	for in, want := range map[string]string{"ABCD-EFGH": "abcdefgh", "o0il-1LIo": "00111110", " ab cd ": "abcd"} {
		if got := normalizeRecoveryCode(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

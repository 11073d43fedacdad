package auth

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateSecret(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateSecret(dir)
	if err != nil || len(a) != 32 {
		t.Fatalf("create: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, SecretFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, %v", st.Mode(), err)
	}
	b, err := LoadOrCreateSecret(dir)
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("second load differs: %v", err)
	}
	os.WriteFile(filepath.Join(dir, SecretFile), []byte("short"), 0o600)
	if _, err := LoadOrCreateSecret(dir); err == nil {
		t.Error("truncated secret file accepted")
	}
}

func TestDeriveKeyAndSealer(t *testing.T) {
	if bytes.Equal(DeriveKey(testSecret, "a"), DeriveKey(testSecret, "b")) {
		t.Error("purposes share a key")
	}
	s, err := NewSealer(DeriveKey(testSecret, "test"))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:u1")
	if bytes.Contains([]byte(sealed), []byte("JBSWY3DPEHPK3PXP")) {
		t.Error("plaintext visible in sealed value")
	}
	if got, err := s.Open(sealed, "totp:u1"); err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Errorf("Open = %q, %v", got, err)
	}
	other, _ := NewSealer(DeriveKey(testSecret, "other"))
	for name, open := range map[string]func() ([]byte, error){
		"other context": func() ([]byte, error) { return s.Open(sealed, "totp:u2") },
		"other key":     func() ([]byte, error) { return other.Open(sealed, "totp:u1") },
		"flipped":       func() ([]byte, error) { return s.Open(sealed[:len(sealed)-2]+"AA", "totp:u1") },
		"short":         func() ([]byte, error) { return s.Open("AAAA", "totp:u1") },
		"not base64":    func() ([]byte, error) { return s.Open("!!!", "totp:u1") },
	} {
		if _, err := open(); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Open = %v", name, err)
		}
	}
}

// FuzzSealerOpen: the OIDC state cookie comes back from the browser. Open must never panic and
// must accept only what Seal made.
func FuzzSealerOpen(f *testing.F) {
	s, _ := NewSealer(DeriveKey(testSecret, "oidc-state"))
	f.Add(s.Seal([]byte(`{"s":"x","n":"y","v":"z","e":1}`), "oidc-state"))
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, v string) {
		if plain, err := s.Open(v, "oidc-state"); err == nil && len(plain) > len(v) {
			t.Fatalf("opened %q to %d bytes", v, len(plain))
		}
	})
}

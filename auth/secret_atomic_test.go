package auth

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSecretFullDisk: a first start whose key write fails (here RLIMIT_FSIZE 0, which fails
// writes the way a full disk does) must leave no key file and no temp file behind, and the
// next start must then make a good key. The old code left a 0-byte auth.key that made every
// later start fail with "want 32 bytes, have 0".
func TestSecretFullDisk(t *testing.T) {
	if dir := os.Getenv("LECTERN_SECRET_FULL_DISK"); dir != "" {
		// The child: limits apply to the whole process, so they are set only here.
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 0, Max: 0}); err != nil {
			t.Skip("cannot limit file size:", err)
		}
		if _, err := LoadOrCreateSecret(dir); err == nil {
			t.Fatal("writing the key succeeded with a file size limit of 0")
		}
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecretFullDisk$", "-test.v")
	cmd.Env = append(os.Environ(), "LECTERN_SECRET_FULL_DISK="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("a failed key write left %v behind", names(left))
	}
	key, err := LoadOrCreateSecret(dir)
	if err != nil || len(key) != secretLen {
		t.Fatalf("start after a failed write: %v", err)
	}
}

// TestSecretEmptyFileReplaced: an empty auth.key (left by an older version on a full disk)
// is replaced by a new key, which is then stable; a key of another wrong length is refused
// with a message that names the file and says what to do.
func TestSecretEmptyFileReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SecretFile)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := LoadOrCreateSecret(dir)
	if err != nil || len(a) != secretLen {
		t.Fatalf("empty key file: %v", err)
	}
	b, err := LoadOrCreateSecret(dir)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("the replacement key is not the one stored: %v", err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Fatalf("temp files left: %v", names(left))
	}

	os.WriteFile(path, a[:7], 0o600)
	_, err = LoadOrCreateSecret(dir)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("short key: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, a[:7]) {
		t.Fatal("a damaged key was overwritten")
	}
}

func names(es []os.DirEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

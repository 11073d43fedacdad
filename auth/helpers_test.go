package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"lectern/models"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0).UTC()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openStore(t *testing.T) *models.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustUser(t *testing.T, s *models.Store, email string) models.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), models.NewUser{Email: email})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// cheapArgon2 keeps tests fast under the race detector; the defaults are measured by the benchmark.
var cheapArgon2 = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func modelsFilter(action string) models.AuditFilter { return models.AuditFilter{Action: action} }

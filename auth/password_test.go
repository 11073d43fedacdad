package auth

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCheckPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw, email string
		want      error
	}{
		{"correct horse battery staple", "a@example.org", nil},
		{"short", "", ErrPasswordTooShort},
		{"123456789", "", ErrPasswordTooShort},
		{"ééééééééé", "", ErrPasswordTooShort}, // 9 characters, 18 bytes: counted in characters
		{"éééééééééé", "", nil},
		{strings.Repeat("x", MaxPasswordLen+1), "", ErrPasswordTooLong},
		{strings.Repeat("x", MaxPasswordLen), "", nil},
		{"1234567890", "", ErrPasswordCommon},
		{"Password123", "", ErrPasswordCommon},
		{"QWERTYUIOP", "", ErrPasswordCommon},
		{"ada.lovelace", "Ada.Lovelace@example.org", ErrPasswordCommon},
		{"ada@example.org", "ada@example.org", ErrPasswordCommon},
	} {
		if got := CheckPasswordPolicy(tc.pw, tc.email); !errors.Is(got, tc.want) {
			t.Errorf("CheckPasswordPolicy(%.20q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
	if len(commonPasswords()) < 100 {
		t.Errorf("common password list has %d entries", len(commonPasswords()))
	}
}

func TestHashAndVerify(t *testing.T) {
	h, err := HashPasswordWith("correct horse battery staple", cheapArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not in PHC form", h)
	}
	h2, _ := HashPasswordWith("correct horse battery staple", cheapArgon2)
	if h == h2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery staplE", false},
		{"", false},
		{"correct horse battery staple ", false},
	} {
		ok, err := VerifyPassword(tc.pw, h)
		if err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	if ok, _ := VerifyPassword(strings.Repeat("x", MaxPasswordLen+1), h); ok {
		t.Error("over-long password verified")
	}
}

func TestVerifyRefusesBadHashes(t *testing.T) {
	good, _ := HashPasswordWith("correct horse battery staple", cheapArgon2)
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"version":        strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":    "$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5],
		"huge time":      "$argon2id$v=19$m=64,t=1000,p=1$" + parts[4] + "$" + parts[5],
		"zero threads":   "$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"params order":   "$argon2id$v=19$t=1,m=64,p=1$" + parts[4] + "$" + parts[5],
		"params trailer": "$argon2id$v=19$m=64,t=1,p=1x$" + parts[4] + "$" + parts[5],
		"bad salt":       "$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"short key":      "$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$AAAA",
		"extra field":    good + "$x",
	} {
		ok, err := VerifyPassword("correct horse battery staple", h)
		if ok || err == nil {
			t.Errorf("%s: VerifyPassword = %v, %v; want refusal with an error", name, ok, err)
		}
		if !NeedsRehash(h) {
			t.Errorf("%s: NeedsRehash = false", name)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	cheap, _ := HashPasswordWith("correct horse battery staple", cheapArgon2)
	if !NeedsRehash(cheap) {
		t.Error("a hash with weaker parameters does not need a rehash")
	}
	def, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if NeedsRehash(def) {
		t.Error("a hash with the default parameters needs a rehash")
	}
	if !strings.HasPrefix(def, "$argon2id$v=19$m=65536,t=2,p=1$") {
		t.Errorf("default hash %q", def)
	}
	if _, _, _, err := parsePHC(dummyHash()); err != nil || NeedsRehash(dummyHash()) {
		t.Errorf("dummy hash %q does not cost a real check: %v", dummyHash(), err)
	}
	DummyVerify("anything")
}

func TestHashRefusesWeakParams(t *testing.T) {
	for _, p := range []Argon2Params{
		{MemoryKiB: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		{MemoryKiB: 4, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		if _, err := HashPasswordWith("correct horse battery staple", p); err == nil {
			t.Errorf("HashPasswordWith(%+v) accepted", p)
		}
	}
}

// FuzzParsePHC: stored hashes can come from an old version, an import or a tampered database;
// parsing must never panic nor accept out-of-range costs.
func FuzzParsePHC(f *testing.F) {
	good, _ := HashPasswordWith("correct horse battery staple", cheapArgon2)
	for _, s := range []string{good, "", "$argon2id$", "$argon2id$v=19$m=1,t=1,p=1$$", "$argon2id$v=19$m=99999999999,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			return
		}
		if p.MemoryKiB > maxMemoryKiB || p.Time > maxTime || p.Threads == 0 || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("accepted %q as %+v", s, p)
		}
	})
}

// BenchmarkHashPassword measures one hash with DefaultArgon2 (what one sign-in costs):
// go test -run '^$' -bench HashPassword -benchtime 10x ./auth/
func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArgon2Choices compares the default with the alternatives considered (RFC 9106's
// second setting with 4 lanes, and OWASP's minimums), reporting CPU time per hash as well as
// wall time, because on a loaded shared server wall time mostly measures the neighbours:
// go test -run '^$' -bench Argon2Choices -benchtime 5x ./auth/
func BenchmarkArgon2Choices(b *testing.B) {
	for _, c := range []struct {
		name string
		p    Argon2Params
	}{
		{"default_m64MiB_t2_p1", DefaultArgon2},
		{"rfc9106_m64MiB_t3_p2", Argon2Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}},
		{"m64MiB_t3_p1", Argon2Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"m64MiB_t1_p2", Argon2Params{MemoryKiB: 64 * 1024, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}},
		{"owasp_m46MiB_t1_p1", Argon2Params{MemoryKiB: 46 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"owasp_m19MiB_t2_p1", Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				if _, err := HashPasswordWith("correct horse battery staple", c.p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestHashQueueBounded(t *testing.T) {
	h, _ := HashPasswordWith("correct horse battery staple", cheapArgon2)
	if err := hashing.acquire(ForSignIn); err != nil { // the hasher is busy
		t.Fatal(err)
	}
	results := make(chan error, 2*maxHashWaiters)
	for range maxHashWaiters {
		go func() {
			_, err := VerifyPasscode("correct horse battery staple", h)
			results <- err
		}()
	}
	waitQueued(t, ForPasscode, maxHashWaiters)
	if _, err := VerifyPasscode("correct horse battery staple", h); !errors.Is(err, ErrBusy) {
		t.Errorf("passcode queue over its bound: %v, want ErrBusy", err)
	}
	// Sign-ins have their own queue: a full passcode queue does not refuse them.
	for range maxHashWaiters {
		go func() {
			_, err := VerifyPassword("correct horse battery staple", h)
			results <- err
		}()
	}
	waitQueued(t, ForSignIn, maxHashWaiters)
	if _, err := HashPasswordWith("x", cheapArgon2); !errors.Is(err, ErrBusy) {
		t.Errorf("hash with a full queue: %v, want ErrBusy", err)
	}
	hashing.release()
	for range 2 * maxHashWaiters {
		if err := <-results; err != nil {
			t.Errorf("queued verify: %v", err)
		}
	}
}

// TestSignInsServedFirst: with both queues waiting, a freed slot goes to a sign-in.
func TestSignInsServedFirst(t *testing.T) {
	if err := hashing.acquire(ForPasscode); err != nil {
		t.Fatal(err)
	}
	order := make(chan HashPurpose, 2)
	for _, p := range []HashPurpose{ForPasscode, ForSignIn} {
		go func() {
			if err := hashing.acquire(p); err != nil {
				t.Error(err)
			}
			order <- p
			hashing.release()
		}()
		waitQueued(t, p, 1)
	}
	hashing.release()
	if first := <-order; first != ForSignIn {
		t.Errorf("%v served first, want signin", first)
	}
	<-order
}

func waitQueued(t *testing.T, p HashPurpose, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for hashing.waiters(p) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d %v waiters queued", hashing.waiters(p), p)
		}
		time.Sleep(time.Millisecond)
	}
}

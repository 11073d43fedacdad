package auth

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// HashPurpose says whose queue a password hash waits in. Account sign-ins and webinar passcode
// joins share the one hashing core but not a queue: a flood of (even correct) passcode joins
// fills only its own queue, and a waiting sign-in is always served before a waiting join.
type HashPurpose int

const (
	ForSignIn   HashPurpose = iota // account passwords: sign-in, password changes, new hashes
	ForPasscode                    // webinar passcodes
	nPurposes
)

func (p HashPurpose) String() string {
	if p == ForPasscode {
		return "passcode"
	}
	return "signin"
}

// hashesTotal counts argon2 computations by purpose; rate-limit tests read it to prove that a
// refused attempt costs no hashing. Register it with Collectors.
var hashesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "lectern_auth_password_hashes_total",
	Help: "Argon2id password and passcode hashes computed, by purpose (signin, passcode).",
}, []string{"purpose"})

// busyTotal counts checks refused with ErrBusy because their purpose's queue was full.
var busyTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "lectern_auth_password_hash_busy_total",
	Help: "Password checks refused because the hashing queue of their purpose was full.",
}, []string{"purpose"})

// Collectors are the auth package's metrics, for the server's registry.
func Collectors() []prometheus.Collector { return []prometheus.Collector{hashesTotal, busyTotal} }

// hashCount mirrors hashesTotal in a form callers can read without a registry.
var hashCount [nPurposes]atomic.Int64

// HashesComputed is how many hashes of purpose ran since start (tests compare two readings).
func HashesComputed(purpose HashPurpose) int64 { return hashCount[purpose].Load() }

func countHash(purpose HashPurpose) {
	hashCount[purpose].Add(1)
	hashesTotal.WithLabelValues(purpose.String()).Inc()
}

// hashGate lets MaxConcurrentHashes hashes run at once and queues at most maxHashWaiters per
// purpose behind them. A freed slot goes straight to the next waiter, sign-ins first, so no
// newcomer can overtake the queue.
type hashGate struct {
	mu      sync.Mutex
	running int
	waiting [nPurposes][]chan struct{}
}

var hashing hashGate

func (g *hashGate) acquire(purpose HashPurpose) error {
	g.mu.Lock()
	if g.running < MaxConcurrentHashes && g.queued() == 0 {
		g.running++
		g.mu.Unlock()
		return nil
	}
	if len(g.waiting[purpose]) >= maxHashWaiters {
		g.mu.Unlock()
		busyTotal.WithLabelValues(purpose.String()).Inc()
		return ErrBusy
	}
	turn := make(chan struct{})
	g.waiting[purpose] = append(g.waiting[purpose], turn)
	g.mu.Unlock()
	<-turn // release handed us its slot
	return nil
}

func (g *hashGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p := range g.waiting {
		if q := g.waiting[p]; len(q) > 0 {
			close(q[0])
			g.waiting[p] = q[1:]
			return
		}
	}
	g.running--
}

func (g *hashGate) queued() int {
	n := 0
	for _, q := range g.waiting {
		n += len(q)
	}
	return n
}

// waiters is the queue length of purpose (for tests).
func (g *hashGate) waiters(purpose HashPurpose) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiting[purpose])
}

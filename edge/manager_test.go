package edge

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/cluster"
)

// elsewhere is a directory whose origin is always another node.
type elsewhere struct{ cluster.Single }

func (elsewhere) Origin(context.Context, string) (cluster.Node, bool, error) {
	return cluster.Node{ID: "origin", URL: "http://127.0.0.1:1"}, true, nil
}

func TestPullEndsWhenTheLocalBroadcastCloses(t *testing.T) {
	bc, err := broadcast.New(broadcast.Config{IncludeLoopback: true, Interfaces: []string{"lo"}}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	_ = bc.Close()
	m := New(Config{Broadcast: bc, Directory: elsewhere{}, Secret: []byte("s"), Retry: 10 * time.Millisecond})
	defer m.Close()
	m.Ensure("w")
	deadline := time.Now().Add(10 * time.Second)
	for len(m.Relays()) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the pull kept retrying into a closed broadcast server")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNoPullWhenThisNodeIsTheOrigin(t *testing.T) {
	bc, err := broadcast.New(broadcast.Config{IncludeLoopback: true, Interfaces: []string{"lo"}}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	m := New(Config{Broadcast: bc, Directory: cluster.Single{Node: cluster.Node{ID: "me", URL: "http://me"}},
		Linger: 50 * time.Millisecond, Check: 10 * time.Millisecond, Retry: 10 * time.Millisecond})
	defer m.Close()
	m.Ensure("w")
	time.Sleep(300 * time.Millisecond)
	if m.Sessions() != 0 || bc.Live("w") {
		t.Fatalf("a lone node pulled from itself: %d sessions", m.Sessions())
	}
	if len(m.Relays()) != 0 {
		t.Fatalf("the idle pull loop did not end after its linger: %v", m.Relays())
	}
}

package api

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"lectern/cluster"
)

type statusReply struct {
	Node    nodeStatus     `json:"node"`
	Cluster *clusterStatus `json:"cluster"`
}

// A lone server drains on request: its health check fails so a load balancer moves on, the
// status says so; only admins may drain, and only nodes that exist.
func TestDrainLoneNode(t *testing.T) {
	s := newAuthServer(t, func(d *Deps) {
		d.Cluster = cluster.Single{Node: cluster.Node{ID: "n1", URL: "http://n1.test", Region: "eu"}}
	})
	admin := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	teacher := creds{session: s.session(t, s.user(t, "teacher@school.example", false))}

	if r := s.call(t, creds{}, "GET", "/healthz", "", ""); r.status != http.StatusOK {
		t.Fatalf("healthz %d", r.status)
	}
	var st statusReply
	s.call(t, creds{}, "GET", "/api/status", "", "").json(t, &st)
	if st.Node.ID != "n1" || st.Node.Region != "eu" || st.Node.Draining || st.Cluster != nil {
		t.Fatalf("anonymous status %+v", st)
	}
	if r := s.call(t, teacher, "POST", "/api/admin/nodes/n1/drain", "", ""); r.status != http.StatusForbidden {
		t.Fatalf("teacher drains: %d", r.status)
	}
	if r := s.call(t, admin, "POST", "/api/admin/nodes/other/drain", "", ""); r.status != http.StatusNotFound {
		t.Fatalf("unknown node: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{}, "GET", "/healthz", "", ""); r.status != http.StatusOK {
		t.Fatalf("healthz after refused drains %d", r.status)
	}
	if r := s.call(t, admin, "POST", "/api/admin/nodes/n1/drain", "", ""); r.status != http.StatusAccepted {
		t.Fatalf("drain: %d %s", r.status, r.body)
	}
	if r := s.call(t, creds{}, "GET", "/healthz", "", ""); r.status != http.StatusServiceUnavailable {
		t.Fatalf("healthz while draining %d %q", r.status, r.body)
	}
	st = statusReply{}
	s.call(t, admin, "GET", "/api/status", "", "").json(t, &st)
	if !st.Node.Draining || st.Cluster == nil || len(st.Cluster.Nodes) != 1 || !st.Cluster.Nodes[0].Draining ||
		len(st.Cluster.Regions) != 1 {
		t.Fatalf("admin status while draining %+v %+v", st.Node, st.Cluster)
	}
}

// On a NATS cluster an admin on one node drains another; the status lists both nodes.
func TestDrainOtherNode(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := cluster.Open(ctx, cluster.Config{Self: cluster.Node{ID: "a", URL: "http://a.test"}, Listen: addr,
		StoreDir: t.TempDir(), Lease: time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	b, err := cluster.Open(ctx, cluster.Config{Self: cluster.Node{ID: "b", URL: "http://b.test"}, URL: "nats://" + addr,
		Lease: time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close) // before a's: a runs the server
	s := newAuthServer(t, func(d *Deps) { d.Cluster = a })
	admin := creds{session: s.session(t, s.user(t, "admin@school.example", true))}

	deadline := time.Now().Add(5 * time.Second)
	for {
		var st statusReply
		s.call(t, admin, "GET", "/api/status", "", "").json(t, &st)
		if st.Cluster != nil && len(st.Cluster.Nodes) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never listed both nodes: %+v", st.Cluster)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := s.call(t, admin, "POST", "/api/admin/nodes/b/drain", "", ""); r.status != http.StatusAccepted {
		t.Fatalf("drain b: %d %s", r.status, r.body)
	}
	if !b.Self().Draining || a.Self().Draining {
		t.Fatalf("draining: a %v b %v, want b only", a.Self().Draining, b.Self().Draining)
	}
	if r := s.call(t, creds{}, "GET", "/healthz", "", ""); r.status != http.StatusOK {
		t.Fatalf("a's health after draining b: %d", r.status)
	}
}

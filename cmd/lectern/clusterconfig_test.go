package main

import (
	"flag"
	"io"
	"testing"
)

func TestValidateCluster(t *testing.T) {
	for name, mod := range map[string]func(*ClusterConfig){
		"both nats flags": func(c *ClusterConfig) {
			c.NATS, c.NATSListen, c.NodeURL = "nats://a:4222", "127.0.0.1:4222", "http://a"
		},
		"nats without scheme":    func(c *ClusterConfig) { c.NATS, c.NodeURL = "a:4222", "http://a" },
		"listen without port":    func(c *ClusterConfig) { c.NATSListen, c.NodeURL = "127.0.0.1", "http://a" },
		"cluster without url":    func(c *ClusterConfig) { c.NATS = "nats://a:4222" },
		"lease under a second":   func(c *ClusterConfig) { c.Lease = 100e6 },
		"no capacity":            func(c *ClusterConfig) { c.Capacity = 0 },
		"negative drain timeout": func(c *ClusterConfig) { c.DrainTimeout = -1 },
	} {
		c := defaultConfig()
		mod(&c.Cluster)
		if c.validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := defaultConfig()
	if err := c.validate(); err != nil || c.Cluster.clustered() {
		t.Fatalf("default: %v, clustered %v: a lone server must start no NATS", err, c.Cluster.clustered())
	}
}

// The node id is a stable hash of --node-url unless --node-id is given.
func TestNodeIdentity(t *testing.T) {
	parse := func(args ...string) ClusterConfig {
		c := defaultConfig()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		bindServeFlags(fs, &c)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return c.Cluster
	}
	a := parse("--node-url", "http://10.0.0.1:8080/", "--region", "eu").self(":8080")
	b := parse("--node-url", "http://10.0.0.1:8080").self(":9090")
	if a.ID == "" || a.ID != b.ID || a.URL != "http://10.0.0.1:8080" || a.Region != "eu" {
		t.Fatalf("nodes %+v %+v", a, b)
	}
	if n := parse("--node-url", "http://10.0.0.2:8080").self(""); n.ID == a.ID {
		t.Fatal("two URLs, one id")
	}
	if n := parse("--node-id", "n1").self("127.0.0.1:8080"); n.ID != "n1" || n.URL != "http://127.0.0.1:8080" {
		t.Fatalf("explicit id: %+v", n)
	}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"

	"lectern/bench"
)

// benchRoom loads a webinar's live channel: channel clients reading chat that senders post
// at a fixed rate. Without --url it starts `lectern serve` (this binary) on loopback with a
// fresh data directory, so /metrics shows the server's own CPU and memory.
func benchRoom(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench room", flag.ContinueOnError)
	url := fs.String("url", "", "server base URL (default: start a server on 127.0.0.1 with a fresh data directory)")
	room := fs.String("room", "", "public webinar id with no waiting room (default: create one in --data)")
	data := fs.String("data", defaultConfig().Data, "data directory of the server at --url, to create a webinar when --room is not given")
	store := fs.String("store", defaultConfig().Store, storeUsage+" (of the server at --url)")
	cfg := bench.RoomConfig{}
	fs.IntVar(&cfg.Clients, "clients", 1000, "channel clients")
	fs.IntVar(&cfg.Senders, "senders", 10, "chat senders")
	fs.Float64Var(&cfg.Rate, "rate", 100, "chat messages per second, all senders together")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "sending window")
	fs.IntVar(&cfg.TextBytes, "text-bytes", 0, "length of each message's text (0: the timestamp alone, ~30 bytes)")
	fs.IntVar(&cfg.SourceAddrs, "source-addrs", 0, "loopback source addresses 127.0.0.1.. the clients spread over, under the server's per-address stream cap (0: one per 32 clients)")
	noStalled := fs.Bool("no-stalled", false, "leave out the client that never reads")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.NoStalled = *noStalled
	log, _ := newLogger("info")
	cfg.Logger = log
	if *url == "" {
		srv, err := startBenchServer(ctx)
		if err != nil {
			return err
		}
		defer srv.stop()
		*url, *data = srv.url, srv.data
	}
	var err error
	if *room, _, err = benchWebinar(ctx, *room, "", *store, *data); err != nil {
		return err
	}
	cfg.URL, cfg.Webinar = *url, *room
	rep, err := bench.Room(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.String())
	return rep.Check()
}

// benchServer is a `lectern serve` child process with a throwaway data directory.
type benchServer struct {
	cmd       *exec.Cmd
	url, data string
}

// startBenchServer runs this binary's serve on a free loopback port: no speech engine or
// translator (the channel is what is measured), every other setting its default, the
// per-address stream cap included (the bench spreads its clients over source addresses).
func startBenchServer(ctx context.Context) (*benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lectern-bench-room-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(exe, "serve", "--addr", addr, "--data", dir, "--engine", "none", "--translators", "none", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	s := &benchServer{cmd: cmd, url: "http://" + addr, data: dir}
	if err := s.waitHealthy(ctx, 30*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *benchServer) waitHealthy(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if res, err := http.Get(s.url + "/healthz"); err == nil {
			res.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.Join(errors.New("the bench server did not come up"), ctx.Err())
}

func (s *benchServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
	os.RemoveAll(s.data)
}

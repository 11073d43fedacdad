// Command lectern is the Lectern webinar server and its admin tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"lectern/models"
)

const usage = `lectern — self-hosted webinars with live captions

Usage:
  lectern serve [--addr :8080] [--data ./lectern-data] [flags]   run the server
  lectern webinar create --title T [--data DIR] [--public-url URL] [--json]
                                                                   create a webinar
  lectern webinar list [--data DIR] [--public-url URL] [--json]   list webinars
  lectern user add --email E --password-stdin [--admin] [--name N] [--data DIR]
                                                                   create an account
  lectern user disable|enable --email E [--reason R] [--data DIR]  lock or unlock an account
  lectern user list [--data DIR] [--json]                         list accounts
  lectern token create --email E [--name N] [--data DIR]          print a new API token
  lectern transcribe FILE [--format srt] [--out PATH] [--translate es,ca]   subtitles for a recording
  lectern bench fanout --url URL --viewers N --duration D         load-test a server
  lectern bench captions --url URL                                 caption latency and accuracy
  lectern bench room [--clients 1000 --rate 100 --duration 20s]    load-test the live channel

Every command that opens the store takes --store postgres://... (default: the SQLite file in --data).
Every flag can also be set as LECTERN_<FLAG> (e.g. LECTERN_ADDR, LECTERN_DATA, LECTERN_STORE).
Run "lectern COMMAND -h" for a command's flags.
`

// command is one subcommand: it parses its own args and writes to stdout.
type command func(ctx context.Context, args []string, stdout io.Writer) error

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lectern:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	commands := map[string]command{
		"serve":      serve,
		"webinar":    webinarCmd,
		"bench":      benchCmd,
		"transcribe": transcribeCmd,
		"user":       userCmd,
		"token":      tokenCmd,
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
	}
	return cmd(ctx, args[1:], stdout)
}

// subcommand dispatches "lectern GROUP VERB ..." to the verb's command.
func subcommand(ctx context.Context, group string, verbs map[string]command, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s: missing command (one of %s)", group, verbNames(verbs))
	}
	cmd, ok := verbs[args[0]]
	if !ok {
		return fmt.Errorf("%s: unknown command %q (one of %s)", group, args[0], verbNames(verbs))
	}
	return cmd(ctx, args[1:], stdout)
}

func verbNames(verbs map[string]command) string {
	s := ""
	for v := range verbs {
		if s != "" {
			s += ", "
		}
		s += v
	}
	return s
}

// withStore opens the store for one admin command and closes it after: the data directory's
// SQLite file, or the PostgreSQL database when store is a postgres:// URL. The server may
// have the same store open (SQLite's WAL lets them share; admin commands do not take the
// directory's lock, see lockDataDir).
func withStore(ctx context.Context, store, dir string, fn func(*models.Store) error) error {
	s, err := models.OpenURL(ctx, store, dir)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// storeUsage is the --store flag's help, the same for every command.
const storeUsage = "the store: sqlite (the file in --data) or a postgres:// URL shared by the nodes of a cluster"

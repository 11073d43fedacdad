package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"lectern/bench"
	"lectern/models"
)

func benchCmd(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommand(ctx, "bench", map[string]command{
		"fanout":   benchFanout,
		"captions": benchCaptions,
		"room":     benchRoom,
	}, args, stdout)
}

// benchFanout publishes a synthetic presenter and N viewers against a running server. Without
// --room it creates a throwaway webinar in the server's data directory (--data). With
// --publishers N > 1 it also puts N-1 panelists on stage, created in that store.
func benchFanout(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench fanout", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "server base URL")
	viewURL := fs.String("view-url", "", "viewers connect to this node (an edge of --url) and its /metrics is read; default --url")
	viewers := fs.Int("viewers", 100, "WHEP viewers to connect")
	duration := fs.Duration("duration", 30*time.Second, "measured window after every viewer joined")
	kbps := fs.Int("video-kbps", 2500, "presenter video bitrate")
	joins := fs.Int("join-concurrency", 32, "viewers negotiating at once (1 = one after another)")
	room := fs.String("room", "", "webinar id (default: create one in --data)")
	key := fs.String("stream-key", "", "stream key of --room")
	data := fs.String("data", defaultConfig().Data, "server data directory, to create a webinar when --room is not given")
	store := fs.String("store", defaultConfig().Store, storeUsage)
	publishers := fs.Int("publishers", 1, "publishers on stage, 1..6: the stream key's plus N-1 panelists (created in --data) publishing with their own API tokens")
	panelistKbps := fs.Int("panelist-video-kbps", 500, "camera bitrate of publishers 2..N")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *publishers < 1 || *publishers > 6 {
		return fmt.Errorf("--publishers must be 1..6, not %d", *publishers)
	}
	var err error
	*room, *key, err = benchWebinar(ctx, *room, *key, *store, *data)
	if err != nil {
		return err
	}
	tokens, err := benchPanelists(ctx, *store, *data, *room, *publishers-1)
	if err != nil {
		return err
	}
	log, _ := newLogger("warn")
	rep, err := bench.Fanout(ctx, bench.FanoutConfig{
		URL: *url, ViewURL: *viewURL, Room: *room, StreamKey: *key, Viewers: *viewers, Duration: *duration, VideoKbps: *kbps, JoinConcurrency: *joins, Logger: log,
		Publishers: *publishers, PanelistTokens: tokens, PanelistVideoKbps: *panelistKbps,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep.String())
	return nil
}

// benchCaptions speaks known sentences into a webinar over WHIP in real time and reads its
// caption stream like a viewer: accuracy and latency of live captions.
func benchCaptions(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench captions", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "server base URL")
	room := fs.String("room", "", "webinar id (default: create one in --data)")
	key := fs.String("stream-key", "", "stream key of --room")
	data := fs.String("data", defaultConfig().Data, "server data directory, to create a webinar when --room is not given")
	store := fs.String("store", defaultConfig().Store, storeUsage)
	voice := fs.String("voice", "slt", "flite voice: slt, rms, awb, kal16")
	gap := fs.Duration("gap", 1500*time.Millisecond, "silence between sentences")
	rounds := fs.Int("rounds", 1, "times the sentence list is spoken")
	webinars := fs.Int("webinars", 1, "webinars captioned at once, each with its own presenter and viewer (needs --data, not --room)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var sentences []string
	for range *rounds {
		sentences = append(sentences, benchSentences...)
	}
	reports := make([]bench.CaptionsReport, *webinars)
	errs := make([]error, *webinars)
	var wg sync.WaitGroup
	for i := range *webinars {
		room, key, err := benchWebinar(ctx, *room, *key, *store, *data)
		if err != nil {
			return err
		}
		wg.Go(func() {
			reports[i], errs[i] = bench.Captions(ctx, bench.CaptionsConfig{URL: *url, Room: room, StreamKey: key,
				Speech: bench.SpeechConfig{Sentences: sentences, Voice: *voice, Gap: *gap}})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(reports) == 1 {
		fmt.Fprint(stdout, reports[0].String())
		return nil
	}
	for i, r := range reports {
		fmt.Fprintf(stdout, "webinar %d: %s", i+1, r.Summary())
	}
	return nil
}

// benchSentences are ordinary classroom sentences with common words.
var benchSentences = []string{
	"Good morning everyone and welcome to the class.",
	"Today we will talk about the weather and the seasons.",
	"Please open your books at page twenty.",
	"The sun is hot in the summer and the winter is cold.",
	"Write down three questions for the next lesson.",
}

// benchWebinar is the given webinar, or a new throwaway one in the server's data directory.
func benchWebinar(ctx context.Context, room, key, store, data string) (string, string, error) {
	if room != "" {
		return room, key, nil
	}
	var w models.Webinar
	err := withStore(ctx, store, data, func(store *models.Store) (err error) {
		w, err = store.CreateWebinar(ctx, models.NewWebinar{Title: "bench " + time.Now().Format(time.RFC3339)})
		return err
	})
	return w.ID, w.StreamKey, err
}

// benchPanelists makes n panelists of webinar room in the store, each a new account with an
// API token (the bearer a panelist's encoder publishes with on POST /whip), and returns the
// tokens. The accounts are named after the webinar, so runs never collide.
func benchPanelists(ctx context.Context, store, data, room string, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	var tokens []string
	err := withStore(ctx, store, data, func(st *models.Store) error {
		for k := range n {
			u, err := st.CreateUser(ctx, models.NewUser{Email: fmt.Sprintf("bench-panelist-%d-%s@bench.invalid", k+2, room), DisplayName: fmt.Sprintf("Panelist %d", k+2)})
			if err != nil {
				return fmt.Errorf("bench panelist: %w", err)
			}
			if err := st.SetMember(ctx, room, u.ID, models.RolePanelist); err != nil {
				return fmt.Errorf("bench panelist: %w", err)
			}
			_, tok, err := st.CreateAPIToken(ctx, u.ID, "bench fanout")
			if err != nil {
				return fmt.Errorf("bench panelist: %w", err)
			}
			tokens = append(tokens, tok)
		}
		return nil
	})
	return tokens, err
}

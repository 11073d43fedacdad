package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"lectern/models"
)

func webinarCmd(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommand(ctx, "webinar", map[string]command{
		"create": webinarCreate,
		"list":   webinarList,
	}, args, stdout)
}

// webinarLinks is what an admin needs to hand out after creating a webinar.
type webinarLinks struct {
	models.Webinar
	WHIPURL   string `json:"whip_url"`
	WHEPURL   string `json:"whep_url"`
	WatchURL  string `json:"watch_url"`
	StudioURL string `json:"studio_url"`
}

func linksFor(base string, w models.Webinar) webinarLinks {
	base = strings.TrimRight(base, "/")
	return webinarLinks{
		Webinar:   w,
		WHIPURL:   base + "/whip/" + w.ID,
		WHEPURL:   base + "/whep/" + w.ID,
		WatchURL:  base + "/watch/" + w.ID,
		StudioURL: base + "/studio/" + w.ID + "?key=" + w.StreamKey,
	}
}

func adminFlags(name string) (*flag.FlagSet, *string, *string, *bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c := defaultConfig()
	data := fs.String("data", c.Data, "data directory")
	base := fs.String("public-url", "http://localhost:8080", "server base URL used in printed links")
	asJSON := fs.Bool("json", false, "print JSON")
	return fs, data, base, asJSON
}

func webinarCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs, data, base, asJSON := adminFlags("webinar create")
	title := fs.String("title", "", "webinar title (required)")
	lang := fs.String("language", "en", "spoken language")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *data, func(store *models.Store) error {
		w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: *title, Language: *lang})
		if err != nil {
			return err
		}
		l := linksFor(*base, w)
		if *asJSON {
			return json.NewEncoder(stdout).Encode(l)
		}
		fmt.Fprintf(stdout, "id:         %s\nstream key: %s\nWHIP:       %s\nWHEP:       %s\nwatch:      %s\nstudio:     %s\n",
			l.ID, l.StreamKey, l.WHIPURL, l.WHEPURL, l.WatchURL, l.StudioURL)
		return nil
	})
}

func webinarList(ctx context.Context, args []string, stdout io.Writer) error {
	fs, data, base, asJSON := adminFlags("webinar list")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *data, func(store *models.Store) error {
		ws, err := store.Webinars(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]webinarLinks, 0, len(ws))
			for _, w := range ws {
				out = append(out, linksFor(*base, w))
			}
			return json.NewEncoder(stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTITLE\tCREATED\tWATCH")
		for _, w := range ws {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.ID, w.Title, w.CreatedAt.Format("2006-01-02 15:04"), linksFor(*base, w).WatchURL)
		}
		return tw.Flush()
	})
}

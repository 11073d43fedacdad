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

// adminOpts are the flags the webinar commands share.
type adminOpts struct {
	fs                  *flag.FlagSet
	data, store, public *string
	addr                *string
	asJSON              *bool
}

func adminFlags(name string) adminOpts {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c := defaultConfig()
	return adminOpts{
		fs:     fs,
		data:   fs.String("data", c.Data, "data directory"),
		store:  fs.String("store", c.Store, storeUsage),
		public: fs.String("public-url", "", "server base URL used in printed links (default: the URL of the server running on --data, else from --addr)"),
		addr:   fs.String("addr", c.Addr, "the server's listen address, for links when --public-url is not set"),
		asJSON: fs.Bool("json", false, "print JSON"),
	}
}

func (o adminOpts) parse(args []string) error {
	if err := parseFlags(o.fs, args); err != nil {
		return err
	}
	if *o.public != "" {
		return validatePublicURL(*o.public)
	}
	return nil
}

// base picks where printed links point: --public-url (or LECTERN_PUBLIC_URL), else the URL
// the server running on this data directory advertised, else --addr (or LECTERN_ADDR). An
// --addr given on the command line or in the environment (parseFlags sets it either way)
// wins over the running server's.
func (o adminOpts) base() string {
	if *o.public != "" {
		return strings.TrimRight(*o.public, "/")
	}
	addrGiven := false
	o.fs.Visit(func(f *flag.Flag) { addrGiven = addrGiven || f.Name == "addr" })
	if !addrGiven {
		if u := runningServerURL(*o.data); u != "" {
			return u
		}
	}
	return baseURL("", *o.addr)
}

func webinarCreate(ctx context.Context, args []string, stdout io.Writer) error {
	o := adminFlags("webinar create")
	title := o.fs.String("title", "", "webinar title (required)")
	lang := o.fs.String("language", "en", "spoken language")
	if err := o.parse(args); err != nil {
		return err
	}
	return withStore(ctx, *o.store, *o.data, func(store *models.Store) error {
		w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: *title, Language: *lang})
		if err != nil {
			return err
		}
		l := linksFor(o.base(), w)
		if *o.asJSON {
			return json.NewEncoder(stdout).Encode(l)
		}
		fmt.Fprintf(stdout, "id:         %s\nstream key: %s\nWHIP:       %s\nWHEP:       %s\nwatch:      %s\nstudio:     %s\n",
			l.ID, l.StreamKey, l.WHIPURL, l.WHEPURL, l.WatchURL, l.StudioURL)
		return nil
	})
}

func webinarList(ctx context.Context, args []string, stdout io.Writer) error {
	o := adminFlags("webinar list")
	if err := o.parse(args); err != nil {
		return err
	}
	return withStore(ctx, *o.store, *o.data, func(store *models.Store) error {
		ws, err := store.Webinars(ctx)
		if err != nil {
			return err
		}
		base := o.base()
		if *o.asJSON {
			out := make([]webinarLinks, 0, len(ws))
			for _, w := range ws {
				out = append(out, linksFor(base, w))
			}
			return json.NewEncoder(stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTITLE\tCREATED\tWATCH")
		for _, w := range ws {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.ID, w.Title, w.CreatedAt.Format("2006-01-02 15:04"), linksFor(base, w).WatchURL)
		}
		return tw.Flush()
	})
}

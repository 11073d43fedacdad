// Package apertium is Lectern's embedded translator: Debian's Apertium language pairs, run as
// long-lived local processes, one per direction. Nothing leaves the machine (region "local").
package apertium

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"sort"
	"strings"
	"sync"

	"lectern/translate"
)

// Config of the embedded translator. Zero values are the defaults.
type Config struct {
	// ModesDir holds the installed *.mode files. Default DefaultModesDir.
	ModesDir string
	// Region label, default "local".
	Region string
	Logger *slog.Logger
}

// Translator runs Apertium pipelines. Pipelines start on first use of a direction (a cold
// start costs a few hundred milliseconds; Warm does it ahead of time) and live until Close.
type Translator struct {
	region string
	log    *slog.Logger
	stdbuf string
	routes map[translate.Pair]route

	mu    sync.Mutex
	procs map[string]*process // by mode name
}

var _ translate.Translator = (*Translator)(nil)

// New discovers the installed directions. It fails when Apertium or every pair is missing, so
// the server can say clearly at start-up that the embedded translator is off.
func New(cfg Config) (*Translator, error) {
	if cfg.ModesDir == "" {
		cfg.ModesDir = DefaultModesDir
	}
	if cfg.Region == "" {
		cfg.Region = "local"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if _, err := exec.LookPath("apertium-wblank-mode"); err != nil {
		return nil, fmt.Errorf("apertium: %w (install the apertium package)", err)
	}
	routes, err := discover(cfg.ModesDir)
	if err != nil {
		return nil, err
	}
	stdbuf, _ := exec.LookPath("stdbuf")
	if stdbuf == "" {
		cfg.Logger.Warn("apertium: stdbuf not found; bilingual lt-proc may not flush and requests may time out")
	}
	return &Translator{
		region: cfg.Region, log: cfg.Logger.With("translator", "apertium"), stdbuf: stdbuf,
		routes: routes, procs: map[string]*process{},
	}, nil
}

func (t *Translator) Name() string   { return "apertium" }
func (t *Translator) Region() string { return t.region }

// Languages lists direct directions and pivoted ones (Pivot set), sorted.
func (t *Translator) Languages(context.Context) ([]translate.Pair, error) {
	out := make([]translate.Pair, 0, len(t.routes))
	for _, r := range t.routes {
		out = append(out, r.pair)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	return out, nil
}

// Translate sends the lines one by one through the direction's pipeline (and on through the
// second one for a pivot). One by one rather than joined with newlines: a warm request costs
// a few milliseconds, and a joined batch lets the tagger and transfer rules see across line
// ends, which can move words between lines (see BenchmarkBatch for the measured difference).
func (t *Translator) Translate(ctx context.Context, texts []string, from, to string) ([]string, error) {
	r, ok := t.routes[translate.Pair{From: from, To: to}]
	if !ok {
		return nil, fmt.Errorf("apertium %s-%s: %w", from, to, translate.ErrUnsupported)
	}
	procs := make([]*process, len(r.steps))
	for i, d := range r.steps {
		p, err := t.process(ctx, d)
		if err != nil {
			return nil, err
		}
		procs[i] = p
	}
	out := make([]string, len(texts))
	for i, text := range texts {
		if strings.TrimSpace(text) == "" {
			continue
		}
		s := text
		for _, p := range procs {
			raw, err := p.translate(ctx, escape(s))
			if err != nil {
				return nil, err
			}
			s = unescape(raw)
		}
		out[i] = s
	}
	return out, nil
}

// Warm starts the pipelines of a direction so the first caption does not pay the start-up.
func (t *Translator) Warm(ctx context.Context, from, to string) error {
	_, err := t.Translate(ctx, []string{"hello"}, from, to)
	return err
}

func (t *Translator) process(ctx context.Context, d direction) (*process, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.procs[d.mode]; ok {
		return p, nil
	}
	script, err := pipelineScript(ctx, d.file)
	if err != nil {
		return nil, err
	}
	p := newProcess(d, script, t.stdbuf, t.log)
	t.procs[d.mode] = p
	return p, nil
}

// Close stops every pipeline. The Translator must not be used afterwards.
func (t *Translator) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.procs {
		p.close()
	}
	t.procs = map[string]*process{}
	return nil
}

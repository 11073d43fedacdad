package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"lectern/captions"
	"lectern/captions/subtitle"
	"lectern/transcribe"
	"lectern/translate"
)

// transcribeCmd runs a recording through the live pipeline (VAD, segmentation, worker pool,
// engine) and writes subtitles, so offline accuracy is the live path's accuracy.
func transcribeCmd(ctx context.Context, args []string, stdout io.Writer) error {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("transcribe", flag.ContinueOnError)
	format := fs.String("format", "srt", "output format: "+strings.Join(subtitle.Formats, ", "))
	out := fs.String("out", "", "output file (default: standard output); translations go beside it as NAME.LANG.EXT")
	lang := fs.String("language", "en", "spoken language")
	targets := fs.String("translate", "", "comma-separated languages to translate into, one file each")
	quiet := fs.Bool("quiet", false, "no progress bar")
	bindPipelineFlags(fs, &cfg)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lectern transcribe FILE [--format srt|vtt|ttml|ssa|stl|txt|json] [--out PATH] [--translate es,ca] [--engine ...]")
		fs.PrintDefaults()
	}
	// Flags may come before or after FILE.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	if file == "" {
		fs.Usage()
		return errors.New("transcribe: no input file")
	}
	if subtitle.ContentType(*format) == "" {
		return fmt.Errorf("transcribe: unknown format %q (one of %s)", *format, strings.Join(subtitle.Formats, ", "))
	}
	langs := splitList(*targets)
	if len(langs) > 0 && *out == "" {
		return errors.New("transcribe: --translate needs --out (one file per language)")
	}
	log, _ := newLogger("warn")
	eng, err := newEngine(cfg, log)
	if err != nil {
		return err
	}
	if eng == nil {
		return errors.New("transcribe: --engine none cannot transcribe")
	}
	tc, err := transcribeConfig(cfg)
	if err != nil {
		return err
	}
	tc.Options.Language = *lang
	events, err := transcribe.TranscribeFile(ctx, file, eng, tc, progressBar(*quiet))
	if err != nil {
		return err
	}
	cues := finalsOf(events, *lang)
	if err := writeSubtitles(*out, stdout, *format, *lang, cues); err != nil {
		return err
	}
	if len(langs) == 0 {
		return nil
	}
	return writeTranslations(ctx, cfg, *out, *format, *lang, langs, cues)
}

// finalsOf turns the pipeline's finals into captions, numbered in order.
func finalsOf(events []transcribe.Event, lang string) []captions.Caption {
	var out []captions.Caption
	for _, ev := range events {
		if !ev.Final || ev.Failed || ev.Text == "" {
			continue
		}
		out = append(out, captions.Caption{ID: ev.ID, Seq: int64(len(out) + 1), Final: true, Lang: lang,
			StartMS: ev.Start.Milliseconds(), EndMS: ev.End.Milliseconds(), Text: ev.Text})
	}
	return out
}

func writeSubtitles(path string, stdout io.Writer, format, lang string, cues []captions.Caption) error {
	w := stdout
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return subtitle.Write(w, format, cues, subtitle.Options{Lang: lang})
}

// writeTranslations writes NAME.LANG.EXT beside out for every target language, through the
// same translation stage (translators, pivots, fallbacks) as live captions.
func writeTranslations(ctx context.Context, cfg Config, out, format, from string, langs []string, cues []captions.Caption) error {
	log, _ := newLogger("warn")
	translators, err := newTranslators(cfg, log)
	if err != nil {
		return err
	}
	if len(translators) == 0 {
		return errors.New("transcribe: --translate needs a translator (--translators)")
	}
	defer func() {
		for _, t := range translators {
			if c, ok := t.(io.Closer); ok {
				c.Close()
			}
		}
	}()
	stage, err := translate.NewStage(translate.StageConfig{Translators: translators, Store: &memoryStore{},
		Publish: func(string, captions.Caption) {}, Logger: log})
	if err != nil {
		return err
	}
	defer stage.Close()
	ext := filepath.Ext(out)
	for _, to := range langs {
		translated, err := stage.TranslateAll(ctx, "file", from, to, cues)
		if err != nil {
			return fmt.Errorf("translate to %s: %w", to, err)
		}
		if err := writeSubtitles(strings.TrimSuffix(out, ext)+"."+to+ext, nil, format, to, translated); err != nil {
			return err
		}
	}
	return nil
}

// memoryStore keeps a CLI run's translations: there is no database for a file.
type memoryStore struct {
	mu sync.Mutex
	m  map[string]captions.Caption
}

func (s *memoryStore) SaveTranslation(_ context.Context, _ string, c captions.Caption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]captions.Caption{}
	}
	s.m[c.Lang+"\x00"+c.ID] = c
	return nil
}

func (s *memoryStore) Translations(_ context.Context, _, lang string, ids []string) (map[string]captions.Caption, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]captions.Caption{}
	for _, id := range ids {
		if c, ok := s.m[lang+"\x00"+id]; ok {
			out[id] = c
		}
	}
	return out, nil
}

// progressBar draws progress on stderr when it is a terminal.
func progressBar(quiet bool) func(done, total time.Duration) {
	if fi, err := os.Stderr.Stat(); quiet || err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(done, total time.Duration) {
		if total <= 0 {
			fmt.Fprintf(os.Stderr, "\r%s transcribed", done.Truncate(time.Second))
			return
		}
		const width = 30
		n := min(width, int(float64(width)*done.Seconds()/total.Seconds()))
		fmt.Fprintf(os.Stderr, "\r[%s%s] %3.0f%% %s/%s ", strings.Repeat("#", n), strings.Repeat(".", width-n),
			100*done.Seconds()/total.Seconds(), done.Truncate(time.Second), total.Truncate(time.Second))
		if done >= total {
			fmt.Fprintln(os.Stderr)
		}
	}
}

package translate

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/captions"
	"lectern/internal/region"
)

// StageConfig configures a Stage. Zero values get the defaults noted.
type StageConfig struct {
	// Translators in preference order; the first healthy, allowed one offering the pair is used.
	Translators []Translator
	// Store keeps translated finals. Required.
	Store Store
	// Publish sends a caption to the stream of c.Lang for the webinar. Required. It is called
	// from the stage's workers and from Submit, so it must not block (the captions hub queues
	// per viewer, bounded).
	Publish func(webinarID string, c captions.Caption)
	// Regions says where a webinar's text may be sent (account policy ∩ webinar setting); a
	// translator outside it is never called. Nil: every configured translator is allowed.
	Regions func(webinarID string) region.Set

	Registerer prometheus.Registerer
	Logger     *slog.Logger

	// Timeout of one live translation call (per translator tried). Default 5 s.
	Timeout time.Duration
	// ExportTimeout of one TranslateAll batch call (per translator tried). Default 60 s.
	ExportTimeout time.Duration
	// Workers translating live finals; a webinar always goes to the same worker so its
	// translated finals are published in Seq order. Default 2.
	Workers int
	// QueueSize per worker. Default 256 finals.
	QueueSize int
	// CacheSize in translated finals. Default 10,000.
	CacheSize int
	// BatchSize of TranslateAll calls. Default 50 (DeepL's limit per request).
	BatchSize int
	// Backoff after a first failure, doubling up to MaxBackoff. Defaults 1 s and 5 min.
	Backoff, MaxBackoff time.Duration
	// QuotaBackoff after a quota or credentials error. Default 1 h.
	QuotaBackoff time.Duration
	// LanguagesTTL: how long a translator's list of directions is trusted. Default 10 min.
	LanguagesTTL time.Duration
	// PartialInterval enables translated partials (SubmitPartial): at most one per webinar per
	// interval. Zero (default): partials are not translated.
	PartialInterval time.Duration
	// PartialMinWords: a partial's stable prefix is translated once it has this many words
	// (and grew since the last one). Default 6.
	PartialMinWords int
	// Now is the clock (tests inject one to step over back-offs). Default time.Now.
	Now func() time.Time
}

func (c *StageConfig) defaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.ExportTimeout <= 0 {
		c.ExportTimeout = time.Minute
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	if c.CacheSize <= 0 {
		c.CacheSize = 10000
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 50
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.QuotaBackoff <= 0 {
		c.QuotaBackoff = time.Hour
	}
	if c.LanguagesTTL <= 0 {
		c.LanguagesTTL = 10 * time.Minute
	}
	if c.PartialMinWords <= 0 {
		c.PartialMinWords = 6
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Stage translates the finals of live webinars into the languages in demand.
//
// Source captions never wait for it: the caller publishes a final, then calls Submit, which
// only queues. Each final is translated once per language in demand, whatever the number of
// readers, then cached, stored and published with the source's ID and Seq.
//
// Partials are translated only when StageConfig.PartialInterval is set (off by default), and
// then only the stable prefix of a long partial, at most once per interval: see SubmitPartial.
//
// A full queue (the translators are slower than speech) drops the final for translation, but
// not silently: every language in demand immediately gets the source line marked
// "translation unavailable", and the drop is counted. Nothing is stored for it, so an export
// in that language later translates it on demand (TranslateAll).
type Stage struct {
	cfg     StageConfig
	log     *slog.Logger
	m       *metrics
	cache   *cache
	demand  *demand
	backoff backoff
	backs   []*backend

	ctx     context.Context
	cancel  context.CancelFunc
	queues  []chan job
	wg      sync.WaitGroup
	lastLog atomic.Int64 // unix nanos of the last drop log, to rate-limit it

	// pmu orders partial and final jobs of an utterance: a partial is never queued after its
	// final (see SubmitPartial).
	pmu      sync.Mutex
	partials map[string]*partialState // by webinar
}

type job struct {
	webinarID string
	final     captions.Caption // or a partial, when partial is set
	partial   bool
	langs     []string
}

// NewStage starts the stage's workers; Close stops them.
func NewStage(cfg StageConfig) (*Stage, error) {
	if cfg.Store == nil || cfg.Publish == nil {
		return nil, errors.New("translate: StageConfig needs Store and Publish")
	}
	cfg.defaults()
	m := newMetrics(cfg.Registerer)
	s := &Stage{
		cfg: cfg, log: cfg.Logger.With("component", "translate"), m: m,
		cache:    newCache(cfg.CacheSize),
		demand:   newDemand(demandGauge(m.demand)),
		backoff:  backoff{base: cfg.Backoff, max: cfg.MaxBackoff, quota: cfg.QuotaBackoff},
		partials: map[string]*partialState{},
	}
	for _, t := range cfg.Translators {
		s.backs = append(s.backs, &backend{t: t, name: t.Name(), region: t.Region()})
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for i := 0; i < cfg.Workers; i++ {
		q := make(chan job, cfg.QueueSize)
		s.queues = append(s.queues, q)
		s.wg.Add(1)
		go s.work(q)
	}
	return s, nil
}

// Close stops the workers; queued finals are abandoned. Submit after Close does nothing.
func (s *Stage) Close() {
	s.cancel()
	s.wg.Wait()
}

// Want records how many viewers read a webinar's captions in lang (0 when the last leaves).
func (s *Stage) Want(webinarID, lang string, readers int) {
	s.demand.update(webinarID, func(w *webinarDemand) {
		if readers > 0 {
			w.readers[lang] = readers
		} else {
			delete(w.readers, lang)
		}
	})
}

// Preselect replaces the languages the host wants translated whether or not anyone reads them
// (so exports exist in them without an on-demand translation).
func (s *Stage) Preselect(webinarID string, langs []string) {
	s.demand.update(webinarID, func(w *webinarDemand) {
		clear(w.preselect)
		for _, l := range langs {
			w.preselect[l] = true
		}
	})
}

// Forget drops a webinar's demand when it ends.
func (s *Stage) Forget(webinarID string) {
	s.demand.update(webinarID, func(w *webinarDemand) {
		clear(w.readers)
		clear(w.preselect)
	})
	s.pmu.Lock()
	delete(s.partials, webinarID)
	s.pmu.Unlock()
}

// InDemand lists the languages a webinar's finals are translated into, except source.
func (s *Stage) InDemand(webinarID, source string) []string {
	return s.demand.in(webinarID, source)
}

// Submit queues a final for translation into every language in demand. It never blocks.
// Partials are ignored here (see SubmitPartial).
func (s *Stage) Submit(webinarID string, final captions.Caption) {
	if !final.Final || s.ctx.Err() != nil {
		return
	}
	langs := s.demand.in(webinarID, final.Lang)
	if len(langs) == 0 {
		return
	}
	q := s.queues[shard(webinarID, len(s.queues))]
	// Under pmu, so that no partial of this utterance is queued after it.
	s.pmu.Lock()
	if st := s.partials[webinarID]; st != nil && st.id == final.ID {
		st.done = true
	}
	queued := false
	select {
	case q <- job{webinarID: webinarID, final: final, langs: langs}:
		queued = true
	default:
	}
	s.pmu.Unlock()
	if !queued {
		s.m.dropped.Inc()
		for _, l := range langs {
			s.publishUnavailable(webinarID, final, l)
			s.m.captions.WithLabelValues("dropped").Inc()
		}
		now := time.Now().UnixNano()
		if last := s.lastLog.Load(); now-last > int64(10*time.Second) && s.lastLog.CompareAndSwap(last, now) {
			s.log.Warn("translation queue full, finals published untranslated", "webinar", webinarID, "langs", langs)
		}
	}
}

// demandGauge moves the languages-in-demand gauge and deletes a language's series once no
// webinar wants it, so the series are the languages read now, not every code ever asked
// for. demand calls it under its lock.
func demandGauge(g *prometheus.GaugeVec) func(lang string, delta float64) {
	webinars := map[string]float64{}
	return func(lang string, delta float64) {
		n := webinars[lang] + delta
		if n <= 0 {
			delete(webinars, lang)
			g.DeleteLabelValues(lang)
			return
		}
		webinars[lang] = n
		g.WithLabelValues(lang).Set(n)
	}
}

func shard(webinarID string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(webinarID))
	return int(h.Sum32() % uint32(n))
}

// work owns one queue until Close. A job's languages are translated in parallel; jobs one
// after another, so each language's stream keeps Seq order.
func (s *Stage) work(q chan job) {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case j := <-q:
			var wg sync.WaitGroup
			for _, l := range j.langs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if j.partial {
						s.translatePartial(j.webinarID, j.final, l)
					} else {
						s.translateFinal(j.webinarID, j.final, l)
					}
				}()
			}
			wg.Wait()
		}
	}
}

func (s *Stage) translateFinal(webinarID string, src captions.Caption, lang string) {
	key := cacheKey{webinarID, src.ID, lang}
	if c, ok := s.cache.get(key); ok {
		s.m.cacheHits.Inc()
		s.m.captions.WithLabelValues("cached").Inc()
		s.cfg.Publish(webinarID, c)
		return
	}
	out, pivot, err := s.translate(s.ctx, webinarID, []string{src.Text}, src.Lang, lang, s.cfg.Timeout)
	if err != nil {
		if s.ctx.Err() != nil {
			return
		}
		s.log.Warn("translation unavailable", "webinar", webinarID, "caption", src.ID, "from", src.Lang, "to", lang, "err", err)
		s.publishUnavailable(webinarID, src, lang)
		s.m.captions.WithLabelValues("unavailable").Inc()
		return
	}
	c := translated(src, lang, out[0], pivot)
	s.cache.put(key, c)
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.cfg.Store.SaveTranslation(ctx, webinarID, c); err != nil {
		// Still published: viewers are live now; the export will translate it again.
		s.m.storeErrors.Inc()
		s.log.Error("storing translation", "webinar", webinarID, "caption", src.ID, "lang", lang, "err", err)
	}
	s.m.captions.WithLabelValues("translated").Inc()
	s.cfg.Publish(webinarID, c)
}

func translated(src captions.Caption, lang, text, pivot string) captions.Caption {
	c := src
	c.Lang, c.Text, c.Pivot, c.Status = lang, text, pivot, ""
	return c
}

func (s *Stage) publishUnavailable(webinarID string, src captions.Caption, lang string) {
	c := src
	c.Lang, c.Status, c.Pivot = lang, StatusUnavailable, ""
	s.cfg.Publish(webinarID, c)
}

// Status of every configured translator, in preference order, for the status endpoint.
func (s *Stage) Status() []TranslatorStatus {
	now := s.cfg.Now()
	out := make([]TranslatorStatus, len(s.backs))
	for i, be := range s.backs {
		out[i] = be.status(now)
	}
	return out
}

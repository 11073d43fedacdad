package transcribe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/pion/opus"
	"github.com/pion/opus/pkg/oggreader"
)

// ErrNoFFmpeg is returned for a file that is neither WAV nor Ogg/Opus when ffmpeg is not
// installed to convert it.
var ErrNoFFmpeg = errors.New("only WAV and Ogg/Opus can be read without ffmpeg; install ffmpeg for other formats")

// source yields 16 kHz mono audio in chunks; io.EOF after the last.
type source interface {
	next(out []float32) ([]float32, error)
	total() time.Duration // 0 when unknown
	close() error
}

// TranscribeFile transcribes an audio file through the same VAD, segmentation and pool as a
// live webinar, as fast as the engine allows, and returns its finals in order. Partials and
// speculative finals are not produced (nobody watches them). progress, when set, is called with the audio time
// transcribed so far and the file's length (0 when unknown).
func TranscribeFile(ctx context.Context, path string, eng Engine, cfg Config, progress func(done, total time.Duration)) ([]Event, error) {
	cfg = cfg.withDefaults()
	cfg.PartialEvery = 0
	cfg.EarlyFinal = false // no one waits for a file's captions: spend no CPU guessing
	cfg.MaxLag = -1        // nor sheds or skips anything to keep up
	src, err := openSource(ctx, path)
	if err != nil {
		return nil, err
	}
	defer src.close()
	total := src.total()

	pool, err := NewPool(eng, cfg, nil)
	if err != nil {
		return nil, err
	}
	var (
		mu     sync.Mutex
		events []Event
	)
	pipe := newPipeline(cfg, pool, "file", &mu, func(ev Event) {
		if !ev.Final {
			return
		}
		events = append(events, ev)
		if progress != nil {
			progress(ev.End, total)
		}
	})

	abort := func(err error) ([]Event, error) {
		pool.abort()
		return nil, err
	}
	var buf []float32
	for {
		if err := ctx.Err(); err != nil {
			return abort(err)
		}
		buf, err = src.next(buf[:0])
		pipe.feed(buf, time.Now())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return abort(fmt.Errorf("%s: %w", path, err))
		}
		// Read no further ahead than the workers can take: the file may be hours long.
		if err := pool.waitFinalsBelow(ctx, 2*cfg.Workers); err != nil {
			return abort(err)
		}
	}
	pipe.flush()
	done := make(chan struct{})
	go func() { pipe.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return abort(ctx.Err())
	}
	pool.Close()
	if progress != nil {
		progress(max(total, samplesToDur(pipe.pos)), total)
	}
	mu.Lock()
	defer mu.Unlock()
	return events, nil
}

func openSource(ctx context.Context, path string) (source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	magic, _ := br.Peek(4)
	switch {
	case bytes.Equal(magic, []byte("RIFF")):
		w, err := newWAVReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &wavSource{w: w, rs: newResampler(w.rate, SampleRate), c: f}, nil
	case bytes.Equal(magic, []byte("OggS")):
		s, err := newOggSource(br, f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	}
	f.Close()
	return ffmpegSource(ctx, path)
}

type wavSource struct {
	w    *wavReader
	rs   *resampler
	c    io.Closer
	tmp  []float32
	done bool
}

func (s *wavSource) next(out []float32) ([]float32, error) {
	if s.done {
		return out, io.EOF
	}
	var err error
	s.tmp, err = s.w.read(s.tmp[:0], 16384)
	out = s.rs.process(s.tmp, out)
	if errors.Is(err, io.EOF) {
		s.done = true
		out = s.rs.flush(out)
	}
	return out, err
}

func (s *wavSource) total() time.Duration { return samplesToDur(s.w.duration()) }
func (s *wavSource) close() error         { return s.c.Close() }

// oggSource decodes Ogg/Opus (RFC 7845) straight to 16 kHz mono.
type oggSource struct {
	r       *oggreader.OggReader
	dec     opus.Decoder
	pcm     []float32
	preSkip int // samples at 16 kHz still to drop (encoder delay)
	c       io.Closer
}

func newOggSource(r io.Reader, c io.Closer) (*oggSource, error) {
	or, hdr, err := oggreader.NewWith(r)
	if err != nil {
		return nil, fmt.Errorf("ogg: %w", err)
	}
	dec, err := opus.NewDecoderWithOutput(SampleRate, 1)
	if err != nil {
		return nil, err
	}
	return &oggSource{r: or, dec: dec, pcm: make([]float32, 5760), preSkip: int(hdr.PreSkip) / 3, c: c}, nil
}

func (s *oggSource) next(out []float32) ([]float32, error) {
	for range 50 { // about a second of 20 ms packets per call
		pkt, _, err := s.r.ParseNextPacket()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return out, io.EOF
			}
			return out, fmt.Errorf("ogg: %w", err)
		}
		if bytes.HasPrefix(pkt, []byte("OpusTags")) || bytes.HasPrefix(pkt, []byte("OpusHead")) {
			continue
		}
		n, err := s.dec.DecodeToFloat32(pkt, s.pcm)
		if err != nil {
			// A damaged packet: keep time by inserting 20 ms of silence rather than failing the file.
			n = FrameSamples
			clear(s.pcm[:n])
		}
		pcm := s.pcm[:n]
		if s.preSkip > 0 {
			k := min(s.preSkip, len(pcm))
			pcm, s.preSkip = pcm[k:], s.preSkip-k
		}
		out = append(out, pcm...)
	}
	return out, nil
}

func (s *oggSource) total() time.Duration { return 0 }
func (s *oggSource) close() error         { return s.c.Close() }

// ffmpegSource converts any other format with ffmpeg to 16 kHz mono WAV on a pipe.
func ffmpegSource(ctx context.Context, path string) (source, error) {
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNoFFmpeg)
	}
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-v", "error", "-i", path,
		"-f", "wav", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w", err)
	}
	w, err := newWAVReader(out)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("ffmpeg %s: %v: %s", path, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return &wavSource{w: w, rs: newResampler(w.rate, SampleRate), c: cmdCloser{cmd}}, nil
}

type cmdCloser struct{ cmd *exec.Cmd }

func (c cmdCloser) Close() error {
	c.cmd.Process.Kill()
	return c.cmd.Wait()
}

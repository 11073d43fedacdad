package apertium

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// errDied reports that the pipeline exited (or was killed) while a request was in flight.
var errDied = errors.New("apertium pipeline exited")

// process is one long-lived Apertium pipeline for one direction, in null-flush mode: a request
// is text followed by NUL, the answer ends with NUL. One request at a time (mu): the pipeline
// is a stream, and interleaving two requests would mix their answers.
//
// We do not run the `apertium` wrapper script: its gawk SETVAR stage and apertium-destxt do
// not pass the NUL through promptly, so `apertium -z` never answers an open pipe (tested with
// apertium 3.8.3). We run the mode's own pipeline from `apertium-wblank-mode -z`, and under
// `stdbuf -o0` because lt-proc 3.7.1 in bilingual mode (-b -z) writes the NUL but does not
// flush it.
type process struct {
	direction direction
	script    string // pipeline from apertium-wblank-mode -z
	stdbuf    string // path of stdbuf, "" when absent
	log       *slog.Logger

	mu  sync.Mutex
	run *running // nil until started, and after it died
}

// running is one incarnation of the pipeline. Its reader goroutine owns stdout and exits when
// the pipeline does; done is closed after cmd.Wait.
type running struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies chan string
	stderr  *tail
	stop    chan struct{}
	done    chan struct{}
}

func newProcess(d direction, script, stdbuf string, log *slog.Logger) *process {
	return &process{direction: d, script: script, stdbuf: stdbuf, log: log}
}

// pipelineScript asks Apertium for the null-flushing version of a mode's pipeline.
func pipelineScript(ctx context.Context, modeFile string) (string, error) {
	out, err := exec.CommandContext(ctx, "apertium-wblank-mode", "-z", modeFile).Output()
	if err != nil {
		return "", fmt.Errorf("apertium-wblank-mode %s: %w", modeFile, err)
	}
	return string(out), nil
}

func (p *process) start() (*running, error) {
	// $1 is the generator option (-n: no unknown-word marks, as `apertium -u`), $2 the
	// tagger option (none).
	args := []string{"bash", "-c", p.script, "apertium", "-n", ""}
	if p.stdbuf != "" {
		args = append([]string{p.stdbuf, "-o0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	// Own process group, so a kill reaches every stage of the pipeline, not just bash.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stderr := &tail{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("apertium %s: start: %w", p.direction.mode, err)
	}
	r := &running{cmd: cmd, stdin: stdin, replies: make(chan string, 1), stderr: stderr, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		br := bufio.NewReader(stdout)
	read:
		for {
			s, err := br.ReadString(0)
			if err != nil {
				break
			}
			select {
			case r.replies <- s[:len(s)-1]:
			case <-r.stop:
				break read
			}
		}
		close(r.replies)
		_ = cmd.Wait()
	}()
	p.log.Debug("apertium started", "mode", p.direction.mode, "pid", cmd.Process.Pid)
	return r, nil
}

// kill ends the whole pipeline and waits for its reader to finish.
func (r *running) kill() {
	close(r.stop)
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	_ = r.stdin.Close()
	<-r.done
}

// translate sends one escaped line and waits for its answer. A dead pipeline is restarted and
// the request retried once (translation is idempotent). On a timeout the pipeline is killed:
// its answer would otherwise arrive as the reply to the next request.
func (p *process) translate(ctx context.Context, in string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for attempt := 0; ; attempt++ {
		out, err := p.roundTrip(ctx, in)
		if err == nil || !errors.Is(err, errDied) || attempt == 1 || ctx.Err() != nil {
			return out, err
		}
		p.log.Warn("apertium pipeline died, restarting", "mode", p.direction.mode)
	}
}

func (p *process) roundTrip(ctx context.Context, in string) (string, error) {
	if p.run == nil {
		r, err := p.start()
		if err != nil {
			return "", err
		}
		p.run = r
	}
	r := p.run
	// Replies left over from a request that never got read would be a bug; drop them.
	select {
	case <-r.replies:
	default:
	}
	if _, err := io.WriteString(r.stdin, in+"\x00"); err != nil {
		r.kill()
		p.run = nil
		return "", fmt.Errorf("apertium %s: write: %w: %w", p.direction.mode, errDied, err)
	}
	select {
	case s, ok := <-r.replies:
		if !ok {
			r.kill()
			p.run = nil
			return "", fmt.Errorf("apertium %s: %w (stderr: %q)", p.direction.mode, errDied, r.stderr.String())
		}
		return s, nil
	case <-ctx.Done():
		r.kill()
		p.run = nil
		return "", fmt.Errorf("apertium %s: %w", p.direction.mode, ctx.Err())
	}
}

// pid of the running pipeline's process group, 0 if none (for tests).
func (p *process) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return 0
	}
	return p.run.cmd.Process.Pid
}

func (p *process) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run != nil {
		p.run.kill()
		p.run = nil
	}
}

// tail keeps the last bytes a pipeline wrote to stderr, for the error that reports its death.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 512 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-512:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

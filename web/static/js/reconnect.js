// What the studio and the watch page share when a connection drops: a growing, jittered pause
// between attempts, and one status line that says what is happening in words.

// Backoff hands out pauses from steps (ms), the last one repeating, each jittered by ±20% so
// a whole audience cut off at once does not come back in one burst.
export class Backoff {
  constructor(steps) { this.steps = steps; this.attempt = 0; }
  next() {
    const base = this.steps[Math.min(this.attempt, this.steps.length - 1)];
    this.attempt++;
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }
  reset() { this.attempt = 0; }
}

// Notice is a status line (role="status"): a message, or a countdown to the next attempt.
export class Notice {
  constructor(el) { this.el = el; this.timer = 0; this.tick = 0; }

  clear() {
    clearTimeout(this.timer);
    clearInterval(this.tick);
    this.el.textContent = '';
    this.el.classList.add('hidden');
    delete this.el.dataset.kind;
  }

  // show displays text; kind is "warn" or "ok"; a message with clearAfterMs goes by itself.
  show(text, kind, clearAfterMs) {
    this.clear();
    this.el.textContent = text;
    this.el.dataset.kind = kind || 'warn';
    this.el.classList.remove('hidden');
    if (clearAfterMs) this.timer = setTimeout(() => this.clear(), clearAfterMs);
  }

  // countdown shows "<before> N s…<after>", counting down each second, then calls then().
  countdown(before, ms, after, then) {
    const end = Date.now() + ms;
    const render = () => {
      const s = Math.max(1, Math.ceil((end - Date.now()) / 1000));
      this.el.textContent = before + ' ' + s + ' s…' + (after || '');
    };
    this.show('', 'warn');
    render();
    this.tick = setInterval(render, 1000);
    this.timer = setTimeout(() => { clearInterval(this.tick); then(); }, ms);
  }
}

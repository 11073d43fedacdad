// Live captions on the watch page: an SSE stream of caption events, shown roll-up style in at
// most two lines of about 42 characters; a partial is replaced in place by its final. With
// several people on stage each speaker's turn starts with their name.
import { CaptionLines } from './caption-lines.js';

const lineChars = 42;
const maxLines = 2;
const keepFinals = 4;

function wrap(text) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > lineChars) { lines.push(line); line = word; }
    else line = line ? line + ' ' + word : word;
  }
  if (line) lines.push(line);
  return lines;
}

export class CaptionView {
  constructor(webinar, spoken, token) {
    this.webinar = webinar;
    this.spoken = spoken;
    // EventSource cannot send headers: a private webinar's join token goes in the query.
    this.tokenQuery = token ? 't=' + encodeURIComponent(token) : '';
    this.el = document.getElementById('captions');
    this.captions = new CaptionLines(keepFinals);
    this.status = null;    // {state, lag_ms} while captions are delayed or paused
    this.source = null;
    const $ = (id) => document.getElementById(id);
    this.lang = localStorage.getItem('lectern.cc.lang') || spoken;
    $('cc').addEventListener('click', () => {
      const on = this.el.classList.toggle('off') === false;
      $('cc').setAttribute('aria-pressed', String(on));
      $('cc').textContent = on ? 'Captions on' : 'Captions off';
    });
    $('cc-size').addEventListener('change', (e) => {
      this.el.classList.remove('size-s', 'size-m', 'size-l');
      this.el.classList.add('size-' + e.target.value);
    });
    $('cc-lang').addEventListener('change', (e) => this.switchTo(e.target.value));
    this.loadLanguages($('cc-lang'));
    this.switchTo(this.lang);
  }

  async loadLanguages(select) {
    let langs = [this.spoken];
    try {
      const res = await fetch('/api/webinars/' + encodeURIComponent(this.webinar) + '/languages' + (this.tokenQuery ? '?' + this.tokenQuery : ''));
      if (res.ok) langs = (await res.json()).languages || langs;
    } catch { /* translation not available: spoken language only */ }
    const names = new Intl.DisplayNames([navigator.language || 'en'], { type: 'language' });
    select.replaceChildren(...langs.map((l) => {
      const o = document.createElement('option');
      o.value = l;
      o.textContent = (names.of(l) || l) + (l === this.spoken ? ' (original)' : '');
      o.selected = l === this.lang;
      return o;
    }));
  }

  // switchTo changes the caption language without touching the video.
  switchTo(lang) {
    this.lang = lang;
    localStorage.setItem('lectern.cc.lang', lang);
    this.el.lang = lang;
    if (this.source) this.source.close();
    this.captions.clear();
    this.render();
    const url = '/api/webinars/' + encodeURIComponent(this.webinar) + '/captions?lang=' + encodeURIComponent(lang) +
      (this.tokenQuery ? '&' + this.tokenQuery : '');
    this.source = new EventSource(url);
    this.source.onmessage = (e) => this.onCaption(JSON.parse(e.data));
    // The server says when the speech engine falls behind (event: status).
    this.source.addEventListener('status', (e) => this.onStatus(JSON.parse(e.data)));
  }

  onStatus(s) {
    this.status = s.state === 'ok' ? null : s;
    this.render();
  }

  // statusText says why captions lag or stop, so viewers do not think they are broken.
  statusText() {
    const s = this.status;
    if (!s) return '';
    if (s.state === 'unavailable') return 'Live captions are unavailable for this webinar' + (s.reason ? ': ' + s.reason : '');
    if (s.state === 'paused') return 'Captions paused, catching up (the transcript will be complete)';
    const secs = Math.max(1, Math.round((s.lag_ms || 0) / 1000));
    return 'Captions delayed (about ' + secs + ' s behind)';
  }

  onCaption(c) {
    this.captions.add(c);
    this.render();
  }

  render() {
    const rows = [];
    const entries = this.captions.lines();
    const talking = entries.filter((e) => !e.final).length;
    for (const e of entries) {
      let lines = wrap(e.label + e.text);
      // Two people talking at once: each keeps at least their newest line on screen.
      if (!e.final && talking > 1) lines = lines.slice(-1);
      for (const l of lines) rows.push({ text: l, cls: e.final ? 'line' : 'line partial', note: e.final ? e.note : '' });
    }
    const shown = rows.slice(-Math.max(maxLines, talking));
    const status = this.statusText();
    if (status) shown.push({ text: status, cls: 'line status', state: this.status.state });
    this.el.replaceChildren(...shown.map((r) => {
      const d = document.createElement('div');
      d.className = r.cls;
      d.textContent = r.text;
      if (r.state) {
        d.id = 'cc-status';
        d.dataset.state = r.state;
        d.setAttribute('role', 'status');
      }
      if (r.note) {
        const n = document.createElement('span');
        n.className = 'note';
        n.textContent = ' (' + r.note + ')';
        d.append(n);
      }
      return d;
    }));
  }
}

// The console's caption preview: the last lines viewers read, from the webinar's caption
// stream in the spoken language, so the presenter sees whether speech is being understood.
import { CaptionLines } from './caption-lines.js';

const keepFinals = 3;

export class CaptionPreview {
  // token: a join token for a non-public webinar when the presenter has no session (the
  // stream key cannot ride on an EventSource); "" otherwise.
  constructor(webinar, lang, token) {
    this.lines = new CaptionLines(keepFinals);
    this.el = document.getElementById('cc-lines');
    const q = new URLSearchParams({ lang: lang || 'en' });
    if (token) q.set('t', token);
    this.source = new EventSource('/api/webinars/' + encodeURIComponent(webinar) + '/captions?' + q);
    this.source.onmessage = (e) => this.onCaption(JSON.parse(e.data));
  }

  onCaption(c) {
    this.lines.add(c);
    this.render();
  }

  render() {
    const lines = this.lines.lines().map((c) => {
      const p = document.createElement('p');
      p.textContent = c.label + c.text;
      if (!c.final) p.className = 'partial';
      return p;
    });
    if (lines.length) this.el.replaceChildren(...lines);
  }

  close() { this.source.close(); }
}

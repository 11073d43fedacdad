// The console's caption preview: the last lines viewers read, from the webinar's caption
// stream in the spoken language, so the presenter sees whether speech is being understood.
const keepFinals = 3;

export class CaptionPreview {
  // token: a join token for a non-public webinar when the presenter has no session (the
  // stream key cannot ride on an EventSource); "" otherwise.
  constructor(webinar, lang, token) {
    this.finals = [];
    this.partial = null;
    this.el = document.getElementById('cc-lines');
    const q = new URLSearchParams({ lang: lang || 'en' });
    if (token) q.set('t', token);
    this.source = new EventSource('/api/webinars/' + encodeURIComponent(webinar) + '/captions?' + q);
    this.source.onmessage = (e) => this.onCaption(JSON.parse(e.data));
  }

  onCaption(c) {
    if (c.final) {
      if (this.partial && this.partial.id === c.id) this.partial = null;
      if (!this.finals.some((f) => f.id === c.id)) this.finals = [...this.finals, c].slice(-keepFinals);
    } else if (!this.finals.some((f) => f.id === c.id)) {
      this.partial = c;
    }
    this.render();
  }

  render() {
    const lines = [...this.finals, ...(this.partial ? [this.partial] : [])].map((c) => {
      const p = document.createElement('p');
      p.textContent = c.text;
      if (!c.final) p.className = 'partial';
      return p;
    });
    if (lines.length) this.el.replaceChildren(...lines);
  }

  close() { this.source.close(); }
}

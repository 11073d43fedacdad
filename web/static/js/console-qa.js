// The console's Q&A panel: questions by votes, answered publicly or privately, or dismissed;
// kept live by the channel's "question" and "question.updated" events (upserts by id).
import { api, $, el } from './session.js';
import { clock, button, busy, placeholder } from './console-ui.js';

export class Questions {
  constructor(webinar) {
    this.base = '/api/webinars/' + encodeURIComponent(webinar);
    this.byId = new Map();  // question id → question
    this.rows = new Map();  // question id → <li>, kept so a half-typed answer survives updates
    this.ended = false;
    $('qa-txt').href = this.base + '/questions.txt';
    $('qa-json').href = this.base + '/questions.json';
  }

  async load() {
    const qs = await api('GET', this.base + '/questions');
    this.byId = new Map((qs || []).map((q) => [q.id, q]));
    this.render();
  }

  // upsert merges: attendees' copy of an event comes first and hides names and private
  // answers; the hosts' full copy follows and fills them in.
  upsert(q) {
    this.byId.set(q.id, { ...this.byId.get(q.id), ...q });
    this.render();
  }

  setEnded() {
    this.ended = true;
    for (const b of $('qa').querySelectorAll('button, input')) b.disabled = true;
  }

  // sorted: most votes first, then oldest first, as the server lists them; dismissed ones go.
  sorted() {
    return [...this.byId.values()].filter((q) => !q.dismissed)
      .sort((a, b) => (b.votes || 0) - (a.votes || 0) || new Date(a.at) - new Date(b.at) || a.id - b.id);
  }

  render() {
    const list = $('qa-list');
    const qs = this.sorted();
    const want = new Set(qs.map((q) => q.id));
    for (const [id, li] of this.rows) if (!want.has(id)) { li.remove(); this.rows.delete(id); }
    for (const q of qs) this.fill(q);
    list.querySelector('.empty')?.remove();
    // Move rows only when the order changed: moving a row takes the focus from its answer box.
    const order = qs.map((q) => this.rows.get(q.id));
    if (order.some((li, i) => list.children[i] !== li)) list.append(...order);
    placeholder(list, 'No questions yet.');
  }

  // fill creates or updates a question's row in place.
  fill(q) {
    let li = this.rows.get(q.id);
    if (!li) {
      li = el('li', {}, el('div', { className: 'meta' }), el('p', { className: 'text' }), el('p', { className: 'answer hidden' }), this.answerForm(q));
      li.dataset.id = String(q.id);
      this.rows.set(q.id, li);
    }
    const asker = (q.name || 'Someone') + (q.anonymous ? ' (anonymous to attendees)' : '');
    li.querySelector('.meta').replaceChildren(
      el('span', { className: 'votes', textContent: (q.votes || 0) + (q.votes === 1 ? ' vote' : ' votes') }),
      el('span', { className: 'muted', textContent: ' · ' + asker + ' · ' + clock(q.at) }));
    li.querySelector('.text').textContent = q.text;
    const ans = li.querySelector('.answer');
    ans.classList.toggle('hidden', !q.answered);
    if (q.answered) {
      ans.textContent = (q.answer_public ? 'Answered for everyone' : 'Answered privately') +
        (q.answered_by ? ' by ' + q.answered_by : '') + ': ' + q.answer;
    }
    li.classList.toggle('answered', !!q.answered);
  }

  answerForm(q) {
    const input = el('input', { type: 'text', maxLength: 1000, placeholder: 'Type an answer' });
    input.setAttribute('aria-label', 'Answer');
    const answer = (pub) => (e) => busy(e.target, () => this.answer(q.id, input, pub));
    const form = el('div', { className: 'compose' }, input,
      button('Answer for everyone', '', answer(true)),
      button('Answer privately', 'secondary', answer(false)),
      button('Dismiss', 'secondary', (e) => busy(e.target, () => this.dismiss(q.id))));
    if (this.ended) for (const c of form.children) c.disabled = true;
    return form;
  }

  async answer(id, input, pub) {
    $('qa-error').textContent = '';
    const text = input.value.trim();
    if (!text) { $('qa-error').textContent = 'Type the answer first.'; input.focus(); return; }
    try {
      this.upsert(await api('POST', this.base + '/questions/' + id + '/answer', { text, public: pub }));
      input.value = '';
    } catch (err) {
      $('qa-error').textContent = 'Could not answer: ' + err.message;
    }
  }

  async dismiss(id) {
    $('qa-error').textContent = '';
    try {
      this.upsert(await api('POST', this.base + '/questions/' + id + '/dismiss'));
    } catch (err) {
      $('qa-error').textContent = 'Could not dismiss: ' + err.message;
    }
  }
}

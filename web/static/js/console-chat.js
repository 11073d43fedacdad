// The console's chat panel: every message (to-hosts ones too), the host's own messages, and
// delete for everyone; kept live by the channel's "chat" and "chat.deleted" events.
import { api, $, el } from './session.js';
import { confirmAction, clock, roleName, button, busy } from './console-ui.js';

// keep bounds the messages in the page: a long class must not grow the DOM without end
// (the export links have the whole chat).
const keep = 500;

export class Chat {
  constructor(webinar) {
    this.base = '/api/webinars/' + encodeURIComponent(webinar);
    this.rows = new Map(); // message id → <li>
    $('chat-txt').href = this.base + '/chat.txt';
    $('chat-json').href = this.base + '/chat.json';
    $('chat-form').addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
  }

  async load() {
    const ms = await api('GET', this.base + '/chat');
    $('chat-list').replaceChildren();
    this.rows.clear();
    for (const m of ms || []) this.add(m);
  }

  add(m) {
    if (this.rows.has(m.id)) return;
    const list = $('chat-list');
    const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
    const head = el('div', { className: 'meta' },
      el('strong', { textContent: m.name || 'Someone' }),
      el('span', { className: 'muted', textContent: ' ' + roleName(m.role) + (m.to === 'hosts' ? ', to the hosts' : '') + ' · ' + clock(m.at) }),
      button('Delete', 'danger', (e) => this.remove(e.target, m)));
    const li = el('li', { className: m.to === 'hosts' ? 'to-hosts' : '' }, head, el('p', { textContent: m.text }));
    li.dataset.id = String(m.id);
    // Ids increase: a message resent after a reconnect or a late load goes in its place.
    const after = [...this.rows.keys()].filter((id) => id > m.id).sort((a, b) => a - b)[0];
    list.insertBefore(li, after === undefined ? null : this.rows.get(after));
    this.rows.set(m.id, li);
    while (this.rows.size > keep) this.drop(Math.min(...this.rows.keys()));
    if (stick) list.scrollTop = list.scrollHeight;
  }

  drop(id) {
    const li = this.rows.get(id);
    if (li) li.remove();
    this.rows.delete(id);
  }

  async remove(b, m) {
    if (!await confirmAction('Delete this message from ' + (m.name || 'someone') + ' for everyone?', 'Delete message')) return;
    await busy(b, async () => {
      $('chat-error').textContent = '';
      try {
        await api('DELETE', this.base + '/chat/' + m.id);
        this.drop(m.id);
      } catch (err) {
        if (err.status === 404) this.drop(m.id);
        else $('chat-error').textContent = 'Could not delete the message: ' + err.message;
      }
    });
  }

  async send() {
    const input = $('chat-text');
    const text = input.value.trim();
    if (!text) return;
    $('chat-error').textContent = '';
    const submit = $('chat-form').querySelector('button[type="submit"]');
    await busy(submit, async () => {
      try {
        this.add(await api('POST', this.base + '/chat', { text, to: $('chat-to').value }));
        input.value = '';
      } catch (err) {
        $('chat-error').textContent = 'Not sent: ' + err.message;
      }
    });
  }

  setEnded() {
    for (const b of $('chat').querySelectorAll('button, input, select')) b.disabled = true;
  }
}

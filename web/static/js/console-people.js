// The console's participants panel (waiting room, who is in the room, promote, remove) and the
// raised-hands queue, kept live from GET .../participants, GET .../hands and the channel's
// "participant" and "hand" events.
import { api, $, el } from './session.js';
import { confirmAction, clock, roleName, button, busy, placeholder } from './console-ui.js';

export class People {
  constructor(webinar) {
    this.base = '/api/webinars/' + encodeURIComponent(webinar);
    this.byId = new Map();   // participant id → {id, name, role, state, joined_at}
    this.hands = [];         // [{participant, name}], first raised first
    this.ended = false;
    this.renderTimer = 0;
    $('admit-all').addEventListener('click', () => busy($('admit-all'), () => this.admitAll()));
  }

  // load replaces what is shown with the server's lists (at start and after a reconnect).
  async load() {
    const [ps, hs] = await Promise.all([api('GET', this.base + '/participants'), api('GET', this.base + '/hands')]);
    this.byId = new Map((ps || []).map((p) => [p.id, p]));
    this.hands = (hs || []).map((h) => ({ participant: h.participant, name: h.name }));
    this.render();
  }

  upsert(p) {
    this.byId.set(p.id, { ...this.byId.get(p.id), ...p });
    this.soon();
  }

  // soon renders once for a burst of events (a hundred joins in a second), not once each.
  soon() {
    if (!this.renderTimer) this.renderTimer = setTimeout(() => this.render(), 50);
  }

  // hand is the channel's {participant, name, raised}: a lowered hand's name may be empty.
  hand(h) {
    this.hands = this.hands.filter((x) => x.participant !== h.participant);
    if (h.raised) this.hands.push({ participant: h.participant, name: h.name });
    this.renderHands();
  }

  setEnded() {
    this.ended = true;
    this.render();
  }

  render() {
    clearTimeout(this.renderTimer);
    this.renderTimer = 0;
    const all = [...this.byId.values()];
    const waiting = all.filter((p) => p.state === 'waiting');
    const inRoom = all.filter((p) => p.state === 'admitted');
    $('waiting').classList.toggle('hidden', waiting.length === 0 || this.ended);
    $('waiting-count').textContent = String(waiting.length);
    $('waiting-list').replaceChildren(...waiting.map((p) => this.waitingRow(p)));
    $('people-list').replaceChildren(...inRoom.map((p) => this.roomRow(p)));
    placeholder($('people-list'), 'Nobody has joined yet.');
    $('people-count').textContent = inRoom.length ? '(' + inRoom.length + ')' : '';
    this.renderHands();
  }

  waitingRow(p) {
    return el('li', { className: 'person' }, this.who(p), el('span', { className: 'actions' },
      button('Admit', '', (e) => busy(e.target, () => this.act(p, 'admit'))),
      button('Deny', 'danger', (e) => this.deny(e.target, p))));
  }

  roomRow(p) {
    const actions = el('span', { className: 'actions' });
    if (!this.ended) {
      if (p.role === 'attendee') actions.append(button('Make panelist', '', (e) => busy(e.target, () => this.act(p, 'promote'))));
      if (p.role === 'panelist') actions.append(button('Make attendee', 'secondary', (e) => busy(e.target, () => this.act(p, 'demote'))));
      if (p.role === 'attendee' || p.role === 'panelist') actions.append(button('Remove', 'danger', (e) => this.remove(e.target, p)));
    }
    return el('li', { className: 'person' }, this.who(p), actions);
  }

  who(p) {
    const li = el('span', { className: 'who' }, el('strong', { textContent: p.name }),
      el('span', { className: 'muted', textContent: ' ' + roleName(p.role) + (p.joined_at ? ', joined ' + clock(p.joined_at) : '') }));
    li.dataset.pid = p.id;
    return li;
  }

  renderHands() {
    const list = $('hands-list');
    list.replaceChildren(...this.hands.map((h) => {
      const p = this.byId.get(h.participant);
      const name = h.name || (p && p.name) || 'Someone';
      const actions = el('span', { className: 'actions' });
      if (!this.ended) {
        // Only a participant who joined by name can become a panelist.
        if (p && p.role === 'attendee') actions.append(button('Make panelist', '', (e) => busy(e.target, () => this.act(p, 'promote'))));
        actions.append(button('Lower hand', 'secondary', (e) => busy(e.target, () => this.lower(h))));
      }
      const li = el('li', { className: 'person' }, el('span', { className: 'who' }, el('strong', { textContent: name })), actions);
      li.dataset.pid = h.participant;
      return li;
    }));
    placeholder(list, 'No hands raised.');
  }

  // act runs one moderation route; the API's own message says what went wrong.
  async act(p, action) {
    $('people-error').textContent = '';
    try {
      const changed = await api('POST', this.base + '/participants/' + encodeURIComponent(p.id) + '/' + action);
      if (changed && changed.id) this.upsert(changed);
      if (action === 'promote') this.hand({ participant: p.id, raised: false });
    } catch (err) {
      const verb = { admit: 'admit', deny: 'deny', remove: 'remove', promote: 'make a panelist of', demote: 'make an attendee of' }[action];
      $('people-error').textContent = 'Could not ' + verb + ' ' + p.name + ': ' + err.message;
    }
  }

  async deny(b, p) {
    if (!await confirmAction('Deny ' + p.name + '? They cannot join this webinar again with their link.', 'Deny')) return;
    await busy(b, () => this.act(p, 'deny'));
  }

  async remove(b, p) {
    if (!await confirmAction('Remove ' + p.name + ' from the webinar? They are disconnected at once and cannot join again with their link.', 'Remove')) return;
    await busy(b, () => this.act(p, 'remove'));
  }

  async admitAll() {
    const waiting = [...this.byId.values()].filter((p) => p.state === 'waiting');
    await Promise.all(waiting.map((p) => this.act(p, 'admit')));
  }

  async lower(h) {
    $('people-error').textContent = '';
    try {
      await api('DELETE', this.base + '/hands/' + encodeURIComponent(h.participant));
      this.hand({ participant: h.participant, raised: false });
    } catch (err) {
      if (err.status === 404) this.hand({ participant: h.participant, raised: false }); // already down
      else $('people-error').textContent = 'Could not lower the hand: ' + err.message;
    }
  }
}

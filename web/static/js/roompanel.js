// The watch page's side panel: chat, Q&A and the raised hand, as an attendee sees them. It
// renders what the live channel and the REST history say; events are upserts keyed by id,
// so a history reload after a reconnect and a replayed event never show a message twice.

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const roleNames = { host: 'Host', cohost: 'Co-host', panelist: 'Panelist' };
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

// RoomPanel drives #panel and the hand button. call(method, path, body) is the page's API
// client (it carries the participant token); it throws Errors with .status and the server's
// message.
export class RoomPanel {
  constructor(call) {
    this.call = call;
    this.me = { id: '', role: 'attendee' };
    this.allowed = { chat: 'everyone', qa: true };
    this.chat = new Map();      // id → message
    this.questions = new Map(); // id → question
    this.voted = new Set();     // question ids this participant voted for
    this.raised = false;
    this.active = false;
    this.unread = 0; // chat messages that arrived while the chat was out of sight
    this.bind();
  }

  bind() {
    $('tab-chat').addEventListener('click', () => this.showTab('chat'));
    $('tab-qa').addEventListener('click', () => this.showTab('qa'));
    // Arrow keys move between the two tabs, as a tab list does.
    document.querySelector('#panel .tabs').addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      const next = $('tab-chat').getAttribute('aria-selected') === 'true' ? 'qa' : 'chat';
      this.showTab(next);
      $('tab-' + next).focus();
    });
    $('chat-form').addEventListener('submit', (e) => { e.preventDefault(); this.sendChat(); });
    $('qa-form').addEventListener('submit', (e) => { e.preventDefault(); this.ask(); });
    // Enter sends, Shift+Enter breaks the line, as in every chat.
    for (const [box, form] of [['chat-text', 'chat-form'], ['qa-text', 'qa-form']]) {
      $(box).addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $(form).requestSubmit(); }
      });
    }
    $('hand').addEventListener('click', () => this.toggleHand());
    $('panel-toggle').addEventListener('click', () => this.setOpen($('panel').classList.contains('hidden')));
    $('qa-list').addEventListener('click', (e) => {
      const b = e.target.closest('button.vote');
      if (b) this.vote(Number(b.closest('li').dataset.id));
    });
  }

  // start shows the panel for participant me ({id, role}).
  start(me) {
    this.me = me;
    this.active = true;
    $('panel').classList.remove('hidden');
    $('panel-toggle').classList.remove('hidden');
    this.setRole(me.role);
  }

  // stop freezes the panel: nothing can be sent any more (ended, removed).
  stop() {
    this.active = false;
    for (const f of ['chat-form', 'qa-form']) $(f).classList.add('hidden');
    $('hand').classList.add('hidden');
  }

  setRole(role) {
    this.me.role = role;
    // Hands are for attendees: panelists and hosts already have the floor.
    $('hand').classList.toggle('hidden', !this.active || role !== 'attendee');
    this.applyAllowed();
  }

  // setAllowed takes the webinar's chat ("everyone" | "hosts" | "off") and qa (bool)
  // settings, from the webinar or a `settings` event; missing fields keep their value.
  setAllowed(s) {
    if (s.chat) this.allowed.chat = s.chat;
    if (typeof s.qa === 'boolean') this.allowed.qa = s.qa;
    this.applyAllowed();
  }

  applyAllowed() {
    if (!this.active) return;
    const staff = this.me.role !== 'attendee';
    const chat = staff ? 'everyone' : this.allowed.chat;
    $('chat-form').classList.toggle('hidden', chat === 'off');
    const everyone = $('chat-to').querySelector('option[value="everyone"]');
    everyone.disabled = chat === 'hosts';
    everyone.hidden = chat === 'hosts';
    if (chat === 'hosts') $('chat-to').value = 'hosts';
    const why = chat === 'off' ? 'Chat is off in this webinar: you can read earlier messages but not send any.'
      : chat === 'hosts' ? 'In this webinar your messages go to the hosts only.' : '';
    $('chat-off').textContent = why;
    $('chat-off').classList.toggle('hidden', !why);
    const qa = staff || this.allowed.qa;
    $('qa-form').classList.toggle('hidden', !qa);
    $('qa-off').textContent = qa ? '' : 'Q&A is off in this webinar: no new questions or votes for now.';
    $('qa-off').classList.toggle('hidden', qa);
    this.renderQuestions();
  }

  // setOpen shows or collapses the panel; the video takes the room it leaves.
  setOpen(open) {
    $('panel').classList.toggle('hidden', !open);
    $('player').classList.toggle('collapsed', !open);
    $('panel-toggle').setAttribute('aria-expanded', String(open));
    if (open && !$('chat').classList.contains('hidden')) this.unread = 0;
    this.renderUnread();
  }

  chatInSight() {
    return !$('panel').classList.contains('hidden') && !$('chat').classList.contains('hidden');
  }

  renderUnread() {
    const n = this.unread ? ' (' + this.unread + ' new)' : '';
    $('tab-chat').textContent = 'Chat' + n;
    $('panel-toggle').textContent = $('panel').classList.contains('hidden') ? 'Show chat and Q&A' + n : 'Hide chat and Q&A';
  }

  showTab(name) {
    for (const t of ['chat', 'qa']) {
      $(t).classList.toggle('hidden', t !== name);
      $('tab-' + t).setAttribute('aria-selected', String(t === name));
      $('tab-' + t).tabIndex = t === name ? 0 : -1;
    }
    if (name === 'chat') { this.unread = 0; this.renderUnread(); }
  }

  // load fetches chat and questions (on open and after every reconnect) and merges them by id.
  async load() {
    const [chat, qs] = await Promise.allSettled([
      this.call('GET', '/chat'), this.call('GET', '/questions')]);
    if (chat.status === 'fulfilled') this.mergeChat(chat.value || []);
    if (qs.status === 'fulfilled') {
      for (const q of qs.value || []) {
        if (q.voted) this.voted.add(q.id);
        this.questions.set(q.id, q);
      }
      this.renderQuestions();
    }
  }

  // mergeChat adds the history; messages it no longer lists up to its newest were deleted
  // while this page was away. Newer ones came by the channel after the snapshot: kept.
  mergeChat(ms) {
    const ids = new Set(ms.map((m) => m.id));
    const newest = ms.reduce((n, m) => Math.max(n, m.id), 0);
    for (const id of [...this.chat.keys()]) if (id <= newest && !ids.has(id)) this.chat.delete(id);
    for (const m of ms) this.chat.set(m.id, m);
    this.renderChat();
  }

  onChat(m) {
    if (!this.chat.has(m.id) && m.from !== this.me.id && !this.chatInSight()) {
      this.unread++;
      this.renderUnread();
    }
    this.chat.set(m.id, m);
    this.renderChat();
  }

  onChatDeleted(d) {
    if (this.chat.delete(d.id)) this.renderChat();
  }

  // onQuestion handles `question` and `question.updated`: an upsert, or a removal when the
  // host dismissed it.
  onQuestion(q) {
    if (q.dismissed && !q.text) this.questions.delete(q.id);
    else this.questions.set(q.id, { ...this.questions.get(q.id), ...q });
    this.renderQuestions();
  }

  onHand(h) {
    if (h.participant !== this.me.id) return;
    this.raised = !!h.raised;
    this.renderHand();
  }

  // renderChat changes only what changed, so the live region announces new messages alone.
  renderChat() {
    const list = $('chat-list');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const shown = new Map();
    for (const li of [...list.children]) {
      const id = Number(li.dataset.id);
      if (this.chat.has(id)) shown.set(id, li);
      else li.remove(); // deleted by a host, or the "no messages" line
    }
    let prev = null;
    for (const id of [...this.chat.keys()].sort((a, b) => a - b)) {
      let li = shown.get(id);
      if (!li) {
        li = this.chatItem(this.chat.get(id));
        if (prev) prev.after(li);
        else list.prepend(li);
      }
      prev = li;
    }
    if (!this.chat.size) list.append(el('li', 'empty', 'No messages yet.'));
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  chatItem(m) {
    const li = el('li', 'msg');
    li.dataset.id = m.id;
    const meta = el('p', 'meta');
    meta.append(el('span', 'who', m.from === this.me.id ? m.name + ' (you)' : m.name));
    if (roleNames[m.role]) meta.append(' ', el('span', 'tag', roleNames[m.role]));
    if (m.to === 'hosts') meta.append(' ', el('span', 'tag private', 'to the hosts'));
    const at = new Date(m.at);
    if (!isNaN(at)) {
      const t = el('time', 'at', timeFormat.format(at));
      t.dateTime = m.at;
      meta.append(' ', t);
    }
    li.append(meta, el('p', 'text', m.text));
    return li;
  }

  // renderQuestions lists questions with the most votes first, then the oldest first.
  renderQuestions() {
    const qs = [...this.questions.values()].sort((a, b) => (b.votes - a.votes) || (a.id - b.id));
    const list = $('qa-list');
    // Re-sorting rebuilds the list: keep the keyboard on the vote button it was on.
    const focused = document.activeElement && list.contains(document.activeElement) ?
      document.activeElement.closest('li').dataset.id : '';
    list.replaceChildren(...qs.map((q) => this.questionItem(q)));
    if (!qs.length) list.append(el('li', 'empty', 'No questions yet.'));
    if (focused) list.querySelector('li[data-id="' + focused + '"] button')?.focus();
  }

  questionItem(q) {
    const li = el('li', 'question');
    li.dataset.id = q.id;
    const meta = el('p', 'meta');
    const who = q.name ? q.name : 'Anonymous';
    meta.append(el('span', 'who', q.asker_id && q.asker_id === this.me.id ? who + ' (you)' : who));
    if (q.anonymous && q.name) meta.append(' ', el('span', 'tag', 'anonymous to attendees'));
    li.append(meta, el('p', 'text', q.text));
    const voted = this.voted.has(q.id);
    const vote = el('button', 'vote small', (voted ? 'Upvoted' : 'Upvote') + ' · ' + q.votes);
    vote.type = 'button';
    vote.setAttribute('aria-pressed', String(voted));
    vote.setAttribute('aria-label', (voted ? 'You upvoted this question' : 'Upvote this question') + ', ' + q.votes + (q.votes === 1 ? ' vote' : ' votes'));
    vote.disabled = voted || !this.active || (!this.allowed.qa && this.me.role === 'attendee');
    li.append(vote);
    if (q.answered && q.answer) {
      const a = el('div', 'answer');
      a.append(el('p', 'meta', 'Answer' + (q.answered_by ? ' from ' + q.answered_by : '') + (q.answer_public ? '' : ' (only you see it)')),
        el('p', 'text', q.answer));
      li.append(a);
    }
    return li;
  }

  renderHand() {
    const b = $('hand');
    b.setAttribute('aria-pressed', String(this.raised));
    b.textContent = this.raised ? 'Lower hand' : 'Raise hand';
  }

  async sendChat() {
    const text = $('chat-text').value.trim();
    if (!text) return;
    $('chat-error').textContent = '';
    try {
      const m = await this.call('POST', '/chat', { text, to: $('chat-to').value });
      $('chat-text').value = '';
      this.onChat(m);
    } catch (err) {
      this.refused('chat-error', err);
    }
  }

  async ask() {
    const text = $('qa-text').value.trim();
    if (!text) return;
    $('qa-error').textContent = '';
    try {
      await this.call('POST', '/questions', { text, anonymous: $('qa-anon').checked });
      $('qa-text').value = '';
      // The question itself arrives by the channel, in the shape this participant may see.
    } catch (err) {
      this.refused('qa-error', err);
    }
  }

  async vote(qid) {
    if (this.voted.has(qid)) return;
    this.voted.add(qid); // at once: a second click must not look like it could count
    this.renderQuestions();
    try {
      const r = await this.call('POST', '/questions/' + qid + '/vote');
      const q = this.questions.get(qid);
      if (q && r && typeof r.votes === 'number') this.onQuestion({ ...q, votes: r.votes });
    } catch (err) {
      this.voted.delete(qid);
      this.renderQuestions();
      this.refused('qa-error', err);
    }
  }

  async toggleHand() {
    const up = !this.raised;
    try {
      await this.call(up ? 'POST' : 'DELETE', '/hand');
      this.raised = up;
      this.renderHand();
    } catch (err) {
      this.refused('chat-error', err);
    }
  }

  // refused shows why the server said no; a 403 means the setting changed under us, so the
  // form follows it until a `settings` event says otherwise.
  refused(where, err) {
    $(where).textContent = err.message;
    if (err.status !== 403) return;
    if (where === 'chat-error' && /off/.test(err.message)) this.setAllowed({ chat: 'off' });
    if (where === 'chat-error' && /hosts only/.test(err.message)) this.setAllowed({ chat: 'hosts' });
    if (where === 'qa-error' && /off/.test(err.message)) this.setAllowed({ qa: false });
  }
}

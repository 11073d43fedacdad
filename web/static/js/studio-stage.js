// The stage in the studio (issue 10): a host's controls over everyone on stage, and each
// presenter's own microphone and camera as the server sees them.
//
// A host's mute is enforced on the server (it stops forwarding); this page then turns the
// track off too and says "muted by the host". A host cannot turn someone's microphone on: they
// ask, and the presenter decides here. A presenter's own toggles call the same route for
// themselves, so hosts and viewers see the state too.
import { api, el, $ } from './session.js';
import { button, busy, confirmAction } from './console-ui.js';

const mediaName = { audio: 'microphone', video: 'camera' };

// StagePanel is the host console's list of who is on stage, with mute, pin and remove.
export class StagePanel {
  constructor(base) {
    this.base = base;
    this.list = $('stage-list');
    $('stage-panel').classList.remove('hidden');
  }

  async load() {
    try { this.update(await api('GET', this.base + '/stage')); } catch (err) { this.error(err); }
  }

  error(err) { $('stage-error').textContent = err ? String(err.message || err) : ''; }

  update(view) {
    const members = (view && view.members) || [];
    this.list.replaceChildren();
    if (!members.length) {
      this.list.append(el('li', { className: 'muted empty', textContent: 'Nobody is on stage.' }));
      return;
    }
    for (const m of members) this.list.append(this.row(m));
  }

  row(m) {
    const state = [];
    if (m.active) state.push(m.pinned ? 'pinned large' : 'speaking, shown large');
    if (m.audio === 'muted') state.push('microphone off');
    if (m.video === 'muted') state.push('camera off');
    const li = el('li', {}, el('span', { className: 'who', textContent: m.name || 'Presenter' }),
      el('span', { className: 'muted', textContent: state.length ? ' — ' + state.join(', ') : '' }));
    li.dataset.member = m.member;
    const actions = el('span', { className: 'actions' });
    for (const medium of ['audio', 'video']) {
      const muted = m[medium] === 'muted';
      const label = muted ? 'Ask to turn ' + mediaName[medium] + ' on' : (medium === 'audio' ? 'Mute microphone' : 'Turn camera off');
      const b = button(label, '', () => busy(b, () => this.set(m, medium, muted ? 'on' : 'muted')));
      b.dataset.action = medium + (muted ? '-ask' : '-mute');
      actions.append(b);
    }
    const pin = button(m.pinned ? 'Unpin' : 'Show large', '', () => busy(pin, () => this.pin(m.pinned ? '' : m.member)));
    pin.dataset.action = 'pin';
    const off = button('Remove from stage', 'danger', () => this.remove(m, off));
    off.dataset.action = 'remove';
    actions.append(pin, off);
    li.append(actions);
    return li;
  }

  async set(m, medium, value) {
    this.error(null);
    try {
      const res = await api('PUT', this.base + '/stage/' + encodeURIComponent(m.member), { [medium]: value });
      if (res && res.ask && res.ask.length) $('stage-error').textContent = 'Asked ' + m.name + ' to turn their ' + mediaName[medium] + ' on.';
    } catch (err) { this.error(err); }
  }

  async pin(member) {
    this.error(null);
    try { await api('PUT', this.base + '/spotlight', { member }); } catch (err) { this.error(err); }
  }

  async remove(m, b) {
    const yes = await confirmAction('Take ' + m.name + ' off the stage? Their broadcast stops now; they stay a panelist and can go live again.', 'Remove from stage');
    if (!yes) return;
    await busy(b, async () => {
      this.error(null);
      try { await api('DELETE', this.base + '/stage/' + encodeURIComponent(m.member)); } catch (err) { this.error(err); }
    });
  }
}

// OwnStage is this presenter's microphone and camera. opts: webinar, member (a user id, or
// "stream-key"), auth() (headers of the presenter's credential), track(medium) (the local
// track), onRemoved() (a host took them off the stage).
export class OwnStage {
  constructor(opts) {
    Object.assign(this, opts);
    this.path = '/api/webinars/' + encodeURIComponent(opts.webinar) + '/stage/' + encodeURIComponent(opts.member);
    $('ask-yes').addEventListener('click', () => this.answerAsk(true));
    $('ask-no').addEventListener('click', () => this.answerAsk(false));
  }

  // toggle is the presenter's own button: the track goes off or on here at once, and the
  // server is told (it holds a muted medium back, and hosts see the state).
  async toggle(medium) {
    const t = this.track(medium);
    if (!t) return;
    await this.set(medium, !t.enabled, false);
    this.report(medium);
  }

  set(medium, on, byHost) {
    const t = this.track(medium);
    if (t) t.enabled = on;
    const b = $(medium === 'audio' ? 'mic' : 'cam');
    b.setAttribute('aria-pressed', String(on));
    b.textContent = medium === 'audio' ? (on ? 'Mute microphone' : 'Unmute microphone') : (on ? 'Turn camera off' : 'Turn camera on');
    const note = $('host-muted');
    if (byHost && !on) {
      note.textContent = 'Your ' + mediaName[medium] + ' was muted by the host. Viewers cannot ' + (medium === 'audio' ? 'hear' : 'see') + ' it until you turn it on again.';
      note.classList.remove('hidden');
    } else if (on) {
      note.classList.add('hidden');
    }
  }

  async report(medium) {
    const t = this.track(medium);
    if (!t) return;
    try {
      const res = await fetch(this.path, { method: 'PUT', headers: { 'Content-Type': 'application/json', ...this.auth() },
        body: JSON.stringify({ [medium]: t.enabled ? 'on' : 'muted' }), credentials: 'same-origin' });
      if (!res.ok && res.status !== 404) $('error').textContent = 'The server did not take your ' + mediaName[medium] + ' change (' + res.status + ').';
    } catch { /* offline: the studio says so */ }
  }

  // onControl hears "stage-control": a host's mute, an ask to unmute, or a removal.
  onControl(ev) {
    if (ev.removed) { this.onRemoved(); return; }
    for (const medium of ['audio', 'video']) {
      if (ev[medium] === 'muted' && ev.by_host) this.set(medium, false, true);
    }
    if (ev.ask && ev.ask.length) {
      this.asked = ev.ask;
      $('ask-text').textContent = 'The host asks you to turn your ' + ev.ask.map((m) => mediaName[m]).join(' and ') + ' on.';
      $('ask').classList.remove('hidden');
    }
  }

  async answerAsk(yes) {
    $('ask').classList.add('hidden');
    const asked = this.asked || [];
    this.asked = null;
    if (!yes) return;
    for (const medium of asked) {
      this.set(medium, true, false);
      await this.report(medium);
    }
  }
}

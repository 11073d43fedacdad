// The studio's host console: everything around the presenter's own camera. Everyone in the
// studio gets the go-live timer, the audience count, the recording indicator and the caption
// preview; a signed-in host or co-host also runs the room (participants and waiting room,
// hands, chat, Q&A, settings, recording, end for everyone), kept live by the room's channel.
// A presenter with only the stream key is a panelist to the server: no moderation for them.
import { api, me, $ } from './session.js';
import { openChannel } from './channel.js';
import { Notice } from './reconnect.js';
import { People } from './console-people.js';
import { Chat } from './console-chat.js';
import { Questions } from './console-qa.js';
import { CaptionPreview } from './console-captions.js';
import { confirmAction, busy } from './console-ui.js';
import { bindSettings } from './console-settings.js';
import { StagePanel } from './studio-stage.js';

const moderators = ['host', 'cohost'];
// How often the audience count and recording state are read for a presenter without the
// channel (and the WHEP viewer count for everyone: the channel counts only participants).
const infoEveryMs = 5000;

// startConsole sets the console up around the studio. opts: webinar (id), info (GET webinar
// answer), signedIn, token (a join token for the caption stream, "" if none), refresh()
// (a fresh GET webinar answer), onEnded() (the studio stops broadcasting for good),
// onStageControl(event) (a host's mute, ask or removal of this presenter: studio-stage.js).
export function startConsole(opts) {
  const c = new Console(opts);
  c.start().catch((err) => { $('room-error').textContent = String(err.message || err); });
  return c;
}

class Console {
  constructor({ webinar, info, signedIn, token, refresh, onEnded, onStageControl }) {
    Object.assign(this, { webinar, info, signedIn, token, refresh, onEnded, onStageControl });
    this.base = '/api/webinars/' + encodeURIComponent(webinar);
    this.recording = false;
    this.roomCount = null;
    this.liveSince = 0;
    this.ended = false;
  }

  async start() {
    this.captions = new CaptionPreview(this.webinar, this.info.language, this.token);
    this.showInfo(this.info);
    setInterval(() => this.poll(), infoEveryMs);
    if (!this.signedIn || !moderators.includes(this.info.role)) {
      this.explainNoModeration();
      document.body.dataset.console = 'presenter';
      return;
    }
    await me(); // the CSRF token every moderation write carries
    $('room-tools').classList.remove('hidden');
    $('panels').classList.remove('hidden');
    this.channelNotice = new Notice($('channel-state'));
    this.settings = bindSettings(this.base, this.info);
    this.people = new People(this.webinar);
    this.chat = new Chat(this.webinar);
    this.qa = new Questions(this.webinar);
    this.stage = new StagePanel(this.base);
    this.bindRecording();
    this.bindEnd();
    this.channel = openChannel(this.webinar, '', this.handlers(), (st, why) => this.onChannel(st, why));
  }

  explainNoModeration() {
    const note = $('sign-in-note');
    note.classList.remove('hidden');
    if (this.signedIn) {
      note.textContent = 'Only the host and co-hosts see participants, chat and questions and moderate this webinar.';
      return;
    }
    const a = document.createElement('a');
    a.href = '/login?next=' + encodeURIComponent(location.pathname);
    a.textContent = 'Sign in';
    note.replaceChildren(a, ' as the host or a co-host to see participants, chat and questions and to moderate.');
  }

  handlers() {
    return {
      participant: (p) => this.people.upsert(p),
      count: (d) => { this.roomCount = d.count; this.showCounts(); },
      hand: (h) => this.people.hand(h),
      chat: (m) => this.chat.add(m),
      'chat.deleted': (d) => this.chat.drop(d.id),
      question: (q) => this.qa.upsert(q),
      'question.updated': (q) => this.qa.upsert(q),
      recording: (d) => this.setRecording(!!d.on),
      settings: (s) => this.settings.apply(s),
      ending: (d) => this.countdown(d),
      ended: () => this.showEnded(),
      stage: (v) => this.stage.update(v),
      'stage-control': (e) => this.onStageControl(e),
    };
  }

  // onChannel: every (re)open reloads the lists, so nothing is missed even past the server's
  // resume window; a 410 means the webinar ended before this page opened.
  onChannel(state, why) {
    if (this.ended) return;
    if (state === 'open') {
      this.channelNotice.clear();
      this.reload();
    } else if (state === 'reconnecting') {
      this.channelNotice.show('Live updates interrupted — reconnecting…', 'warn');
    } else if (why && why.status === 410) {
      this.showEnded();
    } else {
      this.channelNotice.show('Live updates stopped: ' + ((why && why.message) || 'the server refused'), 'warn');
    }
  }

  async reload() {
    try {
      await Promise.all([this.people.load(), this.chat.load(), this.qa.load(), this.stage.load()]);
      document.body.dataset.console = 'moderator';
    } catch (err) {
      $('people-error').textContent = 'Could not load the room: ' + err.message;
    }
  }

  async poll() {
    if (this.ended) return;
    try { this.showInfo(await this.refresh()); } catch { /* the studio says when the server is gone */ }
  }

  showInfo(w) {
    this.info = w;
    this.viewers = w.viewers;
    this.showCounts();
    this.setRecording(!!w.recording);
    if (this.settings) this.settings.apply(w);
  }

  showCounts() {
    const parts = [];
    if (typeof this.viewers === 'number') parts.push(this.viewers + ' watching');
    if (this.roomCount !== null) parts.push(this.roomCount + ' in the room');
    $('viewers').textContent = parts.join(' · ');
  }

  // Recording: a red indicator for everyone while it runs; hosts start and stop it unless the
  // policy forbids it (recording_allowed false, with the reason; absent means allowed).
  bindRecording() {
    $('record').addEventListener('click', () => busy($('record'), async () => {
      $('room-error').textContent = '';
      const on = !this.recording;
      try {
        const res = await api('POST', this.base + '/recording', { on });
        this.setRecording(res && typeof res.recording === 'boolean' ? res.recording : on);
      } catch (err) {
        $('room-error').textContent = 'Could not ' + (on ? 'start' : 'stop') + ' recording: ' + err.message;
      }
    }).then(() => this.showRecordButton()));
  }

  setRecording(on) {
    this.recording = on;
    $('rec-badge').classList.toggle('hidden', !on);
    this.showRecordButton();
  }

  showRecordButton() {
    const b = $('record');
    b.textContent = this.recording ? 'Stop recording' : 'Start recording';
    const blocked = this.info.recording_allowed === false && !this.recording;
    b.disabled = blocked || this.ended;
    $('record-why').textContent = blocked ? (this.info.recording_blocked || 'Recording is not allowed for this webinar.') : '';
  }

  bindEnd() {
    if (this.info.role !== 'host') {
      $('end-all').disabled = true;
      $('end-why').textContent = 'Only the host can end the webinar for everyone.';
      return;
    }
    $('end-all').addEventListener('click', async () => {
      const yes = await confirmAction('End this webinar for everyone? Your broadcast stops, every viewer is ' +
        'disconnected and nobody can rejoin. This cannot be undone.', 'End for everyone');
      if (!yes) return;
      await busy($('end-all'), async () => {
        try {
          await api('POST', this.base + '/end');
          this.showEnded();
        } catch (err) {
          $('room-error').textContent = 'Could not end the webinar: ' + err.message;
        }
      });
    });
  }

  // countdown shows the duration limit's warning, counting down to ends_at.
  countdown(d) {
    const end = Date.parse(d.ends_at) || Date.now() + (d.minutes_left || 0) * 60000;
    clearInterval(this.endingTick);
    const render = () => {
      const s = Math.max(0, Math.round((end - Date.now()) / 1000));
      $('ending').textContent = s > 0
        ? 'Time limit: this webinar ends for everyone in ' + mmss(s) + '.'
        : 'Time limit reached: the webinar is ending…';
      if (s === 0) clearInterval(this.endingTick);
    };
    render();
    $('ending').classList.remove('hidden');
    this.endingTick = setInterval(render, 1000);
  }

  showEnded() {
    if (this.ended) return;
    this.ended = true;
    document.body.dataset.ended = '1';
    clearInterval(this.endingTick);
    $('ending').classList.add('hidden');
    $('ended').classList.remove('hidden');
    $('ended-transcript').href = this.base + '/transcript.vtt' + (this.token ? '?t=' + encodeURIComponent(this.token) : '');
    if (this.channel) this.channel.close();
    if (this.channelNotice) this.channelNotice.clear();
    this.captions.close();
    for (const part of [this.people, this.chat, this.qa]) if (part) part.setEnded();
    for (const b of $('room-tools').querySelectorAll('button, input, select')) b.disabled = true;
    this.offAir();
    this.onEnded();
  }

  // onAir and offAir drive the "live for" timer: it starts when the broadcast first connects
  // and keeps counting through reconnects until the presenter ends the broadcast.
  onAir() {
    if (this.liveSince) return;
    this.liveSince = Date.now();
    const render = () => { $('timer').textContent = 'live for ' + mmss(Math.floor((Date.now() - this.liveSince) / 1000)); };
    render();
    $('timer').classList.remove('hidden');
    this.timerTick = setInterval(render, 1000);
  }

  offAir() {
    clearInterval(this.timerTick);
    this.liveSince = 0;
    $('timer').classList.add('hidden');
  }
}

// mmss: 75 → "1:15", 3725 → "1:02:05".
function mmss(total) {
  const h = Math.floor(total / 3600), m = Math.floor(total / 60) % 60, s = total % 60;
  const two = (n) => String(n).padStart(2, '0');
  return h ? h + ':' + two(m) + ':' + two(s) : m + ':' + two(s);
}

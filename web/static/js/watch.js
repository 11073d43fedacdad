import { negotiate, hangUp, webinarId, webinarInfo, joinToken, PublishError } from './whip.js';
import { CaptionView } from './captions.js';
import { Backoff, Notice } from './reconnect.js';

const $ = (id) => document.getElementById(id);
const id = webinarId();
const token = joinToken();
let pc = null, session = null, captions = null, notice = null, info = null;
let reconnecting = false, retryTimer = 0;
const backoff = new Backoff([1000, 2000, 4000, 8000, 15000]);

// A dead connection must show within a few seconds, not after Chromium's ~30 s ICE timeout:
// media that stops for stallMs while the presenter is live gets the server asked; a server
// that does not answer, or a connection still silent after deadMs, is reconnected.
const stallMs = 2500, deadMs = 8000, disconnectedGraceMs = 2000, probeTimeoutMs = 3000;
// A viewer waiting for a presenter who ended asks the server at most this often, so a large
// idle audience does not poll it every second.
const probeEveryMs = 5000;
const health = { bytes: -1, movedAt: 0, disconnectedAt: 0, probing: false, probedAt: 0 };

function setState(text, live) {
  $('state').textContent = text;
  $('state').classList.toggle('live', !!live);
}

// attach routes the three received tracks by section order: audio, camera, screen.
function attach(pc) {
  const camera = new MediaStream();
  const screen = new MediaStream();
  $('camera').srcObject = camera;
  $('screen').srcObject = screen;
  pc.addEventListener('track', (e) => {
    const sections = pc.getTransceivers();
    if (e.track.kind === 'audio' || e.transceiver === sections[1]) camera.addTrack(e.track);
    else screen.addTrack(e.track);
  });
}

// The screen video only shows while it is receiving frames: a presenter who is not sharing
// sends nothing on that section.
function watchScreen() {
  const screen = $('screen');
  let lastTime = -1;
  setInterval(() => {
    const sharing = screen.videoWidth > 0 && !screen.paused && screen.currentTime !== lastTime;
    lastTime = screen.currentTime;
    screen.classList.toggle('hidden', !sharing);
    $('stage').classList.toggle('sharing', sharing);
  }, 1000);
}

// markFirstFrame records when the first picture is shown, so the join time a viewer
// experiences (offer sent → first frame) can be read from the page's performance timeline.
function markFirstFrame(video) {
  if (video.requestVideoFrameCallback) {
    video.requestVideoFrameCallback(() => performance.mark('lectern:first-frame'));
  }
}

async function connect() {
  if (!reconnecting) setState('connecting…');
  const conn = new RTCPeerConnection();
  pc = conn;
  for (const kind of ['audio', 'video', 'video']) conn.addTransceiver(kind, { direction: 'recvonly' });
  attach(conn);
  Object.assign(health, { bytes: -1, movedAt: Date.now(), disconnectedAt: 0 });
  conn.addEventListener('connectionstatechange', () => {
    if (pc !== conn) return;
    if (conn.connectionState === 'connected') health.disconnectedAt = 0;
    if (conn.connectionState === 'disconnected' && !health.disconnectedAt) health.disconnectedAt = Date.now();
    if (conn.connectionState === 'failed') lost('Connection lost');
    showState();
  });
  try {
    const loc = await negotiate(conn, '/whep/' + encodeURIComponent(id), token);
    if (pc !== conn) { hangUp(loc); return; }
    session = loc;
    for (const v of [$('camera'), $('screen')]) v.play().catch(() => {});
    markFirstFrame($('camera'));
  } catch (err) {
    if (pc !== conn) return;
    if (err instanceof PublishError && !err.retryable) {
      // Refused (link revoked, webinar deleted): retrying will not help; say why.
      $('error').textContent = err.message;
      drop();
      setState('offline');
      notice.clear();
      return;
    }
    lost(err instanceof PublishError && !err.serverDown ? 'The server is busy' : 'Connection lost');
  }
}

// drop ends the current session on both sides.
function drop() {
  const old = pc;
  pc = null;
  if (old) old.close();
  hangUp(session);
  session = null;
}

// lost drops the connection and tries again after a growing pause, so a restarting server is
// not hammered by its whole audience, and says so.
function lost(why, waitMs) {
  if (!pc && reconnecting) return;
  drop();
  reconnecting = true;
  clearTimeout(retryTimer);
  setState('reconnecting…');
  notice.countdown(why + ' — reconnecting in', waitMs || backoff.next(), '', () => {
    notice.show(why + ' — reconnecting now…', 'warn');
    connect();
  });
}

// flowing: media arrived recently on this connection.
const flowing = () => pc && pc.connectionState === 'connected' && health.bytes > 0 && Date.now() - health.movedAt < stallMs;

// showState is the badge: "live" only while media is actually arriving.
function showState() {
  if (!pc) return;
  if (flowing() && info && info.live) {
    setState('live', true);
    if (reconnecting) { notice.show('Reconnected', 'ok', 6000); reconnecting = false; backoff.reset(); }
  } else if (pc.connectionState === 'connected' && info && !info.live) {
    setState('waiting for the presenter');
    if (reconnecting) { notice.show('Reconnected', 'ok', 6000); reconnecting = false; backoff.reset(); }
  } else if (!reconnecting) {
    setState(pc.connectionState === 'connected' ? 'no picture…' : 'connecting…');
  }
}

// checkHealth runs every second: it reads how many bytes arrived and decides whether the
// connection is dead. Silence alone is not death: a presenter may have just ended.
async function checkHealth() {
  const conn = pc;
  if (!conn || health.probing) return;
  let bytes = 0;
  try {
    (await conn.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') bytes += r.bytesReceived || 0; });
  } catch { return; }
  if (pc !== conn) return;
  const now = Date.now();
  if (bytes !== health.bytes) { health.bytes = bytes; health.movedAt = now; }
  if (health.disconnectedAt && now - health.disconnectedAt > disconnectedGraceMs) {
    lost('Connection lost');
    return;
  }
  const silentFor = now - health.movedAt;
  if (conn.connectionState === 'connected' && silentFor >= stallMs && (health.bytes > 0 || (info && info.live)) &&
      (now - health.probedAt >= probeEveryMs || health.probedAt < health.movedAt)) {
    health.probing = true;
    health.probedAt = now;
    const w = await probe();
    health.probing = false;
    if (pc !== conn) return;
    if (!w) { lost('Connection lost'); return; }
  }
  // The server says the presenter is live, yet nothing arrives: this session is stale.
  if (conn.connectionState === 'connected' && info && info.live && Date.now() - health.movedAt >= deadMs) {
    lost('No picture from the server');
    return;
  }
  showState();
}

// probe asks the server about the webinar with a short timeout; null when it does not answer.
async function probe() {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), probeTimeoutMs);
  try {
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    const res = await fetch('/api/webinars/' + encodeURIComponent(id), { headers, signal: ctl.signal, cache: 'no-store' });
    if (!res.ok) return null;
    info = await res.json();
    return info;
  } catch {
    return null;
  } finally {
    clearTimeout(t);
  }
}

async function refresh() {
  try {
    const w = await webinarInfo(id, token);
    info = w;
    $('title').textContent = w.title;
    document.title = w.title + ' · Lectern';
    $('viewers').textContent = w.viewers + ' watching';
    showState();
    return w;
  } catch (err) {
    if (err.status === 0) return null; // server unreachable: checkHealth says so in words
    if (!info) gate(err);
    return null;
  }
}

// gate is what a viewer who is not admitted sees: the passcode or registration form alone, or
// why there is nothing to show; the player appears once the server lets them in.
function gate(err) {
  $('player').classList.add('hidden');
  $('state').classList.add('hidden');
  const need = err.data || {};
  const form = need.registration_required ? 'register' : need.passcode_required ? 'join' : '';
  if (!form) { $('error').textContent = err.message; return; }
  $(form).classList.remove('hidden');
  if (need.registration_required) $('reg-passcode').classList.toggle('hidden', !need.passcode_required);
  $(form).addEventListener('submit', async (e) => {
    e.preventDefault();
    $('error').textContent = '';
    const body = form === 'join' ? { passcode: $('passcode').value }
      : { name: $('reg-name').value, email: $('reg-email').value, passcode: $('reg-passcode-input').value };
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    let res, data;
    try {
      res = await fetch('/api/webinars/' + encodeURIComponent(id) + '/' + form, { method: 'POST', headers, body: JSON.stringify(body) });
      data = await res.json().catch(() => ({}));
    } catch {
      $('error').textContent = 'The server cannot be reached. Try again in a moment.';
      return;
    }
    if (!res.ok) { $('error').textContent = data.error || res.statusText; return; }
    location.replace('/watch/' + encodeURIComponent(id) + '?t=' + encodeURIComponent(data.token));
  });
}

// Captions: the caption stream reconnects by itself; when the server says it is shutting down
// the video will be cut too, so the page reconnects at once instead of waiting to notice.
class WatchCaptions extends CaptionView {
  switchTo(lang) {
    super.switchTo(lang);
    this.source.addEventListener('shutdown', (e) => {
      let retry = 3000;
      try { retry = JSON.parse(e.data).retry_ms || retry; } catch { /* default */ }
      if (pc) lost('The server is restarting', retry);
    });
  }
}

document.addEventListener('DOMContentLoaded', async () => {
  notice = new Notice($('notice'));
  $('unmute').addEventListener('click', () => {
    const v = $('camera');
    v.muted = !v.muted;
    $('unmute').textContent = v.muted ? 'Unmute' : 'Mute';
    v.play().catch(() => {});
  });
  $('transcript').href = '/api/webinars/' + encodeURIComponent(id) + '/transcript.vtt' + (token ? '?t=' + encodeURIComponent(token) : '');
  window.addEventListener('pagehide', () => hangUp(session));
  const w = await refresh();
  if (!w) return;
  $('player').classList.remove('hidden');
  captions = new WatchCaptions(id, w.language || 'en', token);
  watchScreen();
  connect();
  setInterval(refresh, 5000);
  setInterval(checkHealth, 1000);
});

import { negotiate, hangUp, webinarId, webinarInfo, joinToken } from './whip.js';
import { CaptionView } from './captions.js';

const $ = (id) => document.getElementById(id);
const id = webinarId();
const token = joinToken();
let pc = null, session = null, retryMs = 1000, captions = null;

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
  setState('connecting…');
  pc = new RTCPeerConnection();
  for (const kind of ['audio', 'video', 'video']) pc.addTransceiver(kind, { direction: 'recvonly' });
  attach(pc);
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'connected') { retryMs = 1000; refresh(); }
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') reconnect();
  });
  try {
    session = await negotiate(pc, '/whep/' + encodeURIComponent(id), token);
    for (const v of [$('camera'), $('screen')]) v.play().catch(() => {});
    markFirstFrame($('camera'));
  } catch (err) {
    $('error').textContent = err.message;
    reconnect();
  }
}

// reconnect backs off so a restarting server is not hammered by its whole audience.
function reconnect() {
  if (!pc) return;
  const old = pc;
  pc = null;
  old.close();
  hangUp(session);
  session = null;
  setState('reconnecting…');
  const wait = retryMs * (0.5 + Math.random());
  retryMs = Math.min(retryMs * 2, 30000);
  setTimeout(connect, wait);
}

async function refresh() {
  try {
    const w = await webinarInfo(id, token);
    $('title').textContent = w.title;
    document.title = w.title + ' · Lectern';
    if (pc && pc.connectionState === 'connected') setState(w.live ? 'live' : 'waiting for the presenter', w.live);
    $('viewers').textContent = w.viewers + (w.viewers === 1 ? ' watching' : ' watching');
    return w;
  } catch (err) {
    $('error').textContent = err.message;
    if (err.data) offerEntry(err.data);
    return null;
  }
}

// offerEntry shows the passcode or registration form when the server says one lets us in;
// the token it answers with goes into the URL, as a join link's would.
function offerEntry(need) {
  const form = need.registration_required ? 'register' : need.passcode_required ? 'join' : '';
  if (!form || !$(form).classList.contains('hidden')) return;
  $(form).classList.remove('hidden');
  if (need.registration_required) $('reg-passcode').classList.toggle('hidden', !need.passcode_required);
  $(form).addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = form === 'join' ? { passcode: $('passcode').value }
      : { name: $('reg-name').value, email: $('reg-email').value, passcode: $('reg-passcode-input').value };
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch('/api/webinars/' + encodeURIComponent(id) + '/' + form, { method: 'POST', headers, body: JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { $('error').textContent = data.error || res.statusText; return; }
    location.replace('/watch/' + encodeURIComponent(id) + '?t=' + encodeURIComponent(data.token));
  });
}

document.addEventListener('DOMContentLoaded', async () => {
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
  captions = new CaptionView(id, w.language || 'en', token);
  watchScreen();
  connect();
  setInterval(refresh, 5000);
});

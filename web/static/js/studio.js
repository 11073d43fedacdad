import { negotiate, hangUp, webinarId, webinarInfo, PublishError } from './whip.js';
import { Backoff, Notice } from './reconnect.js';
import { startConsole } from './console.js';
import { Background, backgroundControls } from './background.js';
import { OwnStage } from './studio-stage.js';
import { openChannel } from './channel.js';

const $ = (id) => document.getElementById(id);
const id = webinarId();
const params = new URLSearchParams(location.search);
let pc = null, session = null, camera = null, screenTx = null, screenStream = null;
// csrf is set when a signed-in panelist publishes with their session instead of a stream key.
let csrf = '';
// videoTx carries the camera, or the background effect's canvas track (background.js).
let videoTx = null;
const background = new Background(sendVideo);
const sessionHeaders = (key) => (key || !csrf ? undefined : { 'X-CSRF-Token': csrf });
// wanted: the presenter pressed "Go live" and not "End broadcast"; while it holds, a lost
// connection is re-established on its own instead of leaving the teacher talking to nobody.
let wanted = false, reconnecting = false, lostTimer = 0;
const backoff = new Backoff([2000, 4000, 8000, 15000, 30000]);
let notice = null;
// hostConsole: the host console around the presenter's controls (console.js); ended: the webinar
// ended for everyone, so there is nothing left to go live in.
let hostConsole = null, ended = false;
// own: this presenter's microphone and camera as the server sees them (studio-stage.js).
let own = null;

// An ICE connection that stays "disconnected" this long is treated as lost: Chromium only
// calls it "failed" after about 30 s, which is too long to talk to nobody.
const disconnectedGraceMs = 3000;
// A publish whose ICE never connects is retried after this long.
const connectTimeoutMs = 15000;

function setState(text, live) {
  $('state').textContent = text;
  $('state').classList.toggle('live', !!live);
}

function showError(err) { $('error').textContent = err ? String(err.message || err) : ''; }

async function openCamera() {
  if (camera) return;
  camera = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
  });
  $('preview').srcObject = camera;
  await background.attach(camera.getVideoTracks()[0]).catch(showError);
}

// sendVideo shows and sends track (camera or effect) in place of the last one: replaceTrack
// needs no renegotiation, which WHIP does not have.
function sendVideo(track) {
  if (!track) return;
  $('preview').srcObject = new MediaStream([track]);
  if (videoTx && pc) videoTx.sender.replaceTrack(track).catch(showError);
}

// goLive is the "Go live" button: the first publish, whose errors go straight to the presenter.
async function goLive() {
  showError('');
  notice.clear();
  $('go').disabled = true;
  setState('connecting…');
  try {
    await openCamera();
  } catch (err) {
    showError(err);
    setState('offline');
    $('go').disabled = false;
    return;
  }
  wanted = true;
  backoff.reset();
  $('stop').disabled = false;
  await publish();
}

// publish opens one WHIP session. A refusal that retrying cannot fix (wrong key, deleted
// webinar) ends the attempt; anything else (server down, restarting, overloaded) is retried.
async function publish() {
  const key = $('key').value.trim();
  const conn = new RTCPeerConnection();
  pc = conn;
  const [audio] = camera.getAudioTracks();
  const video = background.track();
  // Three sections, fixed at the start: WHIP has no renegotiation, so the screen-share
  // section exists from the beginning and gets a track when sharing starts.
  conn.addTransceiver(audio || 'audio', { direction: 'sendonly', streams: [camera] });
  videoTx = conn.addTransceiver(video || 'video', { direction: 'sendonly', streams: [camera] });
  const [shared] = screenStream ? screenStream.getVideoTracks() : [];
  screenTx = conn.addTransceiver(shared || 'video', { direction: 'sendonly' });
  conn.addEventListener('connectionstatechange', () => onConnectionState(conn));
  const speaker = $('speaker').value.trim();
  localStorage.setItem('lectern.speaker', speaker);
  try {
    const loc = await negotiate(conn, '/whip/' + encodeURIComponent(id) + '?speaker=' + encodeURIComponent(speaker), key, sessionHeaders(key));
    if (pc !== conn) { hangUp(loc, key, sessionHeaders(key)); return; } // ended meanwhile
    session = loc;
    for (const b of ['mic', 'cam', 'share']) $(b).disabled = false;
    clearTimeout(lostTimer);
    lostTimer = setTimeout(() => { if (pc === conn && conn.connectionState !== 'connected') lost(conn); }, connectTimeoutMs);
  } catch (err) {
    if (pc !== conn) return;
    if (err instanceof PublishError && !err.retryable) {
      giveUp(err);
      return;
    }
    lost(conn, err);
  }
}

function onConnectionState(conn) {
  if (pc !== conn) return;
  const st = conn.connectionState;
  if (st === 'connected') {
    if (hostConsole) hostConsole.onAir();
    clearTimeout(lostTimer);
    backoff.reset();
    setState('live', true);
    showError('');
    if (reconnecting) notice.show('Live again', 'ok', 8000);
    else notice.clear();
    reconnecting = false;
  } else if (st === 'disconnected') {
    clearTimeout(lostTimer);
    lostTimer = setTimeout(() => { if (pc === conn && conn.connectionState !== 'connected') lost(conn); }, disconnectedGraceMs);
    // A server that no longer answers at all is gone: no need to wait out the grace period.
    serverAnswers().then((up) => { if (!up && pc === conn && conn.connectionState !== 'connected') lost(conn); });
  } else if (st === 'failed' || st === 'closed') {
    lost(conn);
  }
}

// serverAnswers reports whether the server answers /healthz within a couple of seconds.
async function serverAnswers() {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 2000);
  try {
    return (await fetch('/healthz', { signal: ctl.signal, cache: 'no-store' })).ok;
  } catch {
    return false;
  } finally {
    clearTimeout(t);
  }
}

// tearDown ends the current session on both sides; the camera keeps running.
function tearDown() {
  clearTimeout(lostTimer);
  const key = $('key').value.trim();
  hangUp(session, key, sessionHeaders(key));
  session = null;
  if (pc) pc.close();
  pc = null;
}

// lost: the session died (server restart, network). Say so, and publish again after a
// growing pause so a restarting server is not hammered.
function lost(conn, err) {
  if (pc !== conn || !wanted) return;
  tearDown();
  reconnecting = true;
  setState('reconnecting…');
  const what = err && err.serverDown === false && err.message ? 'Could not go live (' + err.message + ')' : 'Connection lost';
  notice.countdown(what + ' — reconnecting in', backoff.next(), ' Viewers cannot see or hear you until then.', () => {
    if (!wanted) return;
    notice.show(what + ' — reconnecting now…', 'warn');
    publish();
  });
}

// giveUp stops retrying: the server refused in a way a retry will not change.
function giveUp(err) {
  wanted = false;
  reconnecting = false;
  tearDown();
  notice.clear();
  showError(err);
  resetControls();
}

function resetControls() {
  setState(ended ? 'ended' : 'offline');
  if (hostConsole) hostConsole.offAir();
  $('go').disabled = ended;
  $('stop').disabled = true;
  for (const b of ['mic', 'cam', 'share']) $(b).disabled = true;
}

// endedForAll: the webinar was ended for everyone (here or elsewhere): stop for good, without
// the reconnecting a lost session would otherwise start.
function endedForAll() {
  ended = true;
  stop();
}

// stop is the "End broadcast" button.
function stop() {
  wanted = false;
  reconnecting = false;
  notice.clear();
  tearDown();
  stopScreen();
  resetControls();
}

async function shareScreen() {
  if (screenStream) { stopScreen(); return; }
  try {
    screenStream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  } catch (err) { showError(err); return; }
  const [track] = screenStream.getVideoTracks();
  track.contentHint = 'detail';
  track.addEventListener('ended', stopScreen);
  if (screenTx && pc) await screenTx.sender.replaceTrack(track);
  $('screen-preview').srcObject = screenStream;
  $('screen-preview').classList.remove('hidden');
  $('share').textContent = 'Stop sharing';
}

function stopScreen() {
  if (!screenStream) return;
  for (const t of screenStream.getTracks()) t.stop();
  screenStream = null;
  if (screenTx && pc) screenTx.sender.replaceTrack(null).catch(() => {});
  $('screen-preview').classList.add('hidden');
  $('share').textContent = 'Share screen';
}

// watchLink asks the server for a watch link this presenter can open: for a private webinar
// it carries a signed token, so the watch page needs no passcode, registration or cookie.
async function watchLink() {
  const key = $('key').value.trim();
  try {
    const res = await fetch('/api/webinars/' + encodeURIComponent(id) + '/watch-link',
      { headers: key ? { Authorization: 'Bearer ' + key } : {}, credentials: 'same-origin' });
    if (res.ok) $('watch-link').href = (await res.json()).watch_url;
  } catch { /* keep the plain link */ }
}

// linkToken is the join token of the studio's watch link, "" without one: with it a presenter
// who has only the stream key can read a non-public webinar's captions (EventSource sends no
// Authorization header).
function linkToken() {
  try { return new URL($('watch-link').href).searchParams.get('t') || ''; } catch { return ''; }
}

document.addEventListener('DOMContentLoaded', async () => {
  notice = new Notice($('notice'));
  $('key').value = params.get('key') || '';
  $('speaker').value = params.get('speaker') || localStorage.getItem('lectern.speaker') || '';
  $('watch-link').href = '/watch/' + encodeURIComponent(id);
  $('publish').addEventListener('submit', (e) => { e.preventDefault(); goLive(); });
  $('stop').addEventListener('click', stop);
  $('mic').addEventListener('click', () => own.toggle('audio'));
  $('cam').addEventListener('click', () => own.toggle('video'));
  $('share').addEventListener('click', shareScreen);
  $('key').addEventListener('change', watchLink);
  backgroundControls(background, { row: $('bg-row'), select: $('bg'), file: $('bg-file'), status: $('bg-status') });
  window.addEventListener('pagehide', () => { const key = $('key').value.trim(); hangUp(session, key, sessionHeaders(key)); });
  // Signed in or not decides whether the console may moderate; the CSRF token is used for
  // publishing only when there is no stream key.
  let signedIn = false, userID = '';
  try {
    const res = await fetch('/api/me');
    if (res.ok) { signedIn = true; const m = await res.json(); csrf = m.csrf_token || ''; userID = (m.user && m.user.id) || ''; }
  } catch { /* not signed in: the stream key it is */ }
  own = new OwnStage({
    webinar: id, member: userID && !$('key').value.trim() ? userID : 'stream-key',
    auth: () => { const key = $('key').value.trim(); return key ? { Authorization: 'Bearer ' + key } : (csrf ? { 'X-CSRF-Token': csrf } : {}); },
    track: (medium) => camera && (medium === 'audio' ? camera.getAudioTracks()[0] : background.track() || camera.getVideoTracks()[0]),
    onRemoved: () => { stop(); notice.show('A host took you off the stage. Press Go live to come back.', 'warn'); },
  });
  let w;
  try {
    w = await webinarInfo(id, $('key').value.trim());
    $('title').textContent = 'Studio · ' + w.title;
    document.title = w.title + ' · Studio';
  } catch (err) { showError(err); return; }
  await watchLink();
  hostConsole = startConsole({
    webinar: id, info: w, signedIn, token: linkToken(),
    refresh: () => webinarInfo(id, $('key').value.trim()), onEnded: endedForAll,
    onStageControl: (e) => own.onControl(e),
  });
  // A signed-in panelist has no host console channel: this one hears the host's stage controls.
  if (signedIn && !['host', 'cohost'].includes(w.role)) openChannel(id, '', { 'stage-control': (e) => own.onControl(e) });
  document.body.dataset.ready = '1';
  if (params.get('autostart') === '1' && $('key').value) goLive();
});

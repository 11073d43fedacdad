// The viewer's page: join the room by name (waiting room, passcode or registration first
// where the webinar asks for them), then the video with captions, the chat and Q&A panel,
// the raised hand, and the room's live state (count, recording, ending, ended) from the
// live channel.
import { negotiate, hangUp, webinarId, webinarInfo, joinToken, PublishError } from './whip.js';
import { CaptionView } from './captions.js';
import { Backoff, Notice } from './reconnect.js';
import { openChannel } from './channel.js';
import { RoomPanel } from './roompanel.js';
import { StageTiles } from './stage-tiles.js';

const $ = (id) => document.getElementById(id);
const id = webinarId();
const base = '/api/webinars/' + encodeURIComponent(id);
// token is the caller's join token: a link, registration or passcode token until the join by
// name swaps it for the participant's own, which then goes on WHEP, captions and the channel.
let token = joinToken();
let pc = null, session = null, captions = null, notice = null, info = null, panel = null, channel = null, tiles = null;
let reconnecting = false, retryTimer = 0, stopped = false, started = false;
let me = null;   // this participant: {id, role, state}
let csrf = '';   // a signed-in member's CSRF token, for writes without a join token

// memberHeaders authenticate a signed-in member's WHEP requests, which carry the session
// cookie and no join token: cookie writes need the CSRF token.
function memberHeaders() {
  return !token && csrf ? { 'X-CSRF-Token': csrf } : {};
}
let countFromChannel = false;
const timers = [];
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

// call is the page's JSON API client for this webinar's room routes (path after
// /api/webinars/{id}). Errors carry the server's message and status.
async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  else if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    const err = new Error('The server cannot be reached. Try again in a moment.');
    err.status = 0;
    throw err;
  }
  let data = null;
  if (res.status !== 204) { try { data = await res.json(); } catch { data = null; } }
  if (!res.ok) {
    const err = new Error((data && data.error) || res.status + ' ' + res.statusText);
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return data;
}

// --- joining ---------------------------------------------------------------------------

// The participant token of this tab, so a reload joins again as the same participant.
const storeKey = 'lectern.participant.' + id;
function stored() {
  try { return JSON.parse(sessionStorage.getItem(storeKey)) || null; } catch { return null; }
}

// join makes the caller a participant (or, with their own token, joins again): body is
// {name[, passcode]}. The token goes in the URL like every join link, so a reload keeps it.
async function join(body) {
  const ans = await call('POST', '/join', body);
  token = ans.token;
  sessionStorage.setItem(storeKey, JSON.stringify({ token, name: body.name }));
  if (body.name) try { localStorage.setItem('lectern.name', body.name); } catch { /* private mode */ }
  history.replaceState(null, '', location.pathname + '?t=' + encodeURIComponent(token));
  return ans;
}

// joinFailed explains a refused join in words; removed, denied and ended are final.
function joinFailed(err) {
  if (err.status === 410) { ended(); return; }
  if (err.status === 403 && /removed|denied/.test(err.message)) { over(err.message); return; }
  $('error').textContent = err.message;
}

// askName shows the name form; submitting it joins.
function askName() {
  const form = $('name-form');
  form.classList.remove('hidden');
  $('state').classList.add('hidden');
  try { $('name').value = localStorage.getItem('lectern.name') || ''; } catch { /* private mode */ }
  $('name').focus();
  onSubmit(form, () => join({ name: $('name').value.trim() }));
}

// onSubmit runs a join form: one request at a time (a double click must not join twice),
// then the room, or why not.
function onSubmit(form, joinWith) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    $('error').textContent = '';
    const btn = form.querySelector('button[type="submit"]');
    if (btn.disabled) return;
    btn.disabled = true;
    try {
      const ans = await joinWith();
      form.classList.add('hidden');
      enter(ans);
    } catch (err) {
      joinFailed(err);
    } finally {
      btn.disabled = false;
    }
  });
}

// gate is what a viewer without access sees: the passcode or registration form alone, or why
// there is nothing to show. Both forms end in a join by name, so the room opens without a reload.
function gate(err) {
  $('player').classList.add('hidden');
  $('state').classList.add('hidden');
  if (err.status === 410) { ended(); return; }
  const need = err.data || {};
  const form = need.registration_required ? 'register' : need.passcode_required ? 'join' : '';
  if (!form) { $('error').textContent = err.message; return; }
  $(form).classList.remove('hidden');
  if (need.registration_required) $('reg-passcode').classList.toggle('hidden', !need.passcode_required);
  try { $(form === 'join' ? 'join-name' : 'reg-name').value = localStorage.getItem('lectern.name') || ''; } catch { /* private mode */ }
  onSubmit($(form), async () => {
    if (form === 'join') return join({ name: $('join-name').value.trim(), passcode: $('passcode').value });
    const reg = await call('POST', '/register', { name: $('reg-name').value, email: $('reg-email').value, passcode: $('reg-passcode-input').value });
    token = reg.token; // the registration's own link, promoted to a participant by the join
    return join({ name: $('reg-name').value.trim() });
  });
}

// enter opens the room for a joined participant (ans: the join answer, or a member's role).
function enter(ans) {
  me = { id: ans.participant_id || '', role: ans.role || 'attendee', state: ans.state };
  $('state').classList.remove('hidden');
  channel = openChannel(id, token, {
    participant: onParticipant,
    count: (d) => { countFromChannel = true; showCount(d.count); },
    chat: (m) => panel.onChat(m),
    'chat.deleted': (d) => panel.onChatDeleted(d),
    question: (q) => panel.onQuestion(q),
    'question.updated': (q) => panel.onQuestion(q),
    hand: (h) => panel.onHand(h),
    recording: (d) => showRecording(!!d.on),
    ending: showEnding,
    settings: (s) => panel.setAllowed(s),
    stage: (v) => tiles.update(v),
    ended: () => ended(),
  }, onChannel);
  if (me.state === 'waiting') showWaiting();
  else startRoom();
}

function onChannel(state, why) {
  document.body.dataset.channel = state; // for tests and styles: open, reconnecting, closed
  if (stopped) return;
  if (state === 'open') {
    // A history reload after every (re)connect: whatever the channel could not replay.
    if (started) panel.load();
    // An admit between the join and this subscription sent no event to us: ask.
    if (me.state === 'waiting' && me.id) recheck();
    return;
  }
  if (state === 'closed') {
    if (why && why.status === 410) ended();
    else if (why && why.status === 403 && /removed|denied/.test(why.message || '')) over(why.message);
    else if (why && why.status === 401) over('Your link to this webinar no longer works. Ask the host for a new one.');
  }
}

async function recheck() {
  try {
    const ans = await call('POST', '/join', { name: (stored() || {}).name || 'Participant' });
    onParticipant({ id: me.id, role: ans.role, state: ans.state });
  } catch (err) {
    joinFailed(err);
  }
}

// onParticipant hears this participant's own changes: admitted, denied, removed, promoted.
function onParticipant(p) {
  // Hosts hear everyone's changes; a signed-in member (no participant id) has none of its own.
  if (!me || !me.id || p.id !== me.id || stopped) return;
  if (p.role && p.role !== me.role) {
    me.role = p.role;
    panel.setRole(p.role);
    if (started) notice.show(p.role === 'panelist' ? 'The host made you a panelist.' : 'Your role is now ' + p.role + '.', 'ok', 8000);
  }
  if (p.state === me.state) return;
  me.state = p.state;
  if (p.state === 'admitted') {
    performance.mark('lectern:admitted'); // the admit → first frame time starts here for the viewer
    startRoom();
  }
  else if (p.state === 'denied') over('The host did not let you in to this webinar.');
  else if (p.state === 'removed') over('The host removed you from this webinar.');
}

function showWaiting() {
  $('waiting').classList.remove('hidden');
  setState('waiting room');
  if (!prepared) prepare();
}

// startRoom is the admitted participant's page: video, captions, panel. It runs once.
async function startRoom() {
  if (started || stopped) return;
  started = true;
  $('waiting').classList.add('hidden');
  $('player').classList.remove('hidden');
  connect(); // first: an admitted attendee's video starts at once
  $('transcript').href = transcriptURL();
  panel.start(me);
  watchScreen();
  timers.push(setInterval(refresh, 5000), setInterval(checkHealth, 1000));
  const w = await refresh();
  if (stopped) return;
  captions = new WatchCaptions(id, (w || info || {}).language || 'en', token);
  if (w) panel.setAllowed({ chat: w.chat, qa: w.qa });
  panel.load();
}

function transcriptURL() {
  return base + '/transcript.vtt' + (token ? '?t=' + encodeURIComponent(token) : '');
}

// --- room state ----------------------------------------------------------------------------

function showCount(n) {
  $('viewers').textContent = n + ' watching';
}

function showRecording(on) {
  $('recording').classList.toggle('hidden', !on);
  $('recording').textContent = on ? 'Recording' : '';
}

// showEnding counts down to the duration limit ({minutes_left, ends_at}).
let endingTimer = 0;
function showEnding(d) {
  let end = Date.parse(d.ends_at);
  if (isNaN(end)) end = Date.now() + (d.minutes_left || 0) * 60000;
  clearInterval(endingTimer);
  const el = $('ending');
  const render = () => {
    const s = Math.max(0, Math.round((end - Date.now()) / 1000));
    el.textContent = 'This webinar ends for everyone in ' + Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0') +
      ' (the host\'s time limit).';
    if (s === 0) clearInterval(endingTimer);
  };
  el.classList.remove('hidden');
  render();
  endingTimer = setInterval(render, 1000);
}

// stopAll ends media and streams for good.
function stopAll() {
  stopped = true;
  for (const t of timers) clearInterval(t);
  clearInterval(endingTimer);
  clearTimeout(retryTimer);
  drop();
  if (prepared) { prepared.close(); prepared = null; }
  if (captions && captions.source) captions.source.close();
  if (channel) channel.close();
  if (panel) panel.stop();
  for (const v of [$('camera'), $('screen')]) { v.pause(); v.srcObject = null; }
  if (tiles) tiles.clear();
  if (notice) notice.clear();
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
}

// over replaces the room with a final message (removed, denied, a dead link).
function over(text, title) {
  stopAll();
  for (const f of ['player', 'waiting', 'name-form', 'join', 'register', 'ending']) $(f).classList.add('hidden');
  $('over-title').textContent = title || 'You are no longer in this webinar';
  $('over-text').textContent = text;
  $('over').classList.remove('hidden');
  $('error').textContent = '';
  setState('offline');
}

let endedShown = false;
function ended() {
  if (endedShown) return;
  endedShown = true;
  over('The host ended the webinar for everyone. Thank you for joining.', 'This webinar has ended');
  $('over-transcript').href = transcriptURL();
  $('over-transcript').classList.remove('hidden');
  setState('ended');
}

// --- media -------------------------------------------------------------------------------

// attach routes the received tracks by section order (stage-tiles.js): every presenter's
// voice, the large tile's camera, the screen share, the strip's cameras.
function attach(pc) {
  const camera = new MediaStream();
  const screen = new MediaStream();
  $('camera').srcObject = camera;
  $('screen').srcObject = screen;
  tiles.attach(pc, camera, screen);
}

// loadStage reads who is on stage (between "stage" events, and for a viewer with no channel).
async function loadStage() {
  try { tiles.update(await call('GET', '/stage')); } catch { /* the next refresh tries again */ }
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

// newPeer is a receive-only peer connection for the stage's slot m-lines (stage-tiles.js).
function newPeer() {
  const conn = new RTCPeerConnection();
  for (const kind of StageTiles.offer()) conn.addTransceiver(kind, { direction: 'recvonly' });
  attach(conn);
  return conn;
}

// prepare gathers an offer while the participant waits, so admission costs only the WHEP
// round trip: ICE gathering (up to seconds with a STUN server) is already done.
let prepared = null;
function prepare() {
  const conn = newPeer();
  prepared = conn;
  conn.createOffer().then((o) => conn.setLocalDescription(o)).catch(() => { /* negotiate makes its own */ });
}

async function connect() {
  if (stopped) return;
  if (!reconnecting) setState('connecting…');
  const conn = prepared || newPeer();
  prepared = null;
  pc = conn;
  Object.assign(health, { bytes: -1, movedAt: Date.now(), disconnectedAt: 0 });
  conn.addEventListener('connectionstatechange', () => {
    if (pc !== conn) return;
    if (conn.connectionState === 'connected') health.disconnectedAt = 0;
    if (conn.connectionState === 'disconnected' && !health.disconnectedAt) health.disconnectedAt = Date.now();
    if (conn.connectionState === 'failed') lost('Connection lost');
    showState();
  });
  try {
    const loc = await negotiate(conn, '/whep/' + encodeURIComponent(id), token, memberHeaders());
    if (pc !== conn) { hangUp(loc, token, memberHeaders()); return; }
    session = loc;
    for (const v of [$('camera'), $('screen')]) v.play().catch(() => {});
    tiles.play();
    loadStage();
    markFirstFrame($('camera'));
  } catch (err) {
    if (pc !== conn) return;
    if (err instanceof PublishError && !err.retryable) {
      // Refused (link revoked, removed, webinar deleted or ended): retrying will not help.
      if (err.status === 410) { ended(); return; }
      if (err.status === 403 && /removed|denied/.test(err.message)) { over(err.message); return; }
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
  hangUp(session, token, memberHeaders());
  session = null;
}

// lost drops the connection and tries again after a growing pause, so a restarting server is
// not hammered by its whole audience, and says so.
function lost(why, waitMs) {
  if (stopped || (!pc && reconnecting)) return;
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
  if (!conn || health.probing || stopped) return;
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


// refresh reads the webinar: title, live state, viewers until the channel counts, recording.
async function refresh() {
  if (stopped) return null;
  try {
    const w = await webinarInfo(id, token);
    if (stopped) return null;
    info = w;
    showInfo(w);
    showState();
    if (started && !channel) loadStage(); // no channel to hear "stage" events on
    return w;
  } catch (err) {
    if (err.status === 410) ended();
    return null; // unreachable: checkHealth says so in words
  }
}

function showInfo(w) {
  $('title').textContent = w.title;
  document.title = w.title + ' · Lectern';
  if (!countFromChannel) showCount(w.viewers);
  showRecording(!!w.recording);
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

// Fullscreen takes the stage (video and captions together), not the bare video, so the
// captions stay on screen.
function setupFullscreen() {
  const btn = $('fullscreen');
  if (!document.fullscreenEnabled) { btn.classList.add('hidden'); return; }
  btn.addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else $('stage').requestFullscreen().catch((err) => notice.show('Full screen is not available: ' + err.message, 'warn', 6000));
  });
  document.addEventListener('fullscreenchange', () => {
    btn.textContent = document.fullscreenElement ? 'Exit full screen' : 'Full screen';
  });
}

// boot decides where this viewer starts: this tab's participant joins again; a signed-in
// member is already a participant; anyone else gives a name (after a passcode or
// registration where the webinar asks for one).
async function boot() {
  const mine = stored();
  if (mine && (!token || token === mine.token)) {
    token = mine.token;
    try {
      enter(await join({ name: mine.name }));
      return;
    } catch (err) {
      if (err.status !== 401) { joinFailed(err); return; }
      sessionStorage.removeItem(storeKey); // a dead token: start again
      token = joinToken() === mine.token ? '' : joinToken();
    }
  }
  if (token && !mine) {
    // A participant's own link opened in another tab joins again under its name; any other
    // token (a watch link's, a registration's) is refused without a name: ask for one.
    try {
      enter(await join({ name: '' }));
      return;
    } catch (err) {
      if (err.status !== 400) { joinFailed(err); return; }
    }
  }
  try {
    info = await webinarInfo(id, token);
  } catch (err) {
    if (err.status !== 0) gate(err);
    else $('error').textContent = err.message;
    return;
  }
  showInfo(info);
  if (info.role && !token) {
    // A signed-in member: its writes (the join too) need the session's CSRF token.
    try { csrf = (await (await fetch('/api/me', { cache: 'no-store' })).json()).csrf_token || ''; } catch { /* read-only then */ }
    if (['host', 'cohost', 'panelist'].includes(info.role)) {
      // The room already knows hosts and panelists by their account.
      enter({ role: info.role, state: 'admitted' });
      return;
    }
  }
  askName();
}

document.addEventListener('DOMContentLoaded', () => {
  notice = new Notice($('notice'));
  panel = new RoomPanel(call);
  tiles = new StageTiles($('stage'), $('strip'), $('speaker'));
  $('unmute').addEventListener('click', () => {
    const v = $('camera');
    v.muted = !v.muted;
    tiles.setMuted(v.muted);
    $('unmute').textContent = v.muted ? 'Unmute' : 'Mute';
    v.play().catch(() => {});
  });
  setupFullscreen();
  window.addEventListener('pagehide', () => hangUp(session, token, memberHeaders()));
  boot();
});

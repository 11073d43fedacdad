import { negotiate, hangUp, webinarId, webinarInfo } from './whip.js';

const $ = (id) => document.getElementById(id);
const id = webinarId();
const params = new URLSearchParams(location.search);
let pc = null, session = null, camera = null, screenTx = null, screenStream = null;
// csrf is set when a signed-in panelist publishes with their session instead of a stream key.
let csrf = '';
const sessionHeaders = (key) => (key || !csrf ? undefined : { 'X-CSRF-Token': csrf });

function setState(text, live) {
  $('state').textContent = text;
  $('state').classList.toggle('live', !!live);
}

function showError(err) { $('error').textContent = err ? String(err.message || err) : ''; }

async function goLive() {
  showError('');
  const key = $('key').value.trim();
  $('go').disabled = true;
  setState('connecting…');
  try {
    if (!camera) {
      camera = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      });
      $('preview').srcObject = camera;
    }
    pc = new RTCPeerConnection();
    const [audio] = camera.getAudioTracks();
    const [video] = camera.getVideoTracks();
    // Three sections, fixed at the start: WHIP has no renegotiation, so the screen-share
    // section exists from the beginning and gets a track when sharing starts.
    pc.addTransceiver(audio || 'audio', { direction: 'sendonly', streams: [camera] });
    pc.addTransceiver(video || 'video', { direction: 'sendonly', streams: [camera] });
    screenTx = pc.addTransceiver('video', { direction: 'sendonly' });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') setState('live', true);
      if (pc.connectionState === 'failed') { setState('connection lost'); stop(); }
    });
    const speaker = $('speaker').value.trim();
    localStorage.setItem('lectern.speaker', speaker);
    session = await negotiate(pc, '/whip/' + encodeURIComponent(id) + '?speaker=' + encodeURIComponent(speaker), key, sessionHeaders(key));
    $('stop').disabled = false;
    for (const b of ['mic', 'cam', 'share']) $(b).disabled = false;
  } catch (err) {
    showError(err);
    setState('offline');
    if (pc) pc.close();
    pc = null;
    $('go').disabled = false;
  }
}

function stop() {
  const key = $('key').value.trim();
  hangUp(session, key, sessionHeaders(key));
  session = null;
  if (pc) pc.close();
  pc = null;
  stopScreen();
  setState('offline');
  $('go').disabled = false;
  $('stop').disabled = true;
  for (const b of ['mic', 'cam', 'share']) $(b).disabled = true;
}

function toggle(button, track, onLabel, offLabel) {
  if (!track) return;
  track.enabled = !track.enabled;
  button.setAttribute('aria-pressed', String(track.enabled));
  button.textContent = track.enabled ? onLabel : offLabel;
}

async function shareScreen() {
  if (screenStream) { stopScreen(); return; }
  try {
    screenStream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  } catch (err) { showError(err); return; }
  const [track] = screenStream.getVideoTracks();
  track.contentHint = 'detail';
  track.addEventListener('ended', stopScreen);
  await screenTx.sender.replaceTrack(track);
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

document.addEventListener('DOMContentLoaded', async () => {
  $('key').value = params.get('key') || '';
  $('speaker').value = params.get('speaker') || localStorage.getItem('lectern.speaker') || '';
  $('watch-link').href = '/watch/' + encodeURIComponent(id);
  $('publish').addEventListener('submit', (e) => { e.preventDefault(); goLive(); });
  $('stop').addEventListener('click', stop);
  $('mic').addEventListener('click', () => toggle($('mic'), camera && camera.getAudioTracks()[0], 'Mute microphone', 'Unmute microphone'));
  $('cam').addEventListener('click', () => toggle($('cam'), camera && camera.getVideoTracks()[0], 'Turn camera off', 'Turn camera on'));
  $('share').addEventListener('click', shareScreen);
  window.addEventListener('pagehide', () => { const key = $('key').value.trim(); hangUp(session, key, sessionHeaders(key)); });
  if (!$('key').value) {
    try {
      const res = await fetch('/api/me');
      if (res.ok) csrf = (await res.json()).csrf_token || '';
    } catch { /* not signed in: the stream key it is */ }
  }
  try {
    const w = await webinarInfo(id, $('key').value.trim());
    $('title').textContent = 'Studio · ' + w.title;
    document.title = w.title + ' · Studio';
  } catch (err) { showError(err); return; }
  if (params.get('autostart') === '1' && $('key').value) goLive();
});

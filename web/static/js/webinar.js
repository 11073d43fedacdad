// One webinar's dashboard page (/dashboard/{id}): settings, links, people, transcripts,
// downloads, delete.
// Every change goes through the JSON API with the session's CSRF token (session.js); what the
// page shows is what the server answered, never what the form last held.
import { api, me, signOut, $, showError, el } from './session.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
const base = '/api/webinars/' + encodeURIComponent(id);

// transcriptFormats are the formats GET /api/webinars/{id}/transcript.{format} offers
// (captions/subtitle.Formats; a Go test keeps the two lists equal).
const transcriptFormats = [
  ['srt', 'SubRip (.srt): most video players and editors'],
  ['vtt', 'WebVTT (.vtt): web video'],
  ['ttml', 'TTML (.ttml): broadcast and streaming'],
  ['ssa', 'SubStation Alpha (.ssa)'],
  ['stl', 'Spruce STL (.stl)'],
  ['txt', 'Plain text (.txt): to read or print'],
  ['json', 'JSON (.json): timings, speakers and sessions'],
];

const exportFiles = [
  ['chat.txt', 'Chat as text'], ['chat.json', 'Chat as JSON'],
  ['questions.txt', 'Q&A as text'], ['questions.json', 'Q&A as JSON'],
];

let view = null; // the webinar as the server last described it
let recordings = []; // GET .../recordings, for "transcribe again"
let versions = []; // GET .../transcripts: versions
let engine; // the re-transcription engine the server offers (null: none; undefined: not asked yet)
let pollTimer = 0; // set while a re-transcription runs

const when = (t) => (!t || t.startsWith('0001-') ? '' : new Date(t).toLocaleString());

function notice(text) {
  $('notice').textContent = text;
  $('notice').classList.toggle('hidden', !text);
}

// run does one user action: clears old messages, reports the failure in plain words.
async function run(fn, done) {
  showError('');
  notice('');
  try {
    await fn();
    if (done) notice(done);
  } catch (err) {
    showError(err);
  }
}

// localInput turns an RFC 3339 time into a datetime-local value in the browser's zone.
function localInput(t) {
  if (!t) return '';
  const d = new Date(t);
  const pad = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
}

function show(v) {
  view = v;
  document.title = v.title + ' · Lectern';
  $('webinar-title').textContent = v.title;
  $('state').textContent = v.live ? 'live · ' + v.viewers + ' watching' : 'offline';
  $('state').classList.toggle('live', v.live);
  $('role').textContent = 'Your role: ' + (v.role || 'admin');
  $('s-title').value = v.title;
  $('s-language').value = v.language;
  $('s-visibility').value = v.visibility;
  $('s-starts').value = localInput(v.starts_at);
  $('s-chat').value = v.chat;
  $('s-qa').checked = v.qa;
  $('s-waiting').checked = !!v.waiting_room;
  $('s-locked').checked = !!v.locked;
  $('s-regions').value = (v.regions || []).join(', ');
  $('passcode-state').textContent = v.has_passcode ? 'A passcode is set: viewers type it before they watch.' : 'No passcode.';
  $('remove-passcode').classList.toggle('hidden', !v.has_passcode);
  $('watch-url').value = v.watch_url;
  $('open-watch').href = v.watch_url;
  $('studio-url').value = v.studio_url || '';
  $('open-studio').href = v.studio_url || '#';
  $('whip-url').value = v.whip_url || '';
  $('stream-key').value = v.stream_key || '';
  $('registrations-block').classList.toggle('hidden', v.visibility !== 'registration');
  $('add-member').classList.toggle('hidden', v.role !== 'host');
}

// changedSettings is the PATCH body: only what differs from the server's view, so saving
// the title does not also rewrite (and audit) every other setting.
function changedSettings() {
  const body = {};
  const set = (key, value, old) => { if (value !== old) body[key] = value; };
  set('title', $('s-title').value.trim(), view.title);
  set('language', $('s-language').value.trim(), view.language);
  set('visibility', $('s-visibility').value, view.visibility);
  set('chat', $('s-chat').value, view.chat);
  set('qa', $('s-qa').checked, view.qa);
  set('waiting_room', $('s-waiting').checked, !!view.waiting_room);
  set('locked', $('s-locked').checked, !!view.locked);
  const regions = regionList($('s-regions').value);
  if (regions.join(',') !== (view.regions || []).join(',')) body.regions = regions;
  const starts = $('s-starts').value;
  if (starts && starts !== localInput(view.starts_at)) body.starts_at = new Date(starts).toISOString();
  return body;
}

// regionList reads the comma-separated processing regions ("" = any the policy allows).
function regionList(text) { return text.split(',').map((r) => r.trim()).filter((r) => r !== ''); }

async function patch(body) { show(await api('PATCH', base, body)); }

function copyButton(button, input) {
  button.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText($(input).value); button.textContent = 'Copied'; }
    catch { window.prompt('Copy this', $(input).value); }
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  });
}

function roleSelect(m) {
  const s = el('select', { className: 'member-role', disabled: view.role !== 'host' });
  s.setAttribute('aria-label', 'Role of ' + m.email);
  for (const [value, label] of [['cohost', 'Co-host'], ['panelist', 'Panelist'], ['attendee', 'Attendee']]) s.append(el('option', { value, textContent: label }));
  if (m.role === 'host') { s.replaceChildren(el('option', { value: 'host', textContent: 'Host (owner)' })); s.disabled = true; }
  s.value = m.role;
  s.addEventListener('change', () => run(async () => { await api('PUT', base + '/members', { email: m.email, role: s.value }); await loadMembers(); }, m.email + ' is now ' + s.value + '.'));
  return s;
}

async function loadMembers() {
  const ms = await api('GET', base + '/members');
  $('members').tBodies[0].replaceChildren(...ms.map((m) => {
    const cell = el('td');
    if (view.role === 'host' && m.role !== 'host') {
      const b = el('button', { type: 'button', textContent: 'Remove', className: 'small danger remove-member' });
      b.addEventListener('click', () => {
        if (!window.confirm('Remove ' + m.email + ' from this webinar? They lose their role at once.')) return;
        run(async () => { await api('PUT', base + '/members', { email: m.email, role: '' }); await loadMembers(); }, m.email + ' was removed.');
      });
      cell.append(b);
    }
    const tr = el('tr', {}, el('td', { textContent: m.email }), el('td', { textContent: m.display_name }), el('td', {}, roleSelect(m)), cell);
    tr.dataset.user = m.user_id;
    return tr;
  }));
}

async function loadRegistrations() {
  if (view.visibility !== 'registration') return;
  const rs = await api('GET', base + '/registrations');
  $('registrations-empty').classList.toggle('hidden', rs.length > 0);
  $('registrations').classList.toggle('hidden', rs.length === 0);
  $('registrations').tBodies[0].replaceChildren(...rs.map((r) => {
    const revoked = !r.revoked_at.startsWith('0001-');
    const cell = el('td', { textContent: revoked ? 'revoked ' + when(r.revoked_at) : '' });
    if (!revoked) {
      const b = el('button', { type: 'button', textContent: 'Revoke', className: 'small danger revoke' });
      b.addEventListener('click', () => {
        if (!window.confirm('Revoke the registration of ' + r.email + '? Their link stops working at once.')) return;
        run(async () => { await api('DELETE', base + '/registrations/' + encodeURIComponent(r.id)); await loadRegistrations(); }, 'Registration revoked.');
      });
      cell.append(b);
    }
    const tr = el('tr', {}, el('td', { textContent: r.name }), el('td', { textContent: r.email }), el('td', { textContent: when(r.created_at) }), cell);
    tr.dataset.id = r.id;
    return tr;
  }));
}

function transcriptLinks() {
  const lang = $('t-lang').value;
  const q = lang && lang !== view.language ? '?lang=' + encodeURIComponent(lang) : '';
  $('transcripts').replaceChildren(...transcriptFormats.map(([format, label]) => {
    const a = el('a', { href: base + '/transcript.' + format + q, textContent: label, className: 'transcript', download: '' });
    a.dataset.format = format;
    return el('li', {}, a);
  }));
}

async function loadLanguages() {
  let langs = [view.language];
  try { langs = (await api('GET', base + '/languages')).languages || langs; } catch (err) { showError(err); }
  $('t-lang').replaceChildren(...langs.map((l) => el('option', { value: l, textContent: l === view.language ? l + ' (spoken)' : l })));
  transcriptLinks();
}

function exportLinks() {
  $('exports').replaceChildren(...exportFiles.map(([file, label]) => {
    const a = el('a', { href: base + '/' + file, textContent: label, className: 'export', download: '' });
    a.dataset.file = file;
    return el('li', {}, a);
  }));
}

function size(bytes) {
  if (bytes >= 1e9) return (bytes / 1e9).toFixed(1) + ' GB';
  if (bytes >= 1e6) return (bytes / 1e6).toFixed(1) + ' MB';
  return Math.round(bytes / 1e3) + ' kB';
}

function duration(s) {
  const m = Math.floor(s / 60);
  return m >= 60 ? Math.floor(m / 60) + ' h ' + (m % 60) + ' min' : m + ' min ' + Math.round(s % 60) + ' s';
}

async function loadRecordings() {
  const recs = await api('GET', base + '/recordings');
  recordings = recs;
  showRetranscribe();
  $('recordings-empty').classList.toggle('hidden', recs.length > 0);
  $('recordings').classList.toggle('hidden', recs.length === 0);
  $('recordings').tBodies[0].replaceChildren(...recs.map((r) => {
    const running = r.duration_s === 0 && r.bytes === 0;
    const tr = el('tr', {}, el('td', { textContent: when(r.started_at) }),
      el('td', { textContent: running ? 'recording now' : duration(r.duration_s) }),
      el('td', { textContent: running ? '' : size(r.bytes) }),
      el('td', {}, el('a', { href: r.url, textContent: 'Download', className: 'recording', download: '' })));
    tr.dataset.id = r.id;
    return tr;
  }));
}

// versionName says in words what a version is: where it came from and when.
function versionName(v) {
  if (v.kind === 'live') return 'Live captions';
  const made = when(v.created_at);
  if (v.kind === 'retranscription') {
    const rec = recordings.find((r) => r.id === v.source);
    return 'Transcribed again' + (v.engine ? ' by ' + v.engine : '') + (rec ? ' from the recording of ' + when(rec.started_at) : '') + ' · made ' + made;
  }
  const from = versions.find((o) => o.id === v.source);
  return 'Corrected' + (from ? ' from ' + (from.kind === 'live' ? 'the live captions' : 'the version made ' + when(from.created_at)) : '') + ' · made ' + made;
}

function versionState(v) {
  if (v.state === 'running') {
    const pct = Math.round(v.progress * 100);
    const bar = el('progress', { max: 1, value: v.progress });
    bar.setAttribute('aria-label', 'Progress of ' + versionName(v));
    return el('td', { className: 'running' }, bar, el('span', { textContent: ' Transcribing… ' + pct + '%' }));
  }
  if (v.state === 'failed') return el('td', { className: 'failed', textContent: 'Failed: ' + (v.error || 'unknown error') });
  return el('td', { textContent: 'Ready · ' + v.cues + (v.cues === 1 ? ' cue' : ' cues') });
}

function defaultChoice(v, def) {
  const r = el('input', { type: 'radio', name: 'default-version', value: v.id, checked: v.id === def, disabled: v.state !== 'done', className: 'default-version' });
  r.setAttribute('aria-label', 'Download ' + versionName(v) + ' by default');
  r.addEventListener('change', () => run(async () => {
    await api('PUT', base + '/transcripts/default', { version: v.id });
    await loadTranscripts();
  }, versionName(v) + ' is now the default download.'));
  return el('td', {}, el('label', { className: 'inline' }, r, el('span', { textContent: 'Default' })));
}

// versionActions: edit a finished version, or download it in any format.
function versionActions(v) {
  const cell = el('td', { className: 'version-actions' });
  if (v.state !== 'done' || v.cues === 0) return cell;
  const edit = el('a', { href: '/dashboard/' + encodeURIComponent(id) + '/transcripts/' + encodeURIComponent(v.id), textContent: 'Edit', className: 'button edit-version' });
  const links = transcriptFormats.map(([format]) => {
    const a = el('a', { href: base + '/transcript.' + format + '?version=' + encodeURIComponent(v.id), textContent: format.toUpperCase(), download: '' });
    a.dataset.format = format;
    return el('li', {}, a);
  });
  cell.append(edit, el('details', { className: 'version-downloads' }, el('summary', { textContent: 'Download' }), el('ul', { className: 'downloads' }, ...links)));
  return cell;
}

async function loadTranscripts() {
  clearTimeout(pollTimer);
  pollTimer = 0;
  const list = await api('GET', base + '/transcripts');
  versions = list.versions;
  engine = list.engine || null;
  $('versions').tBodies[0].replaceChildren(...versions.map((v) => {
    const tr = el('tr', {}, el('td', { textContent: versionName(v) }), versionState(v), defaultChoice(v, list.default), versionActions(v));
    tr.dataset.id = v.id;
    tr.dataset.kind = v.kind;
    tr.dataset.state = v.state;
    return tr;
  }));
  showRetranscribe();
  // Poll while a re-transcription runs: the server reports its progress, nothing pushes it.
  if (versions.some((v) => v.state === 'running')) pollTimer = setTimeout(() => loadTranscripts().catch(showError), 2000);
}

// retranscribeBlock says why no recording can be transcribed again, "" when one can.
function retranscribeBlock() {
  if (!engine) return 'Transcribing again is not set up on this server (it needs a re-transcription engine).';
  if (!engine.allowed) return 'Transcribing again is blocked: ' + engine.reason + '. Change the processing regions in Settings, or ask an administrator.';
  return '';
}

function showRetranscribe() {
  if (engine === undefined) return; // loadTranscripts shows it, without a wrong "not set up" first
  const done = recordings.filter((r) => !(r.duration_s === 0 && r.bytes === 0));
  const block = retranscribeBlock();
  $('retranscribe-engine').textContent = engine ? 'Engine: ' + engine.name + ', region ' + engine.region + '.' : '';
  $('retranscribe-blocked').textContent = block;
  $('retranscribe-blocked').classList.toggle('hidden', block === '' || done.length === 0);
  $('retranscribe-empty').classList.toggle('hidden', done.length > 0);
  $('retranscribe').replaceChildren(...done.map((r) => {
    const running = versions.some((v) => v.source === r.id && v.state === 'running');
    const b = el('button', { type: 'button', className: 'small retranscribe', textContent: running ? 'Transcribing…' : 'Transcribe again', disabled: block !== '' || running });
    if (block) b.title = block;
    b.addEventListener('click', () => run(async () => {
      await api('POST', base + '/recordings/' + encodeURIComponent(r.id) + '/transcribe');
      await loadTranscripts();
    }, 'The recording is being transcribed again in the background; its progress shows in the list.'));
    const li = el('li', {}, el('span', { textContent: 'Recording of ' + when(r.started_at) + ' (' + duration(r.duration_s) + ') ' }), b);
    li.dataset.id = r.id;
    return li;
  }));
}

// showBackends lists the regions this server's speech engine and translators run in, so a
// host types labels that exist.
async function showBackends() {
  const st = await api('GET', '/api/status');
  const parts = [];
  if (st.captions && st.captions.region) parts.push('speech engine ' + st.captions.engine + ' (region ' + st.captions.region + ')');
  for (const tr of st.translators || []) if (tr.region) parts.push('translator ' + tr.name + ' (region ' + tr.region + ')');
  $('regions-backends').textContent = parts.length ? ' On this server: ' + parts.join(', ') + '.' : '';
}

function wire() {
  $('signout').addEventListener('click', signOut);
  $('settings').addEventListener('submit', (e) => {
    e.preventDefault();
    const body = changedSettings();
    if (Object.keys(body).length === 0) { notice('Nothing changed.'); return; }
    run(async () => {
      await patch(body);
      await loadRegistrations();
      if (body.regions) await loadTranscripts(); // the regions decide whether "transcribe again" may run
    }, 'Settings saved.');
  });
  $('passcode-form').addEventListener('submit', (e) => {
    e.preventDefault();
    run(async () => { await patch({ passcode: $('s-passcode').value }); $('s-passcode').value = ''; }, 'Passcode set. Viewers who joined before keep watching.');
  });
  $('remove-passcode').addEventListener('click', () => {
    if (!window.confirm('Remove the passcode? Anyone who may watch then watches without typing it.')) return;
    run(() => patch({ passcode: '' }), 'Passcode removed.');
  });
  copyButton($('copy-watch'), 'watch-url');
  copyButton($('copy-studio'), 'studio-url');
  copyButton($('copy-whip'), 'whip-url');
  copyButton($('copy-key'), 'stream-key');
  $('show-key').addEventListener('click', () => {
    const hidden = $('stream-key').type === 'password';
    $('stream-key').type = hidden ? 'text' : 'password';
    $('show-key').textContent = hidden ? 'Hide' : 'Show';
    $('show-key').setAttribute('aria-pressed', String(hidden));
  });
  $('rotate-link').addEventListener('click', () => {
    if (!window.confirm('Rotate the watch link of "' + view.title + '"? Everyone holding the current link' +
      (view.has_passcode ? ' or who joined with the passcode' : '') + ' loses access until you send them the new one.')) return;
    run(async () => show(await api('POST', base + '/link/rotate')), 'New watch link made; the old one no longer works.');
  });
  $('rotate-key').addEventListener('click', () => {
    if (!window.confirm('Rotate the stream key? The studio link and the key in OBS or other encoders stop working for the next broadcast.')) return;
    run(async () => { await api('POST', base + '/stream-key'); show(await api('GET', base)); }, 'New stream key made; update your encoder.');
  });
  $('add-member').addEventListener('submit', (e) => {
    e.preventDefault();
    const email = $('m-email').value.trim();
    run(async () => { await api('PUT', base + '/members', { email, role: $('m-role').value }); $('m-email').value = ''; await loadMembers(); }, email + ' added.');
  });
  $('t-lang').addEventListener('change', transcriptLinks);
  $('delete').addEventListener('click', () => {
    if (!window.confirm('Delete "' + view.title + '" for good? The broadcast ends for everyone, and its transcript, chat, questions and recordings are removed.')) return;
    run(async () => { await api('DELETE', base); location.assign('/dashboard'); });
  });
}

document.addEventListener('DOMContentLoaded', async () => {
  try {
    const m = await me();
    if (m.must_enrol_2fa) { location.assign('/account'); return; }
    $('who').textContent = m.user.email + (m.user.admin ? ' (admin)' : '');
    wire();
    show(await api('GET', base));
    exportLinks();
    await Promise.all([loadMembers(), loadRegistrations(), loadLanguages(), loadRecordings(), showBackends()].map((p) => p.catch(showError)));
    await loadTranscripts().catch(showError); // after the recordings, which name the sources
    if (new URLSearchParams(location.search).get('saved')) {
      notice('Your corrections are saved as a new version. Choose "Default" to download it.');
      history.replaceState(null, '', location.pathname + location.hash); // a reload does not say it again
    }
    document.body.dataset.ready = '1';
  } catch (err) {
    showError(err);
  }
});

// Webhooks of this webinar (host only: the server answers 403 to anyone else, and the
// section stays hidden). Its own start-up, so it does not wait for, or hold up, the rest.
const webhookEventNames = {
  'webinar.started': 'goes live', 'webinar.ended': 'ends', 'recording.ready': 'recording ready',
  'transcript.ready': 'transcript ready', 'participant.joined': 'people join',
};

function webhookHost(u) {
  try { return new URL(u).host; } catch { return u; }
}

async function loadWebhooks() {
  const hs = await api('GET', base + '/webhooks');
  $('wh-empty').classList.toggle('hidden', hs.length > 0);
  $('webhooks').classList.toggle('hidden', hs.length === 0);
  $('webhooks').tBodies[0].replaceChildren(...hs.map((h) => {
    const b = el('button', { type: 'button', textContent: 'Delete', className: 'small danger delete-webhook' });
    b.addEventListener('click', () => {
      if (!window.confirm('Delete the webhook to ' + webhookHost(h.url) + '? It hears nothing more about this webinar.')) return;
      run(async () => { await api('DELETE', base + '/webhooks/' + encodeURIComponent(h.id)); await loadWebhooks(); }, 'Webhook deleted.');
    });
    const tr = el('tr', {}, el('td', { textContent: webhookHost(h.url) }),
      el('td', { textContent: h.events.map((e) => webhookEventNames[e] || e).join(', ') }),
      el('td', { textContent: h.format === 'slack' ? 'chat message' : 'signed JSON' }),
      el('td', { textContent: when(h.created_at) }), el('td', {}, b));
    tr.dataset.id = h.id;
    return tr;
  }));
}

function addWebhook(e) {
  e.preventDefault();
  const events = [...document.querySelectorAll('#add-webhook .wh-event:checked')].map((c) => c.value);
  run(async () => {
    if (!events.length) throw new Error('Choose at least one event to send.');
    const res = await api('POST', base + '/webhooks', { url: $('wh-url').value.trim(), events, format: $('wh-format').value });
    $('wh-secret').value = res.secret;
    $('wh-secret-out').classList.remove('hidden');
    $('add-webhook').reset();
    await loadWebhooks();
  }, 'Webhook added. Copy its secret now: it is not shown again.');
}

document.addEventListener('DOMContentLoaded', async () => {
  try {
    await me();
    await loadWebhooks();
  } catch { return; } // not the host (403), or signed out: the section stays hidden
  $('add-webhook').addEventListener('submit', addWebhook);
  copyButton($('copy-secret'), 'wh-secret');
  $('webhooks-section').classList.remove('hidden');
  $('webhooks-section').dataset.ready = '1';
});
